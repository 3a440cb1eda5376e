//! The reader's map in the browser (the [`super::islands::MapTree`] island): the outline,
//! drawn on the server as a WAI-ARIA tree ([`arbor_map::treeview`]), becomes one tab stop
//! that the tree view's keys move through ([`treeview::act`], the same as in the map editor);
//! folding a topic there (→/←, or a click on its toggle) folds it on the drawing too, redrawn
//! here with the layout the server used, and in the address (`?fold=`), so a reload or a
//! shared link keeps it.

use arbor_map::draw::{MapNode, layout, to_svg};
use arbor_map::treeview::{self, Act, Key, Row};
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use web_sys::{Element, Event, HtmlElement, KeyboardEvent};

/// Wires the tree of the closest `[data-map-reader]` to the keys and its drawing.
pub(crate) fn attach(marker: &Element) {
    let Some(reader) = marker.closest("[data-map-reader]").ok().flatten() else {
        return;
    };
    let Some(tree) = reader.query_selector("[role=tree]").ok().flatten() else {
        return;
    };
    // One tab stop: the first item until another is focused.
    let items = visible(&tree);
    for (i, (item, _)) in items.iter().enumerate() {
        let _ = item.set_attribute("tabindex", if i == 0 { "0" } else { "-1" });
    }
    let keys = {
        let (tree, reader) = (tree.clone(), reader.clone());
        Closure::<dyn Fn(KeyboardEvent)>::new(move |e: KeyboardEvent| {
            if e.ctrl_key() || e.alt_key() || e.meta_key() {
                return;
            }
            let Some(key) = Key::from_name(&e.key()) else {
                return;
            };
            let Some(current) = item_of(e.target()) else {
                return;
            };
            let items = visible(&tree);
            let rows: Vec<Row> = items.iter().map(|(_, row)| row.clone()).collect();
            let Some(at) = items.iter().position(|(item, _)| *item == current) else {
                return;
            };
            match treeview::act(&rows, at, key) {
                Some(Act::Focus(i)) => move_focus(&tree, &items[i].0),
                Some(Act::Expand(i)) => fold(&reader, &tree, &items[i].0, false),
                Some(Act::Collapse(i)) => fold(&reader, &tree, &items[i].0, true),
                None => {}
            }
            e.prevent_default();
        })
    };
    let clicks = {
        let (tree, reader) = (tree.clone(), reader.clone());
        Closure::<dyn Fn(Event)>::new(move |e: Event| {
            let toggle = e
                .target()
                .and_then(|t| t.dyn_into::<Element>().ok())
                .and_then(|t| t.closest("[data-toggle]").ok().flatten());
            let Some(item) = toggle.and_then(|t| t.next_element_sibling()) else {
                return;
            };
            let open = item.get_attribute("aria-expanded").as_deref() == Some("true");
            fold(&reader, &tree, &item, open);
            move_focus(&tree, &item);
        })
    };
    let _ = tree.add_event_listener_with_callback("keydown", keys.as_ref().unchecked_ref());
    let _ = tree.add_event_listener_with_callback("click", clicks.as_ref().unchecked_ref());
    // They live as long as the page.
    keys.forget();
    clicks.forget();
}

/// The tree item an event happened in.
fn item_of(target: Option<web_sys::EventTarget>) -> Option<Element> {
    target?
        .dyn_into::<Element>()
        .ok()?
        .closest("[role=treeitem]")
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

/// Folds (`folded`) or unfolds `item` in the tree, then on the drawing and in the address.
fn fold(reader: &Element, tree: &Element, item: &Element, folded: bool) {
    let _ = item.set_attribute("aria-expanded", if folded { "false" } else { "true" });
    if let Some(group) = item
        .next_element_sibling()
        .and_then(|g| g.dyn_into::<HtmlElement>().ok())
    {
        group.set_hidden(folded);
    }
    let Some(root) = tree
        .query_selector(":scope > li")
        .ok()
        .flatten()
        .and_then(|li| node(&li, 0))
    else {
        return;
    };
    if let Ok(Some(drawing)) = reader.query_selector("[data-role=drawing]") {
        let title = drawing
            .query_selector("svg > title")
            .ok()
            .flatten()
            .and_then(|t| t.text_content())
            .unwrap_or_default();
        drawing.set_inner_html(&to_svg(&layout(&root), &title));
    }
    let mut ids = Vec::new();
    folded_ids(&root, &mut ids);
    let url = web_sys::Url::new(
        &web_sys::window().map_or_else(String::new, |w| w.location().href().unwrap_or_default()),
    );
    if let (Ok(url), Some(history)) = (url, web_sys::window().and_then(|w| w.history().ok())) {
        if ids.is_empty() {
            url.search_params().delete("fold");
        } else {
            url.search_params().set("fold", &ids.join(","));
        }
        let _ = history.replace_state_with_url(&JsValue::NULL, "", Some(&url.href()));
    }
}

/// The map as the tree shows it now, from `li` (an item and its group) down; `depth` bounds
/// the recursion as the layout does.
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
