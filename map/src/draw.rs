//! Mind-map layout and drawing: a tidy tree spreading to both sides of the root, as SVG.
//!
//! Shared by the server (the read-only map on a subject's page, rendered without JavaScript,
//! and the SVG/PNG exports) and the browser (the live map editor), so all draw the same
//! picture. The root sits in the middle; its branches (a child of the root with everything
//! under it) go to the right, in order, until the right holds half of the rows, and the rest
//! go to the left, as MindMeister and XMind draw a map. Each side reads top to bottom in the
//! children's order and is laid out as the classic horizontal tree: leaves take the next free
//! row, a parent sits at the middle of its children's rows, and each depth is a column as
//! wide as its widest label (mirrored on the left, where boxes hug the column's inner edge).
//! Siblings never overlap, the order of children is kept, and the same tree always gives the
//! same picture. Each branch has its colour (edges and boxes; the labels keep the text colour),
//! from a palette with at least 3:1 contrast on the light and the dark page alike.

use std::fmt::Write as _;

/// Text for SVG content or a double-quoted attribute (control characters other than tab and
/// newline dropped: XML does not allow them).
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text
        .chars()
        .filter(|c| !c.is_control() || matches!(c, '\t' | '\n'))
    {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// A node to lay out: an id (a topic id), its label, and its children in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MapNode {
    pub id: i64,
    pub label: String,
    /// Where the node links to (the topic's page), if anywhere.
    pub href: Option<String>,
    /// Children are hidden (and the node marked as collapsed) when true.
    pub collapsed: bool,
    pub children: Vec<MapNode>,
}

/// Which side of the root a node is drawn on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    Root,
    Right,
    Left,
}

/// Where one node ended up.
#[derive(Debug, Clone, PartialEq)]
pub struct PlacedNode {
    pub id: i64,
    pub label: String,
    pub href: Option<String>,
    pub depth: usize,
    pub side: Side,
    /// Top-left corner and size, in SVG units.
    pub x: f64,
    pub y: f64,
    pub width: f64,
    pub height: f64,
    /// The node has children that are not drawn.
    pub collapsed_children: usize,
    /// Index of the parent in [`Layout::nodes`].
    pub parent: Option<usize>,
}

/// A laid-out map.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Layout {
    /// Nodes in depth-first reading order (the root first).
    pub nodes: Vec<PlacedNode>,
    pub width: f64,
    pub height: f64,
}

/// Spacing, in SVG units.
pub const ROW_HEIGHT: f64 = 44.0;
pub const NODE_HEIGHT: f64 = 32.0;
pub const COLUMN_GAP: f64 = 56.0;
pub const MARGIN: f64 = 16.0;
const CHAR_WIDTH: f64 = 7.5;
const NODE_PADDING: f64 = 24.0;
const MIN_NODE_WIDTH: f64 = 64.0;
const MAX_LABEL_CHARS: usize = 40;
/// The labels' font size, in SVG units (CSS pixels at zoom 1).
pub const LABEL_SIZE: f64 = 13.0;
/// The branches' colours, in turn (each ≥ 3.5:1 against white and against the dark theme's
/// surface, `#0f172a`).
pub const BRANCH_COLOURS: [&str; 8] = [
    "#2f80ed", "#e0592a", "#0f9d58", "#9b51e0", "#db2777", "#0891b2", "#b7791f", "#dc2626",
];
/// The radius of a fold toggle, and of the larger circle around it that takes the pointer.
const TOGGLE_RADIUS: f64 = 7.0;
const TOGGLE_REACH: f64 = 14.0;
/// Deeper nodes are drawn collapsed, which also bounds the recursion of the layout.
pub const MAX_DEPTH: usize = 64;

/// The label as drawn: at most 40 characters, with an ellipsis when cut.
pub fn display_label(label: &str) -> String {
    let label = label.trim();
    if label.chars().count() <= MAX_LABEL_CHARS {
        label.to_owned()
    } else {
        let cut: String = label.chars().take(MAX_LABEL_CHARS - 1).collect();
        format!("{}…", cut.trim_end())
    }
}

