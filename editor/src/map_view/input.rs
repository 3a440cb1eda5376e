//! What the person does to the map editor, as events: keys on the map ([`map_key`]), the
//! pointer (select, drag a topic, pan, pinch, the wheel, a double click to rename, a long
//! press for the menu), the "+" and the fold toggles drawn on the map, the topic's menu and
//! its keys (`commands.rs`), and the notice's and the drawer's buttons. Each ends in a change
//! of the view or a [`Command`].

use arbor_map::NodeId;
use arbor_map::treeview::{self, Act, Key};
use arbor_map::viewport::{Point, wheel_pixels, wheel_zoom};
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use web_sys::{
    Element, Event, EventTarget, HtmlElement, KeyboardEvent, MouseEvent, PointerEvent, WheelEvent,
};

use super::commands::{self, Command};
use super::{
    DRAG_SLOP, LONG_PRESS_MS, MapView, Place, Press, ZOOM_STEP, drawer, end_rename, focus_later,
    map_change, select, too_deep,
};
use crate::dom::{document, later, on, part, window};
use crate::link::{Editor, Shared};

/// The command of the "+" (`data-command`) an event happened on, if any.
fn command_at(target: Option<EventTarget>) -> Option<Command> {
    let element: Element = target?.dyn_into().ok()?;
    let name = element
        .closest(".map-add[data-command]")
        .ok()??
        .get_attribute("data-command")?;
    Command::named(&name)
}

