//! The reader's map in the browser (the [`super::islands::MapReader`] island), on a subject's
//! page: the drawing and the outline beside it, both drawn on the server.
//!
//! - **The drawing** becomes a view of its own size (the frame's), panned by dragging (one
//!   finger on a touch screen), zoomed with the − / + buttons, Ctrl+wheel, a touchpad's or two
//!   fingers' pinch, and the keyboard (+, −, 0 to fit, arrows to pan) when it has focus;
//!   "Fit" shows the whole map, never with labels under 11 px ([`arbor_map::viewport`], the
//!   same arithmetic as the map editor's); "Full screen" gives it the screen. A click on a
//!   topic's fold toggle (`−` / `+` at its outer edge) folds or unfolds it.
//! - **The outline**, a WAI-ARIA tree ([`arbor_map::treeview`]), becomes one tab stop that
//!   the tree view's keys move through ([`treeview::act`], as in the map editor).
//!
//! A fold, from either, is shown by both: the drawing is laid out again here with the
//! server's layout, the tree's group hidden or shown, and the address (`?fold=`) updated, so
//! a reload or a shared link keeps it. Without JavaScript the drawing is a scrolled picture
//! at its natural size and every topic a link.

use std::cell::RefCell;
use std::rc::Rc;

use arbor_map::draw::{Layout, MapNode, layout, to_svg_foldable};
use arbor_map::treeview::{self, Act, Key, Row};
use arbor_map::viewport::{Frame, Point, Rect, Viewport, wheel_pixels, wheel_zoom};
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use web_sys::{Element, Event, HtmlElement, KeyboardEvent, PointerEvent, WheelEvent};

/// How much a button or key zooms, and how far an arrow key pans (CSS pixels).
const ZOOM_STEP: f64 = 1.25;
const PAN_STEP: f64 = 60.0;
/// A press that moves less than this (CSS pixels) is a click, not a pan.
const CLICK_SLOP: f64 = 4.0;

/// The map on the page, once hydrated.
struct Reader {
    root: Element,
    tree: Element,
    /// The focusable frame around the drawing, and the drawing (the SVG's parent).
    frame: HtmlElement,
    drawing: Element,
    title: String,
    layout: Layout,
    viewport: Viewport,
    /// Pointers down on the drawing: id and where it is now (window CSS pixels).
    pointers: Vec<(i32, Point)>,
    /// Where the one pointer down was pressed, until it moves more than [`CLICK_SLOP`].
    pressed: Option<Point>,
    /// The last press panned or pinched, so the click it ends in opens nothing.
    moved: bool,
}

type Shared = Rc<RefCell<Reader>>;

/// Wires the closest `[data-map-reader]`: its tree to the keys, its drawing to the pointer,
/// the wheel, its buttons and its keys.
pub(crate) fn attach(marker: &Element) {
    let Some(root) = marker.closest("[data-map-reader]").ok().flatten() else {
        return;
    };
    let (Some(tree), Some(frame), Some(drawing)) = (
        root.query_selector("[role=tree]").ok().flatten(),
        root.query_selector("[data-role=frame]")
            .ok()
            .flatten()
            .and_then(|f| f.dyn_into::<HtmlElement>().ok()),
        root.query_selector("[data-role=drawing]").ok().flatten(),
    ) else {
        return;
    };
    let title = drawing
        .query_selector("svg > title")
        .ok()
        .flatten()
        .and_then(|t| t.text_content())
        .unwrap_or_default();
    // One tab stop in the tree: the first item until another is focused.
    for (i, (item, _)) in visible(&tree).iter().enumerate() {
        let _ = item.set_attribute("tabindex", if i == 0 { "0" } else { "-1" });
    }
    let reader = Rc::new(RefCell::new(Reader {
        layout: tree_map(&tree).map(|m| layout(&m)).unwrap_or_default(),
        root,
        tree,
        frame,
        drawing,
        title,
        viewport: Viewport::default(),
        pointers: Vec::new(),
        pressed: None,
        moved: false,
    }));
    {
        let r = reader.borrow();
        // The frame becomes a view (see `.map-frame[data-live]`), its buttons shown.
        let _ = r.frame.set_attribute("data-live", "");
        if let Ok(Some(controls)) = r.root.query_selector("[data-role=controls]")
            && let Some(controls) = controls.dyn_ref::<HtmlElement>()
        {
            controls.set_hidden(false);
        }
    }
    reader.borrow_mut().fit();
    listen(&reader);
}