fn node_width(label: &str) -> f64 {
    #[allow(clippy::cast_precision_loss)] // labels are at most 40 characters
    let chars = display_label(label).chars().count() as f64;
    (chars * CHAR_WIDTH + NODE_PADDING).max(MIN_NODE_WIDTH)
}

/// One child of the root with its subtree, laid out on its own (rows from 0) before it is
/// given a side and stacked with the others.
struct Branch {
    /// Its nodes in [`Layout::nodes`].
    nodes: std::ops::Range<usize>,
    rows: usize,
    /// The row of its top node.
    centre: f64,
}

/// Lays out `root` in the middle with its branches on both sides.
pub fn layout(root: &MapNode) -> Layout {
    let mut nodes = vec![placed(root, 0, None)];
    nodes[0].side = Side::Root;
    let mut branches = Vec::new();
    if root.collapsed {
        nodes[0].collapsed_children = count(root) - 1;
    } else {
        for child in &root.children {
            let start = nodes.len();
            let mut rows = 0;
            let centre = place(child, 1, Some(0), &mut rows, &mut nodes);
            branches.push(Branch {
                nodes: start..nodes.len(),
                rows,
                centre,
            });
        }
    }

    // The first branches go right until the right holds half of the rows.
    let total: usize = branches.iter().map(|b| b.rows).sum();
    let (mut right, mut right_rows) = (0, 0);
    while right < branches.len() && right_rows * 2 < total {
        right_rows += branches[right].rows;
        right += 1;
    }
    let rows = right_rows.max(total - right_rows).max(1);
    let mut root_row = 0.0;
    let mut sides_used = 0.0;
    for (side, side_branches) in [
        (Side::Right, &branches[..right]),
        (Side::Left, &branches[right..]),
    ] {
        let side_rows: usize = side_branches.iter().map(|b| b.rows).sum();
        // Each side is centred on the taller one.
        #[allow(clippy::cast_precision_loss)] // row counts are far below 2^52
        let mut shift = (rows - side_rows) as f64 / 2.0;
        let mut first_last = None;
        for branch in side_branches {
            for node in &mut nodes[branch.nodes.clone()] {
                node.y += shift * ROW_HEIGHT;
                node.side = side;
            }
            let centre = branch.centre + shift;
            first_last = Some((first_last.map_or(centre, |(f, _)| f), centre));
            #[allow(clippy::cast_precision_loss)]
            let branch_rows = branch.rows as f64;
            shift += branch_rows;
        }
        if let Some((first, last)) = first_last {
            root_row += (first + last) / 2.0;
            sides_used += 1.0;
        }
    }
    if sides_used > 0.0 {
        root_row /= sides_used;
    }
    nodes[0].y = row_y(root_row);

    // Columns: the widest node at each depth, on each side.
    let depth_count = nodes.iter().map(|n| n.depth + 1).max().unwrap_or(1);
    let mut right_width = vec![0.0f64; depth_count];
    let mut left_width = vec![0.0f64; depth_count];
    for n in &nodes {
        let widths = if n.side == Side::Left {
            &mut left_width
        } else {
            &mut right_width
        };
        widths[n.depth] = widths[n.depth].max(n.width);
    }
    // Where each column starts, outwards from the root: its inner edge's distance from the
    // root's edge on that side.
    let reach = |widths: &[f64]| {
        let mut edges = vec![0.0; widths.len()];
        let mut at = 0.0;
        for (depth, width) in widths.iter().enumerate().skip(1) {
            if *width > 0.0 {
                at += COLUMN_GAP;
                edges[depth] = at;
                at += width;
            }
        }
        (edges, at)
    };
    let (right_edges, right_reach) = reach(&right_width);
    let (left_edges, left_reach) = reach(&left_width);
    let root_x = MARGIN + left_reach;
    let root_right = root_x + nodes[0].width;
    nodes[0].x = root_x;
    for n in &mut nodes[1..] {
        n.x = match n.side {
            Side::Left => root_x - left_edges[n.depth] - n.width,
            _ => root_right + right_edges[n.depth],
        };
    }
    #[allow(clippy::cast_precision_loss)] // row counts are far below 2^52
    let height = rows as f64 * ROW_HEIGHT + 2.0 * MARGIN;
    Layout {
        width: root_right + right_reach + MARGIN,
        height,
        nodes,
    }
}

