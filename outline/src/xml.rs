//! What the XML formats share: parsing with positions, escaping, and reading text out of
//! (X)HTML notes.

use crate::{ImportError, MAX_NESTING};

/// Parses `text`, refusing DTDs (no entity expansion) and absurd nesting, with the line of
/// the error.
pub(crate) fn parse(text: &str) -> Result<roxmltree::Document<'_>, ImportError> {
    let doc = roxmltree::Document::parse(text).map_err(|e| {
        let pos = e.pos();
        ImportError::at(pos.row as usize, None, format!("not well-formed XML: {e}"))
    })?;
    // Depths in document order, each from its parent's (no recursion).
    let mut depths: std::collections::HashMap<roxmltree::NodeId, usize> = Default::default();
    for node in doc.descendants().filter(|n| n.is_element()) {
        let depth = node
            .parent_element()
            .and_then(|p| depths.get(&p.id()).copied())
            .unwrap_or(0)
            + 1;
        if depth > MAX_NESTING {
            return Err(ImportError::at(
                line(&node),
                Some(&tag(&node)),
                format!("elements nest more than {MAX_NESTING} deep"),
            ));
        }
        depths.insert(node.id(), depth);
    }
    Ok(doc)
}

/// The 1-based line an element starts on (for errors about the document as a whole; the
/// readers use a [`crate::Lines`] for every topic).
pub(crate) fn line(node: &roxmltree::Node<'_, '_>) -> usize {
    node.document().text_pos_at(node.range().start).row as usize
}

/// `<name>` for error messages.
pub(crate) fn tag(node: &roxmltree::Node<'_, '_>) -> String {
    format!("<{}>", node.tag_name().name())
}

/// Escapes text for element content (characters XML cannot hold become U+FFFD).
pub(crate) fn text(s: &str) -> String {
    escape(s, false)
}

/// Escapes text for a double-quoted attribute, keeping line breaks and tabs (which attribute
/// normalisation would turn into spaces).
pub(crate) fn attr(s: &str) -> String {
    escape(s, true)
}

/// Whether XML 1.0 allows `c` in a document at all (escaped or not).
fn is_xml_char(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r' | ' '..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..)
}

fn escape(s: &str, in_attribute: bool) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        // A control character would make the file unreadable (found by fuzzing): it is written
        // as U+FFFD, the replacement character.
        let c = if is_xml_char(c) { c } else { '\u{FFFD}' };
        match (c, in_attribute) {
            ('&', _) => out.push_str("&amp;"),
            ('<', _) => out.push_str("&lt;"),
            ('>', _) => out.push_str("&gt;"),
            ('"', true) => out.push_str("&quot;"),
            ('\n', true) => out.push_str("&#10;"),
            ('\r', true) => out.push_str("&#13;"),
            ('\t', true) => out.push_str("&#9;"),
            (c, _) => out.push(c),
        }
    }
    out
}

/// The text of an HTML fragment: block elements and `<br>` end lines, paragraphs are
/// separated by a blank line, `<pre>` keeps its text exactly.
pub(crate) fn html_text(node: roxmltree::Node<'_, '_>) -> String {
    let mut out = String::new();
    walk(node, &mut out, false);
    crate::tidy_body(&out)
}

fn walk(node: roxmltree::Node<'_, '_>, out: &mut String, pre: bool) {
    for child in node.children() {
        if child.is_text() {
            let t = child.text().unwrap_or_default();
            if pre {
                out.push_str(t);
            } else {
                let squeezed = t.split_whitespace().collect::<Vec<_>>().join(" ");
                if !squeezed.is_empty() {
                    let space_before = t.starts_with(char::is_whitespace)
                        && !out.is_empty()
                        && !out.ends_with(['\n', ' ']);
                    if space_before {
                        out.push(' ');
                    }
                    out.push_str(&squeezed);
                    if t.ends_with(char::is_whitespace) {
                        out.push(' ');
                    }
                }
            }
            continue;
        }
        if !child.is_element() {
            continue;
        }
        let name = child.tag_name().name().to_ascii_lowercase();
        match name.as_str() {
            "head" | "script" | "style" => {}
            "br" => {
                trim_spaces(out);
                out.push('\n');
            }
            "pre" => {
                block_break(out);
                walk(child, out, true);
                block_break(out);
            }
            "p" | "div" | "li" | "ul" | "ol" | "h1" | "h2" | "h3" | "h4" | "h5" | "h6" | "tr"
            | "table" | "blockquote" => {
                block_break(out);
                walk(child, out, pre);
                block_break(out);
            }
            _ => walk(child, out, pre),
        }
    }
}

fn trim_spaces(out: &mut String) {
    while out.ends_with(' ') {
        out.pop();
    }
}

/// Ends the current block: a blank line before whatever comes next.
fn block_break(out: &mut String) {
    trim_spaces(out);
    if out.is_empty() {
        return;
    }
    while !out.ends_with("\n\n") {
        out.push('\n');
    }
}
