//! What can be done to a topic of the map, whichever way it is asked for: a key, the topic's
//! menu (a right click, a long press, the context-menu key or Shift+F10) or the "+" drawn
//! beside the selection (a subtopic at its outer edge, a topic after it under it). Each
//! [`Command`] is run by [`run`], so a key and its menu item can never differ.
//!
//! The menu is a WAI-ARIA menu (`role="menu"`, its buttons `menuitem`s): opened at the pointer
//! or at the topic, focus on its first item; ↓ ↑ Home End move, Enter or a click runs, Escape
//! or a click elsewhere closes and gives focus back to the map. Items that do not apply to the
//! topic (deleting the root, moving up the first sibling, anything but opening and folding for
//! someone who may only read) are `aria-disabled`.

use arbor_map::{NodeId, Tree};
use wasm_bindgen::JsCast;
use web_sys::{Element, HtmlElement, KeyboardEvent};

use super::{MapView, add, focus_later, map_change, select, too_deep};
use crate::dom::{now, window};
use crate::link::{Editor, Shared};

/// Something done to one topic.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Command {
    AddChild,
    AddAfter,
    Rename,
    Text,
    Open,
    Fold,
    MoveUp,
    MoveDown,
    Outdent,
    Indent,
    Delete,
}

impl Command {
    const ALL: [(Command, &'static str); 11] = [
        (Command::AddChild, "add-child"),
        (Command::AddAfter, "add-after"),
        (Command::Rename, "rename"),
        (Command::Text, "text"),
        (Command::Open, "open"),
        (Command::Fold, "fold"),
        (Command::MoveUp, "move-up"),
        (Command::MoveDown, "move-down"),
        (Command::Outdent, "outdent"),
        (Command::Indent, "indent"),
        (Command::Delete, "delete"),
    ];

    /// The command a menu item's or a button's `data-command` names.
    pub(super) fn named(name: &str) -> Option<Command> {
        Command::ALL
            .iter()
            .find(|(_, n)| *n == name)
            .map(|(c, _)| *c)
    }

    /// Whether it can be done to `id` now (`editable`: this person may change the map).
    fn applies(self, tree: &Tree, id: NodeId, editable: bool) -> bool {
        let Some(node) = tree.nodes.get(&id) else {
            return false;
        };
        let siblings = node
            .parent
            .map_or(&[][..], |p| tree.nodes[&p].children.as_slice());
        let at = siblings.iter().position(|s| *s == id);
        match self {
            Command::Open | Command::Text => true,
            Command::Fold => !node.children.is_empty(),
            _ if !editable => false,
            Command::AddChild | Command::Rename => true,
            Command::AddAfter | Command::Delete => node.parent.is_some(),
            Command::MoveUp | Command::Indent => at.is_some_and(|at| at > 0),
            Command::MoveDown => at.is_some_and(|at| at + 1 < siblings.len()),
            Command::Outdent => node.parent.and_then(|p| tree.nodes[&p].parent).is_some(),
        }
    }
}

/// Does `command` to topic `id` as this person.
pub(super) fn run(
    ed: &mut Editor<MapView>,
    shared: &Shared<MapView>,
    command: Command,
    id: NodeId,
) {
    let Some(tree) = ed.link.session.tree() else {
        return;
    };
    let Some(node) = tree.nodes.get(&id) else {
        return;
    };
    if !command.applies(&tree, id, !ed.link.session.read_only()) {
        return;
    }
    let siblings = node
        .parent
        .map_or(&[][..], |p| tree.nodes[&p].children.as_slice());
    let at = siblings.iter().position(|s| *s == id);
    match command {
        Command::AddChild => add(ed, shared, id, usize::MAX),
        Command::AddAfter => match (node.parent, at) {
            (Some(parent), Some(at)) => add(ed, shared, parent, at + 1),
            _ => add(ed, shared, id, usize::MAX),
        },
        Command::Rename => ed.view.start_rename(&ed.link.session, id, None),
        Command::Text => {
            select(ed, shared, id);
            super::drawer::open_now(ed, id);
        }
        Command::Open => {
            let _ = window()
                .location()
                .assign(&format!("/s/{}/t/{id}", ed.view.slug));
        }
        Command::Fold => {
            let folded = ed.view.folded.contains(&id);
            ed.view.set_folded(id, !folded);
            ed.view.draw(&ed.link.session);
        }
        Command::Delete => {
            // Not news when it comes back from the server.
            ed.view.deleted_by_me.insert(id);
            if let Some(parent) = node.parent
                && map_change(ed, shared, |s, txn, _| s.delete(txn, id, now() as i64))
            {
                select(ed, shared, parent);
            }
        }
        Command::MoveUp | Command::MoveDown => {
            let (Some(parent), Some(at)) = (node.parent, at) else {
                return;
            };
            let to = if command == Command::MoveUp {
                at.saturating_sub(1)
            } else {
                at + 1
            };
            map_change(ed, shared, |s, txn, _| s.move_to(txn, id, parent, to));
        }
        // Out of its parent, to just after it.
        Command::Outdent => {
            let Some(parent) = node.parent else {
                return;
            };
            let Some(grand) = tree.nodes[&parent].parent else {
                return;
            };
            let to = tree.nodes[&grand]
                .children
                .iter()
                .position(|c| *c == parent)
                .map_or(usize::MAX, |at| at + 1);
            map_change(ed, shared, |s, txn, _| s.move_to(txn, id, grand, to));
        }
        // Into the sibling before it, as its last subtopic.
        Command::Indent => {
            let Some(before) = at
                .and_then(|at| at.checked_sub(1))
                .and_then(|at| siblings.get(at).copied())
            else {
                return;
            };
            if !tree.fits_under(Some(id), before) {
                ed.link.notify(too_deep());
                return;
            }
            if map_change(ed, shared, |s, txn, _| {
                s.move_to(txn, id, before, usize::MAX)
            }) {
                ed.view.set_folded(before, false);
                ed.view.draw(&ed.link.session);
            }
        }
    }
}

/// The topic's menu, on the page.
pub(super) struct Menu {
    pub(super) element: HtmlElement,
    /// The topic it was opened for.
    pub(super) topic: Option<NodeId>,
    /// Whether its items take clicks: not until the finger whose long press opened it has
    /// been lifted (lifting it makes a click where it was).
    pub(super) armed: bool,
}

impl Menu {
    fn items(&self) -> Vec<HtmlElement> {
        let Ok(all) = self.element.query_selector_all("[role=menuitem]") else {
            return Vec::new();
        };
        (0..all.length())
            .filter_map(|i| all.item(i)?.dyn_into::<HtmlElement>().ok())
            .collect()
    }

