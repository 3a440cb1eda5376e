//! A Markdown outline. Reading: top-level headings are topics (a heading's parent is the
//! nearest heading before it with a lower level), and everything under a heading up to the
//! next one is its body, lists included. A single `#` heading at the start is the root; text
//! before the first heading belongs to the root. A file without headings must be one bullet
//! list: its items are topics (nested items their children), an item's first line its title
//! and any further blocks in it its body. A file that is one heading over one bullet list (a
//! title and an outline, as people paste them) is that title over the list's topics, not a
//! root whose body is a list. The outliners' exports read as they mean:
//! - Workflowy, Dynalist and other plain-text exports (`.txt`): lines indented by tabs or
//!   spaces, with or without a bullet (`-`, `*`, `+`, `•`), one topic each, nested by their
//!   indentation ([`read_indented`]), when the file is no Markdown list or headings;
//! - Logseq: its property lines (`collapsed:: true`, `id:: …`) are not text and are dropped;
//! - Obsidian: headings, as any Markdown.
//!
//! Items nested more than [`MAX_NESTING`] deep are
//! refused as they are parsed (the tree built from them is checked and dropped recursively);
//! other nesting (quotes, lists in a body) is copied into a body as text, never recursed over.
//!
//! Writing: each topic a heading one level below its parent's (the root `#`), then its body.
//! Markdown has six heading levels, so topics deeper than that are written at level six (and
//! read back as siblings); use JSON, OPML or FreeMind for deeper maps. Lines of a body that
//! would read as headings are escaped (`\#`) and unescaped on reading, so a body keeps its own
//! headings; so are the characters of a title that Markdown would read as formatting.

use pulldown_cmark::{Event, Options, Parser, Tag, TagEnd};

use crate::{ImportError, Lines, MAX_NESTING, Node, Outline, one_line, tidy_body};

fn options() -> Options {
    Options::ENABLE_TABLES
        | Options::ENABLE_FOOTNOTES
        | Options::ENABLE_STRIKETHROUGH
        | Options::ENABLE_TASKLISTS
}

/// Container blocks: headings inside them are not topics.
fn is_container(tag: &Tag<'_>) -> bool {
    matches!(
        tag,
        Tag::BlockQuote(_) | Tag::List(_) | Tag::Item | Tag::FootnoteDefinition(_)
    )
}

fn is_container_end(tag: &TagEnd) -> bool {
    matches!(
        tag,
        TagEnd::BlockQuote(_) | TagEnd::List(_) | TagEnd::Item | TagEnd::FootnoteDefinition
    )
}

/// Inline formatting (inside a title it is only text).
fn is_inline(tag: &Tag<'_>) -> bool {
    matches!(
        tag,
        Tag::Emphasis
            | Tag::Strong
            | Tag::Strikethrough
            | Tag::Superscript
            | Tag::Subscript
            | Tag::Link { .. }
            | Tag::Image { .. }
    )
}

struct Heading {
    level: usize,
    title: String,
    start: usize,
    end: usize,
}

