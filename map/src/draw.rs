//! Mind-map layout and drawing: a tidy tree that reads left to right, as SVG.
//!
//! Shared by the server (the read-only map on a subject's page, rendered without JavaScript,
//! and the SVG/PNG exports) and the browser (the live map editor), so all draw the same
//! picture. The layout is the classic
//! one for horizontal trees: leaves take the next free row in reading order, a parent sits at
//! the middle of its children's rows, and each depth is a column as wide as its widest label.
//! Siblings never overlap, the order of children is kept, and the same tree always gives the
//! same picture.

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

/// Where one node ended up.
#[derive(Debug, Clone, PartialEq)]
pub struct PlacedNode {
    pub id: i64,
    pub label: String,
    pub href: Option<String>,
    pub depth: usize,
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
/// Deeper nodes are drawn collapsed, which also bounds the recursion of the layout.
pub const MAX_DEPTH: usize = 64;

/// The label as drawn: at most [`MAX_LABEL_CHARS`] characters, with an ellipsis when cut.
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

/// Lays out `root` left to right.
pub fn layout(root: &MapNode) -> Layout {
    let mut nodes = Vec::new();
    let mut next_row = 0usize;
    place(root, 0, None, &mut next_row, &mut nodes);

    // Column widths: the widest node at each depth.
    let depth_count = nodes.iter().map(|n| n.depth + 1).max().unwrap_or(0);
    let mut column_width = vec![0.0f64; depth_count];
    for n in &nodes {
        column_width[n.depth] = column_width[n.depth].max(n.width);
    }
    let mut column_x = Vec::with_capacity(depth_count);
    let mut x = MARGIN;
    for w in &column_width {
        column_x.push(x);
        x += w + COLUMN_GAP;
    }
    for n in &mut nodes {
        n.x = column_x[n.depth];
    }
    #[allow(clippy::cast_precision_loss)] // row counts are far below 2^52
    let height = next_row.max(1) as f64 * ROW_HEIGHT + 2.0 * MARGIN;
    Layout {
        width: x - COLUMN_GAP + MARGIN,
        height,
        nodes,
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
    out.push(PlacedNode {
        id: node.id,
        label: display_label(&node.label),
        href: node.href.clone(),
        depth,
        x: 0.0,
        y: 0.0,
        width: node_width(&node.label),
        height: NODE_HEIGHT,
        collapsed_children: 0,
        parent,
    });
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
    out[index].y = MARGIN + row * ROW_HEIGHT + (ROW_HEIGHT - NODE_HEIGHT) / 2.0;
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

/// The map as a standalone SVG document: curved edges, one rounded box per node, each box a
/// link when the node has one; classes (`map-*`) for styling, colours following the system
/// theme through `currentColor`.
pub fn to_svg(layout: &Layout, title: &str) -> String {
    let mut svg = String::with_capacity(256 + layout.nodes.len() * 256);
    let _ = write!(
        svg,
        r#"<svg xmlns="http://www.w3.org/2000/svg" class="map" role="img" viewBox="0 0 {w:.0} {h:.0}" width="{w:.0}" height="{h:.0}"><title>{t}</title>"#,
        w = layout.width,
        h = layout.height,
        t = escape(title),
    );
    svg.push_str(r#"<g class="map-edges" fill="none" stroke="currentColor" stroke-opacity="0.35" stroke-width="1.5">"#);
    for node in &layout.nodes {
        if let Some(parent) = node.parent.map(|p| &layout.nodes[p]) {
            let (x1, y1) = (parent.x + parent.width, parent.y + parent.height / 2.0);
            let (x2, y2) = (node.x, node.y + node.height / 2.0);
            let mid = (x1 + x2) / 2.0;
            let _ = write!(
                svg,
                r#"<path d="M{x1:.1} {y1:.1}C{mid:.1} {y1:.1} {mid:.1} {y2:.1} {x2:.1} {y2:.1}"/>"#
            );
        }
    }
    svg.push_str("</g>");
    for node in &layout.nodes {
        let class = if node.depth == 0 {
            "map-node map-root"
        } else {
            "map-node"
        };
        let body = format!(
            r#"<rect x="{x:.1}" y="{y:.1}" width="{w:.1}" height="{h:.1}" rx="8" fill="currentColor" fill-opacity="0.06" stroke="currentColor" stroke-opacity="0.5"/><text x="{tx:.1}" y="{ty:.1}" dominant-baseline="central" text-anchor="middle" fill="currentColor" font-size="13">{label}{more}</text>"#,
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
        // Only links within the site (a path): never a scheme of someone else's choosing.
        match node
            .href
            .as_deref()
            .filter(|h| h.starts_with('/') && !h.starts_with("//"))
        {
            Some(href) => {
                let _ = write!(
                    svg,
                    r#"<a class="{class}" href="{href}" data-topic="{id}">{body}</a>"#,
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
    svg.push_str("</svg>");
    svg
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn escapes_markup_and_drops_control_characters() {
        assert_eq!(
            escape("<a href=\"x\">'&'</a>\u{1}\t\n"),
            "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;\t\n"
        );
    }

    fn node(id: i64, label: &str, children: Vec<MapNode>) -> MapNode {
        MapNode {
            id,
            label: label.to_owned(),
            href: Some(format!("/t/{id}")),
            collapsed: false,
            children,
        }
    }

    fn sample() -> MapNode {
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
        assert!(by_id(1).x < by_id(2).x && by_id(2).x < by_id(4).x);
        assert_eq!(by_id(2).x, by_id(3).x);
        assert_eq!(
            l.nodes.iter().map(|n| n.id).collect::<Vec<_>>(),
            [1, 2, 4, 5, 3, 6]
        );
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