impl Reader {
    /// The drawing's place in the window and the root's centre on the map.
    fn frame(&self) -> Frame {
        let rect = self.drawing.get_bounding_client_rect();
        let root = self.layout.nodes.first().map_or(Point::new(0.0, 0.0), |r| {
            Point::new(r.x + r.width / 2.0, r.y + r.height / 2.0)
        });
        let canvas = Rect::new(
            rect.left(),
            rect.top(),
            rect.width().max(1.0),
            rect.height().max(1.0),
        );
        Frame::new(canvas, root)
    }

    /// Shows the part of the map the viewport says.
    fn show(&self) {
        let Ok(Some(svg)) = self.drawing.query_selector("svg") else {
            return;
        };
        let _ = svg.set_attribute("viewBox", &self.viewport.view_box_attribute(&self.frame()));
        let _ = svg.set_attribute("width", "100%");
        let _ = svg.set_attribute("height", "100%");
        let _ = self
            .frame
            .set_attribute("data-zoom", &format!("{:.3}", self.viewport.scale()));
    }

    fn fit(&mut self) {
        let bounds = Rect::new(0.0, 0.0, self.layout.width, self.layout.height);
        self.viewport.fit(&self.frame(), bounds);
        self.show();
    }

    fn zoom(&mut self, factor: f64, at: Option<Point>) {
        self.viewport.zoom(&self.frame(), factor, at);
        self.show();
    }

    fn pan(&mut self, x: f64, y: f64) {
        self.viewport.pan(x, y);
        self.show();
    }

    /// After the frame changed size: fitted again if it was, else the same view.
    fn refit(&mut self) {
        if self.viewport.is_fitted() {
            self.fit();
        } else {
            self.show();
        }
    }

    /// Folds (`folded`) or unfolds tree item `item`, then on the drawing and in the address.
    fn fold(&mut self, item: &Element, folded: bool) {
        let _ = item.set_attribute("aria-expanded", if folded { "false" } else { "true" });
        if let Some(group) = item
            .next_element_sibling()
            .and_then(|g| g.dyn_into::<HtmlElement>().ok())
        {
            group.set_hidden(folded);
        }
        let Some(map) = tree_map(&self.tree) else {
            return;
        };
        self.layout = layout(&map);
        self.drawing
            .set_inner_html(&to_svg_foldable(&self.layout, &self.title));
        self.refit();
        let mut ids = Vec::new();
        folded_ids(&map, &mut ids);
        keep_in_address(&ids);
    }

    /// The tree item of topic `id`.
    fn item(&self, id: &str) -> Option<Element> {
        self.tree
            .query_selector(&format!("[role=treeitem][data-item='{id}']"))
            .ok()
            .flatten()
    }
}

/// Adds `handler` for `kind` events on `target`, for as long as the page lives.
fn on(
    reader: &Shared,
    target: &web_sys::EventTarget,
    kind: &str,
    handler: impl Fn(&mut Reader, &Event) + 'static,
) {
    let reader = reader.clone();
    let closure = Closure::<dyn Fn(Event)>::new(move |e: Event| {
        if let Ok(mut r) = reader.try_borrow_mut() {
            handler(&mut r, &e);
        }
    });
    let _ = target.add_event_listener_with_callback(kind, closure.as_ref().unchecked_ref());
    closure.forget();
}

