//! `arbor-editor` owns the live markdown editor in the browser. It is a WebAssembly module of
//! its own, built by `scripts/build-editor.sh` and imported by the topic editing page only, so
//! reading pages never download yrs.
//!
//! - [`session`]: one person's copy of a topic document and the y-websocket conversation
//!   about it (sync, updates, presence, undo of one's own changes, what is saved), with no
//!   DOM, so it is tested natively.
//! - `dom` (WebAssembly only): the page glue — the websocket, events, carets, preview.

pub mod session;

#[cfg(target_arch = "wasm32")]
mod dom;
#[cfg(target_arch = "wasm32")]
pub use dom::{EditorHandle, mount};
