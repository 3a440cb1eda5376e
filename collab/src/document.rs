//! One live document: a yrs `Doc` with UTF-16 offsets (so JavaScript clients agree on
//! positions), fed only checked updates.
//!
//! yrs can still be driven into a bad state by crafted input (an update that applies "fine" but
//! leaves structs waiting for dependencies, after which encoding can panic; panics inside
//! apply). Every apply runs under `catch_unwind` and is followed by a check for pending
//! structs; either failure marks the document [`Refusal::Corrupt`], and the caller must drop
//! it and load it again from storage, where the refused update never went.

use std::panic::{AssertUnwindSafe, catch_unwind};

use yrs::updates::decoder::Decode;
use yrs::updates::encoder::Encode;
use yrs::{
    Doc, GetString, Map, MapRef, OffsetKind, Options, Out, ReadTxn, StateVector, Text, Transact,
    TransactionMut, Update,
};

use crate::{Limits, Malformed, check, diff};

/// Why an update was not applied.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error("malformed update: {0}")]
    Malformed(Malformed),
    #[error("the update is larger than {0} bytes")]
    TooLarge(usize),
    #[error("the document would grow past {0} bytes")]
    DocumentFull(usize),
    #[error("the text would grow past {0} bytes")]
    TextFull(usize),
    #[error("the document's maps would hold more than {0} keys")]
    MapFull(usize),
    /// Applying it left the in-memory document suspect: drop it and load it again.
    #[error("the update could not be applied cleanly")]
    Corrupt,
}

impl From<Malformed> for Refusal {
    fn from(m: Malformed) -> Self {
        Refusal::Malformed(m)
    }
}

/// A document in memory.
pub struct Document {
    doc: Doc,
    /// An upper bound of the encoded size: the loaded state plus every update since.
    size: usize,
    /// An upper bound of the UTF-8 bytes of the [`TEXT`] root: measured at load, raised by
    /// what each update inserts, measured again only when an update would pass the limit (so
    /// a keystroke costs no walk over the whole text).
    text_bytes: usize,
    /// An upper bound of the keys in the root maps (a subject's topics, live and deleted):
    /// counted at load, raised by each update's new keys, counted again only when an update
    /// would pass the limit.
    root_keys: usize,
}

/// The root `Y.Text` a topic's markdown lives in.
pub const TEXT: &str = "body";

impl std::fmt::Debug for Document {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Document")
            .field("size", &self.size)
            .finish()
    }
}

impl Default for Document {
    fn default() -> Self {
        Document {
            doc: Doc::with_options(Options {
                offset_kind: OffsetKind::Utf16,
                ..Options::default()
            }),
            size: 2,
            text_bytes: 0,
            root_keys: 0,
        }
    }
}

/// Applies one v1 update to `doc`, containing panics; `Err` when the doc is now suspect.
fn apply_to(doc: &Doc, bytes: &[u8]) -> Result<(), Refusal> {
    let outcome = catch_unwind(AssertUnwindSafe(|| {
        let update = Update::decode_v1(bytes).map_err(|_| Refusal::Malformed(MALFORMED))?;
        let mut txn = doc.transact_mut();
        txn.apply_update(update).map_err(|_| Refusal::Corrupt)?;
        let store = txn.store();
        if store.pending_update().is_some() || store.pending_ds().is_some() {
            return Err(Refusal::Corrupt);
        }
        Ok(())
    }));
    outcome.unwrap_or(Err(Refusal::Corrupt))
}

const MALFORMED: Malformed = Malformed("yrs could not decode the update");

