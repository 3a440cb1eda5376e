//! FreeMind `.mm` (also written by Freeplane and many mind-map tools): `<map>` holds one root
//! `<node>`; each node's title is its `TEXT` attribute (or, for formatted titles, the text of
//! its `<richcontent TYPE="NODE">`), its body the text of its `<richcontent TYPE="NOTE">`. Arbor
//! writes a body as one `<pre>` in the note, so the markdown comes back exactly.

use crate::xml;
use crate::{ImportError, Lines, Node, Outline};

pub(crate) fn read(text: &str) -> Result<Node, ImportError> {
    let doc = xml::parse(text)?;
    let lines = Lines::new(text);
    let map = doc.root_element();
    if map.tag_name().name() != "map" {
        return Err(ImportError::at(
            xml::line(&map),
            Some(&xml::tag(&map)),
            "a FreeMind file starts with <map>",
        ));
    }
    let root = map
        .children()
        .find(|c| c.has_tag_name("node"))
        .ok_or_else(|| ImportError::at(xml::line(&map), Some("<map>"), "there is no <node>"))?;
    topic(root, &lines)
}

fn rich(node: roxmltree::Node<'_, '_>, kind: &str) -> Option<String> {
    node.children()
        .find(|c| c.has_tag_name("richcontent") && c.attribute("TYPE") == Some(kind))
        .map(xml::html_text)
}

fn topic(node: roxmltree::Node<'_, '_>, lines: &Lines) -> Result<Node, ImportError> {
    let line = lines.at(node.range().start);
    let title = match node.attribute("TEXT") {
        Some(text) => text.to_owned(),
        None => rich(node, "NODE")
            .ok_or_else(|| ImportError::at(line, Some("<node>"), "it has no TEXT attribute"))?,
    };
    Ok(Node {
        title,
        body: rich(node, "NOTE").unwrap_or_default(),
        children: node
            .children()
            .filter(|c| c.has_tag_name("node"))
            .map(|c| topic(c, lines))
            .collect::<Result<_, _>>()?,
        line,
        element: Some("<node>".into()),
    })
}

pub(crate) fn write(outline: &Outline) -> String {
    let mut out = String::from("<map version=\"1.0.1\">\n");
    write_topic(outline, 1, None, &mut out);
    out.push_str("</map>\n");
    out
}

fn write_topic(topic: &Outline, indent: usize, side: Option<&str>, out: &mut String) {
    let pad = "  ".repeat(indent);
    out.push_str(&format!("{pad}<node TEXT=\"{}\"", xml::attr(&topic.title)));
    if let Some(side) = side {
        out.push_str(&format!(" POSITION=\"{side}\""));
    }
    if topic.body.is_empty() && topic.children.is_empty() {
        out.push_str("/>\n");
        return;
    }
    out.push_str(">\n");
    if !topic.body.is_empty() {
        out.push_str(&format!(
            "{pad}  <richcontent TYPE=\"NOTE\"><html><head></head><body><pre>{}</pre></body></html></richcontent>\n",
            xml::text(&topic.body)
        ));
    }
    // The root's children alternate sides, as FreeMind lays out a map.
    for (i, child) in topic.children.iter().enumerate() {
        let side = (indent == 1).then_some(if i % 2 == 0 { "right" } else { "left" });
        write_topic(child, indent + 1, side, out);
    }
    out.push_str(&format!("{pad}</node>\n"));
}
