//! The drawer: the selected topic's body in the live text editor (a second editor of this
//! module on `topic:{id}`, see `text_view.rs`), over the map's right side (a bottom sheet
//! on a phone), so opening it never shrinks or moves the map.
//!
//! It follows the selection once the selection has rested for a moment (arrowing through
//! the map does not open an editor per topic passed) — unless the person closed it: then it
//! stays closed until they open it again (the "Text" button, the topic menu's "Edit the
//! text"). On a narrow screen it starts closed. Its heading follows renames, this person's
//! and others'.

use arbor_map::NodeId;
use web_sys::HtmlElement;

use super::{MapView, PANEL_MS};
use crate::dom::{later, soon, window};
use crate::link::{Editor, EditorHandle, Shared};
use crate::session::Session;

/// Below this width (CSS pixels) the drawer starts closed.
const NARROW: &str = "(max-width: 639px)";

/// The drawer on the page.
pub(super) struct Panel {
    pub(super) aside: HtmlElement,
    /// The text editor's root (its parts inside, as on a topic's edit page).
    pub(super) editor: HtmlElement,
    pub(super) heading: HtmlElement,
    /// The "Text" button that opens and closes it.
    pub(super) toggle: Option<HtmlElement>,
    /// The topic it shows, and its editor.
    pub(super) open: Option<(NodeId, EditorHandle)>,
    /// The person closed it: it does not follow the selection.
    pub(super) closed: bool,
    pub(super) generation: u32,
}

impl Panel {
    /// A drawer on its parts, closed to begin with on a narrow screen.
    pub(super) fn new(
        editor: HtmlElement,
        heading: HtmlElement,
        toggle: Option<HtmlElement>,
        aside: HtmlElement,
    ) -> Panel {
        let closed = window()
            .match_media(NARROW)
            .ok()
            .flatten()
            .is_some_and(|m| m.matches());
        let panel = Panel {
            aside,
            editor,
            heading,
            toggle,
            open: None,
            closed,
            generation: 0,
        };
        panel.show_toggle();
        panel
    }

    fn show_toggle(&self) {
        if let Some(toggle) = &self.toggle {
            let shown = !self.aside.hidden();
            let _ = toggle.set_attribute("aria-pressed", if shown { "true" } else { "false" });
        }
    }

    /// Opens `id`'s body once the selection has rested on it (unless it is open already, or
    /// the person closed the drawer).
    pub(super) fn follow(&mut self, shared: &Shared<MapView>, id: NodeId) {
        if self.closed || self.open.as_ref().is_some_and(|(open, _)| *open == id) {
            return;
        }
        self.generation = self.generation.wrapping_add(1);
        let generation = self.generation;
        later(shared, PANEL_MS, move |ed, _| {
            let MapView { panel, slug, .. } = &mut ed.view;
            if let Some(panel) = panel {
                panel.show(&ed.link.session, slug, id, generation);
            }
            moved(ed);
        });
    }

    /// Shows topic `id` of the subject `slug` in a text editor of its own, if the selection
    /// still rests there (`generation`).
    pub(super) fn show(&mut self, session: &Session, slug: &str, id: NodeId, generation: u32) {
        let title = session
            .tree()
            .and_then(|t| t.nodes.get(&id).map(|n| n.title.clone()));
        let (Some(title), true) = (title, self.generation == generation) else {
            return;
        };
        if let Some((_, handle)) = self.open.take() {
            handle.destroy();
        }
        let editor = &self.editor;
        let _ = editor.set_attribute("data-doc", &format!("topic:{id}"));
        let _ = editor.set_attribute(
            "data-preview",
            &format!("/api/v1/subjects/{slug}/topics/{id}/preview"),
        );
        let _ = editor.set_attribute("data-topic", &id.to_string());
        self.heading.set_text_content(Some(&title));
        self.aside.set_hidden(false);
        self.show_toggle();
        match crate::text_view::mount(editor.clone()) {
            Ok(handle) => self.open = Some((id, handle)),
            // The parts are the server's; if they are not there, the panel says it failed.
            Err(_) => {
                let _ = editor.set_attribute("data-link", "failed");
            }
        }
    }

    /// Closes the drawer (its editor goes) until the person opens it again.
    pub(super) fn close(&mut self) {
        self.closed = true;
        self.generation = self.generation.wrapping_add(1);
        if let Some((_, handle)) = self.open.take() {
            handle.destroy();
        }
        self.aside.set_hidden(true);
        self.show_toggle();
    }

    /// Keeps the heading to the topic's current title.
    pub(super) fn retitle(&self, session: &Session) {
        let Some((id, _)) = &self.open else {
            return;
        };
        if let Some(node) = session.tree().and_then(|t| t.nodes.get(id).cloned())
            && self.heading.text_content().as_deref() != Some(node.title.as_str())
        {
            self.heading.set_text_content(Some(&node.title));
        }
    }
}

/// Opens the drawer on `id` at once, and puts the caret in its text.
pub(super) fn open_now(ed: &mut Editor<MapView>, id: NodeId) {
    let MapView { panel, slug, .. } = &mut ed.view;
    let Some(panel) = panel else {
        return;
    };
    panel.closed = false;
    if panel.open.as_ref().is_none_or(|(open, _)| *open != id) {
        panel.generation = panel.generation.wrapping_add(1);
        let generation = panel.generation;
        panel.show(&ed.link.session, slug, id, generation);
    }
    if let Ok(Some(input)) = panel.editor.query_selector("[data-role=input]") {
        let input: HtmlElement = wasm_bindgen::JsCast::unchecked_into(input);
        soon(move || {
            let _ = input.focus();
        });
    }
    moved(ed);
}

/// Closes the drawer, and gives its room back to the map.
pub(super) fn close(ed: &mut Editor<MapView>) {
    if let Some(panel) = ed.view.panel.as_mut() {
        panel.close();
    }
    moved(ed);
}

/// The drawer opened or closed: a fitted map is fitted to what is open of the canvas, and
/// the selection kept out from under the drawer.
fn moved(ed: &mut Editor<MapView>) {
    ed.view.refit();
    ed.view.reveal_selected();
}

/// The "Text" button: opens the drawer on the selection (the root without one), or closes it.
pub(super) fn toggle(ed: &mut Editor<MapView>) {
    let shown = ed.view.panel.as_ref().is_some_and(|p| !p.aside.hidden());
    if shown {
        close(ed);
        return;
    }
    let id = ed
        .view
        .selected
        .or_else(|| ed.link.session.tree().map(|t| t.root));
    if let Some(id) = id {
        open_now(ed, id);
    }
}
