//! The map as a WAI-ARIA tree view, for assistive technology and the keyboard: the markup that
//! gives the map's structure (roles, names, levels, set sizes, positions, expanded state), and
//! what a key does in it. One place for the reader's map on a subject's page (rendered on the
//! server, its keys handled by an island) and the map editor (rendered and handled in the
//! editor module), so both read and move the same way. The drawing ([`crate::draw`]) stays
//! the picture, hidden from assistive technology while its tree is beside it.
//!
//! Keys, as the WAI-ARIA Authoring Practices' tree view: ↓/↑ the next/previous visible topic,
//! → unfolds a folded topic or goes to its first subtopic, ← folds an unfolded one or goes to
//! the parent, Home/End the first/last visible topic, a letter the next visible topic whose
//! title starts with it (the reader's map; in the editor typing renames).

use std::fmt::Write;

use crate::draw::{MapNode, escape};

/// The `id` of topic `id`'s tree item (what `aria-activedescendant` names in the editor).
pub fn item_id(id: i64) -> String {
    format!("map-item-{id}")
}

/// Where focus lives in the tree.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Focus {
    /// On the items themselves, links to the topics (the reader's map): each item is a link,
    /// every one focusable until the page's script makes one the tab stop (roving tabindex),
    /// so the links work by Tab without script too.
    Items,
    /// On the element around the items (the editor's canvas, `role="tree"` with
    /// `aria-activedescendant`): the items are named rows, not focusable.
    Container,
}

