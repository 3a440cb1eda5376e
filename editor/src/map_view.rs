//! The live map editor's view (WebAssembly only): the map drawn with `arbor_map::draw` (the
//! layout the subject page uses), the selected topic, keyboard and mouse editing, and the
//! others' selections outlined in their colours. The connection, saving and presence are the
//! editor's (`dom.rs`); every change is an [`arbor_map::Structure`] operation through the
//! [`crate::session::Session`], so undo takes back only this person's changes.
//!
//! Keys (on the map): Tab new child, Enter new sibling, Delete/Backspace delete (undo brings
//! it back), F2 or typing to rename (Enter keeps, Escape drops), arrows to move the selection
//! (left and right as drawn: outwards to the first child, inwards to the parent, on either
//! side of the root), Space to fold, Ctrl/Cmd+Z and Shift+Ctrl/Cmd+Z (or Ctrl+Y) undo and
//! redo, Ctrl/Cmd+↑/↓ to reorder, Ctrl/Cmd+= / − / 0 to zoom in, out and fit. Mouse and touch:
//! click selects, double-click renames; dragging a topic onto another makes it its last child
//! (the target is filled), onto the top or bottom edge of one puts it before or after it (a
//! line shows where); dragging the background pans, the wheel pans and Ctrl+wheel (or a
//! pinch) zooms about the pointer.
//!
//! The whole map is fitted to the canvas as it changes until this person pans or zooms
//! ("fit" brings that back). From then on the view (zoom and where it looks) is kept relative
//! to the root, so others' changes that widen the map do not move what this person is
//! looking at; the selection is scrolled into view when the keyboard or a change of this
//! person's moves it. Folded topics are a personal setting, kept in this
//! browser per map.
//!
//! The selected topic's body opens in the side panel, in the live text editor (a second
//! editor of this module on `topic:{id}`), once the selection has rested for a moment, so map
//! and text are edited in one session.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use arbor_map::draw::{Layout, MapNode, NODE_HEIGHT, ROW_HEIGHT, Side, layout, to_svg};
use arbor_map::{MAX_DEPTH, MAX_TOPICS, NodeId, Structure, Tree};
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use web_sys::{
    Element, Event, EventTarget, HtmlElement, HtmlInputElement, KeyboardEvent, MouseEvent,
    PointerEvent, SvgElement, WheelEvent,
};

use crate::dom::{
    Editor, EditorHandle, Shared, document, later, local_storage, mount, now, on, part,
};

/// The title a new topic has until it is named.
const NEW_TITLE: &str = "New topic";
/// Deeper topics are drawn folded (the layout's own limit); it also bounds the recursion here.
const DRAW_DEPTH: usize = arbor_map::draw::MAX_DEPTH;
/// The side panel follows the selection once it has rested this long (arrowing through the
/// map does not open an editor per topic passed).
const PANEL_MS: i32 = 400;
/// Zoom limits, and the step of a zoom key or button.
const MIN_SCALE: f64 = 0.02;
const MAX_SCALE: f64 = 4.0;
const ZOOM_STEP: f64 = 1.25;
/// A press moves this far (CSS pixels) before it counts as a drag.
const DRAG_SLOP: f64 = 4.0;
/// Room kept around the selection when it is scrolled into view (CSS pixels).
const REVEAL_MARGIN: f64 = 24.0;
const SVG_NS: &str = "http://www.w3.org/2000/svg";

/// Where a dragged topic would go, relative to the topic under the pointer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Place {
    /// Its last child.
    Onto,
    Before,
    After,
}

/// What this person is looking at: the zoom, and the view's centre relative to the root's.
#[derive(Debug, Clone, Copy)]
struct Viewport {
    scale: f64,
    dx: f64,
    dy: f64,
    /// Keep the whole map fitted as it changes: from the start, and after "fit", until this
    /// person pans or zooms.
    fit: bool,
}

