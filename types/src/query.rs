//! The catalogue's search language: free text plus `field:value` filters, for example
//! `rust "async io" tag:async -tag:beginner author:alice likes:>10 updated:>=2026-01-01 sort:likes`.
//!
//! Parsed in the browser (inline errors as you type) and on the server (the query that runs),
//! so both agree. A malformed query is an error naming the character position where it went
//! wrong and what was expected there. The grammar is written out in `docs/search.md`.

use std::fmt;

use serde::{Deserialize, Serialize};

/// Longest query accepted, in characters.
pub const MAX_QUERY_CHARS: usize = 500;
/// Most terms (words, phrases and filters) in one query.
pub const MAX_TERMS: usize = 32;

/// How results are ordered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Sort {
    /// Best text match first; newest first when there is no text.
    #[default]
    Relevance,
    New,
    Updated,
    Likes,
    Saves,
    Views,
}

impl Sort {
    const ALL: [(&'static str, Sort); 6] = [
        ("relevance", Sort::Relevance),
        ("new", Sort::New),
        ("updated", Sort::Updated),
        ("likes", Sort::Likes),
        ("saves", Sort::Saves),
        ("views", Sort::Views),
    ];

    fn name(self) -> &'static str {
        Self::ALL
            .iter()
            .find(|(_, s)| *s == self)
            .map_or("relevance", |(n, _)| n)
    }
}

/// A comparison against a number or a date.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Cmp {
    Eq,
    Gt,
    Ge,
    Lt,
    Le,
}

impl Cmp {
    fn symbol(self) -> &'static str {
        match self {
            Cmp::Eq => "",
            Cmp::Gt => ">",
            Cmp::Ge => ">=",
            Cmp::Lt => "<",
            Cmp::Le => "<=",
        }
    }

    /// Whether `value` passes this comparison against `bound`.
    pub fn admits(self, value: i64, bound: i64) -> bool {
        match self {
            Cmp::Eq => value == bound,
            Cmp::Gt => value > bound,
            Cmp::Ge => value >= bound,
            Cmp::Lt => value < bound,
            Cmp::Le => value <= bound,
        }
    }
}

/// A count filter such as `likes:>10`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct CountFilter {
    pub cmp: Cmp,
    pub value: i64,
}

/// A date filter such as `updated:>=2026-01-01` (the day, in UTC).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct DateFilter {
    pub cmp: Cmp,
    pub year: i32,
    pub month: u8,
    pub day: u8,
}

impl DateFilter {
    /// Unix milliseconds at the start of the day (UTC).
    pub fn start_ms(&self) -> i64 {
        days_from_civil(self.year, self.month, self.day) * 86_400_000
    }

    /// The `[from, until)` bounds in Unix milliseconds that this filter admits, either open.
    pub fn bounds_ms(&self) -> (Option<i64>, Option<i64>) {
        let start = self.start_ms();
        let next = start + 86_400_000;
        match self.cmp {
            Cmp::Eq => (Some(start), Some(next)),
            Cmp::Gt => (Some(next), None),
            Cmp::Ge => (Some(start), None),
            Cmp::Lt => (None, Some(start)),
            Cmp::Le => (None, Some(next)),
        }
    }
}

/// Which count a [`CountFilter`] applies to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Counter {
    Likes,
    Saves,
    Views,
}

/// Which date a [`DateFilter`] applies to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DateField {
    Created,
    Updated,
}

/// A parsed catalogue query.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct CatalogueQuery {
    /// Words and phrases that must match (titles, summaries, tags, topics).
    pub text: Vec<String>,
    /// Words and phrases that must not match.
    pub excluded_text: Vec<String>,
    /// Every one of these tags (lower case).
    pub tags: Vec<String>,
    /// None of these tags (lower case).
    pub excluded_tags: Vec<String>,
    /// Written by one of these usernames (lower case); empty means anyone.
    pub authors: Vec<String>,
    pub counts: Vec<(Counter, CountFilter)>,
    pub dates: Vec<(DateField, DateFilter)>,
    pub sort: Sort,
}

