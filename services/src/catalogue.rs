//! Lists of subjects: the catalogue search (the query language of [`arbor_types::query`] turned into
//! a database search), the home page (feed, trending, newest), and saved subjects. Cursors are
//! opaque to clients: URL-safe base64 of the position the next page starts after.

use arbor_db::catalogue::{Column, SearchCursor, SearchSort, SubjectSearch, sort_value};
use arbor_db::social::TimeCursor;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use crate::ServiceError;
use crate::auth::Caller;
use crate::subjects::card;
use crate::{Services, now_ms};
use arbor_types::content::{HomeFeed, SubjectPage};
use arbor_types::error::AppError;
use arbor_types::query::{self, Cmp, Counter, DateField, Sort};

/// Results per page unless the client asks otherwise (at most [`MAX_LIMIT`]).
pub const DEFAULT_LIMIT: i64 = 20;
pub const MAX_LIMIT: i64 = 100;

fn bad_cursor() -> ServiceError {
    ServiceError::bad_request("The cursor is not one this server gave out.").with_field("cursor")
}

fn encode(kind: char, a: i64, b: i64) -> String {
    URL_SAFE_NO_PAD.encode(format!("{kind}:{a}:{b}"))
}

fn decode(cursor: &str) -> Result<(char, i64, i64), ServiceError> {
    let bytes = URL_SAFE_NO_PAD.decode(cursor).map_err(|_| bad_cursor())?;
    let text = String::from_utf8(bytes).map_err(|_| bad_cursor())?;
    let mut parts = text.splitn(3, ':');
    let kind = parts
        .next()
        .and_then(|k| k.chars().next())
        .ok_or_else(bad_cursor)?;
    let a = parts
        .next()
        .and_then(|v| v.parse().ok())
        .ok_or_else(bad_cursor)?;
    let b = parts
        .next()
        .and_then(|v| v.parse().ok())
        .ok_or_else(bad_cursor)?;
    Ok((kind, a, b))
}

fn limit(requested: Option<i64>) -> Result<i64, ServiceError> {
    match requested {
        None => Ok(DEFAULT_LIMIT),
        Some(n) if (1..=MAX_LIMIT).contains(&n) => Ok(n),
        Some(_) => Err(ServiceError::invalid(
            "limit",
            format!("The limit is between 1 and {MAX_LIMIT}."),
        )),
    }
}

fn time_cursor(cursor: Option<&str>) -> Result<Option<TimeCursor>, ServiceError> {
    cursor
        .filter(|c| !c.is_empty())
        .map(|c| match decode(c)? {
            ('t', at, id) => Ok(TimeCursor { at, id }),
            _ => Err(bad_cursor()),
        })
        .transpose()
}

/// `[min, max)` for a count comparison.
fn count_range(cmp: Cmp, value: i64) -> (Option<i64>, Option<i64>) {
    match cmp {
        Cmp::Eq => (Some(value), value.checked_add(1)),
        Cmp::Gt => (value.checked_add(1), None),
        Cmp::Ge => (Some(value), None),
        Cmp::Lt => (None, Some(value)),
        Cmp::Le => (None, value.checked_add(1)),
    }
}

/// Parses `q` into a search. A malformed query is 400 naming the position (0-based in
/// `position`) and what was expected.
pub fn to_search(q: &str) -> Result<SubjectSearch, ServiceError> {
    let parsed = query::parse(q).map_err(|e| {
        let mut error = AppError::bad_request(format!("Query error {e}.")).with_field("q");
        error.position = Some(e.position);
        ServiceError::Refused(error)
    })?;
    let mut search = SubjectSearch {
        text: parsed.text,
        excluded_text: parsed.excluded_text,
        tags: parsed.tags,
        excluded_tags: parsed.excluded_tags,
        authors: parsed.authors,
        sort: Some(match parsed.sort {
            Sort::Relevance => SearchSort::Relevance,
            Sort::New => SearchSort::New,
            Sort::Updated => SearchSort::Updated,
            Sort::Likes => SearchSort::Likes,
            Sort::Saves => SearchSort::Saves,
            Sort::Views => SearchSort::Views,
        }),
        ..Default::default()
    };
    for (counter, filter) in parsed.counts {
        let column = match counter {
            Counter::Likes => Column::Likes,
            Counter::Saves => Column::Saves,
            Counter::Views => Column::Views,
        };
        let (min, max) = count_range(filter.cmp, filter.value);
        search.ranges.push((column, min, max));
    }
    for (field, filter) in parsed.dates {
        let column = match field {
            DateField::Created => Column::Created,
            DateField::Updated => Column::Updated,
        };
        let (min, max) = filter.bounds_ms();
        search.ranges.push((column, min, max));
    }
    Ok(search)
}

