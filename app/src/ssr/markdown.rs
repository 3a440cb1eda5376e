//! Topic markdown to safe HTML, on the server.
//!
//! CommonMark with the GitHub extensions (tables, task lists, strikethrough, footnotes, bare-URL
//! autolinks), headings with anchors, fenced code highlighted by syntect into `hl-*` classes
//! (styled in `style/tailwind.css`), and `[[Title]]` / `[[subject-slug/Title]]` topic links
//! resolved by the caller — a link the reader may not follow renders as plain text. The
//! result always goes through an allow-list sanitiser (ammonia): no scripts, no event
//! handlers, no `javascript:`/`data:` URLs, `rel="noopener noreferrer nofollow ugc"` on links,
//! and only the classes and ids this module generates. Rendering never fails: any input gives
//! some HTML.

use std::collections::{HashMap, HashSet};
use std::sync::LazyLock;

use pulldown_cmark::{
    CodeBlockKind, CowStr, Event, HeadingLevel, LinkType, Options, Parser, Tag, TagEnd,
};
use syntect::html::{ClassStyle, ClassedHTMLGenerator};
use syntect::parsing::SyntaxSet;
use syntect::util::LinesWithEndings;

/// A `[[…]]` topic link as written.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct WikiLink {
    /// The subject's slug for `[[slug/Title]]`; `None` for a topic in the same subject.
    pub subject: Option<String>,
    pub title: String,
}

impl WikiLink {
    fn parse(inner: &str) -> Option<Self> {
        let inner = inner.trim();
        if inner.is_empty() || inner.len() > 200 || inner.contains(['[', ']', '\n']) {
            return None;
        }
        Some(match inner.split_once('/') {
            Some((subject, title)) if !subject.trim().is_empty() && !title.trim().is_empty() => {
                WikiLink {
                    subject: Some(subject.trim().to_owned()),
                    title: title.trim().to_owned(),
                }
            }
            _ => WikiLink {
                subject: None,
                title: inner.to_owned(),
            },
        })
    }
}

/// What rendering produced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    /// Sanitised HTML, safe to insert into a page.
    pub html: String,
    /// Every `[[…]]` link in the text, in order, once each (resolved or not).
    pub links: Vec<WikiLink>,
    /// The text without markup, for search and descriptions.
    pub plain_text: String,
}

const CLASS_PREFIX: &str = "hl-";

static SYNTAXES: LazyLock<SyntaxSet> = LazyLock::new(SyntaxSet::load_defaults_newlines);

/// Renders `markdown`. `resolve` turns a topic link into the URL of a topic the reader may see,
/// or `None` (then the link's text is shown without a link).
pub fn render(markdown: &str, resolve: impl Fn(&WikiLink) -> Option<String>) -> Rendered {
    let options = Options::ENABLE_TABLES
        | Options::ENABLE_TASKLISTS
        | Options::ENABLE_STRIKETHROUGH
        | Options::ENABLE_FOOTNOTES;
    let mut links = Vec::new();
    let mut seen_links = HashSet::new();
    let mut plain_text = String::new();
    let mut heading_ids = HashMap::new();

    let events = merge_text(Parser::new_ext(markdown, options));
    let mut out: Vec<Event> = Vec::with_capacity(events.len());
    let mut code_lang: Option<String> = None;
    let mut code_text = String::new();
    let mut in_code = false;
    let mut link_depth = 0usize;
    let mut heading: Option<(HeadingLevel, usize)> = None;

    for event in events {
        match event {
            Event::Start(Tag::CodeBlock(kind)) => {
                in_code = true;
                code_text.clear();
                code_lang = match kind {
                    CodeBlockKind::Fenced(info) => {
                        info.split_whitespace().next().map(str::to_owned)
                    }
                    CodeBlockKind::Indented => None,
                };
            }
            Event::End(TagEnd::CodeBlock) => {
                in_code = false;
                plain_text.push_str(&code_text);
                plain_text.push('\n');
                out.push(Event::Html(
                    highlight(&code_text, code_lang.as_deref()).into(),
                ));
            }
            Event::Text(text) if in_code => code_text.push_str(&text),
            Event::Start(Tag::Heading { level, .. }) => {
                heading = Some((level, out.len()));
                out.push(Event::Text(CowStr::Borrowed(""))); // replaced at the end of the heading
            }
            Event::End(TagEnd::Heading(level)) => {
                if let Some((_, start)) = heading.take() {
                    let text: String = out[start + 1..]
                        .iter()
                        .filter_map(|e| match e {
                            Event::Text(t) | Event::Code(t) => Some(t.as_ref()),
                            _ => None,
                        })
                        .collect();
                    let id = unique_id(&slug(&text), &mut heading_ids);
                    out[start] = Event::Html(format!("<{level} id=\"{id}\">").into());
                    out.push(Event::Html(
                        format!("<a class=\"{CLASS_PREFIX}anchor\" href=\"#{id}\" aria-label=\"Link to this section\">#</a></{level}>\n").into(),
                    ));
                    plain_text.push('\n');
                }
            }
            Event::Start(Tag::Link { .. }) => {
                link_depth += 1;
                out.push(event);
            }
            Event::End(TagEnd::Link) => {
                link_depth = link_depth.saturating_sub(1);
                out.push(event);
            }
            Event::FootnoteReference(label) => {
                out.push(Event::FootnoteReference(format!("fn-{label}").into()));
            }
            Event::Start(Tag::FootnoteDefinition(label)) => {
                out.push(Event::Start(Tag::FootnoteDefinition(
                    format!("fn-{label}").into(),
                )));
            }
            Event::Text(text) => {
                plain_text.push_str(&text);
                if link_depth > 0 {
                    out.push(Event::Text(text));
                } else {
                    expand_text(&text, &resolve, &mut out, &mut links, &mut seen_links);
                }
            }
            Event::Code(code) => {
                plain_text.push_str(&code);
                out.push(Event::Code(code));
            }
            Event::SoftBreak | Event::HardBreak => {
                plain_text.push(' ');
                out.push(event);
            }
            Event::End(TagEnd::Paragraph | TagEnd::Item | TagEnd::TableCell) => {
                plain_text.push('\n');
                out.push(event);
            }
            // Raw HTML is passed on; the sanitiser decides what survives.
            other => out.push(other),
        }
    }

    let mut html = String::with_capacity(markdown.len() * 2);
    pulldown_cmark::html::push_html(&mut html, out.into_iter());
    Rendered {
        html: SANITIZER.clean(&html).to_string(),
        links,
        plain_text: plain_text.split_whitespace().collect::<Vec<_>>().join(" "),
    }
}