/// Why a query could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[error("at character {}: expected {expected}, found {found}", position + 1)]
pub struct QueryError {
    /// 0-based character position of the problem.
    pub position: usize,
    /// What would have been valid there.
    pub expected: String,
    /// What was there instead.
    pub found: String,
}

impl QueryError {
    fn new(position: usize, expected: impl Into<String>, found: impl Into<String>) -> Self {
        Self {
            position,
            expected: expected.into(),
            found: found.into(),
        }
    }
}

/// One lexical term with the character position it starts at.
struct Token {
    at: usize,
    negated: bool,
    /// `Some(field)` for `field:value`.
    field: Option<String>,
    value: String,
    /// Position of the value's first character.
    value_at: usize,
}

fn describe(c: Option<char>) -> String {
    match c {
        None => "the end of the query".to_owned(),
        Some(c) if c.is_whitespace() => "a space".to_owned(),
        Some(c) => format!("{c:?}"),
    }
}

fn tokenize(input: &str) -> Result<Vec<Token>, QueryError> {
    let chars: Vec<char> = input.chars().collect();
    let mut tokens = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        if chars[i].is_whitespace() {
            i += 1;
            continue;
        }
        let at = i;
        let negated = chars[i] == '-';
        if negated {
            i += 1;
            if i >= chars.len() || chars[i].is_whitespace() {
                return Err(QueryError::new(
                    i,
                    "a word, a \"phrase\" or a filter after '-'",
                    describe(chars.get(i).copied()),
                ));
            }
        }
        // A field name: letters up to ':'.
        let mut field = None;
        let name_end = (i..chars.len())
            .find(|&j| !chars[j].is_ascii_alphabetic())
            .unwrap_or(chars.len());
        if name_end > i && chars.get(name_end) == Some(&':') {
            field = Some(chars[i..name_end].iter().collect::<String>().to_lowercase());
            i = name_end + 1;
        }
        let value_at = i;
        let value = if chars.get(i) == Some(&'"') {
            let close = (i + 1..chars.len())
                .find(|&j| chars[j] == '"')
                .ok_or_else(|| {
                    QueryError::new(chars.len(), "a closing '\"'", "the end of the query")
                })?;
            let phrase: String = chars[i + 1..close].iter().collect();
            i = close + 1;
            if let Some(&c) = chars.get(i).filter(|c| !c.is_whitespace()) {
                return Err(QueryError::new(
                    i,
                    "a space after the closing '\"'",
                    describe(Some(c)),
                ));
            }
            phrase
        } else {
            let end = (i..chars.len())
                .find(|&j| chars[j].is_whitespace())
                .unwrap_or(chars.len());
            let word: String = chars[i..end].iter().collect();
            if let Some(q) = word.find('"') {
                let pos = i + word[..q].chars().count();
                return Err(QueryError::new(pos, "a space before a '\"'", "'\"'"));
            }
            i = end;
            word
        };
        if value.trim().is_empty() {
            let expected = if field.is_some() {
                "a value after ':'"
            } else {
                "some text inside the quotes"
            };
            return Err(QueryError::new(
                value_at,
                expected,
                describe(chars.get(value_at).copied()),
            ));
        }
        tokens.push(Token {
            at,
            negated,
            field,
            value,
            value_at,
        });
    }
    Ok(tokens)
}

fn parse_cmp(value: &str) -> (Cmp, &str) {
    for (prefix, cmp) in [
        (">=", Cmp::Ge),
        ("<=", Cmp::Le),
        (">", Cmp::Gt),
        ("<", Cmp::Lt),
        ("=", Cmp::Eq),
    ] {
        if let Some(rest) = value.strip_prefix(prefix) {
            return (cmp, rest);
        }
    }
    (Cmp::Eq, value)
}

