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
        && key.len() <= MAX_LEN
        && key.bytes().all(|b| value(b).is_some())
        && !key.ends_with('0')
}

/// The digit values of a key known to be well formed.
fn values(key: &str) -> Vec<u8> {
    key.bytes().filter_map(value).collect()
}

/// Longest key, in digits.
const MAX_LEN: usize = 256;
/// Digits the writer's suffix adds to every key.
const SUFFIX: usize = 3;
const TOP: u8 = BASE - 1;

/// A fraction above `lo` that stays above it whatever digits follow, short whatever the
/// sequence of appends: `lo`'s leading top digits (`z`) and then its next `k + 1` digits,
/// `k` being how many top digits lead, read as a number and raised by one. A level of `k`
/// leading `z`s thus holds about 61·62ᵏ appends before the next begins, so after n appends a
/// key has about 2·log₆₂ n digits (taking only the next digit, as a plain counter would, made
/// keys grow by a digit per append whenever the digit after the `z`s was a writer's `y` or
/// `z`). `None` when `lo` leads with so many `z`s that no key above it fits [`MAX_LEN`].
fn above(lo: &[u8]) -> Option<Vec<u8>> {
    let k = lo.iter().take_while(|d| **d == TOP).count();
    let width = (k + 1).min((MAX_LEN - SUFFIX).checked_sub(k)?);
    if width == 0 {
        return None;
    }
    let mut out: Vec<u8> = (0..k + width)
        .map(|i| lo.get(i).copied().unwrap_or(0))
        .collect();
    // The first of the `width` digits is below the top digit, so the carry stops there.
    for digit in out[k..].iter_mut().rev() {
        if *digit < TOP {
            *digit += 1;
            break;
        }
        *digit = 0;
    }
    Some(out)
}

/// A fraction strictly between `lo` (0 when empty) and `hi` (1 when `None`), as digit
/// values; `lo < hi` must hold and neither ends in zero. `None` when only a key longer than
/// [`MAX_LEN`] would fit.
fn midpoint(lo: &[u8], hi: Option<&[u8]>) -> Option<Vec<u8>> {
    let Some(hi) = hi else {
        return above(lo);
    };
    // The common prefix (with `lo` padded by zeros) stays as it is.
    let n = (0..hi.len())
        .take_while(|&i| lo.get(i).copied().unwrap_or(0) == hi[i])
        .count();
    if n > 0 {
        let mut out = hi[..n].to_vec();
        out.extend(midpoint(lo.get(n..).unwrap_or(&[]), Some(&hi[n..]))?);
        return Some(out);
    }
    let low = lo.first().copied().unwrap_or(0);
    let high = hi.first().copied().unwrap_or(0);
    if high - low > 1 {
        return Some(vec![(low + high) / 2]);
    }
    // Adjacent first digits: keep `lo`'s and go above the rest of it. (Taking `hi`'s first
    // digit alone would also lie between, but it is a prefix of `hi`, and the writer's suffix
    // could then not be appended.)
    let mut out = vec![low];
    out.extend(above(lo.get(1..).unwrap_or(&[]))?);
    Some(out)
}

fn to_key(values: &[u8]) -> String {
    values.iter().map(|v| DIGITS[*v as usize] as char).collect()
}

/// A key strictly between `before` and `after` (either end open), made distinct for the writer
/// `client`. Returns `None` when `before >= after`, either is malformed, or no key of at most
/// [`MAX_LEN`] digits lies between (only keys a peer made that long leave no room).
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
    let mut key = midpoint(&lo, hi.as_deref())?;
    key.push((client % 62) as u8);
    key.push(((client / 62) % 62) as u8);
    key.push(((client / 3844) % 61) as u8 + 1);
    Some(to_key(&key)).filter(|k| k.len() <= MAX_LEN)
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

        /// Appending after the last sibling, over and over, by writers with any client ids
        /// (one writer, or several taking turns), keeps keys short and increasing.
        #[test]
        fn appended_keys_stay_short(
            writers in prop::collection::vec(0..(1_u64 << 53), 1..4),
            appends in 1_000_usize..1_500,
        ) {
            let mut last: Option<String> = None;
            for i in 0..appends {
                let next = between(last.as_deref(), None, writers[i % writers.len()]).unwrap();
                prop_assert!(is_key(&next) && next.len() <= 12, "append {i}: {next}");
                prop_assert!(last.as_deref().is_none_or(|l| l < next.as_str()));
                last = Some(next);
            }
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
        assert!(last.unwrap().len() <= 8);
        // A hundred thousand appends: keys grow with the logarithm of the count.
        let mut last: Option<String> = None;
        for i in 0..100_000_u64 {
            last = between(last.as_deref(), None, i * 7_919);
        }
        assert!(last.unwrap().len() <= 14);
        // Nothing fits above a key of 256 `z`s; above 200 of them, something still does.
        assert_eq!(between(Some(&"z".repeat(256)), None, 1), None);
        assert!(between(Some(&"z".repeat(200)), None, 1).is_some_and(|k| is_key(&k)));
        assert_eq!(between(Some("5"), Some("5"), 1), None);
        assert_eq!(between(Some("50"), None, 1), None);
    }
}