/// The top of a node's box in row `row`.
fn row_y(row: f64) -> f64 {
    MARGIN + row * ROW_HEIGHT + (ROW_HEIGHT - NODE_HEIGHT) / 2.0
}

/// A node not yet placed.
fn placed(node: &MapNode, depth: usize, parent: Option<usize>) -> PlacedNode {
    PlacedNode {
        id: node.id,
        label: display_label(&node.label),
        href: node.href.clone(),
        depth,
        side: Side::Right,
        x: 0.0,
        y: 0.0,
        width: node_width(&node.label),
        height: NODE_HEIGHT,
        collapsed_children: 0,
        parent,
    }
}

/// Places `node` and its visible descendants; returns the node's row (fractional for parents).
fn place(
    node: &MapNode,
    depth: usize,
    parent: Option<usize>,
    next_row: &mut usize,
    out: &mut Vec<PlacedNode>,
) -> f64 {
    let index = out.len();
    out.push(placed(node, depth, parent));
    let collapsed = node.collapsed || depth + 1 >= MAX_DEPTH;
    if collapsed {
        out[index].collapsed_children = count(node) - 1;
    }
    let row = if collapsed || node.children.is_empty() {
        #[allow(clippy::cast_precision_loss)]
        let row = *next_row as f64;
        *next_row += 1;
        row
    } else {
        let rows: Vec<f64> = node
            .children
            .iter()
            .map(|child| place(child, depth + 1, Some(index), next_row, out))
            .collect();
        (rows[0] + rows[rows.len() - 1]) / 2.0
    };
    out[index].y = row_y(row);
    row
}

/// The number of nodes in a subtree, itself included (without recursion: trees can be deep).
pub fn count(node: &MapNode) -> usize {
    let mut stack = vec![node];
    let mut n = 0;
    while let Some(next) = stack.pop() {
        n += 1;
        stack.extend(next.children.iter());
    }
    n
}

/// `href` when it is a link within the site (a path): never a scheme of someone else's choosing.
fn site_path(href: Option<&str>) -> Option<&str> {
    href.filter(|h| h.starts_with('/') && !h.starts_with("//"))
}

/// The map as a standalone SVG document: curved edges, one rounded box per node, each box a
/// link when the node has one; classes (`map-*`) for styling, the text following the system
/// theme through `currentColor` and each branch in its colour ([`BRANCH_COLOURS`]).
pub fn to_svg(layout: &Layout, title: &str) -> String {
    draw(layout, title, false)
}

/// [`to_svg`] with a fold toggle at the outer edge of each topic that has subtopics (`−`
/// when they are shown, `+` when folded): `<circle class="map-fold" data-fold="{id}"
/// data-folded="true|false">` under a `.map-fold-mark`, for a page that folds a topic when
/// it is clicked (the mark's fill comes from the page's style).
pub fn to_svg_foldable(layout: &Layout, title: &str) -> String {
    draw(layout, title, true)
}

/// The index in [`BRANCH_COLOURS`] of each node's branch (`None` for the root).
fn branches(layout: &Layout) -> Vec<Option<usize>> {
    let mut out: Vec<Option<usize>> = Vec::with_capacity(layout.nodes.len());
    let mut next = 0;
    for node in &layout.nodes {
        // Parents come before their children.
        let branch = match node.parent {
            None => None,
            Some(0) => {
                next += 1;
                Some((next - 1) % BRANCH_COLOURS.len())
            }
            Some(p) => out[p],
        };
        out.push(branch);
    }
    out
}

