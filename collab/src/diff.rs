//! The change between two versions of a text, in UTF-16 code units (the offsets browsers and
//! Yjs use): the common prefix and suffix are kept, the middle is replaced. One pass over each
//! string, so it stays cheap on long documents. The server uses it for plain-form edits and
//! the browser editor for every change of its text area.

/// Replace `removed` UTF-16 units at `start` with `inserted`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Splice<'a> {
    pub start: u32,
    pub removed: u32,
    pub inserted: &'a str,
}

/// The splice that turns `old` into `new`, or `None` if they are equal. Never splits a
/// character (surrogate pairs stay whole).
pub fn splice<'a>(old: &str, new: &'a str) -> Option<Splice<'a>> {
    if old == new {
        return None;
    }
    // Common prefix, in bytes (on character boundaries of both).
    let prefix: usize = old
        .chars()
        .zip(new.chars())
        .take_while(|(a, b)| a == b)
        .map(|(a, _)| a.len_utf8())
        .sum();
    let (old_rest, new_rest) = (&old[prefix..], &new[prefix..]);
    let suffix: usize = old_rest
        .chars()
        .rev()
        .zip(new_rest.chars().rev())
        .take_while(|(a, b)| a == b)
        .map(|(a, _)| a.len_utf8())
        .sum();
    let removed = &old_rest[..old_rest.len() - suffix];
    let inserted = &new_rest[..new_rest.len() - suffix];
    Some(Splice {
        start: utf16_len(&old[..prefix]),
        removed: utf16_len(removed),
        inserted,
    })
}

pub fn utf16_len(s: &str) -> u32 {
    s.chars().map(|c| c.len_utf16() as u32).sum()
}

/// The byte index in `s` of UTF-16 offset `offset` (clamped to the end; an offset inside a
/// surrogate pair rounds down to the character's start).
pub fn byte_index(s: &str, offset: u32) -> usize {
    let mut units = 0u32;
    for (i, c) in s.char_indices() {
        let next = units + c.len_utf16() as u32;
        if next > offset {
            return i;
        }
        units = next;
    }
    s.len()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn apply(old: &str, s: &Splice) -> String {
        let from = byte_index(old, s.start);
        let to = byte_index(old, s.start + s.removed);
        format!("{}{}{}", &old[..from], s.inserted, &old[to..])
    }

    #[test]
    fn typing_in_the_middle() {
        let s = splice("hello world", "hello, world").unwrap();
        assert_eq!((s.start, s.removed, s.inserted), (5, 0, ","));
        let s = splice("a😀b", "a😀😀b").unwrap();
        assert_eq!((s.start, s.removed, s.inserted), (3, 0, "😀"));
        let s = splice("日本語", "日語").unwrap();
        assert_eq!((s.start, s.removed, s.inserted), (1, 1, ""));
        assert_eq!(splice("same", "same"), None);
    }

    #[test]
    fn offsets_are_utf16() {
        assert_eq!(byte_index("a😀b", 1), 1);
        assert_eq!(byte_index("a😀b", 3), 5);
        assert_eq!(byte_index("a😀b", 2), 1);
        assert_eq!(byte_index("ab", 9), 2);
        assert_eq!(utf16_len("e\u{301}😀"), 4);
    }

    proptest! {
        #[test]
        fn splice_turns_old_into_new(old in "[ab😀é\u{301}\n]{0,12}", new in "[ab😀é\u{301}\n]{0,12}") {
            match splice(&old, &new) {
                None => prop_assert_eq!(&old, &new),
                Some(s) => prop_assert_eq!(apply(&old, &s), new),
            }
        }
    }
}
