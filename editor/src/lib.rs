//! `arbor-editor` owns the live editors in the browser: a topic's markdown and a subject's
//! map. It is a WebAssembly module of its own, built by `scripts/build-editor.sh` and imported
//! by the editing pages only, so reading pages never download yrs.
//!
//! - [`session`]: one person's copy of a live document (a topic's text or a subject's map) and
//!   the y-websocket conversation about it (sync, updates, presence, undo of one's own changes, what is saved), with no
//!   DOM, so it is tested natively.
//! - `dom` (WebAssembly only): the page glue — the websocket, events, carets, preview; the
//!   same connection serves a subject's map (`data-kind="map"`), whose view — the map drawn
//!   with `arbor_map::draw`, selection, keyboard, drag and touch editing, pan, zoom and fit,
//!   personal folds, others' selections, the side panel with the selected topic's text — is
//!   `map_view`.

pub mod session;

#[cfg(target_arch = "wasm32")]
mod dom;
#[cfg(target_arch = "wasm32")]
mod map_view;
#[cfg(target_arch = "wasm32")]
pub use dom::{EditorHandle, mount};