/// Joins adjacent text events (the parser splits text at `[` and `]`), so `[[…]]` is whole.
fn merge_text<'a>(parser: Parser<'a>) -> Vec<Event<'a>> {
    let mut events: Vec<Event<'a>> = Vec::new();
    for event in parser {
        if let (Event::Text(next), Some(Event::Text(prev))) = (&event, events.last_mut()) {
            *prev = format!("{prev}{next}").into();
            continue;
        }
        events.push(event);
    }
    events
}

/// Emits `text` with `[[…]]` topic links and bare `http(s)://` URLs turned into links.
fn expand_text<'a>(
    text: &str,
    resolve: &impl Fn(&WikiLink) -> Option<String>,
    out: &mut Vec<Event<'a>>,
    links: &mut Vec<WikiLink>,
    seen: &mut HashSet<WikiLink>,
) {
    let mut rest = text;
    while !rest.is_empty() {
        let wiki = rest.find("[[");
        let url = ["https://", "http://"]
            .iter()
            .filter_map(|p| rest.find(p))
            .min();
        match (wiki, url) {
            (Some(w), u) if u.is_none_or(|u| w < u) => {
                let Some(close) = rest[w + 2..].find("]]") else {
                    push_autolinked(rest, out);
                    return;
                };
                let inner = &rest[w + 2..w + 2 + close];
                push_autolinked(&rest[..w], out);
                match WikiLink::parse(inner) {
                    Some(link) => {
                        let label = link.title.clone();
                        match resolve(&link) {
                            Some(href) => {
                                out.push(Event::Start(Tag::Link {
                                    link_type: LinkType::Inline,
                                    dest_url: href.into(),
                                    title: CowStr::Borrowed(""),
                                    id: CowStr::Borrowed(""),
                                }));
                                out.push(Event::Text(label.into()));
                                out.push(Event::End(TagEnd::Link));
                            }
                            None => out.push(Event::Text(label.into())),
                        }
                        if seen.insert(link.clone()) {
                            links.push(link);
                        }
                    }
                    None => out.push(Event::Text(format!("[[{inner}]]").into())),
                }
                rest = &rest[w + 2 + close + 2..];
            }
            _ => {
                push_autolinked(rest, out);
                return;
            }
        }
    }
}