fn parse_count(token: &Token) -> Result<CountFilter, QueryError> {
    let (cmp, digits) = parse_cmp(&token.value);
    let at = token.value_at + (token.value.chars().count() - digits.chars().count());
    match digits.parse::<i64>() {
        Ok(value) if value >= 0 && !digits.starts_with('+') => Ok(CountFilter { cmp, value }),
        _ => Err(QueryError::new(
            at,
            "a whole number, optionally after >, >=, < or <= (like >10)",
            format!("{digits:?}"),
        )),
    }
}

fn days_in_month(year: i32, month: u8) -> u8 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        _ if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 => 29,
        _ => 28,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(year: i32, month: u8, day: u8) -> i64 {
    let y = i64::from(year) - i64::from(month <= 2);
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(month);
    let doy = (153 * (m + if m > 2 { -3 } else { 9 }) + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn parse_date(token: &Token) -> Result<DateFilter, QueryError> {
    let (cmp, text) = parse_cmp(&token.value);
    let at = token.value_at + (token.value.chars().count() - text.chars().count());
    let bad = || {
        QueryError::new(
            at,
            "a date as YYYY-MM-DD, optionally after >, >=, < or <= (like >2026-01-01)",
            format!("{text:?}"),
        )
    };
    let parts: Vec<&str> = text.split('-').collect();
    let [y, m, d] = parts.as_slice() else {
        return Err(bad());
    };
    if y.len() != 4
        || m.len() != 2
        || d.len() != 2
        || !text.chars().all(|c| c.is_ascii_digit() || c == '-')
    {
        return Err(bad());
    }
    let (Ok(year), Ok(month), Ok(day)) = (y.parse::<i32>(), m.parse::<u8>(), d.parse::<u8>())
    else {
        return Err(bad());
    };
    if !(1..=12).contains(&month) || day == 0 || day > days_in_month(year, month) {
        return Err(bad());
    }
    Ok(DateFilter {
        cmp,
        year,
        month,
        day,
    })
}

/// Parses a catalogue query.
pub fn parse(input: &str) -> Result<CatalogueQuery, QueryError> {
    let length = input.chars().count();
    if length > MAX_QUERY_CHARS {
        return Err(QueryError::new(
            MAX_QUERY_CHARS,
            format!("at most {MAX_QUERY_CHARS} characters"),
            format!("{length} characters"),
        ));
    }
    // No control characters (a NUL ends a string in SQLite's full-text syntax, and Postgres
    // refuses it in text): a clear error rather than a failed search.
    if let Some((at, c)) = input
        .chars()
        .enumerate()
        .find(|(_, c)| c.is_control() && !c.is_whitespace())
    {
        return Err(QueryError::new(
            at,
            "printable text",
            format!("a control character (U+{:04X})", u32::from(c)),
        ));
    }
    let tokens = tokenize(input)?;
    if let Some(extra) = tokens.get(MAX_TERMS) {
        return Err(QueryError::new(
            extra.at,
            format!("at most {MAX_TERMS} terms"),
            "more",
        ));
    }
    let mut query = CatalogueQuery::default();
    let mut sort_seen = false;
    for token in &tokens {
        let Some(field) = token.field.as_deref() else {
            let list = if token.negated {
                &mut query.excluded_text
            } else {
                &mut query.text
            };
            list.push(token.value.clone());
            continue;
        };
        let not_negatable =
            |what: &str| QueryError::new(token.at, format!("{what} without '-'"), "'-'");
        match field {
            "tag" => {
                let tag = token.value.to_lowercase();
                if token.negated {
                    query.excluded_tags.push(tag)
                } else {
                    query.tags.push(tag)
                }
            }
            "author" => {
                if token.negated {
                    return Err(not_negatable("author:"));
                }
                query.authors.push(token.value.to_lowercase());
            }
            "likes" | "saves" | "views" => {
                if token.negated {
                    return Err(not_negatable(&format!("{field}:")));
                }
                let counter = match field {
                    "likes" => Counter::Likes,
                    "saves" => Counter::Saves,
                    _ => Counter::Views,
                };
                query.counts.push((counter, parse_count(token)?));
            }
            "updated" | "created" => {
                if token.negated {
                    return Err(not_negatable(&format!("{field}:")));
                }
                let which = if field == "updated" {
                    DateField::Updated
                } else {
                    DateField::Created
                };
                query.dates.push((which, parse_date(token)?));
            }
            "sort" => {
                if token.negated {
                    return Err(not_negatable("sort:"));
                }
                if sort_seen {
                    return Err(QueryError::new(
                        token.at,
                        "only one sort:",
                        "a second sort:",
                    ));
                }
                sort_seen = true;
                let wanted = token.value.to_lowercase();
                query.sort = Sort::ALL
                    .iter()
                    .find(|(name, _)| *name == wanted)
                    .map(|(_, s)| *s)
                    .ok_or_else(|| {
                        QueryError::new(
                            token.value_at,
                            "one of relevance, new, updated, likes, saves, views",
                            format!("{:?}", token.value),
                        )
                    })?;
            }
            other => {
                return Err(QueryError::new(
                    token.at + usize::from(token.negated),
                    "a filter: tag, author, likes, saves, views, updated, created or sort",
                    format!("{other:?}"),
                ));
            }
        }
    }
    Ok(query)
}

fn quote(value: &str) -> String {
    let plain = !value.is_empty()
        && !value.contains(char::is_whitespace)
        && !value.contains('"')
        && !value.starts_with('-')
        && !value.contains(':');
    if plain {
        value.to_owned()
    } else {
        format!("\"{value}\"")
    }
}

impl fmt::Display for CatalogueQuery {
    /// The canonical text of the query: parsing it gives back the same query.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut parts: Vec<String> = Vec::new();
        parts.extend(self.text.iter().map(|t| quote(t)));
        parts.extend(self.excluded_text.iter().map(|t| format!("-{}", quote(t))));
        parts.extend(self.tags.iter().map(|t| format!("tag:{}", quote(t))));
        parts.extend(
            self.excluded_tags
                .iter()
                .map(|t| format!("-tag:{}", quote(t))),
        );
        parts.extend(self.authors.iter().map(|a| format!("author:{}", quote(a))));
        for (counter, filter) in &self.counts {
            let name = match counter {
                Counter::Likes => "likes",
                Counter::Saves => "saves",
                Counter::Views => "views",
            };
            parts.push(format!("{name}:{}{}", filter.cmp.symbol(), filter.value));
        }
        for (field, d) in &self.dates {
            let name = match field {
                DateField::Created => "created",
                DateField::Updated => "updated",
            };
            parts.push(format!(
                "{name}:{}{:04}-{:02}-{:02}",
                d.cmp.symbol(),
                d.year,
                d.month,
                d.day
            ));
        }
        if self.sort != Sort::Relevance {
            parts.push(format!("sort:{}", self.sort.name()));
        }
        f.write_str(&parts.join(" "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn the_example_from_the_issue() {
        let q =
            parse("rust tag:async author:alice likes:>10 updated:>2026-01-01 sort:likes").unwrap();
        assert_eq!(q.text, ["rust"]);
        assert_eq!(q.tags, ["async"]);
        assert_eq!(q.authors, ["alice"]);
        assert_eq!(
            q.counts,
            [(
                Counter::Likes,
                CountFilter {
                    cmp: Cmp::Gt,
                    value: 10
                }
            )]
        );
        assert_eq!(q.dates.len(), 1);
        assert_eq!(
            q.dates[0].1.bounds_ms(),
            (Some(1_767_312_000_000), None),
            "after the whole day"
        );
        assert_eq!(q.sort, Sort::Likes);
    }

    #[test]
    fn phrases_negation_and_case() {
        let q = parse(r#""event sourcing" -kafka TAG:Async -tag:beginner Author:Bob"#).unwrap();
        assert_eq!(q.text, ["event sourcing"]);
        assert_eq!(q.excluded_text, ["kafka"]);
        assert_eq!(q.tags, ["async"]);
        assert_eq!(q.excluded_tags, ["beginner"]);
        assert_eq!(q.authors, ["bob"]);
        assert_eq!(parse("").unwrap(), CatalogueQuery::default());
        assert_eq!(parse("   ").unwrap(), CatalogueQuery::default());
        // A colon after something that is not a field name is just text.
        assert_eq!(parse("c++ 10:30").unwrap().text, ["c++", "10:30"]);
    }

    #[test]
    fn dates_know_the_calendar() {
        assert!(parse("created:2024-02-29").is_ok());
        assert!(parse("created:2023-02-29").is_err());
        assert!(parse("created:2026-13-01").is_err());
        assert!(parse("created:2026-1-01").is_err());
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        assert_eq!(days_from_civil(2000, 3, 1), 11_017);
    }

    fn error(input: &str) -> QueryError {
        parse(input).unwrap_err()
    }

    #[test]
    fn errors_name_the_position_and_what_was_expected() {
        let e = error("rust likes:>ten");
        assert_eq!(e.position, 12);
        assert!(e.expected.contains("whole number"), "{e}");
        assert_eq!(e.found, "\"ten\"");

        let e = error("tag:async color:red");
        assert_eq!((e.position, e.found.as_str()), (10, "\"color\""));
        assert!(e.expected.contains("tag, author"));

        let e = error(r#"rust "unclosed phrase"#);
        assert_eq!(e.position, 21);
        assert_eq!(e.expected, "a closing '\"'");

        let e = error("Dt\u{0}C\u{c2}\u{8c}");
        assert_eq!(
            (e.position, e.found.as_str()),
            (2, "a control character (U+0000)")
        );
        assert_eq!(error("\"ok\" tag:a\u{7f}").position, 10);
        assert!(parse("tabs\tand\nnewlines are spaces").is_ok());

        let e = error("sort:popular");
        assert_eq!(e.position, 5);
        let e = error("sort:new sort:likes");
        assert_eq!(e.position, 9);
        let e = error("tag:");
        assert_eq!((e.position, e.expected.as_str()), (4, "a value after ':'"));
        let e = error("rust - x");
        assert_eq!(e.position, 6);
        let e = error("-author:bob");
        assert_eq!(e.position, 0);
        let e = error("updated:yesterday");
        assert_eq!(e.position, 8);
        assert_eq!(
            e.to_string(),
            "at character 9: expected a date as YYYY-MM-DD, optionally after >, >=, < or <= (like >2026-01-01), found \"yesterday\""
        );
        // Positions count characters, not bytes.
        assert_eq!(error("日本語 likes:x").position, 10);
        assert!(parse(&"a".repeat(MAX_QUERY_CHARS + 1)).is_err());
        assert!(parse(&"a ".repeat(MAX_TERMS + 1)).is_err());
    }

    proptest! {
        #[test]
        fn never_panics_and_errors_point_inside_the_input(input in "\\PC{0,60}") {
            if let Err(e) = parse(&input) {
                prop_assert!(e.position <= input.chars().count(), "{e} for {input:?}");
            }
        }

        #[test]
        fn the_canonical_text_parses_back_to_the_same_query(
            terms in prop::collection::vec(
                "-?(tag:)?[a-z]{1,6}|author:[a-z]{1,6}|(likes|saves|views):(<|>|<=|>=)?[0-9]{1,3}|(created|updated):(<|>|<=|>=)?20[0-9]{2}-0[1-9]-1[0-9]|-?\"[a-z][a-z ]{0,6}\"",
                0..8,
            ),
            sort in prop::option::of("new|updated|likes|saves|views|relevance"),
        ) {
            let mut input = terms.join(" ");
            if let Some(sort) = sort {
                input.push_str(&format!(" sort:{sort}"));
            }
            let q = parse(&input).map_err(|e| TestCaseError::fail(format!("{input:?}: {e}")))?;
            prop_assert_eq!(parse(&q.to_string()).unwrap(), q);
        }
    }
}
