//! Subjects as files: the formats Arbor imports a subject's tree from and exports it to. A tree
//! is an [`Outline`] (title, markdown body, children); each format has a reader that turns a
//! file into one, refusing a bad file with an [`ImportError`] that names the line or element,
//! and a writer that turns one into a file. No I/O, no knowledge of the database: the server
//! applies an outline to a subject and records the import (`arbor_services::transfer`).
//!
//! Formats (docs/import-export.md has the rules and what round-trips):
//! - Markdown outline ([`markdown`]): headings are topics, the text under a heading its body; a
//!   file without headings may be one nested bullet list, or (a `.txt` export of an outliner)
//!   lines nested by indentation. A zip of one Markdown file per topic
//!   with working relative links ([`zip`], export only).
//! - OPML 2.0 ([`opml`]): `<outline text>` elements, bodies in `_note`.
//! - FreeMind `.mm` ([`freemind`]): `<node TEXT>` elements, bodies as notes.
//! - Arbor JSON ([`json`]): the tree as it is, nothing lost.

pub mod freemind;
pub mod json;
pub mod markdown;
pub mod opml;
pub mod zip;

mod xml;

/// Readers refuse a file whose elements or list items nest deeper than this, while parsing:
/// what they build, check and drop recurses over the tree, so a hostile file must not choose
/// its depth (JSON stops earlier, at serde_json's 128 levels). Far above [`Limits::depth`],
/// so the limit a user meets is that one, with the topic at fault.
pub(crate) const MAX_NESTING: usize = 256;

/// A topic and everything under it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Outline {
    /// One line. For the root of an import, empty when the file does not name one (the
    /// subject keeps its own).
    pub title: String,
    /// Markdown.
    pub body: String,
    pub children: Vec<Outline>,
}

impl Outline {
    /// Topics in this outline, itself included.
    pub fn count(&self) -> usize {
        1 + self.children.iter().map(Outline::count).sum::<usize>()
    }

    /// Levels below this topic (0 for a leaf).
    pub fn height(&self) -> usize {
        self.children
            .iter()
            .map(|c| 1 + c.height())
            .max()
            .unwrap_or(0)
    }
}

/// The file formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Format {
    Markdown,
    Opml,
    FreeMind,
    Json,
}

impl Format {
    pub const ALL: [Format; 4] = [
        Format::Markdown,
        Format::Opml,
        Format::FreeMind,
        Format::Json,
    ];

    /// The format's name in the API (`markdown`, `opml`, `freemind`, `json`).
    pub fn name(self) -> &'static str {
        match self {
            Format::Markdown => "markdown",
            Format::Opml => "opml",
            Format::FreeMind => "freemind",
            Format::Json => "json",
        }
    }

    /// The format a name (or a file extension) stands for.
    pub fn parse(name: &str) -> Option<Format> {
        match name.to_ascii_lowercase().as_str() {
            // A plain-text outline (an outliner's export) is read as Markdown.
            "markdown" | "md" | "txt" => Some(Format::Markdown),
            "opml" => Some(Format::Opml),
            "freemind" | "mm" => Some(Format::FreeMind),
            "json" => Some(Format::Json),
            _ => None,
        }
    }

    /// The usual file extension.
    pub fn extension(self) -> &'static str {
        match self {
            Format::Markdown => "md",
            Format::Opml => "opml",
            Format::FreeMind => "mm",
            Format::Json => "json",
        }
    }

    /// Reads a file of this format.
    pub fn read(self, text: &str, limits: &Limits) -> Result<Outline, ImportError> {
        let node = match self {
            Format::Markdown => markdown::read(text)?,
            Format::Opml => opml::read(text)?,
            Format::FreeMind => freemind::read(text)?,
            Format::Json => json::read(text)?,
        };
        node.check(limits)
    }

    /// Writes `outline` in this format.
    pub fn write(self, outline: &Outline) -> String {
        match self {
            Format::Markdown => markdown::write(outline),
            Format::Opml => opml::write(outline),
            Format::FreeMind => freemind::write(outline),
            Format::Json => json::write(outline),
        }
    }
}

/// What an import may hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Topics, the root included.
    pub topics: usize,
    /// Levels below the root.
    pub depth: usize,
    /// Characters in a title.
    pub title_chars: usize,
    /// Bytes in a body.
    pub body_bytes: usize,
}

/// Why a file was refused, and where.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}{message}", where_prefix(*line, element.as_deref()))]
pub struct ImportError {
    /// 1-based; 0 when the format has no lines to point at (a JSON value's path is in
    /// `element` instead).
    pub line: usize,
    /// The element (`<outline>`), heading or JSON path concerned, when there is one.
    pub element: Option<String>,
    pub message: String,
}

fn where_prefix(line: usize, element: Option<&str>) -> String {
    match (line, element) {
        (0, None) => String::new(),
        (0, Some(e)) => format!("{e}: "),
        (l, None) => format!("line {l}: "),
        (l, Some(e)) => format!("line {l}, {e}: "),
    }
}

