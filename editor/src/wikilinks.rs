//! Completing a `[[link]]` as it is typed, as plain text and numbers (native, tested
//! natively): whether the caret is inside an unfinished `[[…` on its line, which topic titles
//! match what was typed after it, and what to put in the text for the one chosen. The text
//! editor (`text_view.rs`) shows the matches under the text and does the splice.
//!
//! Offsets are UTF-16 code units, as the text area counts them.

/// At most this many titles are offered.
pub const OFFERED: usize = 8;
/// Longer than this after `[[`, it is not a link being typed.
const MAX_QUERY: usize = 120;

/// A `[[` being typed: where what follows it starts, and what was typed since.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Open {
    pub start: u32,
    pub query: String,
}

/// The unfinished `[[…` the caret (at UTF-16 offset `caret`) is in, if any: on the caret's
/// line, not closed by `]]` before the caret, nothing but title characters typed since.
pub fn open_at(text: &str, caret: u32) -> Option<Open> {
    let units: Vec<u16> = text.encode_utf16().collect();
    let caret = (caret as usize).min(units.len());
    let before = String::from_utf16_lossy(&units[..caret]);
    let line = before.rsplit('\n').next().unwrap_or("");
    let at = line.rfind("[[")?;
    let query = &line[at + 2..];
    if query.contains(']') || query.contains('[') || query.chars().count() > MAX_QUERY {
        return None;
    }
    let start = caret - query.encode_utf16().count();
    Some(Open {
        start: u32::try_from(start).ok()?,
        query: query.to_owned(),
    })
}

/// The titles that match `query` (case-insensitive), those that start with it first, each
/// once, at most [`OFFERED`]; every title (the first [`OFFERED`]) for an empty query.
pub fn matching<'a>(titles: &'a [String], query: &str) -> Vec<&'a str> {
    let query = query.trim().to_lowercase();
    let mut starts = Vec::new();
    let mut contains = Vec::new();
    for title in titles {
        let lower = title.to_lowercase();
        if starts.contains(&title.as_str()) || contains.contains(&title.as_str()) {
            continue;
        }
        if lower.starts_with(&query) {
            starts.push(title.as_str());
        } else if lower.contains(&query) {
            contains.push(title.as_str());
        }
    }
    starts.extend(contains);
    starts.truncate(OFFERED);
    starts
}

/// What replaces the typed query (from [`Open::start`] to the caret) when `title` is chosen,
/// given the text after the caret: the title and `]]`, or only the title when `]]` follows
/// already; and how far past the inserted text the caret goes (over that `]]`).
pub fn completion(title: &str, after: &str) -> (String, u32) {
    if after.starts_with("]]") {
        (title.to_owned(), 2)
    } else {
        (format!("{title}]]"), 0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_link_is_open_from_its_brackets_to_the_caret_on_its_line() {
        let text = "See [[Cons";
        assert_eq!(
            open_at(text, 10),
            Some(Open {
                start: 6,
                query: "Cons".into()
            })
        );
        // Just typed: an empty query.
        assert_eq!(open_at("See [[", 6).unwrap().query, "");
        // Closed, on an earlier line, or past a bracket: no.
        assert_eq!(open_at("See [[Raft]] and", 16), None);
        assert_eq!(open_at("[[Raft\nnext", 11), None);
        assert_eq!(open_at("[[a]b", 5), None);
        assert_eq!(open_at("no link", 3), None);
        // UTF-16 offsets: an emoji is two units.
        let text = "🌲 [[Ca";
        let caret = text.encode_utf16().count() as u32;
        assert_eq!(open_at(text, caret).unwrap().start, 5);
        // The caret before the brackets.
        assert_eq!(open_at("See [[Cons", 3), None);
    }

    #[test]
    fn titles_starting_with_the_query_come_first_each_once() {
        let titles: Vec<String> = [
            "Consensus",
            "Raft consensus",
            "Caching",
            "consensus",
            "Consensus",
        ]
        .iter()
        .map(|t| (*t).to_owned())
        .collect();
        assert_eq!(
            matching(&titles, "cons"),
            ["Consensus", "consensus", "Raft consensus"]
        );
        assert_eq!(matching(&titles, "").len(), 4);
        assert!(matching(&titles, "zzz").is_empty());
        let many: Vec<String> = (0..20).map(|i| format!("T{i}")).collect();
        assert_eq!(matching(&many, "t").len(), OFFERED);
    }

    #[test]
    fn a_completion_closes_the_link_unless_it_is_closed_already() {
        assert_eq!(completion("Raft", " and more"), ("Raft]]".into(), 0));
        assert_eq!(completion("Raft", "]] and more"), ("Raft".into(), 2));
    }
}