fn listen(reader: &Shared) {
    let (root, tree, frame, drawing) = {
        let r = reader.borrow();
        (
            r.root.clone(),
            r.tree.clone(),
            r.frame.clone(),
            r.drawing.clone(),
        )
    };
    on(reader, &tree, "keydown", |r, e| {
        if let Some(e) = e.dyn_ref::<KeyboardEvent>() {
            tree_key(r, e);
        }
    });
    on(reader, &tree, "click", |r, e| {
        let toggle = target_closest(e, "[data-toggle]");
        let Some(item) = toggle.and_then(|t| t.next_element_sibling()) else {
            return;
        };
        let open = item.get_attribute("aria-expanded").as_deref() == Some("true");
        r.fold(&item, open);
        move_focus(&r.tree, &item);
    });
    on(reader, &frame, "keydown", |r, e| {
        let Some(key) = e.dyn_ref::<KeyboardEvent>() else {
            return;
        };
        // Only the frame's own keys: its buttons keep theirs.
        if key.ctrl_key()
            || key.alt_key()
            || key.meta_key()
            || e.target() != Some(r.frame.clone().into())
        {
            return;
        }
        match key.key().as_str() {
            "+" | "=" => r.zoom(ZOOM_STEP, None),
            "-" | "_" => r.zoom(1.0 / ZOOM_STEP, None),
            "0" => r.fit(),
            "ArrowLeft" => r.pan(PAN_STEP, 0.0),
            "ArrowRight" => r.pan(-PAN_STEP, 0.0),
            "ArrowUp" => r.pan(0.0, PAN_STEP),
            "ArrowDown" => r.pan(0.0, -PAN_STEP),
            _ => return,
        }
        e.prevent_default();
    });
    on(reader, &drawing, "pointerdown", |r, e| {
        let Some(p) = e.dyn_ref::<PointerEvent>() else {
            return;
        };
        if p.pointer_type() == "mouse" && p.button() != 0 {
            return;
        }
        let at = Point::new(f64::from(p.client_x()), f64::from(p.client_y()));
        r.pointers.retain(|(id, _)| *id != p.pointer_id());
        r.pointers.push((p.pointer_id(), at));
        r.moved = false;
        r.pressed = (r.pointers.len() == 1).then_some(at);
        if r.pointers.len() > 1 {
            // A pinch: the pointers are followed off the drawing too.
            for (id, _) in &r.pointers {
                let _ = r.drawing.set_pointer_capture(*id);
            }
        }
    });
    on(reader, &drawing, "pointermove", |r, e| {
        let Some(p) = e.dyn_ref::<PointerEvent>() else {
            return;
        };
        let at = Point::new(f64::from(p.client_x()), f64::from(p.client_y()));
        let Some(i) = r.pointers.iter().position(|(id, _)| *id == p.pointer_id()) else {
            return;
        };
        let was = r.pointers[i].1;
        r.pointers[i].1 = at;
        if let [(a, pa), (_, pb)] = r.pointers[..] {
            let other = if a == p.pointer_id() { pb } else { pa };
            let frame = r.frame();
            r.viewport.pinch(&frame, was, at, other);
            r.moved = true;
            r.show();
            return;
        }
        if let Some(from) = r.pressed {
            if (at.x - from.x).hypot(at.y - from.y) < CLICK_SLOP {
                return;
            }
            // A pan from here on: the release and the click come to the drawing, so a link
            // under the press opens nothing.
            r.pressed = None;
            r.moved = true;
            let _ = r.drawing.set_pointer_capture(p.pointer_id());
            let _ = r.frame.set_attribute("data-panning", "");
            r.pan(at.x - from.x, at.y - from.y);
        } else if r.moved {
            r.pan(at.x - was.x, at.y - was.y);
        }
    });
    for kind in ["pointerup", "pointercancel"] {
        on(reader, &drawing, kind, |r, e| {
            if let Some(p) = e.dyn_ref::<PointerEvent>() {
                r.pointers.retain(|(id, _)| *id != p.pointer_id());
            }
            r.pressed = None;
            if r.pointers.is_empty() {
                let _ = r.frame.remove_attribute("data-panning");
            }
        });
    }
    // Capture: ahead of a link's default action.
    let clicks = {
        let reader = reader.clone();
        Closure::<dyn Fn(Event)>::new(move |e: Event| {
            let Ok(mut r) = reader.try_borrow_mut() else {
                return;
            };
            if std::mem::take(&mut r.moved) {
                e.prevent_default();
                e.stop_propagation();
                return;
            }
            let Some(toggle) = target_closest(&e, "[data-fold]") else {
                return;
            };
            e.prevent_default();
            let id = toggle.get_attribute("data-fold").unwrap_or_default();
            let folded = toggle.get_attribute("data-folded").as_deref() == Some("true");
            if let Some(item) = r.item(&id) {
                r.fold(&item, !folded);
            }
        })
    };
    let _ = drawing.add_event_listener_with_callback_and_bool(
        "click",
        clicks.as_ref().unchecked_ref(),
        true,
    );
    clicks.forget();
    on(reader, &drawing, "wheel", |r, e| {
        let Some(w) = e.dyn_ref::<WheelEvent>() else {
            return;
        };
        let (x, y) = wheel_pixels(
            w.delta_mode(),
            w.delta_x(),
            w.delta_y(),
            r.frame().canvas.height,
        );
        if w.ctrl_key() || w.meta_key() {
            // Ctrl+wheel, or a touchpad's pinch.
            let at = Point::new(f64::from(w.client_x()), f64::from(w.client_y()));
            r.zoom(wheel_zoom(y), Some(at));
        } else if full_screen().is_some() {
            r.pan(-x, -y);
        } else {
            // The wheel scrolls the page, as on any page; the map has the buttons and keys.
            return;
        }
        e.prevent_default();
    });
    for (role, act) in [
        ("zoom-in", Button::ZoomIn),
        ("zoom-out", Button::ZoomOut),
        ("fit", Button::Fit),
        ("fullscreen", Button::FullScreen),
    ] {
        if let Ok(Some(button)) = root.query_selector(&format!("[data-role={role}]")) {
            on(reader, &button, "click", move |r, _| match act {
                Button::ZoomIn => r.zoom(ZOOM_STEP, None),
                Button::ZoomOut => r.zoom(1.0 / ZOOM_STEP, None),
                Button::Fit => r.fit(),
                Button::FullScreen => toggle_full_screen(&r.frame),
            });
        }
    }
    if let Some(window) = web_sys::window() {
        on(reader, &window, "resize", |r, _| r.refit());
    }
    if let Some(document) = web_sys::window().and_then(|w| w.document()) {
        on(reader, &document, "fullscreenchange", |r, _| {
            let on = full_screen().is_some_and(|f| f == *r.frame.as_ref());
            if let Ok(Some(button)) = r.root.query_selector("[data-role=fullscreen]") {
                let _ = button.set_attribute("aria-pressed", if on { "true" } else { "false" });
            }
            // The frame's size changed: the whole map again.
            r.fit();
        });
    }
}