/// Emits `text`, turning bare `http(s)://…` URLs into links (trailing punctuation excluded).
fn push_autolinked<'a>(text: &str, out: &mut Vec<Event<'a>>) {
    let mut rest = text;
    while let Some(start) = ["https://", "http://"]
        .iter()
        .filter_map(|p| rest.find(p))
        .min()
    {
        let tail = &rest[start..];
        let mut end = tail
            .find(|c: char| c.is_whitespace() || c == '<' || c == '>' || c == '"')
            .unwrap_or(tail.len());
        while end > 0 && tail[..end].ends_with(['.', ',', ';', ':', '!', '?', ')', '\'']) {
            end -= 1;
        }
        let url = &tail[..end];
        if url.len() <= "https://".len() {
            out.push(Event::Text(rest[..start + end.max(1)].to_owned().into()));
            rest = &rest[start + end.max(1)..];
            continue;
        }
        if start > 0 {
            out.push(Event::Text(rest[..start].to_owned().into()));
        }
        out.push(Event::Start(Tag::Link {
            link_type: LinkType::Autolink,
            dest_url: url.to_owned().into(),
            title: CowStr::Borrowed(""),
            id: CowStr::Borrowed(""),
        }));
        out.push(Event::Text(url.to_owned().into()));
        out.push(Event::End(TagEnd::Link));
        rest = &tail[end..];
    }
    if !rest.is_empty() {
        out.push(Event::Text(rest.to_owned().into()));
    }
}

/// `h-` plus the heading text in lower case, words joined by `-`.
fn slug(text: &str) -> String {
    let words: Vec<String> = text
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect();
    let mut slug = words.join("-");
    slug.truncate(slug.char_indices().nth(60).map_or(slug.len(), |(i, _)| i));
    if slug.is_empty() {
        "h-section".to_owned()
    } else {
        format!("h-{slug}")
    }
}

fn unique_id(base: &str, used: &mut HashMap<String, usize>) -> String {
    let n = used.entry(base.to_owned()).or_insert(0);
    *n += 1;
    if *n == 1 {
        base.to_owned()
    } else {
        format!("{base}-{n}")
    }
}

/// Highlighted (or, for unknown languages, escaped) code in `<pre><code>`.
fn highlight(code: &str, lang: Option<&str>) -> String {
    let syntax = lang.and_then(|l| {
        SYNTAXES
            .find_syntax_by_token(l)
            .or_else(|| SYNTAXES.find_syntax_by_name(l))
    });
    let highlighted = syntax.and_then(|syntax| {
        // Highlighting is best effort: a failure (or a panic inside the highlighter) falls
        // back to plain text rather than failing the page.
        std::panic::catch_unwind(|| {
            let mut generator = ClassedHTMLGenerator::new_with_class_style(
                syntax,
                &SYNTAXES,
                ClassStyle::SpacedPrefixed {
                    prefix: CLASS_PREFIX,
                },
            );
            for line in LinesWithEndings::from(code) {
                generator
                    .parse_html_for_line_which_includes_newline(line)
                    .ok()?;
            }
            Some(generator.finalize())
        })
        .ok()
        .flatten()
    });
    let lang_class = lang
        .filter(|l| {
            l.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '+')
        })
        .map(|l| format!(" class=\"{CLASS_PREFIX}lang-{}\"", l.to_ascii_lowercase()))
        .unwrap_or_default();
    let body = highlighted.unwrap_or_else(|| escape(code));
    format!("<pre><code{lang_class}>{body}</code></pre>\n")
}

fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
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

/// The allow-list: ammonia's defaults, plus task-list checkboxes, our `hl-*` classes and our
/// `h-*` / `fn-*` ids; links get a safe `rel`; only http(s) and mailto URLs.
static SANITIZER: LazyLock<ammonia::Builder<'static>> = LazyLock::new(|| {
    let mut builder = ammonia::Builder::default();
    builder
        .add_tags(["input"])
        .add_tag_attributes("input", ["type", "checked", "disabled"])
        .add_tag_attributes("span", ["class"])
        .add_tag_attributes("code", ["class"])
        .add_tag_attributes("a", ["class", "aria-label"])
        .add_generic_attributes(["id"])
        .url_schemes(HashSet::from(["http", "https", "mailto"]))
        .link_rel(Some("noopener noreferrer nofollow ugc"))
        .attribute_filter(|element, attribute, value| match (element, attribute) {
            (_, "class") => {
                let kept: Vec<&str> = value
                    .split_whitespace()
                    .filter(|c| c.starts_with(CLASS_PREFIX))
                    .collect();
                (!kept.is_empty()).then(|| kept.join(" ").into())
            }
            (_, "id") => {
                (value.starts_with("h-") || value.starts_with("fn-")).then(|| value.into())
            }
            ("input", "type") => (value == "checkbox").then(|| value.into()),
            _ => Some(value.into()),
        });
    builder
});

#[cfg(test)]
mod tests {
    use super::*;

    fn html(md: &str) -> String {
        render(md, |_| None).html
    }