/// How one topic is marked: selected here, the drop target, selected by others (their
/// colour, then their names).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct Mark {
    selected: bool,
    drop: bool,
    by: Option<(String, String)>,
}

/// A press on the map: a topic being dragged, or the background being panned.
#[derive(Debug, Clone, Copy)]
enum Press {
    Topic { id: NodeId, from: (f64, f64) },
    Pan { last: (f64, f64) },
}

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
    /// Fit, zoom in and zoom out buttons.
    fit: HtmlElement,
    zoom_in: HtmlElement,
    zoom_out: HtmlElement,
    slug: String,
    selected: Option<NodeId>,
    /// Topics folded by this person (a personal view, not shared), and where this browser
    /// keeps them.
    folded: HashSet<NodeId>,
    folded_key: String,
    renaming: Option<NodeId>,
    press: Option<Press>,
    /// Pointers down on the map (two make a pinch), with where they are.
    pointers: Vec<(i32, f64, f64)>,
    drop: Option<(NodeId, Place)>,
    view: Viewport,
    /// The SVG last put on the page, its layout, and the tree and folds it was drawn from
    /// (the same tree, an `Arc` from the session, and folds mean nothing to draw).
    drawn: Option<String>,
    layout: Layout,
    drawn_from: Option<(Arc<Tree>, HashSet<NodeId>)>,
    /// How each marked topic is marked on the page now (the rest are not).
    marks: HashMap<NodeId, Mark>,
    panel: Option<Panel>,
}