impl Document {
    /// A document from its stored snapshot and the updates logged after it, in order. Stored
    /// bytes were checked when they were accepted, but are checked again: storage is not
    /// trusted more than the network.
    pub fn load<'a>(
        snapshot: Option<&'a [u8]>,
        log: impl IntoIterator<Item = &'a [u8]>,
    ) -> Result<Document, Refusal> {
        let mut document = Document::default();
        for bytes in snapshot.into_iter().chain(log) {
            check::update(bytes)?;
            apply_to(&document.doc, bytes)?;
            document.size += bytes.len();
        }
        document.text_bytes = document.text(TEXT).len();
        document.root_keys = document.count_root_keys();
        Ok(document)
    }

    /// Checks and applies a client's update. `Ok(false)` when it was valid but changed
    /// nothing (an empty update).
    pub fn apply(&mut self, bytes: &[u8], limits: &Limits) -> Result<bool, Refusal> {
        if bytes.len() > limits.max_update {
            return Err(Refusal::TooLarge(limits.max_update));
        }
        let shape = check::update(bytes)?;
        if shape.is_empty() {
            return Ok(false);
        }
        if self.size + bytes.len() > limits.max_document {
            return Err(Refusal::DocumentFull(limits.max_document));
        }
        if shape.inserted_text > 0 && self.text_bytes + shape.inserted_text > limits.max_text {
            self.text_bytes = self.text(TEXT).len();
            if self.text_bytes + shape.inserted_text > limits.max_text {
                return Err(Refusal::TextFull(limits.max_text));
            }
        }
        if shape.new_root_keys > 0 && self.root_keys + shape.new_root_keys > limits.max_root_keys {
            self.root_keys = self.count_root_keys();
            if self.root_keys + shape.new_root_keys > limits.max_root_keys {
                return Err(Refusal::MapFull(limits.max_root_keys));
            }
        }
        apply_to(&self.doc, bytes)?;
        self.size += bytes.len();
        self.text_bytes += shape.inserted_text;
        self.root_keys += shape.new_root_keys;
        Ok(true)
    }

    /// Applies an update read from storage (checked, but not held to the size limits: it was
    /// accepted once already).
    pub fn apply_stored(&mut self, bytes: &[u8]) -> Result<(), Refusal> {
        let shape = check::update(bytes)?;
        apply_to(&self.doc, bytes)?;
        self.size += bytes.len();
        self.text_bytes += shape.inserted_text;
        self.root_keys += shape.new_root_keys;
        Ok(())
    }

    /// The keys in the document's root maps.
    fn count_root_keys(&self) -> usize {
        let txn = self.doc.transact();
        txn.root_refs()
            .map(|(_, value)| match value {
                Out::YMap(map) => map.len(&txn) as usize,
                // A root this replica has only heard of from updates has no type yet.
                Out::UndefinedRef(branch) => MapRef::from(branch).len(&txn) as usize,
                _ => 0,
            })
            .sum()
    }

    /// The state vector (`SyncStep1` payload).
    pub fn state_vector(&self) -> Vec<u8> {
        self.doc.transact().state_vector().encode_v1()
    }

    /// What a peer with state vector `sv` (checked bytes) lacks (`SyncStep2` payload).
    pub fn diff(&self, sv: &[u8]) -> Result<Vec<u8>, Refusal> {
        check::state_vector(sv)?;
        catch_unwind(AssertUnwindSafe(|| {
            let sv = StateVector::decode_v1(sv).map_err(|_| Refusal::Malformed(MALFORMED))?;
            Ok(self.doc.transact().encode_state_as_update_v1(&sv))
        }))
        .unwrap_or(Err(Refusal::Corrupt))
    }

    /// The whole document as one update (a snapshot), which also resets the size estimate.
    pub fn snapshot(&mut self) -> Result<Vec<u8>, Refusal> {
        let bytes = catch_unwind(AssertUnwindSafe(|| {
            self.doc
                .transact()
                .encode_state_as_update_v1(&StateVector::default())
        }))
        .map_err(|_| Refusal::Corrupt)?;
        self.size = bytes.len();
        Ok(bytes)
    }

    /// The text of the root `Y.Text` named `name` (empty when there is none).
    pub fn text(&self, name: &str) -> String {
        let txn = self.doc.transact();
        txn.get_text(name)
            .map(|text| text.get_string(&txn))
            .unwrap_or_default()
    }

    /// Makes the root text `name` read `new` with the smallest single splice (common prefix
    /// and suffix kept, so concurrent edits elsewhere in the text survive), as the server's
    /// own edit. Returns the update to store and broadcast, or `None` when nothing changed.
    pub fn replace_text(&mut self, name: &str, new: &str) -> Option<Vec<u8>> {
        let old = self.text(name);
        let splice = diff::splice(&old, new)?;
        let text = self.doc.get_or_insert_text(name);
        let before = self.doc.transact().state_vector();
        {
            let mut txn = self.doc.transact_mut();
            if splice.removed > 0 {
                text.remove_range(&mut txn, splice.start, splice.removed);
            }
            if !splice.inserted.is_empty() {
                text.insert(&mut txn, splice.start, splice.inserted);
            }
        }
        let update = self.doc.transact().encode_state_as_update_v1(&before);
        self.size += update.len();
        if name == TEXT {
            self.text_bytes = new.len();
        }
        Some(update)
    }

    /// Runs `read` on the underlying yrs document (for schemas other than one text, such as a
    /// subject's structure). Open transactions only inside `read`.
    pub fn read<R>(&self, read: impl FnOnce(&Doc) -> R) -> R {
        read(&self.doc)
    }

    /// Runs `change` in one transaction as the server's own edit (trusted code, not a
    /// client's bytes) and returns its result with the update to store and broadcast, `None`
    /// when nothing changed. Handles on shared types come from [`Document::read`] beforehand.
    pub fn change<R>(
        &mut self,
        change: impl FnOnce(&mut TransactionMut) -> R,
    ) -> (R, Option<Vec<u8>>) {
        let mut txn = self.doc.transact_mut();
        let result = change(&mut txn);
        let update = txn.encode_update_v1();
        drop(txn);
        // The server's own change is not held to the limits, but counts towards them.
        let shape = check::update(&update)
            .ok()
            .filter(|shape| !shape.is_empty());
        if let Some(shape) = &shape {
            self.size += update.len();
            self.text_bytes += shape.inserted_text;
            self.root_keys += shape.new_root_keys;
        }
        (result, shape.map(|_| update))
    }

    /// The size estimate the document limit is checked against.
    pub fn size(&self) -> usize {
        self.size
    }
}