    #[test]
    fn github_flavoured_markdown() {
        let out = html(
            "| a | b |\n|---|---|\n| 1 | 2 |\n\n- [x] done\n- [ ] todo\n\n~~gone~~ and https://example.org/x.\n\nNote[^1].\n\n[^1]: The note.",
        );
        assert!(out.contains("<table>"), "{out}");
        assert!(
            out.contains(r#"<input type="checkbox" checked="" disabled="">"#)
                || out.contains("checked"),
            "{out}"
        );
        assert!(out.contains("<del>gone</del>"), "{out}");
        assert!(out.contains(r#"<a href="https://example.org/x" rel="noopener noreferrer nofollow ugc">https://example.org/x</a>."#), "{out}");
        assert!(
            out.contains(r##"href="#fn-1""##) && out.contains(r#"id="fn-1""#),
            "{out}"
        );
    }

    #[test]
    fn headings_get_unique_anchors() {
        let out = html("# Load balancing\n\n## Load balancing\n\n### `code` & more!");
        assert!(out.contains(r#"<h1 id="h-load-balancing">"#), "{out}");
        assert!(out.contains(r#"<h2 id="h-load-balancing-2">"#), "{out}");
        assert!(out.contains(r#"<h3 id="h-code-more">"#), "{out}");
        assert!(out.contains(r##"href="#h-load-balancing""##), "{out}");
    }

    #[test]
    fn code_is_highlighted_and_escaped() {
        let out = html("```rust\nfn main() { let x = \"<b>\"; }\n```");
        assert!(out.contains(r#"<code class="hl-lang-rust">"#), "{out}");
        assert!(
            out.contains("hl-keyword") || out.contains("hl-storage"),
            "{out}"
        );
        assert!(out.contains("&lt;b&gt;") && !out.contains("<b>"), "{out}");
        let plain = html("```nosuchlang\n<script>x</script>\n```");
        assert!(
            plain.contains("&lt;script&gt;") && !plain.contains("<script"),
            "{plain}"
        );
    }

    #[test]
    fn dangerous_input_is_neutralised() {
        for evil in [
            "<script>alert(1)</script>",
            "<img src=x onerror=alert(1)>",
            "[x](javascript:alert(1))",
            "[x](data:text/html;base64,PHNjcmlwdD4=)",
            "<a href=\"javascript:alert(1)\">x</a>",
            "<iframe src=\"https://evil.example\"></iframe>",
            "<div style=\"position:fixed\" class=\"fixed inset-0\" id=\"app\">x</div>",
            "<svg><script>alert(1)</script></svg>",
            "<input type=\"text\" name=\"password\">",
        ] {
            let out = html(evil);
            for bad in [
                "<script",
                "onerror",
                "javascript:",
                "data:text",
                "<iframe",
                "style=",
                "fixed inset",
                "id=\"app\"",
                "type=\"text\"",
            ] {
                assert!(!out.contains(bad), "{evil} gave {out}");
            }
        }
    }

    #[test]
    fn topic_links_resolve_or_fall_back_to_text() {
        let rendered = render(
            "See [[Caching]], [[systems/Consensus]] and [[Secret]]; also [[Caching]] and [[]].",
            |link| match (link.subject.as_deref(), link.title.as_str()) {
                (None, "Caching") => Some("/s/here/t/caching".to_owned()),
                (Some("systems"), "Consensus") => Some("/s/systems/t/consensus".to_owned()),
                _ => None,
            },
        );
        assert!(
            rendered.html.contains(
                r#"<a href="/s/here/t/caching" rel="noopener noreferrer nofollow ugc">Caching</a>"#
            ),
            "{}",
            rendered.html
        );
        assert!(rendered.html.contains(r#"href="/s/systems/t/consensus""#));
        assert!(
            rendered.html.contains(" and Secret;"),
            "not followable: plain text, {}",
            rendered.html
        );
        assert!(rendered.html.contains("[[]]"));
        assert_eq!(
            rendered.links,
            [
                WikiLink {
                    subject: None,
                    title: "Caching".into()
                },
                WikiLink {
                    subject: Some("systems".into()),
                    title: "Consensus".into()
                },
                WikiLink {
                    subject: None,
                    title: "Secret".into()
                },
            ]
        );
        assert_eq!(
            rendered.plain_text,
            "See [[Caching]], [[systems/Consensus]] and [[Secret]]; also [[Caching]] and [[]]."
        );
    }

    #[test]
    fn any_input_renders() {
        for weird in [
            "",
            "[[",
            "]]",
            "[[a]",
            "**",
            "<",
            "```",
            "http://",
            "# ",
            "[^x]",
            "\u{0}",
            "| a |\n|-",
            &"[".repeat(10_000),
            &"> ".repeat(5_000),
        ] {
            let _ = render(weird, |_| Some("/x".into()));
        }
    }
}