/// The tree's items, as nested lists, for `node` and everything under it. With
/// [`Focus::Items`] it is a whole `<ul role="tree">` named `name`; with [`Focus::Container`]
/// the outer list is presentational (the container is the tree) and `name` is not used.
/// Folded topics' subtopics are there, hidden, so unfolding needs no server.
pub fn html(root: &MapNode, name: &str, focus: Focus) -> String {
    let mut out = String::with_capacity(128 + crate::draw::count(root) * 160);
    match focus {
        Focus::Items => {
            let _ = write!(
                out,
                r#"<ul role="tree" class="map-tree" aria-label="{}">"#,
                escape(name)
            );
        }
        Focus::Container => out.push_str(r#"<ul role="none" class="map-tree">"#),
    }
    item(&mut out, root, 1, 1, 1, focus);
    out.push_str("</ul>");
    out
}

/// One `<li>`: a toggle for the pointer (hidden from assistive technology: the item's
/// `aria-expanded` says the same), the item, and its subtopics as a group.
fn item(out: &mut String, node: &MapNode, level: usize, size: usize, at: usize, focus: Focus) {
    let has_children = !node.children.is_empty();
    let expanded = if has_children {
        format!(r#" aria-expanded="{}""#, !node.collapsed)
    } else {
        String::new()
    };
    out.push_str(r#"<li role="none">"#);
    if focus == Focus::Items {
        if has_children {
            let _ = write!(
                out,
                r#"<span class="map-tree-toggle" data-toggle="{}" aria-hidden="true"></span>"#,
                node.id
            );
        } else {
            out.push_str(r#"<span class="map-tree-toggle" aria-hidden="true"></span>"#);
        }
    }
    let attributes = format!(
        r#"role="treeitem" id="{item}" data-item="{id}" aria-level="{level}" aria-setsize="{size}" aria-posinset="{at}"{expanded}"#,
        item = item_id(node.id),
        id = node.id,
    );
    let label = escape(node.label.trim());
    match (focus, node.href.as_deref().filter(|h| is_site_path(h))) {
        (Focus::Items, Some(href)) => {
            let _ = write!(
                out,
                r#"<a {attributes} href="{}">{label}</a>"#,
                escape(href)
            );
        }
        (Focus::Items, None) => {
            let _ = write!(out, r#"<span {attributes} tabindex="-1">{label}</span>"#);
        }
        (Focus::Container, _) => {
            let _ = write!(
                out,
                r#"<span {attributes} aria-selected="false">{label}</span>"#
            );
        }
    }
    if has_children {
        let hidden = if node.collapsed { " hidden" } else { "" };
        out.push_str(r#"<ul role="group""#);
        out.push_str(hidden);
        out.push('>');
        let size = node.children.len();
        for (i, child) in node.children.iter().enumerate() {
            item(out, child, level + 1, size, i + 1, focus);
        }
        out.push_str("</ul>");
    }
    out.push_str("</li>");
}

/// A path within the site, never a scheme of someone else's choosing.
fn is_site_path(href: &str) -> bool {
    href.starts_with('/') && !href.starts_with("//")
}

/// One visible item, as the keys see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    pub id: i64,
    /// 1 for the root.
    pub level: usize,
    /// `None` for a topic without subtopics.
    pub expanded: Option<bool>,
    pub label: String,
}

/// The visible items of the tree under `root`, in reading order (a folded topic's subtopics
/// are not visible).
pub fn rows(root: &MapNode) -> Vec<Row> {
    let mut rows = Vec::new();
    let mut stack = vec![(root, 1)];
    while let Some((node, level)) = stack.pop() {
        rows.push(Row {
            id: node.id,
            level,
            expanded: (!node.children.is_empty()).then_some(!node.collapsed),
            label: node.label.clone(),
        });
        if !node.collapsed {
            stack.extend(node.children.iter().rev().map(|c| (c, level + 1)));
        }
    }
    rows
}

/// A key that means something in a tree.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Key {
    Up,
    Down,
    Left,
    Right,
    Home,
    End,
    /// A printable character (type-ahead).
    Char(char),
}

impl Key {
    /// The key a `KeyboardEvent.key` names, if it is one of a tree's.
    pub fn from_name(name: &str) -> Option<Key> {
        Some(match name {
            "ArrowUp" => Key::Up,
            "ArrowDown" => Key::Down,
            "ArrowLeft" => Key::Left,
            "ArrowRight" => Key::Right,
            "Home" => Key::Home,
            "End" => Key::End,
            _ => {
                let mut chars = name.chars();
                match (chars.next(), chars.next()) {
                    (Some(c), None) if !c.is_whitespace() && !c.is_control() => Key::Char(c),
                    _ => return None,
                }
            }
        })
    }
}

/// What a key does, naming rows by their index in the visible rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Act {
    Focus(usize),
    Expand(usize),
    Collapse(usize),
}

/// What `key` does on the visible `rows` when row `at` has focus (`None`: nothing, such as ↑
/// on the first row or → on a topic without subtopics).
pub fn act(rows: &[Row], at: usize, key: Key) -> Option<Act> {
    let row = rows.get(at)?;
    match key {
        Key::Down => (at + 1 < rows.len()).then_some(Act::Focus(at + 1)),
        Key::Up => at.checked_sub(1).map(Act::Focus),
        Key::Home => Some(Act::Focus(0)),
        Key::End => Some(Act::Focus(rows.len() - 1)),
        Key::Right => match row.expanded {
            Some(false) => Some(Act::Expand(at)),
            Some(true) => rows
                .get(at + 1)
                .filter(|next| next.level > row.level)
                .map(|_| Act::Focus(at + 1)),
            None => None,
        },
        Key::Left => match row.expanded {
            Some(true) => Some(Act::Collapse(at)),
            _ => rows[..at]
                .iter()
                .rposition(|r| r.level < row.level)
                .map(Act::Focus),
        },
        Key::Char(c) => {
            let wanted: String = c.to_lowercase().collect();
            (1..rows.len())
                .map(|step| (at + step) % rows.len())
                .find(|i| rows[*i].label.trim().to_lowercase().starts_with(&wanted))
                .map(Act::Focus)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::draw::tests::sample;

    fn ids(rows: &[Row]) -> Vec<i64> {
        rows.iter().map(|r| r.id).collect()
    }

    #[test]
    fn rows_are_the_visible_topics_in_reading_order() {
        let mut map = sample();
        assert_eq!(ids(&rows(&map)), [1, 2, 4, 5, 3, 6]);
        let levels: Vec<usize> = rows(&map).iter().map(|r| r.level).collect();
        assert_eq!(levels, [1, 2, 3, 3, 2, 3]);
        map.children[0].collapsed = true;
        let folded = rows(&map);
        assert_eq!(ids(&folded), [1, 2, 3, 6]);
        assert_eq!(folded[1].expanded, Some(false));
        assert_eq!(folded[3].expanded, None);
    }

    #[test]
    fn keys_follow_the_treeview_pattern() {
        let map = sample();
        let rows = rows(&map);
        // ↓ and ↑ walk the visible rows; they stop at the ends.
        assert_eq!(act(&rows, 0, Key::Down), Some(Act::Focus(1)));
        assert_eq!(act(&rows, 3, Key::Down), Some(Act::Focus(4)));
        assert_eq!(act(&rows, 5, Key::Down), None);
        assert_eq!(act(&rows, 0, Key::Up), None);
        assert_eq!(act(&rows, 4, Key::Up), Some(Act::Focus(3)));
        // → on an open topic goes to its first subtopic, ← on it folds it.
        assert_eq!(act(&rows, 1, Key::Right), Some(Act::Focus(2)));
        assert_eq!(act(&rows, 1, Key::Left), Some(Act::Collapse(1)));
        // ← on a leaf goes to the parent; → on a leaf does nothing.
        assert_eq!(act(&rows, 3, Key::Left), Some(Act::Focus(1)));
        assert_eq!(act(&rows, 3, Key::Right), None);
        assert_eq!(act(&rows, 0, Key::Left), Some(Act::Collapse(0)));
        assert_eq!(act(&rows, 5, Key::Home), Some(Act::Focus(0)));
        assert_eq!(act(&rows, 0, Key::End), Some(Act::Focus(5)));
    }

    #[test]
    fn a_folded_topic_unfolds_then_enters() {
        let mut map = sample();
        map.children[1].collapsed = true;
        let rows = rows(&map);
        let consensus = rows.iter().position(|r| r.id == 3).unwrap();
        assert_eq!(
            act(&rows, consensus, Key::Right),
            Some(Act::Expand(consensus))
        );
        // ← on a folded topic goes to its parent.
        assert_eq!(act(&rows, consensus, Key::Left), Some(Act::Focus(0)));
    }

    #[test]
    fn type_ahead_finds_the_next_title_and_wraps() {
        let rows = rows(&sample());
        assert_eq!(act(&rows, 0, Key::Char('c')), Some(Act::Focus(1)));
        assert_eq!(act(&rows, 1, Key::Char('C')), Some(Act::Focus(3)));
        assert_eq!(act(&rows, 3, Key::Char('c')), Some(Act::Focus(4)));
        assert_eq!(act(&rows, 4, Key::Char('c')), Some(Act::Focus(1)));
        assert_eq!(act(&rows, 0, Key::Char('z')), None);
    }

    #[test]
    fn key_names_map_to_tree_keys() {
        assert_eq!(Key::from_name("ArrowLeft"), Some(Key::Left));
        assert_eq!(Key::from_name("End"), Some(Key::End));
        assert_eq!(Key::from_name("r"), Some(Key::Char('r')));
        assert_eq!(Key::from_name("Enter"), None);
        assert_eq!(Key::from_name(" "), None);
        assert_eq!(Key::from_name("Tab"), None);
    }

    #[test]
    fn markup_carries_levels_sizes_positions_and_folds() {
        let mut map = sample();
        map.children[1].collapsed = true;
        let html = html(&map, "Map of <Systems>", Focus::Items);
        assert!(html.starts_with(
            r#"<ul role="tree" class="map-tree" aria-label="Map of &lt;Systems&gt;">"#
        ));
        assert!(html.contains(r#"<a role="treeitem" id="map-item-3" data-item="3" aria-level="2" aria-setsize="2" aria-posinset="2" aria-expanded="false" href="/t/3">Consensus</a><ul role="group" hidden>"#));
        assert!(html.contains(r#"<a role="treeitem" id="map-item-5" data-item="5" aria-level="3" aria-setsize="2" aria-posinset="2" href="/t/5">CDNs</a>"#));
        assert!(html.contains(r#"data-toggle="2" aria-hidden="true""#));
        assert_eq!(html.matches(r#"role="treeitem""#).count(), 6);
        assert_eq!(html.matches("<li").count(), html.matches("</li>").count());
    }

    #[test]
    fn the_editor_gets_rows_named_for_its_active_descendant() {
        let mut map = sample();
        map.children[0].href = Some("javascript:alert(1)".to_owned());
        let html = html(&map, "unused", Focus::Container);
        assert!(html.starts_with(r#"<ul role="none" class="map-tree">"#));
        assert!(!html.contains("href"));
        assert!(!html.contains("data-toggle"));
        assert!(html.contains(r#"<span role="treeitem" id="map-item-2" data-item="2" aria-level="2" aria-setsize="2" aria-posinset="1" aria-expanded="true" aria-selected="false">Caching</span>"#));
        // A link elsewhere than the site is never written, in either form.
        assert!(!super::html(&map, "x", Focus::Items).contains("javascript:"));
    }
}
