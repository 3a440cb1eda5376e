//! Order keys among siblings: strings of base-62 digits read as a fraction (`0.d₁d₂…`), so
//! string order is numeric order and there is always a key between two others. A key never
//! ends in the zero digit, so there is always one before it too.
//!
//! Two people inserting between the same two siblings at once would compute the same midpoint;
//! each key therefore ends with a few digits derived from the writer's document client id, so
//! concurrent inserts get distinct keys (and the node id breaks any tie that is left).

const DIGITS: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
const BASE: u8 = 62;

fn value(digit: u8) -> Option<u8> {
    DIGITS.iter().position(|d| *d == digit).map(|v| v as u8)
}

/// Whether `key` is a well-formed order key (what a peer wrote may not be).
pub fn is_key(key: &str) -> bool {
    !key.is_empty()
        && key.len() <= 256
        && key.bytes().all(|b| value(b).is_some())
        && !key.ends_with('0')
}

/// The digit values of a key known to be well formed.
fn values(key: &str) -> Vec<u8> {
    key.bytes().filter_map(value).collect()
}

/// A fraction strictly between `lo` (0 when empty) and `hi` (1 when `None`), as digit
/// values; `lo < hi` must hold and neither ends in zero.
fn midpoint(lo: &[u8], hi: Option<&[u8]>) -> Vec<u8> {
    if let Some(hi) = hi {
        // The common prefix (with `lo` padded by zeros) stays as it is.
        let n = (0..hi.len())
            .take_while(|&i| lo.get(i).copied().unwrap_or(0) == hi[i])
            .count();
        if n > 0 {
            let mut out = hi[..n].to_vec();
            out.extend(midpoint(lo.get(n..).unwrap_or(&[]), Some(&hi[n..])));
            return out;
        }
    }
    let low = lo.first().copied().unwrap_or(0);
    let high = hi.map_or(BASE, |h| h.first().copied().unwrap_or(0));
    if hi.is_none() && low + 1 < BASE {
        // Appending after the last sibling, the common case: one step, not half the room,
        // so keys grow by a digit only every 61 appends.
        return vec![low + 1];
    }
    if high - low > 1 {
        return vec![(low + high) / 2];
    }
    // Adjacent first digits: keep `lo`'s and go above the rest of it. (Taking `hi`'s first
    // digit alone would also lie between, but it is a prefix of `hi`, and the writer's suffix
    // could then not be appended.)
    let mut out = vec![low];
    out.extend(midpoint(lo.get(1..).unwrap_or(&[]), None));
    out
}

fn to_key(values: &[u8]) -> String {
    values.iter().map(|v| DIGITS[*v as usize] as char).collect()
}

/// A key strictly between `before` and `after` (either end open), made distinct for the writer
/// `client`. Returns `None` when `before >= after` or either is malformed.
pub fn between(before: Option<&str>, after: Option<&str>, client: u64) -> Option<String> {
    if before.is_some_and(|k| !is_key(k)) || after.is_some_and(|k| !is_key(k)) {
        return None;
    }
    if let (Some(b), Some(a)) = (before, after)
        && b >= a
    {
        return None;
    }
    let lo = before.map(values).unwrap_or_default();
    let hi = after.map(values);
    // The midpoint is never a prefix of `after` (it differs from it at or before its own
    // last digit), so the writer's suffix keeps it below: three digits from the client id,
    // the last never zero.
    let mut key = midpoint(&lo, hi.as_deref());
    key.push((client % 62) as u8);
    key.push(((client / 62) % 62) as u8);
    key.push(((client / 3844) % 61) as u8 + 1);
    Some(to_key(&key))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn key() -> impl Strategy<Value = String> {
        "[0-9A-Za-z]{0,6}[1-9A-Za-z]"
    }

    proptest! {
        #[test]
        fn between_is_strictly_between(a in key(), b in key(), client in any::<u64>()) {
            let (lo, hi) = if a < b { (a, b) } else { (b, a) };
            match between(Some(&lo), Some(&hi), client) {
                Some(k) => {
                    prop_assert!(is_key(&k));
                    prop_assert!(lo < k && k < hi, "{lo} < {k} < {hi}");
                }
                None => prop_assert_eq!(&lo, &hi),
            }
            let first = between(None, Some(&hi), client).unwrap();
            prop_assert!(is_key(&first) && first < hi);
            let last = between(Some(&lo), None, client).unwrap();
            prop_assert!(is_key(&last) && last > lo);
        }

        #[test]
        fn writers_get_distinct_keys(a in key(), b in key(), x in any::<u64>(), y in any::<u64>()) {
            let (lo, hi) = if a < b { (a, b) } else { (b, a) };
            prop_assume!(lo != hi && x % 234_484 != y % 234_484);
            let kx = between(Some(&lo), Some(&hi), x).unwrap();
            let ky = between(Some(&lo), Some(&hi), y).unwrap();
            prop_assert_ne!(kx, ky);
        }
    }

    #[test]
    fn repeated_inserts_stay_short() {
        // Always appending after the last key (the common case) grows keys slowly.
        let mut last: Option<String> = None;
        for _ in 0..1_000 {
            last = between(last.as_deref(), None, 7);
        }
        assert!(last.unwrap().len() < 40);
        assert_eq!(between(Some("5"), Some("5"), 1), None);
        assert_eq!(between(Some("50"), None, 1), None);
    }
}
