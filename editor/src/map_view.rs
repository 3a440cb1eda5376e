//! The live map editor's view (WebAssembly only): the map drawn with `arbor_map::draw` (the
//! layout the subject page uses), the selected topic, keyboard and mouse editing, and the
//! others' selections outlined in their colours. The connection, saving, presence and undo
//! are the link's (`link.rs`); every change is an [`arbor_map::Structure`] operation through
//! the [`crate::session::Session`], so undo takes back only this person's changes. The
//! arithmetic of panning and zooming is [`arbor_map::viewport`]'s.
//!
//! For assistive technology the canvas is a WAI-ARIA tree (`arbor_map::treeview`, the markup
//! and keys the reader's map has too): its items are the topics, hidden from the eye, the
//! selection its `aria-activedescendant`; what a key did, and (grouped, a moment later) what
//! others changed, is said in a polite live region (`news.rs`).
//!
//! Keys (on the map): Tab new child, Enter new sibling, Delete/Backspace delete (undo brings
//! it back), F2 or typing to rename on the topic itself (Enter keeps, Escape drops), the tree view's keys to move
//! the selection (↓/↑ the next/previous visible topic, → unfold or first subtopic, ← fold or
//! parent, Home/End), Space to fold, Ctrl/Cmd+Z and Shift+Ctrl/Cmd+Z (or Ctrl+Y) undo and
//! redo, Ctrl/Cmd+↑/↓ to reorder, Ctrl/Cmd+← to move out of the parent and Ctrl/Cmd+→ into
//! the sibling before, Ctrl/Cmd+= / − / 0 to zoom in, out and fit, the context-menu key or
//! Shift+F10 for the topic's menu. Mouse and touch: click or tap selects, double-click renames,
//! the "+" drawn beside the selection adds a subtopic (at its outer edge) or a topic after it
//! (under it), a right click or a long press opens the topic's menu (`commands.rs`), the
//! circle at a topic's edge folds it; dragging a topic onto another makes it its last child
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
//! Its parts: what the person's keys, pointer and buttons do (`input.rs`), the commands a
//! key, the topic's menu or a "+" runs (`commands.rs`), and the drawer (`drawer.rs`).
//!
//! The selected topic's body opens in the drawer over the map (`drawer.rs`), so map and text
//! are edited in one session. When someone else's change puts in the trash the topic this
//! person has selected, or one they just added (its parent deleted meanwhile), a notice says
//! so and offers to restore it (`news::lost`).

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use arbor_map::changes::{Change, changes};
use arbor_map::draw::{Layout, MapNode, NODE_HEIGHT, ROW_HEIGHT, layout, to_svg_foldable};
use arbor_map::treeview::{self, Focus, Row};
use arbor_map::{MAX_DEPTH, MAX_TOPICS, NodeId, Structure, Tree};
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use web_sys::{Element, HtmlElement, HtmlInputElement, SvgElement};

use crate::dom::{Announcer, document, later, local_storage, part, soon};
use crate::link::{Editor, EditorHandle, Shared, View};
use crate::session::{Clock, Session, User};
use arbor_map::viewport::{Frame, Point, Rect, Viewport};

mod commands;
mod drawer;
mod input;

use commands::Menu;
use drawer::Panel;

/// The title a new topic has until it is named.
const NEW_TITLE: &str = "New topic";
/// Deeper topics are drawn folded (the layout's own limit); it also bounds the recursion here.
const DRAW_DEPTH: usize = arbor_map::draw::MAX_DEPTH;
/// The side panel follows the selection once it has rested this long (arrowing through the
/// map does not open an editor per topic passed).
const PANEL_MS: i32 = 400;
/// Others' changes are told this long after the first of them, together.
const NEWS_MS: i32 = 1_500;
/// The step of a zoom key or button.
const ZOOM_STEP: f64 = 1.25;
/// A press moves this far (CSS pixels) before it counts as a drag.
const DRAG_SLOP: f64 = 4.0;
/// A touch held this long on a topic without moving opens its menu.
const LONG_PRESS_MS: i32 = 550;
/// The "+" drawn beside the selection: its radius; for the subtopic's, how far out from the
/// topic's outer edge it sits and the larger circle that takes the pointer; for the next
/// topic's, how far under the topic (in the gap between rows, never over the topic's middle
/// or the next one's) and its reach.
const ADD_RADIUS: f64 = 7.0;
const ADD_OUT: f64 = 26.0;
const ADD_OUT_REACH: f64 = 16.0;
const ADD_UNDER: f64 = 9.0;
const ADD_UNDER_REACH: f64 = 10.0;
/// How many of this person's newest topics are watched for a parent deleted under them.
const WATCHED_ADDS: usize = 20;
const SVG_NS: &str = "http://www.w3.org/2000/svg";