impl ImportError {
    pub fn at(line: usize, element: Option<&str>, message: impl Into<String>) -> ImportError {
        ImportError {
            line,
            element: element.map(str::to_owned),
            message: message.into(),
        }
    }
}

/// An outline as read, with where each topic came from (for errors about limits).
#[derive(Debug, Clone, Default)]
pub(crate) struct Node {
    pub title: String,
    pub body: String,
    pub children: Vec<Node>,
    pub line: usize,
    pub element: Option<String>,
}

/// A title as one line: runs of whitespace become one space.
pub(crate) fn one_line(title: &str) -> String {
    title.split_whitespace().collect::<Vec<_>>().join(" ")
}

impl Node {
    fn error(&self, message: String) -> ImportError {
        ImportError {
            line: self.line,
            element: self.element.clone(),
            message,
        }
    }

    /// Checks the limits (and that every topic but the root has a title) and drops the
    /// locations.
    fn check(self, limits: &Limits) -> Result<Outline, ImportError> {
        let mut count = 0;
        self.check_at(limits, 0, &mut count)
    }

    fn check_at(
        self,
        limits: &Limits,
        depth: usize,
        count: &mut usize,
    ) -> Result<Outline, ImportError> {
        *count += 1;
        if *count > limits.topics {
            return Err(self.error(format!("the file has more than {} topics", limits.topics)));
        }
        if depth > limits.depth {
            return Err(self.error(format!(
                "topics nest more than {} levels deep",
                limits.depth
            )));
        }
        let title = one_line(&self.title);
        if title.is_empty() && depth > 0 {
            return Err(self.error("a topic has no title".into()));
        }
        if title.chars().count() > limits.title_chars {
            return Err(self.error(format!(
                "the title is longer than {} characters",
                limits.title_chars
            )));
        }
        let body = tidy_body(&self.body);
        if body.len() > limits.body_bytes {
            return Err(self.error(format!(
                "the body is larger than {} bytes",
                limits.body_bytes
            )));
        }
        let children = self
            .children
            .into_iter()
            .map(|c| c.check_at(limits, depth + 1, count))
            .collect::<Result<_, _>>()?;
        Ok(Outline {
            title,
            body,
            children,
        })
    }
}

/// A body as imported: blank lines before it and whitespace after it are not kept (the
/// indentation of its first line is).
pub(crate) fn tidy_body(body: &str) -> String {
    let trimmed = body.trim_end();
    let start = trimmed
        .split_inclusive('\n')
        .take_while(|l| l.trim().is_empty())
        .map(str::len)
        .sum::<usize>();
    trimmed[start..].to_owned()
}

/// Where the lines of a text start, to turn byte offsets into line numbers in O(log n) (every
/// topic of a file carries its line, for errors).
pub(crate) struct Lines(Vec<usize>);

impl Lines {
    pub fn new(text: &str) -> Lines {
        Lines(
            std::iter::once(0)
                .chain(text.match_indices('\n').map(|(i, _)| i + 1))
                .collect(),
        )
    }

    /// The 1-based line of byte `offset`.
    pub fn at(&self, offset: usize) -> usize {
        self.0.partition_point(|start| *start <= offset)
    }
}

/// Runs arbitrary bytes through a reader, as the fuzz target (`outline/fuzz`) does and
/// `tests/fuzz_corpus.rs` replays its corpus and every crash it found in CI. The first byte
/// picks the format, the rest is the file (invalid UTF-8 replaced, as an upload's text would
/// have been refused). Nothing may panic or overflow the stack; a file that reads must be
/// within Arbor's import limits, write in every format, read back from OPML and FreeMind, and
/// come back from Arbor JSON exactly.
#[doc(hidden)]
pub fn exercise(data: &[u8]) {
    const LIMITS: Limits = Limits {
        topics: 1000,
        depth: 32,
        title_chars: 120,
        body_bytes: 100_000,
    };
    let Some((pick, file)) = data.split_first() else {
        return;
    };
    let format = Format::ALL[usize::from(*pick) % Format::ALL.len()];
    let Ok(outline) = format.read(&String::from_utf8_lossy(file), &LIMITS) else {
        return;
    };
    assert!(outline.count() <= LIMITS.topics && outline.height() <= LIMITS.depth);
    let mut stack: Vec<&Outline> = outline.children.iter().collect();
    while let Some(topic) = stack.pop() {
        assert!(!topic.title.is_empty() && topic.title == one_line(&topic.title));
        assert!(topic.title.chars().count() <= LIMITS.title_chars);
        stack.extend(&topic.children);
    }
    for format in Format::ALL {
        let written = format.write(&outline);
        let back = format.read(&written, &LIMITS);
        match format {
            Format::Json => assert_eq!(back.as_ref(), Ok(&outline), "{written}"),
            Format::Opml | Format::FreeMind => {
                assert!(back.is_ok(), "{format:?}: {back:?}\n{written}")
            }
            Format::Markdown => {}
        }
    }
    zip::write(&outline, "fuzz");
}