/// The headings outside any container block, in order.
fn headings(text: &str) -> Vec<Heading> {
    let mut out = Vec::new();
    let mut depth = 0_usize;
    let mut current: Option<Heading> = None;
    for (event, range) in Parser::new_ext(text, options()).into_offset_iter() {
        match event {
            Event::Start(Tag::Heading { level, .. }) if depth == 0 => {
                current = Some(Heading {
                    level: level as usize,
                    title: String::new(),
                    start: range.start,
                    end: range.end,
                });
            }
            Event::End(TagEnd::Heading(_)) => {
                if let Some(h) = current.take() {
                    out.push(h);
                }
            }
            Event::Text(t) | Event::Code(t) => {
                if let Some(h) = current.as_mut() {
                    h.title.push_str(&t);
                }
            }
            Event::SoftBreak | Event::HardBreak => {
                if let Some(h) = current.as_mut() {
                    h.title.push(' ');
                }
            }
            Event::Start(tag) if is_container(&tag) => depth += 1,
            Event::End(tag) if is_container_end(&tag) => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    out
}

/// Whether `line` (without its indentation) is an ATX heading: 1–6 `#` then a space, a tab
/// or the end.
fn is_atx(line: &str) -> bool {
    let hashes = line.bytes().take_while(|b| *b == b'#').count();
    (1..=6).contains(&hashes) && matches!(line.as_bytes().get(hashes), None | Some(b' ' | b'\t'))
}

/// Up to three spaces of indentation, and the rest.
fn indent(line: &str) -> (&str, &str) {
    let n = line.bytes().take(3).take_while(|b| *b == b' ').count();
    line.split_at(n)
}

/// Rewrites the lines of `text` in the given byte ranges (paragraphs or headings at the top
/// level) with `f`.
fn rewrite_lines(
    text: &str,
    ranges: &[std::ops::Range<usize>],
    f: impl Fn(&str) -> String,
) -> String {
    let mut out = String::with_capacity(text.len() + 16);
    let mut at = 0;
    for range in ranges {
        out.push_str(&text[at..range.start]);
        let block = &text[range.clone()];
        let lines: Vec<String> = block.split('\n').map(&f).collect();
        out.push_str(&lines.join("\n"));
        at = range.end;
    }
    out.push_str(&text[at..]);
    out
}

/// Top-level blocks of `body` matching `want`.
fn top_level(body: &str, want: impl Fn(&Tag<'_>) -> bool) -> Vec<std::ops::Range<usize>> {
    let mut ranges = Vec::new();
    let mut depth = 0_usize;
    for (event, range) in Parser::new_ext(body, options()).into_offset_iter() {
        match event {
            Event::Start(tag) => {
                if depth == 0 && want(&tag) {
                    ranges.push(range);
                }
                depth += 1;
            }
            Event::End(_) => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    ranges
}

/// A body as written into an outline: its ATX headings escaped.
fn escape_body(body: &str) -> String {
    let headings = top_level(body, |t| matches!(t, Tag::Heading { .. }));
    rewrite_lines(body, &headings, |line| {
        let (pad, rest) = indent(line);
        if is_atx(rest) {
            format!("{pad}\\{rest}")
        } else {
            line.to_owned()
        }
    })
}

/// A body as read from an outline: what [`escape_body`] escaped, unescaped.
fn unescape_body(body: &str) -> String {
    let paragraphs = top_level(body, |t| matches!(t, Tag::Paragraph));
    rewrite_lines(body, &paragraphs, |line| {
        let (pad, rest) = indent(line);
        match rest.strip_prefix('\\') {
            Some(heading) if is_atx(heading) => format!("{pad}{heading}"),
            _ => line.to_owned(),
        }
    })
}

/// A title as heading text: characters Markdown would read as formatting are escaped.
fn escape_title(title: &str) -> String {
    let mut out = String::with_capacity(title.len() + 8);
    for c in title.chars() {
        if "\\`*_[]<>#!|~&".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// A body slice: blank lines around it dropped, escaped headings unescaped.
fn tidy(slice: &str) -> String {
    unescape_body(&tidy_body(slice))
}

pub(crate) fn read(text: &str) -> Result<Node, ImportError> {
    let text = &without_properties(text);
    let lines = Lines::new(text);
    let headings = headings(text);
    let Some(first) = headings.first() else {
        return match read_list(text) {
            Err(e) if is_indented_outline(text) => read_indented(text).map_err(|_| e),
            read => read,
        };
    };
    if headings.len() == 1 && first.level == 1 {
        // A title over one bullet list.
        let under = &text[first.end..];
        if let Ok(list) = read_list(under)
            && tidy(&text[..first.start]).is_empty()
        {
            let shift = lines.at(first.end) - 1;
            let mut root = list;
            root.title = first.title.clone();
            root.line = lines.at(first.start);
            root.element = Some(format!("heading \"{}\"", first.title.trim()));
            shift_lines(&mut root.children, shift);
            return Ok(root);
        }
    }
    let single_h1 = first.level == 1 && headings.iter().filter(|h| h.level == 1).count() == 1;
    let body_of = |i: usize| {
        let end = headings.get(i + 1).map_or(text.len(), |h| h.start);
        tidy(&text[headings[i].end..end])
    };
    let preamble = tidy(&text[..first.start]);
    let mut root = Node {
        line: 1,
        element: Some("the root".into()),
        ..Node::default()
    };
    let rest = if single_h1 {
        root.title = first.title.clone();
        root.line = lines.at(first.start);
        root.element = Some(format!("heading \"{}\"", first.title.trim()));
        root.body = [preamble, body_of(0)]
            .into_iter()
            .filter(|b| !b.is_empty())
            .collect::<Vec<_>>()
            .join("\n\n");
        1
    } else {
        root.body = preamble;
        0
    };
    let mut stack: Vec<(usize, Node)> = vec![(0, root)];
    for (i, heading) in headings.iter().enumerate().skip(rest) {
        let node = Node {
            title: heading.title.clone(),
            body: body_of(i),
            children: Vec::new(),
            line: lines.at(heading.start),
            element: Some(format!("heading \"{}\"", heading.title.trim())),
        };
        close_until(&mut stack, heading.level);
        stack.push((heading.level, node));
    }
    close_until(&mut stack, 0);
    Ok(stack.pop().expect("the root stays").1)
}

/// Adds `by` to the line numbers of `nodes` and everything under them (read from a slice
/// of the file that starts `by` lines in).
fn shift_lines(nodes: &mut [Node], by: usize) {
    let mut stack: Vec<&mut Node> = nodes.iter_mut().collect();
    while let Some(node) = stack.pop() {
        node.line += by;
        stack.extend(node.children.iter_mut());
    }
}

/// Whether a Logseq property line (`collapsed:: true`): a name, `::`, a space.
fn is_property(line: &str) -> bool {
    let line = line.trim_start();
    let line = line.strip_prefix("- ").unwrap_or(line);
    line.split_once(":: ").is_some_and(|(name, _)| {
        !name.is_empty()
            && name.len() <= 40
            && name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    })
}

/// The text with Logseq's property lines blanked (kept as empty lines, so that the line
/// numbers of errors stay right). A file with no such line comes back as it is.
fn without_properties(text: &str) -> std::borrow::Cow<'_, str> {
    if !text.lines().any(is_property) {
        return std::borrow::Cow::Borrowed(text);
    }
    let kept: Vec<&str> = text
        .split('\n')
        .map(|line| if is_property(line) { "" } else { line })
        .collect();
    std::borrow::Cow::Owned(kept.join("\n"))
}

/// Whether `text` looks like a plain indented outline: several non-empty lines, some of them
/// indented, none of them a Markdown heading.
fn is_indented_outline(text: &str) -> bool {
    let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    lines.len() >= 2
        && lines
            .iter()
            .any(|l| l.starts_with(' ') || l.starts_with('\t'))
        && !lines.iter().any(|l| l.trim_start().starts_with('#'))
}

/// A plain-text outline: one topic per non-empty line (a leading bullet dropped), nested by
/// indentation — a tab counts as four spaces, and a line indented deeper than the one before
/// is its child, however much deeper.
fn read_indented(text: &str) -> Result<Node, ImportError> {
    let mut root = Node {
        line: 1,
        element: Some("the root".into()),
        ..Node::default()
    };
    // The open topics, outermost first, with their indentation.
    let mut open: Vec<(usize, Node)> = Vec::new();
    for (index, raw) in text.lines().enumerate() {
        let line = index + 1;
        if raw.trim().is_empty() {
            continue;
        }
        let indent: usize = raw
            .chars()
            .take_while(|c| *c == ' ' || *c == '\t')
            .map(|c| if c == '\t' { 4 } else { 1 })
            .sum();
        let title = raw.trim();
        let title = ["- ", "* ", "+ ", "• "]
            .iter()
            .find_map(|bullet| title.strip_prefix(bullet))
            .unwrap_or(title);
        while open.last().is_some_and(|(at, _)| *at >= indent) {
            close_indented(&mut open, &mut root);
        }
        if open.len() == MAX_NESTING {
            return Err(ImportError::at(
                line,
                None,
                format!("lines nest more than {MAX_NESTING} deep"),
            ));
        }
        open.push((
            indent,
            Node {
                title: one_line(title),
                line,
                element: Some("line".into()),
                ..Node::default()
            },
        ));
    }
    while !open.is_empty() {
        close_indented(&mut open, &mut root);
    }
    if root.children.is_empty() {
        return Err(ImportError::at(1, None, "the file is empty"));
    }
    Ok(root)
}

/// Closes the innermost open topic of an indented outline, into its parent.
fn close_indented(open: &mut Vec<(usize, Node)>, root: &mut Node) {
    if let Some((_, done)) = open.pop() {
        match open.last_mut() {
            Some((_, parent)) => parent.children.push(done),
            None => root.children.push(done),
        }
    }
}

/// Attaches finished topics to their parents until the top of the stack is above `level`.
fn close_until(stack: &mut Vec<(usize, Node)>, level: usize) {
    while stack.len() > 1 && stack.last().is_some_and(|(l, _)| *l >= level) {
        let (_, done) = stack.pop().expect("checked");
        stack
            .last_mut()
            .expect("the root stays")
            .1
            .children
            .push(done);
    }
}

/// A file without headings: one bullet list, read as the outline under the root.
fn read_list(text: &str) -> Result<Node, ImportError> {
    if text.trim().is_empty() {
        return Err(ImportError::at(1, None, "the file is empty"));
    }
    let lines = Lines::new(text);
    let mut root = Node {
        line: 1,
        element: Some("the root".into()),
        ..Node::default()
    };
    // Items being read, innermost last, each with whether its title is complete.
    let mut items: Vec<(Node, bool)> = Vec::new();
    let mut lists = 0_usize;
    let mut in_title = false;
    // Inside a block copied whole into a body: how deep.
    let mut skipping = 0_usize;
    for (event, range) in Parser::new_ext(text, options()).into_offset_iter() {
        if skipping > 0 {
            match event {
                Event::Start(_) => skipping += 1,
                Event::End(_) => skipping -= 1,
                _ => {}
            }
            continue;
        }
        let line = lines.at(range.start);
        match event {
            Event::Start(Tag::List(_)) => {
                if lists == 0 && !root.children.is_empty() {
                    return Err(ImportError::at(
                        line,
                        None,
                        "a file without headings must be one bullet list; this is a second one",
                    ));
                }
                if let Some((_, done)) = items.last_mut() {
                    *done = true;
                }
                lists += 1;
            }
            Event::End(TagEnd::List(_)) => lists -= 1,
            Event::Start(Tag::Item) => {
                if items.len() == MAX_NESTING {
                    return Err(ImportError::at(
                        line,
                        Some("list item"),
                        format!("lists nest more than {MAX_NESTING} deep"),
                    ));
                }
                items.push((
                    Node {
                        line,
                        element: Some("list item".into()),
                        ..Node::default()
                    },
                    false,
                ));
            }
            Event::End(TagEnd::Item) => {
                let (node, _) = items.pop().expect("an item ends after it starts");
                match items.last_mut() {
                    Some((parent, _)) => parent.children.push(node),
                    None => root.children.push(node),
                }
            }
            Event::Start(Tag::Paragraph) if !items.is_empty() => {
                let (item, done) = items.last_mut().expect("checked");
                if *done {
                    append_block(&mut item.body, &text[range]);
                    skipping = 1;
                } else {
                    in_title = true;
                }
            }
            Event::End(TagEnd::Paragraph) if in_title => {
                in_title = false;
                if let Some((_, done)) = items.last_mut() {
                    *done = true;
                }
            }
            Event::Text(t) | Event::Code(t) if !items.is_empty() => {
                let (item, done) = items.last_mut().expect("checked");
                if in_title || !*done {
                    item.title.push_str(&t);
                }
            }
            Event::SoftBreak | Event::HardBreak if in_title => {
                if let Some((item, _)) = items.last_mut() {
                    item.title.push(' ');
                }
            }
            Event::Start(tag) if !items.is_empty() && !is_inline(&tag) => {
                // Any other block in an item (code, quote, table…) is its body.
                let (item, done) = items.last_mut().expect("checked");
                *done = true;
                append_block(&mut item.body, &text[range]);
                skipping = 1;
            }
            Event::Start(Tag::Paragraph | Tag::Heading { .. } | Tag::CodeBlock(_))
            | Event::Start(Tag::BlockQuote(_) | Tag::HtmlBlock | Tag::Table(_))
            | Event::Rule
                if lists == 0 =>
            {
                return Err(ImportError::at(
                    line,
                    None,
                    "a file without headings must be one bullet list of topics",
                ));
            }
            _ => {}
        }
    }
    if root.children.is_empty() {
        return Err(ImportError::at(
            1,
            None,
            "no headings and no list of topics",
        ));
    }
    Ok(root)
}

/// Adds a block (its source, dedented as far as its first line is indented) to a body.
fn append_block(body: &mut String, source: &str) {
    let first_indent = source.len() - source.trim_start_matches(' ').len();
    let lines: Vec<&str> = source
        .trim_end()
        .lines()
        .map(|l| {
            let n = l.len() - l.trim_start_matches(' ').len();
            &l[n.min(first_indent)..]
        })
        .collect();
    if !body.is_empty() {
        body.push_str("\n\n");
    }
    body.push_str(&lines.join("\n"));
}

pub(crate) fn write(outline: &Outline) -> String {
    let mut out = String::new();
    let mut stack = vec![(outline, 1_usize)];
    while let Some((topic, level)) = stack.pop() {
        out.push_str(&"#".repeat(level.min(6)));
        out.push(' ');
        out.push_str(&escape_title(&topic.title));
        out.push_str("\n\n");
        let body = escape_body(topic.body.trim_end());
        if !body.trim().is_empty() {
            out.push_str(&body);
            out.push_str("\n\n");
        }
        stack.extend(topic.children.iter().rev().map(|c| (c, level + 1)));
    }
    let end = out.trim_end().len();
    out.truncate(end);
    out.push('\n');
    out
}