/// The topic whose fold toggle (`data-fold`) an event happened on, if any.
fn fold_toggle_at(target: Option<EventTarget>) -> Option<NodeId> {
    let element: Element = target?.dyn_into().ok()?;
    element
        .closest("[data-fold]")
        .ok()??
        .get_attribute("data-fold")?
        .parse()
        .ok()
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

pub(super) fn listen(shared: &Shared<MapView>) -> Result<(), JsValue> {
    let (canvas, rename, fit, zoom_in, zoom_out): (
        EventTarget,
        EventTarget,
        EventTarget,
        EventTarget,
        EventTarget,
    ) = {
        let view = &shared.borrow().view;
        (
            view.canvas.clone().into(),
            view.rename.clone().into(),
            view.fit.clone().into(),
            view.zoom_in.clone().into(),
            view.zoom_out.clone().into(),
        )
    };
    on(shared, &canvas, "keydown", |ed, shared, e| {
        if let Some(key) = e.dyn_ref::<KeyboardEvent>()
            && map_key(ed, shared, key)
        {
            e.prevent_default();
            // The keyboard may have moved the selection off screen.
            ed.view.reveal_selected();
        }
    })?;
    on(shared, &canvas, "pointerdown", |ed, shared, e| {
        let Some(pointer) = e.dyn_ref::<PointerEvent>() else {
            return;
        };
        let at = (f64::from(pointer.client_x()), f64::from(pointer.client_y()));
        // The "+" beside the selection.
        if let Some(command) = command_at(e.target())
            && let Some(id) = ed.view.selected
        {
            e.prevent_default();
            commands::run(ed, shared, command, id);
            return;
        }
        // A topic's fold toggle folds or unfolds it, and selects it.
        if let Some(id) = fold_toggle_at(e.target()) {
            let folded = ed.view.folded.contains(&id);
            ed.view.set_folded(id, !folded);
            select(ed, shared, id);
            ed.view.draw(&ed.link.session);
            e.prevent_default();
            return;
        }
        let topic = topic_at(e.target());
        if let Some(id) = topic {
            select(ed, shared, id);
        }
        // Only the main button drags or pans (a right click selects, then opens the menu).
        if pointer.button() != 0 {
            return;
        }
        let view = &mut ed.view;
        if pointer.is_primary() {
            // The first pointer down: none other is (a release the page never heard, say
            // one that ended over the name field, is forgotten).
            view.pointers.clear();
        }
        // A touch held on a topic opens its menu (for a viewer too).
        view.press_generation = view.press_generation.wrapping_add(1);
        view.press_from = at;
        if let (Some(id), true, true) = (
            topic,
            pointer.pointer_type() != "mouse",
            view.pointers.is_empty(),
        ) {
            let generation = view.press_generation;
            let finger = pointer.pointer_id();
            later(shared, LONG_PRESS_MS, move |ed, _| {
                let still = matches!(ed.view.pointers[..], [(down, _, _)] if down == finger);
                if ed.view.press_generation != generation || !still {
                    return;
                }
                ed.view.press = None;
                ed.view.drop = None;
                ed.view.mark(&ed.link.session);
                // Under the finger, not beneath it; armed once the finger is lifted.
                open_menu(ed, id, at.0 - 24.0, at.1 + 28.0);
                if let Some(menu) = ed.view.menu.as_mut() {
                    menu.armed = false;
                }
            });
        }
        // A viewer's press on a topic pans like one on the background.
        let topic = topic.filter(|_| !ed.link.session.read_only());
        let view = &mut ed.view;
        view.pointers.push((pointer.pointer_id(), at.0, at.1));
        // Moves and the release come here even off the canvas.
        let _ = view.canvas.set_pointer_capture(pointer.pointer_id());
        view.drop = None;
        view.press = match (view.pointers.len(), topic) {
            // A second finger: a pinch, not a drag.
            (1, Some(id)) => Some(Press::Topic { id, from: at }),
            (1, None) => Some(Press::Pan { last: at }),
            _ => None,
        };
        view.mark(&ed.link.session);
    })?;
    on(shared, &canvas, "pointermove", |ed, _, e| {
        let Some(pointer) = e.dyn_ref::<PointerEvent>() else {
            return;
        };
        let at = (f64::from(pointer.client_x()), f64::from(pointer.client_y()));
        let view = &mut ed.view;
        let Some(i) = view
            .pointers
            .iter()
            .position(|p| p.0 == pointer.pointer_id())
        else {
            return;
        };
        let was = view.pointers[i];
        view.pointers[i] = (was.0, at.0, at.1);
        if (at.0 - view.press_from.0).hypot(at.1 - view.press_from.1) >= DRAG_SLOP {
            // Not a long press.
            view.press_generation = view.press_generation.wrapping_add(1);
        }
        if let [a, b] = view.pointers[..] {
            // Two pointers: a pinch.
            let other = if a.0 == was.0 { b } else { a };
            let frame = view.frame();
            view.viewport.pinch(
                &frame,
                Point::new(was.1, was.2),
                Point::new(at.0, at.1),
                Point::new(other.1, other.2),
            );
            view.show_view();
            return;
        }
        match view.press {
            Some(Press::Pan { last }) => {
                view.press = Some(Press::Pan { last: at });
                view.pan(at.0 - last.0, at.1 - last.1);
            }
            Some(Press::Topic { id, from }) => {
                if (at.0 - from.0).hypot(at.1 - from.1) < DRAG_SLOP {
                    return;
                }
                let drop = view.drop_at(id, at.0, at.1);
                if view.drop != drop {
                    view.drop = drop;
                    view.mark(&ed.link.session);
                }
            }
            None => {}
        }
    })?;
    on(shared, &canvas, "pointerup", |ed, shared, e| {
        release(ed, shared, e, true);
    })?;
    on(shared, &canvas, "pointercancel", |ed, shared, e| {
        release(ed, shared, e, false);
    })?;
    on(shared, &canvas, "wheel", |ed, _, e| {
        let Some(wheel) = e.dyn_ref::<WheelEvent>() else {
            return;
        };
        let view = &mut ed.view;
        e.prevent_default();
        let (x, y) = wheel_pixels(
            wheel.delta_mode(),
            wheel.delta_x(),
            wheel.delta_y(),
            view.frame().canvas.height,
        );
        if wheel.ctrl_key() || wheel.meta_key() {
            // A pinch on a touchpad comes as Ctrl+wheel too.
            let at = (f64::from(wheel.client_x()), f64::from(wheel.client_y()));
            view.zoom(wheel_zoom(y), Some(at));
        } else {
            view.pan(-x, -y);
        }
    })?;
    on(shared, &fit, "click", |ed, _, _| ed.view.zoom_or_fit(None))?;
    on(shared, &zoom_in, "click", |ed, _, _| {
        ed.view.zoom_or_fit(Some(ZOOM_STEP));
    })?;
    on(shared, &zoom_out, "click", |ed, _, _| {
        ed.view.zoom_or_fit(Some(1.0 / ZOOM_STEP));
    })?;
    on(shared, &window().into(), "resize", |ed, _, _| {
        ed.view.refit();
    })?;
    on(shared, &canvas, "dblclick", |ed, _, e| {
        // Found by position: the canvas captured the pointer, so it is the event's target.
        let Some(mouse) = e.dyn_ref::<MouseEvent>() else {
            return;
        };
        let at = (f64::from(mouse.client_x()), f64::from(mouse.client_y()));
        if let Some(id) = ed.view.topic_at_point(at) {
            ed.view.start_rename(&ed.link.session, id, None);
        }
    })?;
    on(shared, &rename, "keydown", |ed, shared, e| {
        let Some(key) = e.dyn_ref::<KeyboardEvent>() else {
            return;
        };
        match key.key().as_str() {
            "Enter" => {
                e.prevent_default();
                end_rename(ed, shared, true);
            }
            "Escape" => {
                e.prevent_default();
                end_rename(ed, shared, false);
            }
            _ => {}
        }
    })?;
    on(shared, &rename, "blur", |ed, shared, _: Event| {
        end_rename(ed, shared, true);
    })?;
    on(shared, &canvas, "contextmenu", |ed, shared, e| {
        let Some(mouse) = e.dyn_ref::<MouseEvent>() else {
            return;
        };
        e.prevent_default();
        let at = (f64::from(mouse.client_x()), f64::from(mouse.client_y()));
        let topic = topic_at(e.target()).or_else(|| ed.view.topic_at_point(at));
        if let Some(id) = topic {
            select(ed, shared, id);
            open_menu(ed, id, at.0, at.1);
        }
    })?;
    listen_menu(shared)?;
    listen_parts(shared)
}

/// The topic menu's clicks and keys, and a click elsewhere closing it.
fn listen_menu(shared: &Shared<MapView>) -> Result<(), JsValue> {
    let Some(element) = shared
        .borrow()
        .view
        .menu
        .as_ref()
        .map(|m| m.element.clone())
    else {
        return Ok(());
    };
    on(shared, &element.clone().into(), "click", |ed, shared, e| {
        let Some(item) = e
            .target()
            .and_then(|t| t.dyn_into::<Element>().ok())
            .and_then(|t| t.closest("[data-command]").ok().flatten())
        else {
            return;
        };
        let armed = ed.view.menu.as_ref().is_some_and(|m| m.armed);
        if !armed || item.get_attribute("aria-disabled").as_deref() == Some("true") {
            return;
        }
        let command = item
            .get_attribute("data-command")
            .and_then(|n| Command::named(&n));
        let view = &mut ed.view;
        let Some(menu) = view.menu.as_mut() else {
            return;
        };
        let topic = menu.topic;
        // Adding and renaming focus the name field, the text its editor; the rest the map.
        let refocus = !matches!(
            command,
            Some(
                Command::AddChild
                    | Command::AddAfter
                    | Command::Rename
                    | Command::Text
                    | Command::Open
            )
        );
        menu.close(&view.canvas, refocus);
        if let (Some(command), Some(id)) = (command, topic) {
            commands::run(ed, shared, command, id);
        }
    })?;
    on(shared, &element.into(), "keydown", |ed, _, e| {
        let Some(key) = e.dyn_ref::<KeyboardEvent>() else {
            return;
        };
        let view = &mut ed.view;
        let Some(menu) = view.menu.as_mut() else {
            return;
        };
        match key.key().as_str() {
            "Escape" => menu.close(&view.canvas, true),
            "Tab" => {
                menu.close(&view.canvas, true);
            }
            _ if menu.key(key) => {}
            _ => return,
        }
        e.prevent_default();
        e.stop_propagation();
    })?;
    on(shared, &document().into(), "pointerdown", |ed, _, e| {
        let view = &mut ed.view;
        let Some(menu) = view.menu.as_mut() else {
            return;
        };
        let inside = e
            .target()
            .and_then(|t| t.dyn_into::<web_sys::Node>().ok())
            .is_some_and(|t| menu.element.contains(Some(&t)));
        if menu.is_open() && !inside {
            menu.close(&view.canvas, false);
        }
    })
}

/// The notice's "Restore" and "Dismiss", the drawer's "Text" and close buttons.
fn listen_parts(shared: &Shared<MapView>) -> Result<(), JsValue> {
    let (notice, toggle, close) = {
        let view = &shared.borrow().view;
        let panel = view.panel.as_ref();
        (
            view.notice.clone(),
            panel.and_then(|p| p.toggle.clone()),
            panel.and_then(|p| part::<HtmlElement>(&p.aside, "panel-close").ok()),
        )
    };
    if let Some(notice) = notice {
        if let Ok(restore) = part::<HtmlElement>(&notice, "notice-restore") {
            on(shared, &restore.into(), "click", |ed, shared, _| {
                let Some((top, topic)) = ed.view.restorable else {
                    return;
                };
                ed.view.hide_notice();
                if map_change(ed, shared, |s, txn, _| s.restore(txn, top)) {
                    select(ed, shared, topic);
                    ed.view.reveal(topic);
                }
                focus_later(&ed.view.canvas);
            })?;
        }
        if let Ok(dismiss) = part::<HtmlElement>(&notice, "notice-dismiss") {
            on(shared, &dismiss.into(), "click", |ed, _, _| {
                ed.view.hide_notice();
                focus_later(&ed.view.canvas);
            })?;
        }
    }
    if let Some(toggle) = toggle {
        on(shared, &toggle.into(), "click", |ed, _, _| {
            drawer::toggle(ed)
        })?;
    }
    if let Some(close) = close {
        on(shared, &close.into(), "click", |ed, _, _| {
            drawer::close(ed);
            focus_later(&ed.view.canvas);
        })?;
    }
    Ok(())
}

/// A pointer let go (`done`) or taken away by the browser: ends a pinch, a pan, or a
/// drag (dropping the topic where the preview showed).
fn release(ed: &mut Editor<MapView>, shared: &Shared<MapView>, e: Event, done: bool) {
    let view = &mut ed.view;
    if let Some(pointer) = e.dyn_ref::<PointerEvent>() {
        view.pointers.retain(|p| p.0 != pointer.pointer_id());
    }
    view.press_generation = view.press_generation.wrapping_add(1);
    let press = view.press.take();
    let drop = view.drop.take();
    if view.menu.as_ref().is_some_and(|m| !m.armed) {
        // The long press that opened the menu is over, with the click its lifting makes.
        later(shared, 0, |ed, _| {
            if let Some(menu) = ed.view.menu.as_mut() {
                menu.armed = true;
            }
        });
    }
    if let (true, Some(Press::Topic { id, .. }), Some((target, place))) = (done, press, drop) {
        let mut deep = false;
        map_change(ed, shared, |s, txn, tree| {
            // The target may have gone since the preview (someone else's change).
            let Some(node) = tree.nodes.get(&target) else {
                return Ok(());
            };
            if tree.is_within(target, id) {
                return Ok(());
            }
            let parent = match place {
                Place::Onto => Some(target),
                Place::Before | Place::After => node.parent,
            };
            if parent.is_some_and(|p| !tree.fits_under(Some(id), p)) {
                deep = true;
                return Ok(());
            }
            match (place, node.parent) {
                (Place::Before | Place::After, Some(parent)) => {
                    // The index among the siblings without the moving topic.
                    let at = tree.nodes[&parent]
                        .children
                        .iter()
                        .filter(|c| **c != id)
                        .position(|c| *c == target)
                        .unwrap_or(usize::MAX);
                    let at = if place == Place::After { at + 1 } else { at };
                    s.move_to(txn, id, parent, at)
                }
                _ => s.move_to(txn, id, target, usize::MAX),
            }
        });
        if deep {
            ed.link.notify(too_deep());
        }
    }
    // A click or a tap on a topic (not a drag): its "+" are brought into view.
    if let (true, Some(Press::Topic { id, .. }), None) = (done, press, drop) {
        ed.view.reveal(id);
    }
    ed.view.mark(&ed.link.session);
}

/// Opens topic `id`'s menu under it (by keyboard).
fn open_menu_at_topic(ed: &mut Editor<MapView>, id: NodeId) {
    ed.view.reveal(id);
    let at = ed.view.layout.nodes.iter().find(|n| n.id == id).map(|n| {
        let frame = ed.view.frame();
        ed.view
            .viewport
            .to_screen(&frame, Point::new(n.x, n.y + n.height))
    });
    let at = at.unwrap_or_else(|| {
        let frame = ed.view.frame();
        Point::new(frame.canvas.x, frame.canvas.y)
    });
    open_menu(ed, id, at.x, at.y + 4.0);
}

/// Opens topic `id`'s menu at window point (`x`, `y`).
fn open_menu(ed: &mut Editor<MapView>, id: NodeId, x: f64, y: f64) {
    let Some(tree) = ed.link.session.tree() else {
        return;
    };
    let editable = !ed.link.session.read_only();
    if let Some(menu) = ed.view.menu.as_mut() {
        menu.open(&tree, id, editable, x, y);
    }
}

/// A key pressed on the map; whether it was handled.
fn map_key(ed: &mut Editor<MapView>, shared: &Shared<MapView>, key: &KeyboardEvent) -> bool {
    let Some(tree) = ed.link.session.tree() else {
        return false;
    };
    let selected = ed
        .view
        .selected
        .filter(|s| tree.nodes.contains_key(s))
        .unwrap_or(tree.root);
    let command = key.ctrl_key() || key.meta_key();
    let name = key.key();
    if command && !key.alt_key() {
        match name.to_lowercase().as_str() {
            "z" => ed.undo_or_redo(shared, key.shift_key()),
            "y" => ed.undo_or_redo(shared, true),
            "=" | "+" => ed.view.zoom_or_fit(Some(ZOOM_STEP)),
            "-" => ed.view.zoom_or_fit(Some(1.0 / ZOOM_STEP)),
            "0" => ed.view.zoom_or_fit(None),
            "arrowup" => commands::run(ed, shared, Command::MoveUp, selected),
            "arrowdown" => commands::run(ed, shared, Command::MoveDown, selected),
            // Out of its parent (to just after it), or into the sibling before it (as its
            // last subtopic): a move to another parent without a pointer.
            "arrowleft" => commands::run(ed, shared, Command::Outdent, selected),
            "arrowright" => commands::run(ed, shared, Command::Indent, selected),
            _ => return false,
        }
        return true;
    }
    match name.as_str() {
        "Tab" => commands::run(ed, shared, Command::AddChild, selected),
        "Enter" => commands::run(ed, shared, Command::AddAfter, selected),
        "Delete" | "Backspace" => commands::run(ed, shared, Command::Delete, selected),
        "F2" => commands::run(ed, shared, Command::Rename, selected),
        " " => commands::run(ed, shared, Command::Fold, selected),
        "ContextMenu" => open_menu_at_topic(ed, selected),
        "F10" if key.shift_key() => open_menu_at_topic(ed, selected),
        "ArrowLeft" | "ArrowRight" | "ArrowUp" | "ArrowDown" | "Home" | "End" => {
            // The tree view's keys, as on the reader's map.
            let rows = &ed.view.rows;
            let act = Key::from_name(&name).and_then(|key| {
                let at = rows.iter().position(|r| r.id == selected)?;
                treeview::act(rows, at, key)
            });
            match act {
                Some(Act::Focus(i)) => {
                    let id = rows[i].id;
                    select(ed, shared, id);
                }
                Some(Act::Expand(i) | Act::Collapse(i)) => {
                    let (id, fold) = (rows[i].id, matches!(act, Some(Act::Collapse(_))));
                    ed.view.set_folded(id, fold);
                    ed.view.draw(&ed.link.session);
                }
                None => {}
            }
        }
        typed if typed.chars().count() == 1 && !key.alt_key() => {
            // Typing on a topic renames it, starting with that character.
            if ed.link.session.read_only() {
                return false;
            }
            ed.view
                .start_rename(&ed.link.session, selected, Some(typed.to_owned()));
        }
        _ => return false,
    }
    true
}
