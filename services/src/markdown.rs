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
//!
//! Its cost is linear in the input: elements nest at most [`MAX_NESTING`] deep (deeper blocks
//! and spans are flattened into their ancestor at that depth, their text kept), and highlighted
//! code at most [`MAX_HIGHLIGHT_NESTING`] spans deep and 16 KB a body (beyond that, code is
//! shown plain), so the sanitiser's HTML parser, whose work per element grows with the depth of
//! open elements, does a bounded amount per element. On the server, renders run on the
//! blocking pool, one per core at once ([`render_pooled`], [`scan_pooled`]), never on the
//! async workers.

use std::collections::HashSet;
use std::sync::LazyLock;
use std::time::Duration;

use pulldown_cmark::{
    CodeBlockKind, CowStr, Event, HeadingLevel, LinkType, Options, Parser, Tag, TagEnd,
    TextMergeStream,
};
use syntect::html::{ClassStyle, line_tokens_to_classed_spans};
use syntect::parsing::{ParseState, ScopeStack, SyntaxSet};
use syntect::util::LinesWithEndings;

use arbor_map::draw::escape;

use crate::ServiceError;
use crate::blocking::Slots;

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
    let mut heading_ids = HashSet::new();

    // Adjacent text events are joined (the parser splits text at `[` and `]`), so `[[…]]` is
    // whole.
    let events = TextMergeStream::new(Flatten::new(Parser::new_ext(markdown, options)));
    let mut out: Vec<Event> = Vec::new();
    let mut code_lang: Option<String> = None;
    let mut code_text = String::new();
    let mut in_code = false;
    let mut link_depth = 0usize;
    let mut heading: Option<(HeadingLevel, usize)> = None;
    let mut highlight_budget = MAX_HIGHLIGHT_BYTES;

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
                    highlight(&code_text, code_lang.as_deref(), &mut highlight_budget).into(),
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
            // Raw HTML is shown as text: only this module writes markup (the sanitiser below
            // is the second line of defence).
            Event::Html(html) | Event::InlineHtml(html) => {
                plain_text.push_str(&html);
                out.push(Event::Text(html));
            }
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

/// At most one render per core runs at once, on the blocking pool; a request waits up to this
/// long for a slot, then is told to retry (429).
const RENDER_WAIT: Duration = Duration::from_secs(2);

static RENDER_SLOTS: LazyLock<Slots> = LazyLock::new(|| Slots::per_core(1, RENDER_WAIT));

/// [`render`] on the blocking pool, within the concurrency limit (busy: 429 with
/// `Retry-After`), for a reader's request.
pub async fn render_pooled(
    markdown: String,
    resolve: impl Fn(&WikiLink) -> Option<String> + Send + 'static,
) -> Result<Rendered, ServiceError> {
    RENDER_SLOTS.run(move || render(&markdown, resolve)).await
}

/// A body's links and plain text (its [`Rendered`] with no link resolved), on the blocking
/// pool, waiting as long as it takes for a slot: for storing a body, which must not be refused.
pub async fn scan_pooled(markdown: String) -> Result<Rendered, ServiceError> {
    RENDER_SLOTS
        .run_patiently(move || render(&markdown, |_| None))
        .await
}

/// Deepest nesting of elements (block quotes, lists, emphasis, links…) rendered as such.
pub const MAX_NESTING: usize = 32;

/// The parser's events with every element deeper than [`MAX_NESTING`] flattened: its start
/// and end are dropped, its content (text, code, breaks) kept in place, and the end of a block
/// becomes a line break so that words of consecutive blocks stay apart.
struct Flatten<I> {
    events: I,
    depth: usize,
}

impl<I> Flatten<I> {
    fn new(events: I) -> Self {
        Self { events, depth: 0 }
    }
}

impl<'a, I: Iterator<Item = Event<'a>>> Iterator for Flatten<I> {
    type Item = Event<'a>;