/// One page of the catalogue for query `q`.
pub async fn search(
    state: &Services,
    q: &str,
    cursor: Option<&str>,
    requested_limit: Option<i64>,
) -> Result<SubjectPage, ServiceError> {
    let mut search = to_search(q)?;
    search.limit = limit(requested_limit)?;
    let sort = search.effective_sort();
    search.cursor = match cursor.filter(|c| !c.is_empty()).map(decode).transpose()? {
        None => None,
        Some(('o', n, _)) if sort == SearchSort::Relevance && n >= 0 => {
            Some(SearchCursor::Offset(n))
        }
        Some(('k', value, id)) if sort != SearchSort::Relevance => {
            Some(SearchCursor::After { value, id })
        }
        Some(_) => return Err(bad_cursor()),
    };
    let rows = state.db().search_subjects(&search).await?;
    let next_cursor = (rows.len() as i64 == search.limit)
        .then(|| rows.last())
        .flatten()
        .map(|last| match (sort, search.cursor) {
            (SearchSort::Relevance, Some(SearchCursor::Offset(n))) => {
                encode('o', n + rows.len() as i64, 0)
            }
            (SearchSort::Relevance, _) => encode('o', rows.len() as i64, 0),
            _ => encode('k', sort_value(sort, last), last.id),
        });
    Ok(SubjectPage {
        items: rows.iter().map(card).collect(),
        next_cursor,
    })
}

/// Subjects by the people the caller follows, newest update first.
pub async fn feed(
    state: &Services,
    caller: &Caller,
    cursor: Option<&str>,
    requested_limit: Option<i64>,
) -> Result<SubjectPage, ServiceError> {
    let limit = limit(requested_limit)?;
    let rows = state
        .db()
        .feed(caller.user.id, time_cursor(cursor)?, limit)
        .await?;
    let next_cursor = (rows.len() as i64 == limit)
        .then(|| rows.last())
        .flatten()
        .map(|last| encode('t', last.updated_at, last.id));
    Ok(SubjectPage {
        items: rows.iter().map(card).collect(),
        next_cursor,
    })
}

/// The caller's saved subjects, most recently saved first.
pub async fn saved(
    state: &Services,
    caller: &Caller,
    cursor: Option<&str>,
    requested_limit: Option<i64>,
) -> Result<SubjectPage, ServiceError> {
    let limit = limit(requested_limit)?;
    let rows = state
        .db()
        .saved_subjects(caller.user.id, time_cursor(cursor)?, limit)
        .await?;
    let next_cursor = (rows.len() as i64 == limit)
        .then(|| rows.last())
        .flatten()
        .map(|(last, saved_at)| encode('t', *saved_at, last.id));
    Ok(SubjectPage {
        items: rows.iter().map(|(row, _)| card(row)).collect(),
        next_cursor,
    })
}

/// The home page's lists.
pub async fn home(state: &Services, caller: Option<&Caller>) -> Result<HomeFeed, ServiceError> {
    const WEEK_MS: i64 = 7 * 24 * 3_600_000;
    let trending = state
        .db()
        .trending_subjects(now_ms() - WEEK_MS, 6)
        .await?
        .iter()
        .map(card)
        .collect();
    let newest = state
        .db()
        .search_subjects(&SubjectSearch {
            sort: Some(SearchSort::New),
            limit: 6,
            ..Default::default()
        })
        .await?
        .iter()
        .map(card)
        .collect();
    let (feed, mine) = match caller {
        Some(c) => {
            let mut mine: Vec<_> = state
                .db()
                .subjects_by_owner(c.user.id, c.user.id, 50)
                .await?;
            mine.extend(state.db().shared_with(c.user.id, 50).await?);
            mine.sort_by_key(|s| std::cmp::Reverse(s.updated_at));
            (
                Some(feed(state, c, None, Some(10)).await?),
                mine.iter().map(card).collect(),
            )
        }
        None => (None, Vec::new()),
    };
    Ok(HomeFeed {
        feed,
        trending,
        newest,
        mine,
    })
}