impl MapView {
    /// The parts of the map editor under `root` (`data-role` canvas, rename, open, fit,
    /// zoom-in, zoom-out, and the optional panel).
    pub(crate) fn find(root: &HtmlElement) -> Result<MapView, JsValue> {
        let folded_key = format!(
            "arbor:folded:{}",
            root.get_attribute("data-doc").unwrap_or_default()
        );
        let folded = local_storage()
            .and_then(|s| s.get_item(&folded_key).ok().flatten())
            .and_then(|saved| serde_json::from_str::<Vec<NodeId>>(&saved).ok())
            .unwrap_or_default();
        Ok(MapView {
            canvas: part(root, "canvas")?,
            rename: part(root, "rename")?,
            open: part(root, "open")?,
            fit: part(root, "fit")?,
            zoom_in: part(root, "zoom-in")?,
            zoom_out: part(root, "zoom-out")?,
            slug: root.get_attribute("data-slug").unwrap_or_default(),
            selected: None,
            folded: folded.into_iter().collect(),
            folded_key,
            renaming: None,
            press: None,
            pointers: Vec::new(),
            drop: None,
            view: Viewport {
                scale: 1.0,
                dx: 0.0,
                dy: 0.0,
                fit: true,
            },
            drawn: None,
            layout: Layout::default(),
            drawn_from: None,
            marks: HashMap::new(),
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

    /// Folds or unfolds `id` and keeps the choice in this browser.
    fn set_folded(&mut self, id: NodeId, folded: bool) {
        let changed = if folded {
            self.folded.insert(id)
        } else {
            self.folded.remove(&id)
        };
        if let (true, Some(storage)) = (changed, local_storage()) {
            let _ = if self.folded.is_empty() {
                storage.remove_item(&self.folded_key)
            } else {
                let ids: Vec<NodeId> = self.folded.iter().copied().collect();
                storage.set_item(
                    &self.folded_key,
                    &serde_json::to_string(&ids).unwrap_or_default(),
                )
            };
        }
    }

    /// The canvas's size in CSS pixels, and its top-left corner in the window.
    fn screen(&self) -> (f64, f64, f64, f64) {
        let rect = self.canvas.get_bounding_client_rect();
        (
            f64::from(self.canvas.client_width().max(1)),
            f64::from(self.canvas.client_height().max(1)),
            rect.left() + f64::from(self.canvas.client_left()),
            rect.top() + f64::from(self.canvas.client_top()),
        )
    }

    /// The root's centre in map units.
    fn root_centre(&self) -> (f64, f64) {
        self.layout
            .nodes
            .first()
            .map_or((0.0, 0.0), |r| (r.x + r.width / 2.0, r.y + r.height / 2.0))
    }

    /// The part of the map on screen: left, top, width and height in map units.
    fn view_box(&self) -> (f64, f64, f64, f64) {
        let (width, height, _, _) = self.screen();
        let (rx, ry) = self.root_centre();
        let (w, h) = (width / self.view.scale, height / self.view.scale);
        (
            rx + self.view.dx - w / 2.0,
            ry + self.view.dy - h / 2.0,
            w,
            h,
        )
    }

    /// A point in the window (CSS pixels) in map units.
    fn to_map(&self, x: f64, y: f64) -> (f64, f64) {
        let (_, _, left, top) = self.screen();
        let (vx, vy, _, _) = self.view_box();
        (
            vx + (x - left) / self.view.scale,
            vy + (y - top) / self.view.scale,
        )
    }

    /// Shows the part of the map the view says (the SVG fills the canvas).
    fn show_view(&self) {
        let Some(svg) = self.canvas.first_element_child() else {
            return;
        };
        let (x, y, w, h) = self.view_box();
        let _ = svg.set_attribute("viewBox", &format!("{x:.2} {y:.2} {w:.2} {h:.2}"));
        let _ = svg.set_attribute("width", "100%");
        let _ = svg.set_attribute("height", "100%");
        let _ = self
            .canvas
            .set_attribute("data-zoom", &format!("{:.3}", self.view.scale));
    }

    /// Zooms the whole map into view (never above its natural size), and keeps it so.
    fn fit(&mut self) {
        let (width, height, _, _) = self.screen();
        let (w, h) = (self.layout.width.max(1.0), self.layout.height.max(1.0));
        let (rx, ry) = self.root_centre();
        self.view = Viewport {
            scale: (width / w).min(height / h).clamp(MIN_SCALE, 1.0),
            dx: w / 2.0 - rx,
            dy: h / 2.0 - ry,
            fit: true,
        };
        self.show_view();
    }

    /// Zooms by `factor` keeping the map point under window point `at` (CSS pixels) in place;
    /// about the centre without one.
    fn zoom(&mut self, factor: f64, at: Option<(f64, f64)>) {
        let (width, height, left, top) = self.screen();
        let (px, py) = at.map_or((width / 2.0, height / 2.0), |(x, y)| (x - left, y - top));
        let (vx, vy, _, _) = self.view_box();
        let before = self.view.scale;
        let after = (before * factor).clamp(MIN_SCALE, MAX_SCALE);
        // The point under the pointer stays under it.
        let (mx, my) = (vx + px / before, vy + py / before);
        let (cx, cy) = (
            mx - px / after + width / 2.0 / after,
            my - py / after + height / 2.0 / after,
        );
        let (rx, ry) = self.root_centre();
        self.view = Viewport {
            scale: after,
            dx: cx - rx,
            dy: cy - ry,
            fit: false,
        };
        self.show_view();
    }

    /// Moves the picture by (`x`, `y`) CSS pixels.
    fn pan(&mut self, x: f64, y: f64) {
        self.view.dx -= x / self.view.scale;
        self.view.dy -= y / self.view.scale;
        self.view.fit = false;
        self.show_view();
    }

    /// Pans the least that brings topic `id` into view (when drawn).
    fn reveal(&mut self, id: NodeId) {
        let Some(node) = self.layout.nodes.iter().find(|n| n.id == id) else {
            return;
        };
        let (vx, vy, w, h) = self.view_box();
        // A fitted map has its own margin: a topic on its edge is in view.
        let margin = if self.view.fit {
            0.0
        } else {
            REVEAL_MARGIN / self.view.scale
        };
        let shift = |start: f64, size: f64, view: f64, room: f64| {
            if size + 2.0 * margin > room || start - margin < view {
                start - margin - view
            } else if start + size + margin > view + room {
                start + size + margin - view - room
            } else {
                0.0
            }
        };
        let (sx, sy) = (
            shift(node.x, node.width, vx, w),
            shift(node.y, node.height, vy, h),
        );
        if sx != 0.0 || sy != 0.0 {
            self.view.dx += sx;
            self.view.dy += sy;
            self.view.fit = false;
            self.show_view();
        }
    }

    /// Which side of the root topic `id` is drawn on (`None` when not drawn).
    fn side(&self, id: NodeId) -> Option<Side> {
        self.layout
            .nodes
            .iter()
            .find(|n| n.id == id)
            .map(|n| n.side)
    }

    /// The first child of the root drawn on `side`.
    fn first_on(&self, side: Side) -> Option<NodeId> {
        self.layout
            .nodes
            .iter()
            .find(|n| n.parent == Some(0) && n.side == side)
            .map(|n| n.id)
    }

    /// The topic drawn at window point `at`, if any.
    fn topic_at_point(&self, at: (f64, f64)) -> Option<NodeId> {
        let (mx, my) = self.to_map(at.0, at.1);
        self.layout
            .nodes
            .iter()
            .find(|n| mx >= n.x && mx <= n.x + n.width && my >= n.y && my <= n.y + n.height)
            .map(|n| n.id)
    }

    /// Where topic `dragging` would go if dropped at window point (`x`, `y`): onto the
    /// middle of a topic, or before or after it at its top or bottom edge (the root takes
    /// only children); never into the dragged subtree.
    fn drop_at(&self, dragging: NodeId, x: f64, y: f64) -> Option<(NodeId, Place)> {
        let (mx, my) = self.to_map(x, y);
        // Each topic owns its box widened to half the gap between rows.
        let pad = (ROW_HEIGHT - NODE_HEIGHT) / 2.0;
        let nodes = &self.layout.nodes;
        let index = nodes.iter().position(|n| {
            mx >= n.x && mx <= n.x + n.width && my >= n.y - pad && my <= n.y + n.height + pad
        })?;
        let node = &nodes[index];
        // Not into the dragged subtree (read from the drawing: only drawn topics are targets,
        // and the document is not resolved again on every pointer move).
        let mut at = Some(index);
        while let Some(i) = at {
            if nodes[i].id == dragging {
                return None;
            }
            at = nodes[i].parent;
        }
        let at = (my - (node.y - pad)) / (node.height + 2.0 * pad);
        let place = match node.parent {
            None => Place::Onto,
            Some(_) if at < 0.3 => Place::Before,
            Some(_) if at > 0.7 => Place::After,
            Some(_) => Place::Onto,
        };
        Some((node.id, place))
    }
}

fn too_deep() -> String {
    format!("topics nest at most {MAX_DEPTH} levels deep")
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
    let (canvas, rename, fit, zoom_in, zoom_out): (
        EventTarget,
        EventTarget,
        EventTarget,
        EventTarget,
        EventTarget,
    ) = {
        let ed = shared.borrow();
        let view = ed.parts.map.as_ref().expect("a map editor");
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
            && ed.map_key(shared, key)
        {
            e.prevent_default();
            // The keyboard may have moved the selection off screen.
            if let Some(view) = ed.parts.map.as_mut()
                && let Some(id) = view.selected
            {
                view.reveal(id);
            }
        }
    })?;
    on(shared, &canvas, "pointerdown", |ed, shared, e| {
        let Some(pointer) = e.dyn_ref::<PointerEvent>() else {
            return;
        };
        let at = (f64::from(pointer.client_x()), f64::from(pointer.client_y()));
        let topic = topic_at(e.target());
        if let Some(id) = topic {
            ed.select(shared, id);
        }
        // Only the main button drags or pans (a right click selects, then opens the menu).
        if pointer.button() != 0 {
            return;
        }
        // A viewer's press on a topic pans like one on the background.
        let topic = topic.filter(|_| !ed.session.read_only());
        let Some(view) = ed.parts.map.as_mut() else {
            return;
        };
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
        ed.mark();
    })?;
    on(shared, &canvas, "pointermove", |ed, _, e| {
        let Some(pointer) = e.dyn_ref::<PointerEvent>() else {
            return;
        };
        let at = (f64::from(pointer.client_x()), f64::from(pointer.client_y()));
        let Some(view) = ed.parts.map.as_mut() else {
            return;
        };
        let Some(i) = view
            .pointers
            .iter()
            .position(|p| p.0 == pointer.pointer_id())
        else {
            return;
        };
        let was = view.pointers[i];
        view.pointers[i] = (was.0, at.0, at.1);
        if let [a, b] = view.pointers[..] {
            // Two pointers: zoom by how far apart they moved, about their middle, and pan
            // by how their middle moved.
            let (other_x, other_y) = if a.0 == was.0 { (b.1, b.2) } else { (a.1, a.2) };
            let before = (was.1 - other_x).hypot(was.2 - other_y);
            let after = (at.0 - other_x).hypot(at.1 - other_y);
            let middle = ((at.0 + other_x) / 2.0, (at.1 + other_y) / 2.0);
            if before > 0.0 {
                view.zoom(after / before, Some(middle));
            }
            view.pan((at.0 - was.1) / 2.0, (at.1 - was.2) / 2.0);
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
                    ed.mark();
                }
            }
            None => {}
        }
    })?;
    on(shared, &canvas, "pointerup", |ed, shared, e| {
        ed.release(shared, e, true);
    })?;
    on(shared, &canvas, "pointercancel", |ed, shared, e| {
        ed.release(shared, e, false);
    })?;
    on(shared, &canvas, "wheel", |ed, _, e| {
        let Some(wheel) = e.dyn_ref::<WheelEvent>() else {
            return;
        };
        let Some(view) = ed.parts.map.as_mut() else {
            return;
        };
        e.prevent_default();
        // Lines and pages to pixels.
        let unit = match wheel.delta_mode() {
            WheelEvent::DOM_DELTA_LINE => 16.0,
            WheelEvent::DOM_DELTA_PAGE => view.screen().1,
            _ => 1.0,
        };
        let (x, y) = (wheel.delta_x() * unit, wheel.delta_y() * unit);
        if wheel.ctrl_key() || wheel.meta_key() {
            // A pinch on a touchpad comes as Ctrl+wheel too.
            let at = (f64::from(wheel.client_x()), f64::from(wheel.client_y()));
            view.zoom((-y * 0.002).exp(), Some(at));
        } else {
            view.pan(-x, -y);
        }
    })?;
    on(shared, &fit, "click", |ed, _, _| ed.zoom_map(None))?;
    on(shared, &zoom_in, "click", |ed, _, _| {
        ed.zoom_map(Some(ZOOM_STEP));
    })?;
    on(shared, &zoom_out, "click", |ed, _, _| {
        ed.zoom_map(Some(1.0 / ZOOM_STEP));
    })?;
    let window: EventTarget = web_sys::window().expect("a window").into();
    on(shared, &window, "resize", |ed, _, _| {
        if let Some(view) = ed.parts.map.as_mut() {
            if view.view.fit {
                view.fit();
            } else {
                view.show_view();
            }
        }
    })?;
    on(shared, &canvas, "dblclick", |ed, _, e| {
        // Found by position: the canvas captured the pointer, so it is the event's target.
        let Some(mouse) = e.dyn_ref::<MouseEvent>() else {
            return;
        };
        let at = (f64::from(mouse.client_x()), f64::from(mouse.client_y()));
        if let Some(id) = ed.parts.map.as_ref().and_then(|v| v.topic_at_point(at)) {
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
                // A renamed topic on the left grows leftwards; a moved one may be elsewhere.
                if let Some(view) = self.parts.map.as_mut()
                    && let Some(id) = view.selected
                {
                    view.reveal(id);
                }
                true
            }
            Err(_) => false,
        }
    }

