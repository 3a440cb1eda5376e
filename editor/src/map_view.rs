//! The live map editor's view (WebAssembly only): the map drawn with `arbor_map::draw` (the
//! layout the subject page uses), the selected topic, keyboard and mouse editing, and the
//! others' selections outlined in their colours. The connection, saving and presence are the
//! editor's (`dom.rs`); every change is an [`arbor_map::Structure`] operation through the
//! [`crate::session::Session`], so undo takes back only this person's changes.
//!
//! Keys (on the map): Tab new child, Enter new sibling, Delete/Backspace delete (undo brings
//! it back), F2 or typing to rename (Enter keeps, Escape drops), arrows to move the selection,
//! Space to fold, Ctrl/Cmd+Z and Shift+Ctrl/Cmd+Z (or Ctrl+Y) undo and redo, Ctrl/Cmd+↑/↓ to
//! reorder. Mouse: click selects, double-click renames, dragging a topic onto another makes
//! it its last child (the target is outlined while dragging).
//!
//! The selected topic's body opens in the side panel, in the live text editor (a second
//! editor of this module on `topic:{id}`), once the selection has rested for a moment, so map
//! and text are edited in one session.

use std::collections::HashSet;

use arbor_map::draw::{MapNode, layout, to_svg};
use arbor_map::{NodeId, Structure, Tree};
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use web_sys::{
    Element, Event, EventTarget, HtmlElement, HtmlInputElement, KeyboardEvent, MouseEvent,
    SvgElement,
};

use crate::dom::{Editor, EditorHandle, Shared, document, later, mount, now, on, part};

/// The title a new topic has until it is named.
const NEW_TITLE: &str = "New topic";
/// Deeper topics are drawn folded (the layout's own limit); it also bounds the recursion here.
const DRAW_DEPTH: usize = arbor_map::draw::MAX_DEPTH;
/// The side panel follows the selection once it has rested this long (arrowing through the
/// map does not open an editor per topic passed).
const PANEL_MS: i32 = 400;

/// The side panel: the selected topic's body in the live text editor.
struct Panel {
    aside: HtmlElement,
    /// The text editor's root (its parts inside, as on a topic's edit page).
    editor: HtmlElement,
    heading: HtmlElement,
    /// The topic it shows, and its editor.
    open: Option<(NodeId, EditorHandle)>,
    generation: u32,
}

pub(crate) struct MapView {
    canvas: HtmlElement,
    rename: HtmlInputElement,
    /// "Open the topic" link for the selection.
    open: HtmlElement,
    slug: String,
    selected: Option<NodeId>,
    /// Topics folded on this screen (a personal view, not shared).
    folded: HashSet<NodeId>,
    renaming: Option<NodeId>,
    dragging: Option<NodeId>,
    drop: Option<NodeId>,
    /// The SVG last put on the page.
    drawn: Option<String>,
    panel: Option<Panel>,
}

impl MapView {
    /// The parts of the map editor under `root` (`data-role` canvas, rename, open).
    pub(crate) fn find(root: &HtmlElement) -> Result<MapView, JsValue> {
        Ok(MapView {
            canvas: part(root, "canvas")?,
            rename: part(root, "rename")?,
            open: part(root, "open")?,
            slug: root.get_attribute("data-slug").unwrap_or_default(),
            selected: None,
            folded: HashSet::new(),
            renaming: None,
            dragging: None,
            drop: None,
            drawn: None,
            panel: match root.query_selector("[data-role=\"panel\"]")? {
                Some(aside) => {
                    let aside: HtmlElement = aside.unchecked_into();
                    Some(Panel {
                        editor: part(&aside, "panel-editor")?,
                        heading: part(&aside, "panel-title")?,
                        aside,
                        open: None,
                        generation: 0,
                    })
                }
                None => None,
            },
        })
    }
}

/// A fresh topic id, random in [2³², 2⁵²) like the server's.
fn new_id() -> NodeId {
    let (lo, hi) = (2f64.powi(32), 2f64.powi(52));
    (lo + js_sys::Math::random() * (hi - lo)).floor() as NodeId
}

fn map_node(tree: &Tree, id: NodeId, folded: &HashSet<NodeId>, depth: usize) -> MapNode {
    let node = &tree.nodes[&id];
    let deep = depth + 1 >= DRAW_DEPTH;
    MapNode {
        id,
        label: node.title.clone(),
        href: None,
        collapsed: (folded.contains(&id) || deep) && !node.children.is_empty(),
        children: if deep {
            Vec::new()
        } else {
            node.children
                .iter()
                .map(|c| map_node(tree, *c, folded, depth + 1))
                .collect()
        },
    }
}