/// What a button of the drawing does.
#[derive(Clone, Copy)]
enum Button {
    ZoomIn,
    ZoomOut,
    Fit,
    FullScreen,
}

/// The element in full screen, if any.
fn full_screen() -> Option<Element> {
    web_sys::window()?.document()?.fullscreen_element()
}

fn toggle_full_screen(frame: &HtmlElement) {
    let Some(document) = web_sys::window().and_then(|w| w.document()) else {
        return;
    };
    if document.fullscreen_element().is_some() {
        document.exit_fullscreen();
    } else {
        let _ = frame.request_fullscreen();
    }
}

/// The tree view's keys on the outline.
fn tree_key(r: &mut Reader, e: &KeyboardEvent) {
    if e.ctrl_key() || e.alt_key() || e.meta_key() {
        return;
    }
    let Some(key) = Key::from_name(&e.key()) else {
        return;
    };
    let Some(current) = target_closest(e, "[role=treeitem]") else {
        return;
    };
    let items = visible(&r.tree);
    let rows: Vec<Row> = items.iter().map(|(_, row)| row.clone()).collect();
    let Some(at) = items.iter().position(|(item, _)| *item == current) else {
        return;
    };
    match treeview::act(&rows, at, key) {
        Some(Act::Focus(i)) => move_focus(&r.tree, &items[i].0),
        Some(Act::Expand(i)) => r.fold(&items[i].0, false),
        Some(Act::Collapse(i)) => r.fold(&items[i].0, true),
        None => {}
    }
    e.prevent_default();
}