    /// The items that can be chosen.
    fn enabled(&self) -> Vec<HtmlElement> {
        self.items()
            .into_iter()
            .filter(|i| i.get_attribute("aria-disabled").as_deref() != Some("true"))
            .collect()
    }

    pub(super) fn is_open(&self) -> bool {
        !self.element.hidden()
    }

    /// Opens the menu for `id` with its top left corner at window point (`x`, `y`), kept
    /// inside the window.
    pub(super) fn open(&mut self, tree: &Tree, id: NodeId, editable: bool, x: f64, y: f64) {
        self.topic = Some(id);
        self.armed = true;
        for item in self.items() {
            let command = item
                .get_attribute("data-command")
                .and_then(|n| Command::named(&n));
            let on = command.is_some_and(|c| c.applies(tree, id, editable));
            let _ = item.set_attribute("aria-disabled", if on { "false" } else { "true" });
            let _ = item.set_attribute("tabindex", "-1");
        }
        self.element.set_hidden(false);
        let (width, height) = (
            f64::from(self.element.offset_width()),
            f64::from(self.element.offset_height()),
        );
        let window = window();
        let inner = |v: Result<wasm_bindgen::JsValue, _>| v.ok().and_then(|v| v.as_f64());
        let (max_x, max_y) = (
            inner(window.inner_width()).unwrap_or(1024.0) - width - 4.0,
            inner(window.inner_height()).unwrap_or(768.0) - height - 4.0,
        );
        let style = self.element.style();
        let _ = style.set_property("left", &format!("{:.0}px", x.min(max_x).max(4.0)));
        let _ = style.set_property("top", &format!("{:.0}px", y.min(max_y).max(4.0)));
        if let Some(first) = self.enabled().first() {
            let _ = first.focus();
        }
    }

    /// Closes the menu (focus goes back to the map when `refocus`).
    pub(super) fn close(&mut self, canvas: &HtmlElement, refocus: bool) {
        if !self.is_open() {
            return;
        }
        self.element.set_hidden(true);
        self.topic = None;
        if refocus {
            focus_later(canvas);
        }
    }

    /// ↓ ↑ Home End among the items that can be chosen; whether the key was the menu's.
    pub(super) fn key(&self, key: &KeyboardEvent) -> bool {
        let items = self.enabled();
        if items.is_empty() {
            return false;
        }
        let active = window()
            .document()
            .and_then(|d| d.active_element())
            .and_then(|a| {
                items
                    .iter()
                    .position(|i| *i.unchecked_ref::<Element>() == a)
            });
        let last = items.len() - 1;
        let to = match key.key().as_str() {
            "ArrowDown" => active.map_or(0, |a| if a == last { 0 } else { a + 1 }),
            "ArrowUp" => active.map_or(last, |a| if a == 0 { last } else { a - 1 }),
            "Home" => 0,
            "End" => last,
            _ => return false,
        };
        let _ = items[to].focus();
        true
    }
}
