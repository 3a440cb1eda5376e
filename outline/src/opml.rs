//! OPML 2.0: each topic an `<outline>` with its title in `text` (or `title`, as some tools
//! write) and its body in `_note` (the attribute outliners such as OmniOutliner and Workflowy
//! use). A body with a single outline is that topic as the root; with several, they are the
//! root's children and the root takes `<head><title>`.

use crate::xml;
use crate::{ImportError, Lines, Node, Outline};

pub(crate) fn read(text: &str) -> Result<Node, ImportError> {
    let doc = xml::parse(text)?;
    let lines = Lines::new(text);
    let opml = doc.root_element();
    if opml.tag_name().name() != "opml" {
        return Err(ImportError::at(
            xml::line(&opml),
            Some(&xml::tag(&opml)),
            "an OPML file starts with <opml>",
        ));
    }
    let element = |name: &str| opml.children().find(|c| c.has_tag_name(name));
    let body = element("body")
        .ok_or_else(|| ImportError::at(xml::line(&opml), Some("<opml>"), "there is no <body>"))?;
    let outlines: Vec<_> = body
        .children()
        .filter(|c| c.has_tag_name("outline"))
        .collect();
    match outlines.as_slice() {
        [] => Err(ImportError::at(
            xml::line(&body),
            Some("<body>"),
            "the body has no <outline>",
        )),
        [root] => topic(*root, &lines),
        many => {
            let title = element("head")
                .and_then(|h| h.children().find(|c| c.has_tag_name("title")))
                .and_then(|t| t.text())
                .unwrap_or_default();
            Ok(Node {
                title: title.to_owned(),
                children: many
                    .iter()
                    .map(|o| topic(*o, &lines))
                    .collect::<Result<_, _>>()?,
                line: xml::line(&body),
                element: Some("<body>".into()),
                ..Node::default()
            })
        }
    }
}

fn topic(outline: roxmltree::Node<'_, '_>, lines: &Lines) -> Result<Node, ImportError> {
    let line = lines.at(outline.range().start);
    let title = outline
        .attribute("text")
        .or_else(|| outline.attribute("title"))
        .ok_or_else(|| ImportError::at(line, Some("<outline>"), "it has no text attribute"))?;
    Ok(Node {
        title: title.to_owned(),
        body: outline.attribute("_note").unwrap_or_default().to_owned(),
        children: outline
            .children()
            .filter(|c| c.has_tag_name("outline"))
            .map(|c| topic(c, lines))
            .collect::<Result<_, _>>()?,
        line,
        element: Some("<outline>".into()),
    })
}

pub(crate) fn write(outline: &Outline) -> String {
    let mut out =
        String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<opml version=\"2.0\">\n");
    out.push_str(&format!(
        "  <head>\n    <title>{}</title>\n  </head>\n  <body>\n",
        xml::text(&outline.title)
    ));
    write_topic(outline, 2, &mut out);
    out.push_str("  </body>\n</opml>\n");
    out
}

fn write_topic(topic: &Outline, indent: usize, out: &mut String) {
    let pad = "  ".repeat(indent);
    out.push_str(&format!(
        "{pad}<outline text=\"{}\"",
        xml::attr(&topic.title)
    ));
    if !topic.body.is_empty() {
        out.push_str(&format!(" _note=\"{}\"", xml::attr(&topic.body)));
    }
    if topic.children.is_empty() {
        out.push_str("/>\n");
        return;
    }
    out.push_str(">\n");
    for child in &topic.children {
        write_topic(child, indent + 1, out);
    }
    out.push_str(&format!("{pad}</outline>\n"));
}
