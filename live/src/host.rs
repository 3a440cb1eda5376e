//! What the live side asks of the rest of the server, as two small traits, so the arrows
//! point down: the services implement them, and the hub never names a service.
//!
//! - [`Permissions`]: who may stay connected to a document, and whether a sign-in still holds
//!   (asked only when the bus says access changed or a sign-in ended, never per frame);
//! - [`Rows`]: bring the rows up to a document that went quiet (a topic's rendered snapshot,
//!   a subject's projection), asked by upkeep and at shutdown.

use arbor_collab::Access;
use futures_util::future::BoxFuture;

use crate::room::{DocKey, SignIn};

/// A failure of the host, as text for the log (the live side only logs it and tries again).
pub type HostError = Box<dyn std::error::Error + Send + Sync>;

/// What each user (by id, 0 signed out) may do with a document now; `None`: nothing.
pub type Levels = Box<dyn Fn(i64) -> Option<Access> + Send + Sync>;

/// Who may stay connected.
pub trait Permissions: Send + Sync + 'static {
    /// What each user may do with document `key` of subject `subject_id`; `Ok(None)` when
    /// the document is gone (its topic or subject was deleted): everyone leaves.
    fn levels(
        &self,
        key: DocKey,
        subject_id: i64,
    ) -> BoxFuture<'_, Result<Option<Levels>, HostError>>;

    /// Whether `sign_in` (never [`SignIn::SignedOut`]) is still valid.
    fn signed_in<'a>(&'a self, sign_in: &'a SignIn) -> BoxFuture<'a, Result<bool, HostError>>;
}

/// How bringing the rows up to a document went.
#[derive(Debug)]
pub enum Settled {
    Done,
    /// The rows are gone (a deleted topic has no snapshot to refresh): nothing to retry.
    Gone,
}

/// The rows derived from documents.
pub trait Rows: Send + Sync + 'static {
    /// Document `key` of subject `subject_id` went quiet holding `text` (a topic's body; for a
    /// structure the rows are projected from the live document itself).
    fn settle<'a>(
        &'a self,
        key: DocKey,
        subject_id: i64,
        text: &'a str,
    ) -> BoxFuture<'a, Result<Settled, HostError>>;
}
