//! Fractional order keys for siblings: strings that sort in sibling order, where a new key can
//! always be made between any two (or before the first, or after the last) without touching
//! the others. Two people inserting at the same place get keys that may tie; ties are broken
//! by topic id. Shared by the server and, later, the live map editor in the browser.
//!
//! Keys use the 62 ASCII digits `0-9A-Za-z` (which sort by byte) and never end in `0`, so
//! there is always room before a key.

const DIGITS: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

fn value(digit: u8) -> usize {
    DIGITS.iter().position(|d| *d == digit).unwrap_or(0)
}

/// Whether `key` is a well-formed order key.
pub fn is_valid(key: &str) -> bool {
    !key.is_empty() && !key.ends_with('0') && key.bytes().all(|b| DIGITS.contains(&b))
}

/// A key strictly between `before` and `after` (`None`: no bound on that side). Keys that are
/// not in order (or malformed) are treated as unbounded on the `after` side, so a key is always
/// returned.
pub fn between(before: Option<&str>, after: Option<&str>) -> String {
    let before = before.filter(|k| is_valid(k)).unwrap_or("");
    let after = after.filter(|k| is_valid(k) && *k > before);
    midpoint(before.as_bytes(), after.map(str::as_bytes))
}

fn midpoint(a: &[u8], b: Option<&[u8]>) -> String {
    if let Some(b) = b {
        // Share the common prefix (reading missing digits of `a` as 0).
        let common = b
            .iter()
            .enumerate()
            .take_while(|(i, d)| a.get(*i).copied().unwrap_or(b'0') == **d)
            .count();
        if common > 0 {
            let rest_a = a.get(common..).unwrap_or(&[]);
            let prefix = String::from_utf8_lossy(&b[..common]).into_owned();
            return prefix + &midpoint(rest_a, Some(&b[common..]));
        }
    }
    let low = a.first().map_or(0, |d| value(*d));
    let high = b
        .and_then(|b| b.first())
        .map_or(DIGITS.len(), |d| value(*d));
    if high - low > 1 {
        return (DIGITS[(low + high) / 2] as char).to_string();
    }
    match b {
        // `b`'s first digit alone sorts before `b` and after `a`.
        Some(b) if b.len() > 1 => (b[0] as char).to_string(),
        _ => {
            let head = (DIGITS[low] as char).to_string();
            head + &midpoint(a.get(1..).unwrap_or(&[]), None)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn simple_cases() {
        assert_eq!(between(None, None), "V");
        assert!(between(Some("V"), None).as_str() > "V");
        assert!(between(None, Some("V")).as_str() < "V");
        let k = between(Some("a"), Some("b"));
        assert!("a" < k.as_str() && k.as_str() < "b", "{k}");
        let k = between(Some("az"), Some("b"));
        assert!("az" < k.as_str() && k.as_str() < "b", "{k}");
        let k = between(None, Some("1"));
        assert!(k.as_str() < "1" && is_valid(&k), "{k}");
        // Out-of-order bounds still give a key after `before`.
        assert!(between(Some("b"), Some("a")).as_str() > "b");
    }

    proptest! {
        /// Any sequence of insertions keeps every key valid, distinct and in the intended order.
        #[test]
        fn insertions_keep_order(positions in proptest::collection::vec(0usize..1000, 1..200)) {
            let mut keys: Vec<String> = Vec::new();
            for p in positions {
                let at = p % (keys.len() + 1);
                let before = at.checked_sub(1).map(|i| keys[i].as_str());
                let after = keys.get(at).map(String::as_str);
                let key = between(before, after);
                prop_assert!(is_valid(&key), "{key}");
                if let Some(b) = before { prop_assert!(b < key.as_str()); }
                if let Some(a) = after { prop_assert!(key.as_str() < a); }
                keys.insert(at, key);
            }
        }
    }
}
