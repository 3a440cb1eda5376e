//! A subject as a zip of Markdown files, one per topic, readable in any editor or on a code
//! host: the root is `index.md`; a topic is `NN-title.md` beside its siblings, and its
//! children live in the folder `NN-title/`. Each file has the topic's title as a heading, its
//! body with `[[Title]]` links to topics of this subject turned into relative links, and links
//! to its subtopics and its parent.

use std::collections::HashMap;
use std::io::Write as _;

use crate::Outline;

/// A file name from a title: lowercase letters and digits, dashes between words.
fn slug(title: &str) -> String {
    let mut out = String::new();
    for c in title.chars().flat_map(char::to_lowercase) {
        if c.is_alphanumeric() {
            out.push(c);
        } else if !out.ends_with('-') && !out.is_empty() {
            out.push('-');
        }
        if out.chars().count() >= 60 {
            break;
        }
    }
    let out = out.trim_end_matches('-').to_owned();
    if out.is_empty() { "topic".into() } else { out }
}

/// The path of `to` relative to the folder of `from` (both relative to the zip's top).
fn relative(from: &str, to: &str) -> String {
    let from_dirs: Vec<&str> = from.split('/').collect::<Vec<_>>();
    let from_dirs = &from_dirs[..from_dirs.len() - 1];
    let to_parts: Vec<&str> = to.split('/').collect();
    let common = from_dirs
        .iter()
        .zip(&to_parts)
        .take_while(|(a, b)| a == b)
        .count();
    let mut parts: Vec<&str> = vec![".."; from_dirs.len() - common];
    parts.extend(&to_parts[common..]);
    parts.join("/")
}

struct File<'a> {
    path: String,
    topic: &'a Outline,
    parent: Option<usize>,
    children: Vec<usize>,
}

/// Every topic with its path, in reading order.
fn files(root: &Outline) -> Vec<File<'_>> {
    let mut files = vec![File {
        path: "index.md".into(),
        topic: root,
        parent: None,
        children: Vec::new(),
    }];
    // (topic, its index in `files`, the folder its children go in)
    let mut stack = vec![(root, 0_usize, String::new())];
    while let Some((topic, index, folder)) = stack.pop() {
        let width = topic.children.len().to_string().len().max(2);
        let mut later = Vec::new();
        for (i, child) in topic.children.iter().enumerate() {
            let stem = format!("{folder}{:0width$}-{}", i + 1, slug(&child.title));
            let at = files.len();
            files.push(File {
                path: format!("{stem}.md"),
                topic: child,
                parent: Some(index),
                children: Vec::new(),
            });
            files[index].children.push(at);
            later.push((child, at, format!("{stem}/")));
        }
        stack.extend(later.into_iter().rev());
    }
    files
}

/// Replaces `[[Title]]` and `[[slug/Title]]` links to this subject's topics with relative
/// Markdown links (outside fenced code); other links stay as written.
fn relink(body: &str, own_slug: &str, from: &str, paths: &HashMap<String, &str>) -> String {
    let mut out = String::with_capacity(body.len());
    let mut fence: Option<&str> = None;
    for line in body.split_inclusive('\n') {
        let trimmed = line.trim_start();
        if let Some(marker) = fence {
            if trimmed.starts_with(marker) {
                fence = None;
            }
            out.push_str(line);
            continue;
        }
        if trimmed.starts_with("```") || trimmed.starts_with("~~~") {
            fence = Some(&trimmed[..3]);
            out.push_str(line);
            continue;
        }
        let mut rest = line;
        while let Some(open) = rest.find("[[") {
            let Some(close) = rest[open + 2..].find("]]") else {
                break;
            };
            let inner = &rest[open + 2..open + 2 + close];
            let title = match inner.split_once('/') {
                Some((slug, title)) if slug.eq_ignore_ascii_case(own_slug) => title,
                Some(_) => inner,
                None => inner,
            };
            out.push_str(&rest[..open]);
            match paths.get(&title.trim().to_lowercase()) {
                Some(to) if !inner.contains('/') || title != inner => {
                    out.push_str(&format!("[{}]({})", title.trim(), relative(from, to)));
                }
                _ => out.push_str(&rest[open..open + 4 + close]),
            }
            rest = &rest[open + 4 + close..];
        }
        out.push_str(rest);
    }
    out
}

/// The zip of `root`, a subject whose slug is `own_slug`.
pub fn write(root: &Outline, own_slug: &str) -> Vec<u8> {
    let files = files(root);
    // A title links to the first topic with it in reading order.
    let mut paths: HashMap<String, &str> = HashMap::new();
    for file in &files {
        paths
            .entry(file.topic.title.to_lowercase())
            .or_insert(&file.path);
    }
    let mut zip = ::zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = ::zip::write::SimpleFileOptions::default()
        .compression_method(::zip::CompressionMethod::Deflated);
    for file in &files {
        let mut text = format!("# {}\n\n", file.topic.title);
        let body = relink(file.topic.body.trim_end(), own_slug, &file.path, &paths);
        if !body.is_empty() {
            text.push_str(&body);
            text.push_str("\n\n");
        }
        if !file.children.is_empty() {
            text.push_str("## Subtopics\n\n");
            for child in &file.children {
                let child = &files[*child];
                let to = relative(&file.path, &child.path);
                text.push_str(&format!("- [{}]({to})\n", child.topic.title));
            }
            text.push('\n');
        }
        if let Some(parent) = file.parent {
            let parent = &files[parent];
            let to = relative(&file.path, &parent.path);
            text.push_str(&format!("Up: [{}]({to})\n", parent.topic.title));
        }
        zip.start_file(file.path.as_str(), options)
            .and_then(|()| {
                zip.write_all(text.trim_end().as_bytes())
                    .map_err(Into::into)
            })
            .and_then(|()| zip.write_all(b"\n").map_err(Into::into))
            .expect("writing to memory does not fail");
    }
    zip.finish()
        .expect("writing to memory does not fail")
        .into_inner()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_paths_climb_and_descend() {
        assert_eq!(relative("index.md", "01-a/02-b.md"), "01-a/02-b.md");
        assert_eq!(relative("01-a/02-b.md", "index.md"), "../index.md");
        assert_eq!(relative("01-a/02-b.md", "01-a/01-c.md"), "01-c.md");
        assert_eq!(relative("01-a/02-b/01-d.md", "02-e.md"), "../../02-e.md");
    }

    #[test]
    fn slugs_are_file_names() {
        assert_eq!(slug("Load balancing: L4 vs L7!"), "load-balancing-l4-vs-l7");
        assert_eq!(slug("???"), "topic");
        assert_eq!(slug("Ünïcode ok"), "ünïcode-ok");
    }
}