    fn next(&mut self) -> Option<Event<'a>> {
        loop {
            let event = self.events.next()?;
            let depth = match event {
                Event::Start(_) => {
                    self.depth += 1;
                    self.depth
                }
                Event::End(_) => {
                    self.depth = self.depth.saturating_sub(1);
                    self.depth + 1
                }
                _ => 0,
            };
            if depth <= MAX_NESTING {
                return Some(event);
            }
            if let Event::End(end) = event
                && !matches!(
                    end,
                    TagEnd::Emphasis
                        | TagEnd::Strong
                        | TagEnd::Strikethrough
                        | TagEnd::Superscript
                        | TagEnd::Subscript
                        | TagEnd::Link
                        | TagEnd::Image
                )
            {
                return Some(Event::SoftBreak);
            }
        }
    }
}

/// Most distinct `[[…]]` links in one document; later new ones are shown as text.
const MAX_WIKI_LINKS: usize = 500;

/// Emits `text` with `[[…]]` topic links and bare `http(s)://` URLs turned into links.
fn expand_text<'a>(
    text: &str,
    resolve: &impl Fn(&WikiLink) -> Option<String>,
    out: &mut Vec<Event<'a>>,
    links: &mut Vec<WikiLink>,
    seen: &mut HashSet<WikiLink>,
) {
    let mut rest = text;
    while let Some(open) = rest.find("[[") {
        let Some(close) = rest[open + 2..].find("]]") else {
            break;
        };
        let inner = &rest[open + 2..open + 2 + close];
        push_autolinked(&rest[..open], out);
        match WikiLink::parse(inner) {
            Some(link) if seen.contains(&link) || seen.len() < MAX_WIKI_LINKS => {
                match resolve(&link) {
                    Some(href) => {
                        out.push(Event::Start(Tag::Link {
                            link_type: LinkType::Inline,
                            dest_url: href.into(),
                            title: CowStr::Borrowed(""),
                            id: CowStr::Borrowed(""),
                        }));
                        out.push(Event::Text(link.title.clone().into()));
                        out.push(Event::End(TagEnd::Link));
                    }
                    None => out.push(Event::Text(link.title.clone().into())),
                }
                if seen.insert(link.clone()) {
                    links.push(link);
                }
            }
            Some(link) => out.push(Event::Text(link.title.into())),
            None => out.push(Event::Text(format!("[[{inner}]]").into())),
        }
        rest = &rest[open + 2 + close + 2..];
    }
    push_autolinked(rest, out);
}

/// The next `http://` or `https://` in `text`: (position, length of the scheme part).
fn next_url(text: &str) -> Option<(usize, usize)> {
    let mut from = 0;
    while let Some(i) = text[from..].find("http") {
        let at = from + i;
        let tail = &text[at..];
        if tail.starts_with("https://") {
            return Some((at, "https://".len()));
        }
        if tail.starts_with("http://") {
            return Some((at, "http://".len()));
        }
        from = at + "http".len();
    }
    None
}