fn draw(layout: &Layout, title: &str, foldable: bool) -> String {
    let mut svg = String::with_capacity(256 + layout.nodes.len() * 256);
    // A map whose boxes are links is drawn beside its tree ([`crate::treeview`]), which
    // gives assistive technology the same topics with their structure: the drawing is hidden
    // from it and its links are for the pointer only (a picture may not hold links). One
    // without links (an export, the editor's canvas) is a picture.
    let linked = layout
        .nodes
        .iter()
        .any(|n| site_path(n.href.as_deref()).is_some());
    let role = if linked {
        r#"aria-hidden="true" focusable="false""#
    } else {
        r#"role="img""#
    };
    let _ = write!(
        svg,
        r#"<svg xmlns="http://www.w3.org/2000/svg" class="map" {role} viewBox="0 0 {w:.0} {h:.0}" width="{w:.0}" height="{h:.0}"><title>{t}</title>"#,
        w = layout.width,
        h = layout.height,
        t = escape(title),
    );
    let branch = branches(layout);
    let colour = |i: usize| branch[i].map_or("currentColor", |b| BRANCH_COLOURS[b]);
    svg.push_str(r#"<g class="map-edges" fill="none" stroke-opacity="0.7" stroke-width="2">"#);
    for (i, node) in layout.nodes.iter().enumerate() {
        if let Some(parent) = node.parent.map(|p| &layout.nodes[p]) {
            // From the parent's outer edge to the child's inner edge.
            let (x1, x2) = if node.side == Side::Left {
                (parent.x, node.x + node.width)
            } else {
                (parent.x + parent.width, node.x)
            };
            let (y1, y2) = (parent.y + parent.height / 2.0, node.y + node.height / 2.0);
            let mid = (x1 + x2) / 2.0;
            let _ = write!(
                svg,
                r#"<path stroke="{c}" d="M{x1:.1} {y1:.1}C{mid:.1} {y1:.1} {mid:.1} {y2:.1} {x2:.1} {y2:.1}"/>"#,
                c = colour(i),
            );
        }
    }
    svg.push_str("</g>");
    let mut parents = vec![false; layout.nodes.len()];
    for node in &layout.nodes {
        if let Some(p) = node.parent {
            parents[p] = true;
        }
    }
    for (i, node) in layout.nodes.iter().enumerate() {
        let class = if node.depth == 0 {
            "map-node map-root"
        } else {
            "map-node"
        };
        let body = format!(
            r#"<rect x="{x:.1}" y="{y:.1}" width="{w:.1}" height="{h:.1}" rx="8" fill="{c}" fill-opacity="0.08" stroke="{c}" stroke-opacity="{so}" stroke-width="{sw}"/><text x="{tx:.1}" y="{ty:.1}" dominant-baseline="central" text-anchor="middle" fill="currentColor" font-size="{LABEL_SIZE}">{label}{more}</text>"#,
            c = colour(i),
            so = if node.depth == 0 { "0.6" } else { "1" },
            sw = if node.depth <= 1 { "2" } else { "1.25" },
            x = node.x,
            y = node.y,
            w = node.width,
            h = node.height,
            tx = node.x + node.width / 2.0,
            ty = node.y + node.height / 2.0,
            label = escape(&node.label),
            more = if node.collapsed_children > 0 {
                format!(" (+{})", node.collapsed_children)
            } else {
                String::new()
            },
        );
        match site_path(node.href.as_deref()) {
            Some(href) => {
                let _ = write!(
                    svg,
                    r#"<a class="{class}" href="{href}" tabindex="-1" data-topic="{id}">{body}</a>"#,
                    href = escape(href),
                    id = node.id,
                );
            }
            None => {
                let _ = write!(
                    svg,
                    r#"<g class="{class}" data-topic="{id}">{body}</g>"#,
                    id = node.id
                );
            }
        }
    }
    if foldable {
        for (i, node) in layout.nodes.iter().enumerate() {
            if node.depth == 0 || !(parents[i] || node.collapsed_children > 0) {
                continue;
            }
            let folded = node.collapsed_children > 0;
            let cx = if node.side == Side::Left {
                node.x
            } else {
                node.x + node.width
            };
            let cy = node.y + node.height / 2.0;
            // Two elements a toggle (a thousand-topic map has a hundred of them): the circle
            // that takes the pointer, and the mark drawn over it (a circle and a − or +, one
            // path, which lets the pointer through).
            let (r, arm) = (TOGGLE_RADIUS, TOGGLE_RADIUS - 3.0);
            let _ = write!(
                svg,
                r#"<circle class="map-fold" data-fold="{id}" data-folded="{folded}" cx="{cx:.1}" cy="{cy:.1}" r="{TOGGLE_REACH}" fill="transparent"/><path class="map-fold-mark" stroke="{c}" stroke-width="1.5" d="M{l:.1} {cy:.1}a{r} {r} 0 1 0 {d} 0a{r} {r} 0 1 0 -{d} 0M{a:.1} {cy:.1}H{b:.1}{v}"/>"#,
                id = node.id,
                c = colour(i),
                l = cx - r,
                d = 2.0 * r,
                a = cx - arm,
                b = cx + arm,
                v = if folded {
                    format!("M{cx:.1} {t:.1}V{u:.1}", t = cy - arm, u = cy + arm)
                } else {
                    String::new()
                },
            );
        }
    }
    svg.push_str("</svg>");
    svg
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn escapes_markup_and_drops_control_characters() {
        assert_eq!(
            escape("<a href=\"x\">'&'</a>\u{1}\t\n"),
            "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;\t\n"
        );
    }

    /// A node linking to `/t/{id}` (the tests of [`crate::treeview`] use these too).
    pub(crate) fn node(id: i64, label: &str, children: Vec<MapNode>) -> MapNode {
        MapNode {
            id,
            label: label.to_owned(),
            href: Some(format!("/t/{id}")),
            collapsed: false,
            children,
        }
    }

    /// Distributed systems › (Caching › Invalidation, CDNs), (Consensus › Raft).
    pub(crate) fn sample() -> MapNode {
        node(
            1,
            "Distributed systems",
            vec![
                node(
                    2,
                    "Caching",
                    vec![node(4, "Invalidation", vec![]), node(5, "CDNs", vec![])],
                ),
                node(3, "Consensus", vec![node(6, "Raft", vec![])]),
            ],
        )
    }

    #[test]
    fn parents_sit_between_their_children_and_columns_follow_depth() {
        let l = layout(&sample());
        let by_id = |id| l.nodes.iter().find(|n| n.id == id).unwrap();
        let centre = |n: &PlacedNode| n.y + n.height / 2.0;
        assert_eq!(
            centre(by_id(2)),
            (centre(by_id(4)) + centre(by_id(5))) / 2.0
        );
        assert_eq!(centre(by_id(3)), centre(by_id(6)));
        assert_eq!(
            centre(by_id(1)),
            (centre(by_id(2)) + centre(by_id(3))) / 2.0
        );
        // Caching's two rows are half of the three: it goes right, Consensus left.
        let (root, caching, consensus) = (by_id(1), by_id(2), by_id(3));
        assert!(root.x + root.width < caching.x && caching.x + caching.width < by_id(4).x);
        assert_eq!(by_id(4).x, by_id(5).x);
        assert!(
            consensus.x + consensus.width < root.x && by_id(6).x + by_id(6).width < consensus.x
        );
        assert_eq!(
            l.nodes.iter().map(|n| (n.id, n.side)).collect::<Vec<_>>(),
            [
                (1, Side::Root),
                (2, Side::Right),
                (4, Side::Right),
                (5, Side::Right),
                (3, Side::Left),
                (6, Side::Left)
            ]
        );
        // Edges leave the root from both sides.
        let svg = to_svg(&l, "x");
        let root_left = format!("M{:.1} ", root.x);
        let root_right = format!("M{:.1} ", root.x + root.width);
        assert!(
            svg.contains(&root_left) && svg.contains(&root_right),
            "{svg}"
        );
    }

    #[test]
    fn branches_are_shared_between_the_sides_by_rows() {
        let leaves = |from: i64, n: i64| {
            (from..from + n)
                .map(|id| node(id, "leaf", vec![]))
                .collect()
        };
        // One branch: all on the right, the root beside it.
        let one = layout(&node(1, "root", vec![node(2, "a", leaves(10, 3))]));
        assert!(one.nodes[1..].iter().all(|n| n.side == Side::Right));
        assert_eq!(one.nodes[0].y, one.nodes[1].y);
        assert_eq!(one.nodes[0].x, MARGIN);
        // Five single-row branches: three right, two left, the left centred on the right.
        let five = layout(&node(1, "root", leaves(2, 5)));
        let sides: Vec<Side> = five.nodes[1..].iter().map(|n| n.side).collect();
        assert_eq!(
            sides,
            [
                Side::Right,
                Side::Right,
                Side::Right,
                Side::Left,
                Side::Left
            ]
        );
        let y = |id: i64| five.nodes.iter().find(|n| n.id == id).unwrap().y;
        assert_eq!(y(1), y(3));
        assert_eq!(y(5) + ROW_HEIGHT / 2.0, y(2) + ROW_HEIGHT);
        assert!(y(2) < y(3) && y(3) < y(4) && y(5) < y(6));
        assert_eq!(five.height, 3.0 * ROW_HEIGHT + 2.0 * MARGIN);
        // A big first branch takes the right alone.
        let skewed = layout(&node(
            1,
            "root",
            vec![
                node(2, "big", leaves(10, 6)),
                node(3, "b", vec![]),
                node(4, "c", vec![]),
            ],
        ));
        let side = |id: i64| skewed.nodes.iter().find(|n| n.id == id).unwrap().side;
        assert_eq!(
            (side(2), side(3), side(4)),
            (Side::Right, Side::Left, Side::Left)
        );
    }

    #[test]
    fn each_branch_has_its_colour_and_its_subtopics_share_it() {
        let l = layout(&sample());
        let branch = branches(&l);
        let of = |id| branch[l.nodes.iter().position(|n| n.id == id).unwrap()];
        assert_eq!(of(1), None);
        assert_eq!((of(2), of(4), of(5)), (Some(0), Some(0), Some(0)));
        assert_eq!((of(3), of(6)), (Some(1), Some(1)));
        let svg = to_svg(&l, "x");
        assert!(svg.contains(&format!(r#"stroke="{}""#, BRANCH_COLOURS[1])));
        // The ninth branch takes the first colour again.
        let wide = node(0, "r", (1..=9).map(|id| node(id, "b", vec![])).collect());
        assert_eq!(branches(&layout(&wide))[9], Some(0));
    }

    #[test]
    fn fold_toggles_mark_the_topics_with_subtopics_and_only_on_request() {
        let mut tree = sample();
        tree.children[1].collapsed = true;
        let l = layout(&tree);
        assert!(!to_svg(&l, "x").contains("map-fold"));
        let svg = to_svg_foldable(&l, "x");
        // Caching (shown), Consensus (folded); not the root, not the leaves.
        assert_eq!(svg.matches(r#"class="map-fold""#).count(), 2);
        assert!(svg.contains(r#"data-fold="2" data-folded="false""#));
        assert!(svg.contains(r#"data-fold="3" data-folded="true""#));
    }

    #[test]
    fn very_deep_trees_are_cut_off_not_crashed() {
        let mut tree = node(0, "leaf", vec![]);
        for id in 1..2_000 {
            tree = node(id, "n", vec![tree]);
        }
        let l = layout(&tree);
        assert_eq!(l.nodes.len(), MAX_DEPTH);
        assert_eq!(
            l.nodes.last().unwrap().collapsed_children,
            2_000 - MAX_DEPTH
        );
        assert_eq!(count(&tree), 2_000);
    }

    #[test]
    fn only_site_links_are_drawn_as_links() {
        let mut tree = node(1, "x\u{1}y", vec![]);
        tree.href = Some("javascript:alert(1)".into());
        let svg = to_svg(&layout(&tree), "t");
        assert!(!svg.contains("href=") && !svg.contains('\u{1}'), "{svg}");
        assert!(
            svg.contains(r#"role="img""#),
            "no links, so a picture: {svg}"
        );
    }

    #[test]
    fn a_map_of_links_is_for_the_pointer_its_tree_is_for_assistive_technology() {
        let tree = node(1, "Root", vec![node(2, "Child", vec![])]);
        let svg = to_svg(&layout(&tree), "Map of X");
        assert!(
            svg.contains(r#"aria-hidden="true""#) && !svg.contains("role="),
            "{svg}"
        );
        assert_eq!(
            svg.matches("<a ").count(),
            svg.matches(r#"tabindex="-1""#).count()
        );
        let mut pictured = tree;
        pictured.href = None;
        pictured.children[0].href = None;
        assert!(to_svg(&layout(&pictured), "t").contains(r#"role="img""#));
    }

    #[test]
    fn collapsed_nodes_hide_their_subtree() {
        let mut tree = sample();
        tree.children[0].collapsed = true;
        let l = layout(&tree);
        assert_eq!(l.nodes.len(), 4);
        let caching = l.nodes.iter().find(|n| n.id == 2).unwrap();
        assert_eq!(caching.collapsed_children, 2);
        assert!(to_svg(&l, "x").contains("Caching (+2)"));
    }

    #[test]
    fn svg_escapes_labels_and_links() {
        let tree = MapNode {
            id: 1,
            label: "<script>alert(1)</script> & co".into(),
            href: Some("/s/x/t/\"onload=\"x".into()),
            collapsed: false,
            children: vec![],
        };
        let svg = to_svg(&layout(&tree), "A \"title\"");
        assert!(!svg.contains("<script>"), "{svg}");
        assert!(svg.contains("&lt;script&gt;") && svg.contains("&amp; co"));
        assert!(
            svg.contains(r#"href="/s/x/t/&quot;onload=&quot;x""#),
            "{svg}"
        );
        assert!(svg.starts_with("<svg") && svg.ends_with("</svg>"));
        assert_eq!(
            display_label(&"x".repeat(100)).chars().count(),
            MAX_LABEL_CHARS
        );
    }

    fn arb_tree() -> impl Strategy<Value = MapNode> {
        let leaf = ("[a-z ]{0,50}", any::<bool>()).prop_map(|(label, collapsed)| MapNode {
            id: 0,
            label,
            href: None,
            collapsed,
            children: vec![],
        });
        leaf.prop_recursive(5, 64, 6, |inner| {
            (
                "[a-z]{1,12}",
                any::<bool>(),
                prop::collection::vec(inner, 0..6),
            )
                .prop_map(|(label, collapsed, children)| MapNode {
                    id: 0,
                    label,
                    href: None,
                    collapsed,
                    children,
                })
        })
    }

    proptest! {
        #[test]
        fn boxes_never_overlap_and_stay_inside(tree in arb_tree()) {
            let l = layout(&tree);
            let root = &l.nodes[0];
            for n in &l.nodes[1..] {
                match n.side {
                    Side::Right => prop_assert!(n.x >= root.x + root.width),
                    Side::Left => prop_assert!(n.x + n.width <= root.x),
                    Side::Root => prop_assert!(false, "a second root"),
                }
                let parent = &l.nodes[n.parent.unwrap()];
                prop_assert!(parent.side == Side::Root || parent.side == n.side);
            }
            for (i, a) in l.nodes.iter().enumerate() {
                prop_assert!(a.x >= 0.0 && a.y >= 0.0);
                prop_assert!(a.x + a.width <= l.width + 0.01 && a.y + a.height <= l.height + 0.01);
                for b in &l.nodes[i + 1..] {
                    let apart = a.x + a.width <= b.x || b.x + b.width <= a.x
                        || a.y + a.height <= b.y || b.y + b.height <= a.y;
                    prop_assert!(apart, "{a:?} overlaps {b:?}");
                }
            }
        }
    }
}