/// Where a dragged topic would go, relative to the topic under the pointer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Place {
    /// Its last child.
    Onto,
    Before,
    After,
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

pub(crate) struct MapView {
    /// The map editor's element (its `data-selected` names the selection).
    root: HtmlElement,
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
    /// Where the last press started (window CSS pixels).
    press_from: (f64, f64),
    viewport: Viewport,
    /// The SVG last put on the page, its layout, and the tree and folds it was drawn from
    /// (the same tree, an `Arc` from the session, and folds mean nothing to draw).
    drawn: Option<String>,
    layout: Layout,
    drawn_from: Option<(Arc<Tree>, HashSet<NodeId>)>,
    /// How each marked topic is marked on the page now (the rest are not).
    marks: HashMap<NodeId, Mark>,
    /// The visible topics as the tree's keys see them, from the last drawing.
    rows: Vec<Row>,
    /// The map as last told (this person's changes are told as they make them, others' by
    /// [`MapView::tell_news`]), and whether telling others' changes is due.
    heard: Option<Arc<Tree>>,
    news_due: bool,
    announcer: Announcer,
    panel: Option<Panel>,
    menu: Option<Menu>,
    /// Bumped by every press and move, so a long press that was not one opens nothing.
    press_generation: u32,
    /// The notice of a loss ([`crate::news::lost`]) and what its "Restore" brings back.
    notice: Option<HtmlElement>,
    restorable: Option<(NodeId, NodeId)>,
    /// Topics this person deleted (a loss of theirs is not news), and the newest they added.
    deleted_by_me: HashSet<NodeId>,
    added: Vec<NodeId>,
    /// This person may change the map (as the link last said).
    editable: bool,
}

/// Mounts a map editor on `root` (`data-slug`; parts `data-role` canvas, rename, open, fit,
/// zoom-in, zoom-out, the optional panel, and those every editor has).
pub(crate) fn mount(root: HtmlElement) -> Result<EditorHandle, JsValue> {
    let view = MapView::find(&root)?;
    crate::link::mount(root, view)
}