/// Emits `text`, turning bare `http(s)://…` URLs into links (trailing punctuation excluded,
/// a closing parenthesis kept when it balances an opening one in the URL).
fn push_autolinked<'a>(text: &str, out: &mut Vec<Event<'a>>) {
    let mut rest = text;
    while let Some((start, scheme)) = next_url(rest) {
        let tail = &rest[start..];
        let mut end = tail
            .find(|c: char| c.is_whitespace() || c == '<' || c == '>' || c == '"')
            .unwrap_or(tail.len());
        while end > scheme {
            let url = &tail[..end];
            let unbalanced =
                url.ends_with(')') && url.matches(')').count() > url.matches('(').count();
            if url.ends_with(['.', ',', ';', ':', '!', '?', '\'']) || unbalanced {
                end -= 1;
            } else {
                break;
            }
        }
        if end <= scheme {
            // A bare "https://" with nothing after it is just text.
            out.push(Event::Text(rest[..start + scheme].to_owned().into()));
            rest = &rest[start + scheme..];
            continue;
        }
        if start > 0 {
            out.push(Event::Text(rest[..start].to_owned().into()));
        }
        let url = &tail[..end];
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

fn unique_id(base: &str, used: &mut HashSet<String>) -> String {
    let mut id = base.to_owned();
    let mut n = 1;
    while used.contains(&id) {
        n += 1;
        id = format!("{base}-{n}");
    }
    used.insert(id.clone());
    id
}

/// Most bytes of code highlighted per body (in order; a block that does not fit is shown
/// plain): highlighting costs about 8 µs a byte, and its markup as much again to sanitise.
const MAX_HIGHLIGHT_BYTES: usize = 16 * 1024;
const MAX_HIGHLIGHT_LINE: usize = 2_000;
/// Deepest nesting of highlighting spans (the highlighter's scopes, which some grammars nest
/// per bracket); deeper code is shown plain.
pub const MAX_HIGHLIGHT_NESTING: usize = 32;

/// Highlighted (or, for unknown languages, escaped) code in `<pre><code>`, highlighting only
/// within the `budget` of bytes left for this body.
fn highlight(code: &str, lang: Option<&str>, budget: &mut usize) -> String {
    let syntax = lang.and_then(|l| {
        SYNTAXES
            .find_syntax_by_token(l)
            .or_else(|| SYNTAXES.find_syntax_by_name(l))
    });
    // Very long code or lines are shown plain: highlighting cost grows with them.
    let too_big = code.len() > *budget || code.lines().any(|l| l.len() > MAX_HIGHLIGHT_LINE);
    let highlighted = syntax.filter(|_| !too_big).and_then(|syntax| {
        // Highlighting is best effort: a failure (or a panic inside the highlighter) falls
        // back to plain text rather than failing the page.
        std::panic::catch_unwind(|| {
            let style = ClassStyle::SpacedPrefixed {
                prefix: CLASS_PREFIX,
            };
            let mut state = ParseState::new(syntax);
            let mut scopes = ScopeStack::new();
            let mut html = String::with_capacity(code.len() * 2);
            let mut open_spans = 0usize;
            for line in LinesWithEndings::from(code) {
                let ops = state.parse_line(line, &SYNTAXES).ok()?;
                let (spans, _) =
                    line_tokens_to_classed_spans(line, &ops, style, &mut scopes).ok()?;
                // Text is escaped, so every `<` opens or closes a span.
                for (at, _) in spans.match_indices('<') {
                    if spans[at..].starts_with("</") {
                        open_spans = open_spans.saturating_sub(1);
                    } else {
                        open_spans += 1;
                        if open_spans > MAX_HIGHLIGHT_NESTING {
                            return None;
                        }
                    }
                }
                html.push_str(&spans);
            }
            for _ in 0..open_spans {
                html.push_str("</span>");
            }
            Some(html)
        })
        .ok()
        .flatten()
    });
    if highlighted.is_some() {
        *budget -= code.len();
    }
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

/// The allow-list: ammonia's defaults, plus task-list checkboxes, our `hl-*` classes and our
/// `h-*` / `fn-*` ids; links get a safe `rel`; only http(s) and mailto URLs.
static SANITIZER: LazyLock<ammonia::Builder<'static>> = LazyLock::new(|| {
    let mut builder = ammonia::Builder::default();
    builder
        .add_tags(["input"])
        .add_tag_attributes("input", ["checked"])
        .set_tag_attribute_value("input", "type", "checkbox")
        .set_tag_attribute_value("input", "disabled", "")
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
            "<span class=\"hl-anchor\" id=\"h-intro\">hidden</span>",
            "<svg><script>alert(1)</script></svg>",
            "<input type=\"text\" name=\"password\">",
            "<input>",
        ] {
            let out = html(evil);
            // Text is escaped, so every literal '<' in the output opens a real tag.
            let tags: Vec<&str> = out
                .split('<')
                .skip(1)
                .map(|t| t.split('>').next().unwrap_or(t))
                .collect();
            for tag in tags {
                let name = tag
                    .trim_start_matches('/')
                    .split_whitespace()
                    .next()
                    .unwrap_or("");
                assert!(
                    ["p", "a"].contains(&name),
                    "{evil} gave a <{tag}> tag: {out}"
                );
                for bad in ["javascript:", "data:", "style=", "class=", "id=", "on"] {
                    assert!(
                        !tag.contains(&format!(" {bad}")) && !tag.contains(&format!("\"{bad}")),
                        "{evil} gave <{tag}>: {out}"
                    );
                }
            }
        }
        // Raw HTML is shown as text, not dropped.
        assert!(html("a <b>bold</b> claim").contains("a &lt;b&gt;bold&lt;/b&gt; claim"));
    }

    #[test]
    fn urls_and_topic_links_share_a_line() {
        let rendered = render(
            "See https://en.wikipedia.org/wiki/Rust_(language), then [[Caching]] (or http://a.b).",
            |_| Some("/t/caching".to_owned()),
        );
        let out = &rendered.html;
        assert!(
            out.contains(r#"href="https://en.wikipedia.org/wiki/Rust_(language)""#),
            "{out}"
        );
        assert!(out.contains(r#"href="/t/caching""#), "{out}");
        assert!(out.contains(r#"href="http://a.b""#), "{out}");
        assert_eq!(rendered.links.len(), 1);
        assert!(html("only https:// here").contains("only https:// here"));
    }

    #[test]
    fn heading_ids_never_repeat() {
        let out = html("# A\n\n# A\n\n# A 2\n\n# A");
        for id in ["h-a", "h-a-2", "h-a-2-2", "h-a-3"] {
            assert_eq!(
                out.matches(&format!("id=\"{id}\"")).count(),
                1,
                "{id} in {out}"
            );
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

    /// The deepest nesting of elements in sanitised `html` (text is escaped, so every `<`
    /// opens or closes a tag).
    fn nesting(html: &str) -> usize {
        let (mut depth, mut deepest) = (0usize, 0);
        for (at, _) in html.match_indices('<') {
            let tag = &html[at + 1..];
            if tag.starts_with('/') {
                depth = depth.saturating_sub(1);
            } else if !["input", "br", "hr", "img"]
                .iter()
                .any(|void| tag.starts_with(void))
            {
                depth += 1;
                deepest = deepest.max(depth);
            }
        }
        deepest
    }

    #[test]
    fn nesting_is_bounded_and_text_kept() {
        let deep = 2_000;
        let mixed_lines: String = (1..=deep / 4)
            .map(|d| format!("{}- x\n", "> ".repeat(d)))
            .collect();
        for (name, body) in [
            ("quotes", format!("{}x", "> ".repeat(deep))),
            ("quotes, no spaces", format!("{}x", ">".repeat(deep))),
            ("bullets", format!("{}x", "- ".repeat(deep))),
            ("ordered", format!("{}x", "1. ".repeat(deep))),
            ("mixed", format!("{}x", "> - 1. * ".repeat(deep / 4))),
            ("mixed lines", mixed_lines),
            (
                "emphasis",
                format!(
                    "{}x{}",
                    "*a _b ".repeat(deep / 2),
                    " b_ a*".repeat(deep / 2)
                ),
            ),
            (
                "strong",
                format!("{}x{}", "**a ".repeat(deep), " a**".repeat(deep)),
            ),
            (
                "links",
                format!("{}x{}", "[a ".repeat(deep), "](/y)".repeat(deep)),
            ),
            (
                "images",
                format!("{}x{}", "![a ".repeat(deep), "](/y.png)".repeat(deep)),
            ),
            ("html", format!("{}x", "<div><b>".repeat(deep))),
            ("lisp", format!("```lisp\n{}x\n```", "(a\n".repeat(deep))),
            ("json", format!("```json\n{}x\n```", "[\n".repeat(deep))),
        ] {
            let out = render(&body, |_| Some("/x".into()));
            let depth = nesting(&out.html);
            assert!(
                depth <= MAX_NESTING + MAX_HIGHLIGHT_NESTING,
                "{name}: {depth} deep"
            );
            assert!(out.plain_text.contains('x'), "{name}: the text stays");
        }
        // Flattened blocks keep their words apart.
        let blocks = render(&format!("{0}alpha\n{0}\n{0}beta", "> ".repeat(40)), |_| {
            None
        });
        assert!(
            blocks.plain_text.contains("alpha beta"),
            "{}",
            blocks.plain_text
        );
        // Up to the limit, nesting is kept.
        let quotes = html(&format!("{}x", "> ".repeat(MAX_NESTING - 1)));
        assert_eq!(quotes.matches("<blockquote>").count(), MAX_NESTING - 1);
        assert_eq!(nesting(&quotes), MAX_NESTING);
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
            &"[".repeat(200_000),
            &"http://a ".repeat(20_000),
            &"[[a]] ".repeat(20_000),
            &"> ".repeat(5_000),
            &format!("```rust\n{}\n```", "x".repeat(100_000)),
        ] {
            let _ = render(weird, |_| Some("/x".into()));
        }
    }
}