    /// A pointer let go (`done`) or taken away by the browser: ends a pinch, a pan, or a
    /// drag (dropping the topic where the preview showed).
    fn release(&mut self, shared: &Shared, e: Event, done: bool) {
        let Some(view) = self.parts.map.as_mut() else {
            return;
        };
        if let Some(pointer) = e.dyn_ref::<PointerEvent>() {
            view.pointers.retain(|p| p.0 != pointer.pointer_id());
        }
        let press = view.press.take();
        let drop = view.drop.take();
        if let (true, Some(Press::Topic { id, .. }), Some((target, place))) = (done, press, drop) {
            let mut deep = false;
            self.map_change(shared, |s, txn, tree| {
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
                self.notify(too_deep());
            }
        }
        self.mark();
    }

    /// Zooms the map by `factor` about the middle of the canvas, or fits it (`None`).
    fn zoom_map(&mut self, factor: Option<f64>) {
        if let Some(view) = self.parts.map.as_mut() {
            match factor {
                Some(factor) => view.zoom(factor, None),
                None => view.fit(),
            }
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

    /// Adds a topic (under `parent` at `index`), selects it and starts naming it; within
    /// the subject's limits.
    fn add(&mut self, shared: &Shared, parent: NodeId, index: usize) {
        let Some(tree) = self.session.tree() else {
            return;
        };
        if self.session.read_only() {
            return;
        }
        if tree.nodes.len() >= MAX_TOPICS {
            self.notify(format!("a subject holds at most {MAX_TOPICS} topics"));
            return;
        }
        if !tree.fits_under(None, parent) {
            self.notify(too_deep());
            return;
        }
        let id = new_id();
        if self.map_change(shared, |s, txn, _| s.add(txn, id, parent, index, NEW_TITLE)) {
            if let Some(view) = self.parts.map.as_mut() {
                view.set_folded(parent, false);
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
                "=" | "+" => self.zoom_map(Some(ZOOM_STEP)),
                "-" => self.zoom_map(Some(1.0 / ZOOM_STEP)),
                "0" => self.zoom_map(None),
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
                if let Some(view) = self.parts.map.as_mut() {
                    let folded = view.folded.contains(&selected);
                    view.set_folded(selected, !folded);
                }
                self.draw_map();
            }
            "ArrowLeft" | "ArrowRight" => {
                let right = name == "ArrowRight";
                let side = self.parts.map.as_ref().and_then(|v| v.side(selected));
                // Outwards (away from the root) goes to the first child, inwards to the parent.
                let next = match side {
                    Some(Side::Root) => self
                        .parts
                        .map
                        .as_ref()
                        .and_then(|v| v.first_on(if right { Side::Right } else { Side::Left })),
                    Some(side) if right == (side == Side::Right) => {
                        if let Some(view) = self.parts.map.as_mut() {
                            view.set_folded(selected, false);
                        }
                        self.draw_map();
                        node.children.first().copied()
                    }
                    _ => node.parent,
                };
                if let Some(id) = next {
                    self.select(shared, id);
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
        let unchanged = view
            .drawn_from
            .as_ref()
            .is_some_and(|(t, f)| Arc::ptr_eq(t, &tree) && *f == view.folded);
        if !unchanged {
            let root = map_node(&tree, tree.root, &view.folded, 0);
            view.layout = layout(&root);
            let svg = to_svg(&view.layout, "Mind map");
            if view.drawn.as_deref() != Some(svg.as_str()) {
                view.canvas.set_inner_html(&svg);
                view.drawn = Some(svg);
                // New elements, none of them marked.
                view.marks.clear();
            }
            view.drawn_from = Some((tree, view.folded.clone()));
        }
        if view.view.fit {
            view.fit();
        } else {
            view.show_view();
        }
        self.mark();
    }

    /// Outlines the selection, the others' selections in their colours and the drop target,
    /// and points "open the topic" at the selection. Only topics whose marks change are
    /// touched (a presence update on a thousand-topic map changes one or two).
    fn mark(&mut self) {
        let selections = self.session.selections();
        let Some(view) = self.parts.map.as_mut() else {
            return;
        };
        let mut wanted: HashMap<NodeId, Mark> = HashMap::new();
        if let Some(id) = view.selected {
            wanted.entry(id).or_default().selected = true;
        }
        if let Some((id, Place::Onto)) = view.drop {
            wanted.entry(id).or_default().drop = true;
        }
        for (user, id) in &selections {
            let mark = wanted.entry(*id).or_default();
            mark.by = Some(match mark.by.take() {
                Some((color, names)) => (color, format!("{names}, {}", user.name)),
                None => (user.color.clone(), user.name.clone()),
            });
        }
        let ids: HashSet<NodeId> = wanted.keys().chain(view.marks.keys()).copied().collect();
        for id in ids {
            let mark = wanted.get(&id).cloned().unwrap_or_default();
            if view.marks.get(&id).cloned().unwrap_or_default() == mark {
                continue;
            }
            if let Ok(Some(group)) = view
                .canvas
                .query_selector(&format!("[data-topic=\"{id}\"]"))
            {
                show_mark(&group, &mark);
            }
        }
        view.marks = wanted;
        let view = &*view;
        draw_drop_line(view);
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
        // What a screen reader says of the map: the selected topic, as drawn.
        let label = view
            .selected
            .and_then(|id| view.layout.nodes.iter().find(|n| n.id == id))
            .map_or_else(
                || "Mind map".to_owned(),
                |n| format!("Mind map, selected: {}", n.label),
            );
        if view.canvas.get_attribute("aria-label").as_deref() != Some(label.as_str()) {
            let _ = view.canvas.set_attribute("aria-label", &label);
        }
    }
}

/// The line that shows where a dragged topic would land before or after another.
fn draw_drop_line(view: &MapView) {
    if let Ok(Some(old)) = view.canvas.query_selector(".map-drop-line") {
        old.remove();
    }
    let Some((target, place @ (Place::Before | Place::After))) = view.drop else {
        return;
    };
    let (Some(node), Some(svg)) = (
        view.layout.nodes.iter().find(|n| n.id == target),
        view.canvas.first_element_child(),
    ) else {
        return;
    };
    let Ok(line) = document().create_element_ns(Some(SVG_NS), "line") else {
        return;
    };
    let gap = (ROW_HEIGHT - NODE_HEIGHT) / 2.0;
    let y = if place == Place::Before {
        node.y - gap
    } else {
        node.y + node.height + gap
    };
    for (name, value) in [
        ("class", "map-drop-line".to_owned()),
        ("data-place", format!("{place:?}").to_lowercase()),
        ("x1", format!("{:.1}", node.x)),
        ("x2", format!("{:.1}", node.x + node.width)),
        ("y1", format!("{y:.1}")),
        ("y2", format!("{y:.1}")),
    ] {
        let _ = line.set_attribute(name, &value);
    }
    let _ = svg.append_child(&line);
}

/// Puts `mark` on a topic's element.
fn show_mark(group: &Element, mark: &Mark) {
    let classes = group.class_list();
    let _ = classes.toggle_with_force("map-selected", mark.selected);
    let _ = classes.toggle_with_force("map-drop", mark.drop);
    let _ = classes.toggle_with_force("map-remote", mark.by.is_some());
    // Through the CSS object model: a `style` attribute is inline style, which the content
    // security policy refuses.
    let style = group.dyn_ref::<SvgElement>().map(|g| g.style());
    match &mark.by {
        Some((color, names)) => {
            if let Some(style) = &style {
                let _ = style.set_property("--person-color", color);
            }
            let _ = group.set_attribute("data-selected-by", names);
        }
        None => {
            if let Some(style) = &style {
                let _ = style.remove_property("--person-color");
            }
            let _ = group.remove_attribute("data-selected-by");
        }
    }
}
