//! Arbor's own JSON: the tree as it is, nothing lost.
//!
//! ```json
//! {"format": "arbor-subject", "version": 1,
//!  "title": "Distributed systems", "body": "…",
//!  "children": [{"title": "Caching", "body": "…", "children": []}]}
//! ```

use serde::{Deserialize, Serialize};

use crate::{ImportError, Node, Outline};

const FORMAT: &str = "arbor-subject";
const VERSION: u32 = 1;

#[derive(Serialize)]
struct FileOut<'a> {
    format: &'static str,
    version: u32,
    #[serde(flatten)]
    root: TopicOut<'a>,
}

#[derive(Serialize)]
struct TopicOut<'a> {
    title: &'a str,
    body: &'a str,
    children: Vec<TopicOut<'a>>,
}

#[derive(Deserialize)]
struct FileIn {
    format: Option<String>,
    version: Option<u32>,
    #[serde(default)]
    title: String,
    #[serde(default)]
    body: String,
    #[serde(default)]
    children: Vec<TopicIn>,
}

#[derive(Deserialize)]
struct TopicIn {
    title: String,
    #[serde(default)]
    body: String,
    #[serde(default)]
    children: Vec<TopicIn>,
}

pub(crate) fn read(text: &str) -> Result<Node, ImportError> {
    // serde_json stops at 128 levels of nesting, so the conversions below recurse safely.
    let file: FileIn = serde_json::from_str(text)
        .map_err(|e| ImportError::at(e.line(), None, format!("not an Arbor JSON file: {e}")))?;
    if file.format.as_deref() != Some(FORMAT) {
        return Err(ImportError::at(
            0,
            Some("format"),
            format!("expected \"{FORMAT}\""),
        ));
    }
    if file.version != Some(VERSION) {
        return Err(ImportError::at(
            0,
            Some("version"),
            format!("only version {VERSION} is known"),
        ));
    }
    Ok(Node {
        title: file.title,
        body: file.body,
        children: topics(file.children, "children"),
        line: 0,
        element: Some("the root".into()),
    })
}

fn topics(list: Vec<TopicIn>, path: &str) -> Vec<Node> {
    list.into_iter()
        .enumerate()
        .map(|(i, t)| {
            let path = format!("{path}[{i}]");
            Node {
                title: t.title,
                body: t.body,
                children: topics(t.children, &format!("{path}.children")),
                line: 0,
                element: Some(path),
            }
        })
        .collect()
}

fn topic_out(o: &Outline) -> TopicOut<'_> {
    TopicOut {
        title: &o.title,
        body: &o.body,
        children: o.children.iter().map(topic_out).collect(),
    }
}

pub(crate) fn write(outline: &Outline) -> String {
    let file = FileOut {
        format: FORMAT,
        version: VERSION,
        root: topic_out(outline),
    };
    // Compact: indentation would grow with the square of the depth.
    let mut text = serde_json::to_string(&file).expect("strings always serialise");
    text.push('\n');
    text
}