/// The topic an event happened on (its `data-topic` group), if any.
fn topic_at(target: Option<EventTarget>) -> Option<NodeId> {
    let element: Element = target?.dyn_into().ok()?;
    element
        .closest("[data-topic]")
        .ok()??
        .get_attribute("data-topic")?
        .parse()
        .ok()
}

pub(crate) fn listen(shared: &Shared) -> Result<(), JsValue> {
    let (canvas, rename): (EventTarget, EventTarget) = {
        let ed = shared.borrow();
        let view = ed.parts.map.as_ref().expect("a map editor");
        (view.canvas.clone().into(), view.rename.clone().into())
    };
    on(shared, &canvas, "keydown", |ed, shared, e| {
        if let Some(key) = e.dyn_ref::<KeyboardEvent>()
            && ed.map_key(shared, key)
        {
            e.prevent_default();
        }
    })?;
    on(shared, &canvas, "pointerdown", |ed, shared, e| {
        if let Some(id) = topic_at(e.target()) {
            ed.select(shared, id);
            if let Some(view) = ed.parts.map.as_mut() {
                view.dragging = Some(id);
                view.drop = None;
            }
        }
    })?;
    on(shared, &canvas, "pointermove", |ed, _, e| {
        let Some(mouse) = e.dyn_ref::<MouseEvent>() else {
            return;
        };
        let Some(view) = ed.parts.map.as_mut() else {
            return;
        };
        let Some(dragging) = view.dragging else {
            return;
        };
        let over = document()
            .element_from_point(mouse.client_x() as f32, mouse.client_y() as f32)
            .and_then(|el| topic_at(Some(el.into())))
            .filter(|id| *id != dragging);
        if view.drop != over {
            view.drop = over;
            ed.mark();
        }
    })?;
    on(shared, &canvas, "pointerup", |ed, shared, _| {
        let Some(view) = ed.parts.map.as_mut() else {
            return;
        };
        let (dragging, drop) = (view.dragging.take(), view.drop.take());
        if let (Some(id), Some(target)) = (dragging, drop) {
            ed.map_change(shared, |s, txn, tree| {
                if tree.is_within(target, id) {
                    return Ok(());
                }
                s.move_to(txn, id, target, usize::MAX)
            });
        }
        ed.mark();
    })?;
    on(shared, &canvas, "dblclick", |ed, _, e| {
        if let Some(id) = topic_at(e.target()) {
            ed.start_rename(id, None);
        }
    })?;
    on(shared, &rename, "keydown", |ed, shared, e| {
        let Some(key) = e.dyn_ref::<KeyboardEvent>() else {
            return;
        };
        match key.key().as_str() {
            "Enter" => {
                e.prevent_default();
                ed.end_rename(shared, true);
            }
            "Escape" => {
                e.prevent_default();
                ed.end_rename(shared, false);
            }
            _ => {}
        }
    })?;
    on(shared, &rename, "blur", |ed, shared, _: Event| {
        ed.end_rename(shared, true);
    })?;
    Ok(())
}

/// Focuses `element` after the current handler (focus changes fire events at once).
fn focus_later(element: &HtmlElement) {
    let element = element.clone();
    let callback = Closure::once_into_js(move || {
        let _ = element.focus();
    });
    let _ = web_sys::window()
        .expect("a window")
        .set_timeout_with_callback_and_timeout_and_arguments_0(callback.unchecked_ref(), 0);
}

impl Editor {
    /// Changes the map as this person (nothing when refused: a viewer, or an impossible
    /// change), then shows and saves it like any change.
    fn map_change(
        &mut self,
        shared: &Shared,
        change: impl FnOnce(
            &Structure,
            &mut yrs::TransactionMut,
            &Tree,
        ) -> Result<(), arbor_map::MapError>,
    ) -> bool {
        let Some(tree) = self.session.tree() else {
            return false;
        };
        match self.session.change_map(|s, txn| change(s, txn, &tree)) {
            Ok(((), frames)) => {
                self.send(&frames);
                self.draw_map();
                self.changed(shared);
                true
            }
            Err(_) => false,
        }
    }

    fn select(&mut self, shared: &Shared, id: NodeId) {
        if let Some(view) = self.parts.map.as_mut() {
            view.selected = Some(id);
        }
        if let Some(frame) = self.session.select(Some(id)) {
            self.send(&[frame]);
        }
        self.mark();
        self.follow_in_panel(shared, id);
    }