impl MapView {
    /// The parts of the map editor under `root`.
    fn find(root: &HtmlElement) -> Result<MapView, JsValue> {
        let folded_key = format!(
            "arbor:folded:{}",
            root.get_attribute("data-doc").unwrap_or_default()
        );
        let folded = local_storage()
            .and_then(|s| s.get_item(&folded_key).ok().flatten())
            .and_then(|saved| serde_json::from_str::<Vec<NodeId>>(&saved).ok())
            .unwrap_or_default();
        Ok(MapView {
            root: root.clone(),
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
            press_from: (0.0, 0.0),
            viewport: Viewport::default(),
            drawn: None,
            layout: Layout::default(),
            drawn_from: None,
            marks: HashMap::new(),
            rows: Vec::new(),
            heard: None,
            news_due: false,
            announcer: Announcer::find(root),
            panel: match root.query_selector("[data-role=\"panel\"]")? {
                Some(aside) => {
                    let aside: HtmlElement = aside.unchecked_into();
                    Some(Panel::new(
                        part(&aside, "panel-editor")?,
                        part(&aside, "panel-title")?,
                        part(root, "text-toggle").ok(),
                        aside,
                    ))
                }
                None => None,
            },
            menu: part(root, "menu").ok().map(|element| Menu {
                element,
                topic: None,
                armed: true,
            }),
            press_generation: 0,
            notice: part(root, "notice").ok(),
            restorable: None,
            deleted_by_me: HashSet::new(),
            added: Vec::new(),
            editable: false,
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

    /// Where the map is shown now: the canvas in the window, the root's centre, and what the
    /// open drawer covers of the canvas (its right side, or its bottom on a phone).
    fn frame(&self) -> Frame {
        let rect = self.canvas.get_bounding_client_rect();
        let root = self.layout.nodes.first().map_or(Point::new(0.0, 0.0), |r| {
            Point::new(r.x + r.width / 2.0, r.y + r.height / 2.0)
        });
        let canvas = Rect::new(
            rect.left() + f64::from(self.canvas.client_left()),
            rect.top() + f64::from(self.canvas.client_top()),
            f64::from(self.canvas.client_width().max(1)),
            f64::from(self.canvas.client_height().max(1)),
        );
        let mut frame = Frame::new(canvas, root);
        if let Some(panel) = self.panel.as_ref().filter(|p| !p.aside.hidden()) {
            let drawer = panel.aside.get_bounding_client_rect();
            if drawer.left() > canvas.x + 1.0 {
                frame.covered_right = (canvas.x + canvas.width - drawer.left()).max(0.0);
            } else {
                frame.covered_bottom = (canvas.y + canvas.height - drawer.top()).max(0.0);
            }
        }
        frame
    }

    /// A point in the window (CSS pixels) in map units.
    fn to_map(&self, x: f64, y: f64) -> (f64, f64) {
        let p = self.viewport.to_map(&self.frame(), Point::new(x, y));
        (p.x, p.y)
    }

    /// Shows the part of the map the viewport says (the SVG fills the canvas).
    fn show_view(&self) {
        let Some(svg) = self.canvas.first_element_child() else {
            return;
        };
        let _ = svg.set_attribute("viewBox", &self.viewport.view_box_attribute(&self.frame()));
        let _ = svg.set_attribute("width", "100%");
        let _ = svg.set_attribute("height", "100%");
        let _ = self
            .canvas
            .set_attribute("data-zoom", &format!("{:.3}", self.viewport.scale()));
    }

    /// Zooms the whole map into view (never above its natural size), and keeps it so.
    fn fit(&mut self) {
        let map = Rect::new(0.0, 0.0, self.layout.width, self.layout.height);
        self.viewport.fit(&self.frame(), map);
        self.show_view();
    }

    /// Zooms by `factor` keeping the map point under window point `at` (CSS pixels) in place;
    /// about the centre without one.
    fn zoom(&mut self, factor: f64, at: Option<(f64, f64)>) {
        let at = at.map(|(x, y)| Point::new(x, y));
        self.viewport.zoom(&self.frame(), factor, at);
        self.show_view();
    }

    /// Zooms by `factor` about the middle of the canvas, or fits the map (`None`).
    fn zoom_or_fit(&mut self, factor: Option<f64>) {
        match factor {
            Some(factor) => self.zoom(factor, None),
            None => self.fit(),
        }
    }

    /// Moves the picture by (`x`, `y`) CSS pixels.
    fn pan(&mut self, x: f64, y: f64) {
        self.viewport.pan(x, y);
        self.show_view();
    }

    /// Fits the map again if it is kept fitted, or shows the same view of it.
    fn refit(&mut self) {
        if self.viewport.is_fitted() {
            self.fit();
        } else {
            self.show_view();
        }
    }

    /// Pans the least that brings topic `id` into view (when drawn).
    /// (The selection is revealed with its "+" for someone who may edit.)
    fn reveal(&mut self, id: NodeId) {
        let Some(node) = self.layout.nodes.iter().find(|n| n.id == id) else {
            return;
        };
        let mut rect = Rect::new(node.x, node.y, node.width, node.height);
        if self.editable && self.selected == Some(id) {
            let out = ADD_OUT + ADD_OUT_REACH;
            if node.side == arbor_map::draw::Side::Left {
                rect.x -= out;
            }
            rect.width += out;
            rect.height += ADD_UNDER + ADD_UNDER_REACH;
        }
        if self.viewport.reveal(&self.frame(), rect) {
            self.show_view();
        }
    }

    /// Reveals the selection, if any.
    fn reveal_selected(&mut self) {
        if let Some(id) = self.selected {
            self.reveal(id);
        }
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

    /// Draws the map (when it changed) and its marks.
    fn draw(&mut self, session: &Session) {
        let Some(tree) = session.tree() else {
            return;
        };
        if let Some((before, _)) = &self.drawn_from
            && !Arc::ptr_eq(before, &tree)
            && let Some(loss) = crate::news::lost(
                before,
                &tree,
                self.selected,
                &self.added,
                &self.deleted_by_me,
            )
        {
            self.tell_loss(loss);
        }
        if self.selected.is_some_and(|s| !tree.nodes.contains_key(&s)) {
            self.selected = Some(tree.root);
        }
        if let Some(panel) = &self.panel {
            panel.retitle(session);
        }
        let unchanged = self
            .drawn_from
            .as_ref()
            .is_some_and(|(t, f)| Arc::ptr_eq(t, &tree) && *f == self.folded);
        if self.heard.is_none() && session.synced() {
            self.heard = Some(tree.clone());
        }
        if !unchanged {
            let root = map_node(&tree, tree.root, &self.folded, 0);
            self.layout = layout(&root);
            self.rows = treeview::rows(&root);
            // The picture, then the same topics as a tree for assistive technology.
            let html = format!(
                "{}{}",
                to_svg_foldable(&self.layout, "Mind map"),
                treeview::html(&root, "", Focus::Container)
            );
            if self.drawn.as_deref() != Some(html.as_str()) {
                self.canvas.set_inner_html(&html);
                if let Some(svg) = self.canvas.first_element_child() {
                    let _ = svg.remove_attribute("role");
                    let _ = svg.set_attribute("aria-hidden", "true");
                }
                self.drawn = Some(html);
                // New elements, none of them marked.
                self.marks.clear();
            }
            self.drawn_from = Some((tree, self.folded.clone()));
        }
        self.refit();
        self.mark(session);
    }

    /// Outlines the selection, the others' selections in their colours and the drop target,
    /// and points "open the topic" at the selection. Only topics whose marks change are
    /// touched (a presence update on a thousand-topic map changes one or two).
    fn mark(&mut self, session: &Session) {
        let selections = session.selections();
        let mut wanted: HashMap<NodeId, Mark> = HashMap::new();
        if let Some(id) = self.selected {
            wanted.entry(id).or_default().selected = true;
        }
        if let Some((id, Place::Onto)) = self.drop {
            wanted.entry(id).or_default().drop = true;
        }
        for (user, id) in &selections {
            let mark = wanted.entry(*id).or_default();
            mark.by = Some(match mark.by.take() {
                Some((color, names)) => (color, format!("{names}, {}", user.name)),
                None => (user.color.clone(), user.name.clone()),
            });
        }
        let ids: HashSet<NodeId> = wanted.keys().chain(self.marks.keys()).copied().collect();
        for id in ids {
            let mark = wanted.get(&id).cloned().unwrap_or_default();
            if self.marks.get(&id).cloned().unwrap_or_default() == mark {
                continue;
            }
            if let Ok(Some(group)) = self
                .canvas
                .query_selector(&format!("[data-topic=\"{id}\"]"))
            {
                show_mark(&group, &mark);
            }
        }
        self.marks = wanted;
        self.draw_drop_line();
        self.draw_adders(session);
        // Always there (the toolbar keeps its shape); a link only with a selection.
        match self.selected {
            Some(id) => {
                let _ = self
                    .open
                    .set_attribute("href", &format!("/s/{}/t/{id}/edit", self.slug));
                let _ = self.open.remove_attribute("data-off");
            }
            None => {
                let _ = self.open.remove_attribute("href");
                let _ = self.open.set_attribute("data-off", "");
            }
        }
        let _ = match self.selected {
            Some(id) => self.root.set_attribute("data-selected", &id.to_string()),
            None => self.root.remove_attribute("data-selected"),
        };
        // What a screen reader says of the map: the selected topic, as a tree item.
        if let Ok(Some(old)) = self.canvas.query_selector("[aria-selected=\"true\"]") {
            let _ = old.set_attribute("aria-selected", "false");
        }
        let item = self.selected.and_then(|id| {
            document()
                .get_element_by_id(&treeview::item_id(id))
                .filter(|item| self.canvas.contains(Some(item)))
        });
        let _ = match item {
            Some(item) => {
                let _ = item.set_attribute("aria-selected", "true");
                self.canvas
                    .set_attribute("aria-activedescendant", &item.id())
            }
            None => self.canvas.remove_attribute("aria-activedescendant"),
        };
    }

    /// Tells, together, what others changed since the map was last told (named by who has
    /// the topic selected now: who adds or renames a topic is on it; who deletes one is on
    /// its parent).
    fn tell_news(&mut self, session: &Session) {
        self.news_due = false;
        let Some(tree) = session.tree() else {
            return;
        };
        let Some(before) = self.heard.replace(tree.clone()) else {
            return;
        };
        if Arc::ptr_eq(&before, &tree) {
            return;
        }
        let selections = session.selections();
        let heard: Vec<(String, String)> = changes(&before, &tree)
            .iter()
            .map(|change| {
                let on = match change {
                    Change::Deleted { id, .. } => before.nodes.get(id).and_then(|n| n.parent),
                    other => other.topic(),
                };
                let who = selections
                    .iter()
                    .find(|(_, id)| Some(*id) == on)
                    .map_or_else(|| "Someone".to_owned(), |(user, _)| user.name.clone());
                (who, change.describe())
            })
            .collect();
        if let Some(text) = crate::news::theirs(&heard) {
            self.announcer.say(&text);
        }
    }

    /// Tells what this person's last change did (`prefix`: "Undone: " and the like), and
    /// takes the map as told.
    fn tell_mine(&mut self, session: &Session, prefix: &str) {
        let Some(tree) = session.tree() else {
            return;
        };
        if let Some(before) = self.heard.replace(tree.clone())
            && let Some(text) = crate::news::mine(prefix, &changes(&before, &tree))
        {
            self.announcer.say(&text);
        }
    }

    /// The line that shows where a dragged topic would land before or after another.
    fn draw_drop_line(&self) {
        if let Ok(Some(old)) = self.canvas.query_selector(".map-drop-line") {
            old.remove();
        }
        let Some((target, place @ (Place::Before | Place::After))) = self.drop else {
            return;
        };
        let (Some(node), Some(svg)) = (
            self.layout.nodes.iter().find(|n| n.id == target),
            self.canvas.first_element_child(),
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

    /// Says what someone else's change took from this person, with "Restore" beside it.
    fn tell_loss(&mut self, loss: crate::news::Loss) {
        self.added.retain(|id| *id != loss.topic);
        self.announcer.say(&loss.text);
        let Some(notice) = &self.notice else {
            return;
        };
        if let Ok(Some(text)) = notice.query_selector("[data-role=notice-text]") {
            text.set_text_content(Some(&loss.text));
        }
        notice.set_hidden(false);
        self.restorable = Some((loss.top, loss.topic));
    }

    fn hide_notice(&mut self) {
        if let Some(notice) = &self.notice {
            notice.set_hidden(true);
        }
        self.restorable = None;
    }

    /// The "+" beside the selection (for someone who may edit): a subtopic at its outer
    /// edge (past its fold toggle), a topic after it at its bottom edge (not for the root).
    fn draw_adders(&self, session: &Session) {
        if let Ok(old) = self.canvas.query_selector_all(".map-add") {
            for i in 0..old.length() {
                if let Some(element) = old.item(i).and_then(|n| n.dyn_into::<Element>().ok()) {
                    element.remove();
                }
            }
        }
        let (Some(id), false) = (self.selected, session.read_only()) else {
            return;
        };
        let (Some(node), Some(svg)) = (
            self.layout.nodes.iter().find(|n| n.id == id),
            self.canvas.first_element_child(),
        ) else {
            return;
        };
        let cy = node.y + node.height / 2.0;
        let child_x = if node.side == arbor_map::draw::Side::Left {
            node.x - ADD_OUT
        } else {
            node.x + node.width + ADD_OUT
        };
        let mut adders = vec![("add-child", "Add a subtopic", child_x, cy, ADD_OUT_REACH)];
        if node.parent.is_some() {
            adders.push((
                "add-after",
                "Add a topic after",
                node.x + node.width / 2.0,
                node.y + node.height + ADD_UNDER,
                ADD_UNDER_REACH,
            ));
        }
        for (command, label, x, y, reach) in adders {
            let Ok(group) = document().create_element_ns(Some(SVG_NS), "g") else {
                return;
            };
            let _ = group.set_attribute("class", "map-add");
            let _ = group.set_attribute("data-command", command);
            let _ = group.set_attribute("data-testid", command);
            let arm = ADD_RADIUS - 3.0;
            let parts = [
                ("title", vec![]),
                ("circle", vec![("r", reach), ("cx", x), ("cy", y)]),
                ("circle", vec![("r", ADD_RADIUS), ("cx", x), ("cy", y)]),
            ];
            for (name, attributes) in parts {
                let Ok(part) = document().create_element_ns(Some(SVG_NS), name) else {
                    return;
                };
                if name == "title" {
                    part.set_text_content(Some(label));
                }
                for (key, value) in attributes {
                    let _ = part.set_attribute(key, &format!("{value:.1}"));
                }
                let _ = group.append_child(&part);
            }
            if let Ok(cross) = document().create_element_ns(Some(SVG_NS), "path") {
                let _ = cross.set_attribute(
                    "d",
                    &format!(
                        "M{:.1} {y:.1}H{:.1}M{x:.1} {:.1}V{:.1}",
                        x - arm,
                        x + arm,
                        y - arm,
                        y + arm
                    ),
                );
                let _ = group.append_child(&cross);
            }
            let _ = svg.append_child(&group);
        }
    }

    /// Shows the name field for `id`, holding `initial` (the current title when `None`).
    fn start_rename(&mut self, session: &Session, id: NodeId, initial: Option<String>) {
        if session.read_only() {
            return;
        }
        let Some(title) = session
            .tree()
            .and_then(|t| t.nodes.get(&id).map(|n| n.title.clone()))
        else {
            return;
        };
        self.renaming = Some(id);
        let select_all = initial.is_none();
        self.rename.set_value(&initial.unwrap_or(title));
        self.place_rename(id);
        self.rename.set_hidden(false);
        let _ = self.rename.focus();
        if select_all {
            self.rename.select();
        }
    }
}

impl MapView {
    /// Puts the name field over topic `id` as drawn now (at least wide enough to type in),
    /// in its parent's coordinates; when the topic is not drawn it stays where it is.
    fn place_rename(&mut self, id: NodeId) {
        self.reveal(id);
        let Some(node) = self.layout.nodes.iter().find(|n| n.id == id) else {
            return;
        };
        let frame = self.frame();
        let scale = self.viewport.scale();
        let top_left = self.viewport.to_screen(&frame, Point::new(node.x, node.y));
        let Some(stage) = self.rename.parent_element() else {
            return;
        };
        let at = stage.get_bounding_client_rect();
        let width = (node.width * scale).max(160.0);
        let height = (node.height * scale).max(32.0);
        // A topic on the left grows leftwards: its field keeps its right edge.
        let left = if node.side == arbor_map::draw::Side::Left {
            top_left.x + node.width * scale - width
        } else {
            top_left.x
        };
        let style = self.rename.style();
        for (property, value) in [
            ("left", left - at.left()),
            (
                "top",
                top_left.y - at.top() + (node.height * scale - height) / 2.0,
            ),
            ("width", width),
            ("height", height),
            ("font-size", (arbor_map::draw::LABEL_SIZE * scale).max(14.0)),
        ] {
            let _ = style.set_property(property, &format!("{value:.1}px"));
        }
    }
}

impl View for MapView {
    type Pins = ();

    fn session(user: User, read_only: bool, clock: Clock) -> Session {
        Session::for_map(user, read_only, clock)
    }

    fn listen(shared: &Shared<MapView>) -> Result<(), JsValue> {
        input::listen(shared)
    }

    fn pins(&self, _: &Session) {}

    fn show(&mut self, session: &Session, _: ()) {
        self.draw(session);
    }

    fn redraw(&mut self, session: &Session) {
        self.draw(session);
    }

    /// Every change checks the session's `read_only` first; this only says whether the "+"
    /// beside the selection is to be kept in view.
    fn set_editable(&mut self, editable: bool) {
        self.editable = editable;
    }

    /// Others' changes are told a moment later, together (this person's own were told as
    /// they made them).
    fn changed(&mut self, shared: &Shared<MapView>) {
        if !self.news_due {
            self.news_due = true;
            later(shared, NEWS_MS, |ed, _| ed.view.tell_news(&ed.link.session));
        }
    }

    fn undone(&mut self, session: &Session, redo: bool) {
        self.tell_mine(session, if redo { "Redone: " } else { "Undone: " });
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

/// Focuses `element` after the current handler (focus changes fire events at once).
fn focus_later(element: &HtmlElement) {
    let element = element.clone();
    soon(move || {
        let _ = element.focus();
    });
}

/// Changes the map as this person (nothing when refused: a viewer, or an impossible
/// change), then shows and saves it like any change.
fn map_change(
    ed: &mut Editor<MapView>,
    shared: &Shared<MapView>,
    change: impl FnOnce(&Structure, &mut yrs::TransactionMut, &Tree) -> Result<(), arbor_map::MapError>,
) -> bool {
    let Some(tree) = ed.link.session.tree() else {
        return false;
    };
    // Others' changes first, so that they are not told as this person's.
    ed.view.tell_news(&ed.link.session);
    match ed.link.session.change_map(|s, txn| change(s, txn, &tree)) {
        Ok(((), frames)) => {
            ed.link.send(&frames);
            ed.view.draw(&ed.link.session);
            ed.changed(shared);
            ed.view.tell_mine(&ed.link.session, "");
            // A renamed topic on the left grows leftwards; a moved one may be elsewhere.
            ed.view.reveal_selected();
            true
        }
        Err(_) => false,
    }
}

/// Selects `id`, tells the others, and opens it in the panel once the selection rests.
fn select(ed: &mut Editor<MapView>, shared: &Shared<MapView>, id: NodeId) {
    ed.view.selected = Some(id);
    if let Some(frame) = ed.link.session.select(Some(id)) {
        ed.link.send(&[frame]);
    }
    ed.view.mark(&ed.link.session);
    if let Some(panel) = ed.view.panel.as_mut() {
        panel.follow(shared, id);
    }
}

/// Adds a topic (under `parent` at `index`), selects it and starts naming it; within
/// the subject's limits.
fn add(ed: &mut Editor<MapView>, shared: &Shared<MapView>, parent: NodeId, index: usize) {
    let Some(tree) = ed.link.session.tree() else {
        return;
    };
    if ed.link.session.read_only() {
        return;
    }
    if tree.nodes.len() >= MAX_TOPICS {
        ed.link
            .notify(format!("a subject holds at most {MAX_TOPICS} topics"));
        return;
    }
    if !tree.fits_under(None, parent) {
        ed.link.notify(too_deep());
        return;
    }
    let id = new_id();
    if map_change(ed, shared, |s, txn, _| {
        s.add(txn, id, parent, index, NEW_TITLE)
    }) {
        ed.view.set_folded(parent, false);
        ed.view.draw(&ed.link.session);
        let added = &mut ed.view.added;
        added.push(id);
        if added.len() > WATCHED_ADDS {
            added.remove(0);
        }
        select(ed, shared, id);
        ed.view
            .start_rename(&ed.link.session, id, Some(String::new()));
    }
}

/// Ends naming: keeps the name (`keep`, when not blank) or drops it.
fn end_rename(ed: &mut Editor<MapView>, shared: &Shared<MapView>, keep: bool) {
    let view = &mut ed.view;
    let Some(id) = view.renaming.take() else {
        return;
    };
    let title = view.rename.value().trim().to_owned();
    view.rename.set_hidden(true);
    focus_later(&view.canvas);
    if keep && !title.is_empty() {
        map_change(ed, shared, |s, txn, _| s.rename(txn, id, &title));
    }
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
