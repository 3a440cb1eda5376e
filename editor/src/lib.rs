//! `arbor-editor` owns the live editors in the browser: a topic's markdown and a subject's
//! map. It is a WebAssembly module of its own, built by `scripts/build-editor.sh` and imported
//! by the editing pages only, so reading pages never download yrs. It must not reach into the
//! pages' markup beyond the `data-role` parts and `data-*` attributes the server renders, and
//! the server is only ever spoken to over the y-websocket protocol and the preview endpoint.
//!
//! Its parts, each using only those listed after it:
//!
//! - [`mount`] (here, WebAssembly only): the entry point the pages call. `data-kind="map"`
//!   mounts a map editor, anything else a topic's text editor.
//! - `map_view` (WebAssembly only): the map drawn with `arbor_map::draw` and, for assistive
//!   technology, its tree (`arbor_map::treeview`, the reader's keys), selection, keyboard,
//!   drag and touch editing, personal folds, others' selections, and the side panel, which
//!   mounts a text editor on the selected topic.
//! - `text_view` (WebAssembly only): the markdown text area, the others' carets over it, and
//!   the preview.
//! - `link` (WebAssembly only): the websocket and the y-websocket conversation (through the
//!   [`session`]), reconnecting with backoff, the saved / offline status, presence, undo and
//!   redo, and what is kept in the browser while unconfirmed. It drives a view through its
//!   `View` trait and knows nothing of text areas or SVG; an editor is a `link::Editor<V>`
//!   for one view type `V`, so which view is present is the type's to say.
//! - `dom` (WebAssembly only): window, document, clock, `data-role` parts, local storage, the
//!   polite live region, and listeners and timers that die with their editor; it knows
//!   nothing of the rest.
//! - [`news`]: what the map editor says aloud of this person's changes and, grouped, of
//!   others' (words from `arbor_map::changes`; native, tested natively).
//! - [`wikilinks`]: completing a `[[link]]` as it is typed: whether the caret is in one,
//!   which titles match, what is written (native, tested natively).
//! - [`session`]: one person's copy of a live document (a topic's text or a subject's map) and
//!   the y-websocket conversation about it (sync, updates, presence, undo of one's own
//!   changes, what is saved), with no DOM, so it is tested natively.

pub mod news;
pub mod session;
pub mod wikilinks;

#[cfg(target_arch = "wasm32")]
mod dom;
#[cfg(target_arch = "wasm32")]
mod link;
#[cfg(target_arch = "wasm32")]
mod map_view;
#[cfg(target_arch = "wasm32")]
mod text_view;

#[cfg(target_arch = "wasm32")]
pub use link::EditorHandle;

/// Mounts the live editor on `root`, the element the server rendered with `data-doc`
/// (`topic:{id}` or a subject's map), `data-user` (the name to show others),
/// `data-can-edit`, `data-account`, `data-kind` (`map` for a map), a text's `data-preview`
/// (the preview endpoint) or a map's `data-slug`, and the parts marked `data-role`.
#[cfg(target_arch = "wasm32")]
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn mount(root: web_sys::HtmlElement) -> Result<EditorHandle, wasm_bindgen::JsValue> {
    if root.get_attribute("data-kind").as_deref() == Some("map") {
        map_view::mount(root)
    } else {
        text_view::mount(root)
    }
}