/// The closest element to an event's target that matches `selector`.
fn target_closest(e: &Event, selector: &str) -> Option<Element> {
    e.target()?
        .dyn_into::<Element>()
        .ok()?
        .closest(selector)
        .ok()?
}

/// The items a person can reach now (none inside a folded topic), with what the keys need.
fn visible(tree: &Element) -> Vec<(Element, Row)> {
    let Ok(all) = tree.query_selector_all("[role=treeitem]") else {
        return Vec::new();
    };
    (0..all.length())
        .filter_map(|i| all.item(i)?.dyn_into::<Element>().ok())
        .filter(|item| {
            item.closest("[role=group][hidden]")
                .ok()
                .flatten()
                .is_none()
        })
        .filter_map(|item| {
            let row = Row {
                id: item.get_attribute("data-item")?.parse().ok()?,
                level: item.get_attribute("aria-level")?.parse().ok()?,
                expanded: item
                    .get_attribute("aria-expanded")
                    .map(|open| open == "true"),
                label: item.text_content().unwrap_or_default(),
            };
            Some((item, row))
        })
        .collect()
}

/// Makes `item` the tree's tab stop and focuses it.
fn move_focus(tree: &Element, item: &Element) {
    if let Ok(Some(old)) = tree.query_selector("[role=treeitem][tabindex='0']") {
        let _ = old.set_attribute("tabindex", "-1");
    }
    let _ = item.set_attribute("tabindex", "0");
    if let Some(item) = item.dyn_ref::<HtmlElement>() {
        let _ = item.focus();
    }
}

/// The map as the tree shows it now (what is folded there is folded).
fn tree_map(tree: &Element) -> Option<MapNode> {
    let li = tree.query_selector(":scope > li").ok()??;
    node(&li, 0)
}

/// The map from `li` (an item and its group) down; `depth` bounds the recursion as the layout
/// does.
fn node(li: &Element, depth: usize) -> Option<MapNode> {
    let item = li.query_selector(":scope > [role=treeitem]").ok()??;
    let children = match li.query_selector(":scope > [role=group]").ok().flatten() {
        Some(group) if depth < arbor_map::draw::MAX_DEPTH => {
            let lis = group.query_selector_all(":scope > li").ok()?;
            (0..lis.length())
                .filter_map(|i| lis.item(i)?.dyn_into::<Element>().ok())
                .filter_map(|li| node(&li, depth + 1))
                .collect()
        }
        _ => Vec::new(),
    };
    Some(MapNode {
        id: item.get_attribute("data-item")?.parse().ok()?,
        label: item.text_content().unwrap_or_default(),
        href: item.get_attribute("href"),
        collapsed: item.get_attribute("aria-expanded").as_deref() == Some("false"),
        children,
    })
}

fn folded_ids(node: &MapNode, out: &mut Vec<String>) {
    if node.collapsed {
        out.push(node.id.to_string());
    }
    for child in &node.children {
        folded_ids(child, out);
    }
}

/// Writes the folded topics into the address (`?fold=`), in place.
fn keep_in_address(ids: &[String]) {
    let Some(window) = web_sys::window() else {
        return;
    };
    let Ok(url) = web_sys::Url::new(&window.location().href().unwrap_or_default()) else {
        return;
    };
    if ids.is_empty() {
        url.search_params().delete("fold");
    } else {
        url.search_params().set("fold", &ids.join(","));
    }
    if let Ok(history) = window.history() {
        let _ = history.replace_state_with_url(&JsValue::NULL, "", Some(&url.href()));
    }
}