    /// Opens `id`'s body in the side panel once the selection has rested.
    fn follow_in_panel(&mut self, shared: &Shared, id: NodeId) {
        let Some(panel) = self.parts.map.as_mut().and_then(|v| v.panel.as_mut()) else {
            return;
        };
        if panel.open.as_ref().is_some_and(|(open, _)| *open == id) {
            return;
        }
        panel.generation = panel.generation.wrapping_add(1);
        let generation = panel.generation;
        later(shared, PANEL_MS, move |ed, _| ed.open_panel(id, generation));
    }

    fn open_panel(&mut self, id: NodeId, generation: u32) {
        let title = self
            .session
            .tree()
            .and_then(|t| t.nodes.get(&id).map(|n| n.title.clone()));
        let Some(view) = self.parts.map.as_mut() else {
            return;
        };
        let slug = view.slug.clone();
        let Some(panel) = view.panel.as_mut() else {
            return;
        };
        let (Some(title), true) = (title, panel.generation == generation) else {
            return;
        };
        if let Some((_, handle)) = panel.open.take() {
            handle.destroy();
        }
        let editor = &panel.editor;
        let _ = editor.set_attribute("data-doc", &format!("topic:{id}"));
        let _ = editor.set_attribute(
            "data-preview",
            &format!("/api/v1/subjects/{slug}/topics/{id}/preview"),
        );
        let _ = editor.set_attribute("data-topic", &id.to_string());
        panel.heading.set_text_content(Some(&title));
        panel.aside.set_hidden(false);
        match mount(editor.clone()) {
            Ok(handle) => panel.open = Some((id, handle)),
            // The parts are the server's; if they are not there, the panel says it failed.
            Err(_) => {
                let _ = editor.set_attribute("data-link", "failed");
            }
        }
    }

    /// Adds a topic (under `parent` at `index`), selects it and starts naming it.
    fn add(&mut self, shared: &Shared, parent: NodeId, index: usize) {
        let id = new_id();
        if self.map_change(shared, |s, txn, _| s.add(txn, id, parent, index, NEW_TITLE)) {
            if let Some(view) = self.parts.map.as_mut() {
                view.folded.remove(&parent);
            }
            self.draw_map();
            self.select(shared, id);
            self.start_rename(id, Some(String::new()));
        }
    }

    /// Shows the name field for `id`, holding `initial` (the current title when `None`).
    fn start_rename(&mut self, id: NodeId, initial: Option<String>) {
        if self.session.read_only() {
            return;
        }
        let Some(title) = self
            .session
            .tree()
            .and_then(|t| t.nodes.get(&id).map(|n| n.title.clone()))
        else {
            return;
        };
        let Some(view) = self.parts.map.as_mut() else {
            return;
        };
        view.renaming = Some(id);
        let select_all = initial.is_none();
        view.rename.set_value(&initial.unwrap_or(title));
        view.rename.set_hidden(false);
        let _ = view.rename.focus();
        if select_all {
            view.rename.select();
        }
    }

    /// Ends naming: keeps the name (`keep`, when not blank) or drops it.
    fn end_rename(&mut self, shared: &Shared, keep: bool) {
        let Some(view) = self.parts.map.as_mut() else {
            return;
        };
        let Some(id) = view.renaming.take() else {
            return;
        };
        let title = view.rename.value().trim().to_owned();
        view.rename.set_hidden(true);
        focus_later(&view.canvas);
        if keep && !title.is_empty() {
            self.map_change(shared, |s, txn, _| s.rename(txn, id, &title));
        }
    }

    /// A key pressed on the map; whether it was handled.
    fn map_key(&mut self, shared: &Shared, key: &KeyboardEvent) -> bool {
        let Some(tree) = self.session.tree() else {
            return false;
        };
        let selected = self
            .parts
            .map
            .as_ref()
            .and_then(|v| v.selected)
            .filter(|s| tree.nodes.contains_key(s))
            .unwrap_or(tree.root);
        let node = &tree.nodes[&selected];
        let siblings: &[NodeId] = node
            .parent
            .map_or(&[], |p| tree.nodes[&p].children.as_slice());
        let position = siblings.iter().position(|s| *s == selected);
        let command = key.ctrl_key() || key.meta_key();
        let name = key.key();
        if command && !key.alt_key() {
            match name.to_lowercase().as_str() {
                "z" => self.undo_or_redo(shared, key.shift_key()),
                "y" => self.undo_or_redo(shared, true),
                "arrowup" | "arrowdown" => {
                    let (Some(parent), Some(at)) = (node.parent, position) else {
                        return true;
                    };
                    let to = if name == "ArrowUp" {
                        at.saturating_sub(1)
                    } else {
                        at + 1
                    };
                    self.map_change(shared, |s, txn, _| s.move_to(txn, selected, parent, to));
                }
                _ => return false,
            }
            return true;
        }
        match name.as_str() {
            "Tab" => self.add(shared, selected, usize::MAX),
            "Enter" => match (node.parent, position) {
                (Some(parent), Some(at)) => self.add(shared, parent, at + 1),
                _ => self.add(shared, selected, usize::MAX),
            },
            "Delete" | "Backspace" => {
                if let Some(parent) = node.parent
                    && self.map_change(shared, |s, txn, _| s.delete(txn, selected, now() as i64))
                {
                    self.select(shared, parent);
                }
            }
            "F2" => self.start_rename(selected, None),
            " " => {
                if let Some(view) = self.parts.map.as_mut()
                    && !view.folded.remove(&selected)
                {
                    view.folded.insert(selected);
                }
                self.draw_map();
            }
            "ArrowLeft" => {
                if let Some(parent) = node.parent {
                    self.select(shared, parent);
                }
            }
            "ArrowRight" => {
                if let Some(first) = node.children.first() {
                    if let Some(view) = self.parts.map.as_mut() {
                        view.folded.remove(&selected);
                    }
                    self.draw_map();
                    self.select(shared, *first);
                }
            }
            "ArrowUp" | "ArrowDown" => {
                let next = position.and_then(|at| {
                    if name == "ArrowUp" {
                        at.checked_sub(1)
                    } else {
                        Some(at + 1)
                    }
                });
                if let Some(id) = next.and_then(|i| siblings.get(i)).copied() {
                    self.select(shared, id);
                }
            }
            typed if typed.chars().count() == 1 && !key.alt_key() => {
                // Typing on a topic renames it, starting with that character.
                if self.session.read_only() {
                    return false;
                }
                self.start_rename(selected, Some(typed.to_owned()));
            }
            _ => return false,
        }
        true
    }

    /// Draws the map (when it changed) and its marks.
    pub(crate) fn draw_map(&mut self) {
        let Some(tree) = self.session.tree() else {
            return;
        };
        let Some(view) = self.parts.map.as_mut() else {
            return;
        };
        if view.selected.is_some_and(|s| !tree.nodes.contains_key(&s)) {
            view.selected = Some(tree.root);
        }
        let root = map_node(&tree, tree.root, &view.folded, 0);
        let svg = to_svg(&layout(&root), "Mind map");
        if view.drawn.as_deref() != Some(svg.as_str()) {
            view.canvas.set_inner_html(&svg);
            view.drawn = Some(svg);
        }
        self.mark();
    }

    /// Outlines the selection, the others' selections in their colours and the drop target,
    /// and points "open the topic" at the selection.
    fn mark(&self) {
        let Some(view) = self.parts.map.as_ref() else {
            return;
        };
        let selections = self.session.selections();
        let Ok(groups) = view.canvas.query_selector_all("[data-topic]") else {
            return;
        };
        for group in groups.values().into_iter().flatten() {
            let Ok(group) = group.dyn_into::<Element>() else {
                continue;
            };
            let Some(id) = group
                .get_attribute("data-topic")
                .and_then(|id| id.parse::<NodeId>().ok())
            else {
                continue;
            };
            let classes = group.class_list();
            let _ = classes.toggle_with_force("map-selected", view.selected == Some(id));
            let _ = classes.toggle_with_force("map-drop", view.drop == Some(id));
            let by: Vec<_> = selections.iter().filter(|(_, s)| *s == id).collect();
            let _ = classes.toggle_with_force("map-remote", !by.is_empty());
            // Through the CSS object model: a `style` attribute is inline style, which the
            // content security policy refuses.
            let style = group.dyn_ref::<SvgElement>().map(|g| g.style());
            match by.first() {
                Some((user, _)) => {
                    if let Some(style) = &style {
                        let _ = style.set_property("--person-color", &user.color);
                    }
                    let names: Vec<&str> = by.iter().map(|(u, _)| u.name.as_str()).collect();
                    let _ = group.set_attribute("data-selected-by", &names.join(", "));
                }
                None => {
                    if let Some(style) = &style {
                        let _ = style.remove_property("--person-color");
                    }
                    let _ = group.remove_attribute("data-selected-by");
                }
            }
        }
        match view.selected {
            Some(id) => {
                let _ = view
                    .open
                    .set_attribute("href", &format!("/s/{}/t/{id}/edit", view.slug));
                view.open.set_hidden(false);
            }
            None => view.open.set_hidden(true),
        }
        let root = &self.parts.root;
        let _ = match view.selected {
            Some(id) => root.set_attribute("data-selected", &id.to_string()),
            None => root.remove_attribute("data-selected"),
        };
    }
}
