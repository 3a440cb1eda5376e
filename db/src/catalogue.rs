//! The catalogue: searching and listing public subjects.
//!
//! Full text goes through each backend's own index (SQLite FTS5 over `subject_search`,
//! Postgres `tsvector` with GIN over `subjects.search_doc`), both tokenising words the same
//! simple way. Lists page with keyset cursors (the sort value and the id of the last row), so
//! rows inserted meanwhile never shift a page; relevance, whose scores are not stable keys,
//! pages by offset.

use crate::subjects::{SubjectRow, subject_columns, subject_select};
use crate::{Backend, Db, DbResult, dispatch};

/// Ordered by relevance with no filter but words, only this many of the newest matching
/// subjects are scored: ranking every match of a common word (tens of thousands) would cost far
/// more than a page is worth. With any other filter every match is ranked.
pub const RELEVANCE_CANDIDATES: i64 = 2_000;

/// What a list of subjects is ordered by (always newest/largest first, then by id).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SearchSort {
    /// Best text match first; without search words, like `Updated`.
    Relevance,
    New,
    Updated,
    Likes,
    Saves,
    Views,
}

/// A numeric column a filter can bound.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Column {
    Likes,
    Saves,
    Views,
    Created,
    Updated,
}

impl Column {
    fn sql(self) -> &'static str {
        match self {
            Column::Likes => "s.like_count",
            Column::Saves => "s.save_count",
            Column::Views => "s.view_count",
            Column::Created => "s.created_at",
            Column::Updated => "s.updated_at",
        }
    }
}

/// Where the previous page ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SearchCursor {
    /// The sort value and id of the last row seen.
    After { value: i64, id: i64 },
    /// Rows already seen (relevance order).
    Offset(i64),
}

/// A catalogue search; every string already normalised by the caller.
#[derive(Debug, Clone, Default)]
pub struct SubjectSearch {
    /// Words or phrases that must all match.
    pub text: Vec<String>,
    /// Words or phrases that must not match.
    pub excluded_text: Vec<String>,
    /// Tags the subject must all have.
    pub tags: Vec<String>,
    pub excluded_tags: Vec<String>,
    /// Case-folded usernames; the author must be one of them (when not empty).
    pub authors: Vec<String>,
    /// `min <= column < max` bounds.
    pub ranges: Vec<(Column, Option<i64>, Option<i64>)>,
    pub sort: Option<SearchSort>,
    pub cursor: Option<SearchCursor>,
    pub limit: i64,
}

enum Arg {
    Int(i64),
    Text(String),
}

struct Sql {
    text: String,
    args: Vec<Arg>,
}

impl Sql {
    /// Adds an argument and returns its placeholder.
    fn arg(&mut self, arg: Arg) -> String {
        self.args.push(arg);
        format!("${}", self.args.len())
    }
}

/// A search term worth sending to the index: it has a letter or digit.
fn indexable(term: &str) -> bool {
    term.chars().any(char::is_alphanumeric)
}

/// An FTS5 query string matching `terms` as quoted phrases joined by `op`.
fn fts5_query(terms: &[&String], op: &str) -> String {
    terms
        .iter()
        .map(|t| format!("\"{}\"", t.replace('"', "\"\"")))
        .collect::<Vec<_>>()
        .join(op)
}

/// The sort value of a row, for the next page's cursor.
pub fn sort_value(sort: SearchSort, row: &SubjectRow) -> i64 {
    match sort {
        SearchSort::New => row.created_at,
        SearchSort::Updated | SearchSort::Relevance => row.updated_at,
        SearchSort::Likes => row.like_count,
        SearchSort::Saves => row.save_count,
        SearchSort::Views => row.view_count,
    }
}

impl SubjectSearch {
    /// The effective order: relevance without search words orders by last update.
    pub fn effective_sort(&self) -> SearchSort {
        let has_text = self.text.iter().any(|t| indexable(t));
        match self.sort.unwrap_or(SearchSort::Relevance) {
            SearchSort::Relevance if !has_text => SearchSort::Updated,
            other => other,
        }
    }

    fn to_sql(&self, backend: Backend) -> Sql {
        let mut sql = Sql {
            text: String::new(),
            args: Vec::new(),
        };
        let sort = self.effective_sort();
        // Capping the candidates is only sound when nothing else filters them.
        let capped = sort == SearchSort::Relevance
            && self.tags.is_empty()
            && self.excluded_tags.is_empty()
            && self.authors.is_empty()
            && self.ranges.is_empty();
        let text: Vec<&String> = self.text.iter().filter(|t| indexable(t)).collect();
        let excluded: Vec<&String> = self.excluded_text.iter().filter(|t| indexable(t)).collect();
        let mut from = "subjects s JOIN users u ON u.id = s.owner_id".to_owned();
        let mut joins = String::new();
        let mut conditions = vec!["s.visibility = 'public'".to_owned()];
        let mut score = None;
        match backend {
            Backend::Sqlite => {
                if !text.is_empty() {
                    // The text match drives the join (CROSS JOIN fixes SQLite's join order):
                    // otherwise the planner may probe the index once per public subject.
                    // Ranked by relevance with no other filter, only the newest
                    // RELEVANCE_CANDIDATES matches are scored (FTS5 walks matches newest first
                    // and stops there).
                    let p = sql.arg(Arg::Text(fts5_query(&text, " AND ")));
                    let matches = if capped {
                        format!(
                            "SELECT rowid AS sid, bm25(subject_search) AS score
                             FROM subject_search WHERE subject_search MATCH {p}
                             ORDER BY rowid DESC LIMIT {RELEVANCE_CANDIDATES}"
                        )
                    } else {
                        format!(
                            "SELECT rowid AS sid, bm25(subject_search) AS score
                             FROM subject_search WHERE subject_search MATCH {p}"
                        )
                    };
                    from = format!(
                        "({matches}) m
                         CROSS JOIN subjects s ON s.id = m.sid
                         JOIN users u ON u.id = s.owner_id"
                    );
                    score = Some("m.score ASC");
                }
                if !excluded.is_empty() {
                    let p = sql.arg(Arg::Text(fts5_query(&excluded, " OR ")));
                    conditions.push(format!(
                        "s.id NOT IN (SELECT rowid FROM subject_search
                                      WHERE subject_search MATCH {p})"
                    ));
                }
            }
            Backend::Postgres => {
                if !text.is_empty() {
                    let parts: Vec<String> = text
                        .iter()
                        .map(|t| {
                            let p = sql.arg(Arg::Text((*t).clone()));
                            format!("phraseto_tsquery('simple', {p})")
                        })
                        .collect();
                    let query = parts.join(" && ");
                    conditions.push(format!("s.search_doc @@ ({query})"));
                    if capped {
                        conditions.push(format!(
                            "s.id IN (SELECT id FROM subjects
                                      WHERE search_doc @@ ({query}) AND visibility = 'public'
                                      ORDER BY id DESC LIMIT {RELEVANCE_CANDIDATES})"
                        ));
                    }
                    joins.push_str(&format!(
                        " CROSS JOIN LATERAL (SELECT ts_rank(s.search_doc, ({query})) AS score) m"
                    ));
                    score = Some("m.score DESC");
                }
                for t in &excluded {
                    let p = sql.arg(Arg::Text((*t).clone()));
                    conditions.push(format!(
                        "NOT (s.search_doc @@ phraseto_tsquery('simple', {p}))"
                    ));
                }
            }
        }
        for tag in &self.tags {
            let p = sql.arg(Arg::Text(tag.clone()));
            conditions.push(format!(
                "s.id IN (SELECT subject_id FROM subject_tags WHERE tag = {p})"
            ));
        }
        for tag in &self.excluded_tags {
            let p = sql.arg(Arg::Text(tag.clone()));
            conditions.push(format!(
                "s.id NOT IN (SELECT subject_id FROM subject_tags WHERE tag = {p})"
            ));
        }
        if !self.authors.is_empty() {
            let list: Vec<String> = self
                .authors
                .iter()
                .map(|a| sql.arg(Arg::Text(a.clone())))
                .collect();
            conditions.push(format!("u.username_key IN ({})", list.join(", ")));
        }
        for (column, min, max) in &self.ranges {
            if let Some(min) = min {
                let p = sql.arg(Arg::Int(*min));
                conditions.push(format!("{} >= {p}", column.sql()));
            }
            if let Some(max) = max {
                let p = sql.arg(Arg::Int(*max));
                conditions.push(format!("{} < {p}", column.sql()));
            }
        }
        let key = match sort {
            SearchSort::New => "s.created_at",
            SearchSort::Updated | SearchSort::Relevance => "s.updated_at",
            SearchSort::Likes => "s.like_count",
            SearchSort::Saves => "s.save_count",
            SearchSort::Views => "s.view_count",
        };
        let mut offset = None;
        match self.cursor {
            Some(SearchCursor::After { value, id }) if sort != SearchSort::Relevance => {
                let v = sql.arg(Arg::Int(value));
                let i = sql.arg(Arg::Int(id));
                // A row comparison, so both databases use it as an index bound.
                conditions.push(format!("({key}, s.id) < ({v}, {i})"));
            }
            Some(SearchCursor::Offset(n)) if sort == SearchSort::Relevance => {
                offset = Some(n.max(0));
            }
            _ => {}
        }
        let order = match (sort, score) {
            (SearchSort::Relevance, Some(score)) => format!("{score}, s.id DESC"),
            _ => format!("{key} DESC, s.id DESC"),
        };
        let limit = sql.arg(Arg::Int(self.limit.clamp(1, 100)));
        sql.text = format!(
            "SELECT {} FROM {from}{joins} WHERE {} ORDER BY {order} LIMIT {limit}",
            subject_columns!(),
            conditions.join(" AND ")
        );
        if let Some(n) = offset {
            let p = sql.arg(Arg::Int(n));
            sql.text.push_str(&format!(" OFFSET {p}"));
        }
        sql
    }
}

impl Db {
    /// Public subjects matching `search`, one page.
    #[tracing::instrument(skip(self))]
    pub async fn search_subjects(&self, search: &SubjectSearch) -> DbResult<Vec<SubjectRow>> {
        let sql = search.to_sql(self.backend());
        Ok(dispatch!(self, |pool| {
            // Every value is bound; the text only holds placeholders and fixed fragments.
            let mut query = sqlx::query_as::<_, SubjectRow>(sqlx::AssertSqlSafe(sql.text));
            for arg in sql.args {
                query = match arg {
                    Arg::Int(v) => query.bind(v),
                    Arg::Text(v) => query.bind(v),
                };
            }
            query.fetch_all(pool).await
        })?)
    }

    /// Public subjects with the most likes and saves in the window since `since`, then the
    /// most liked overall.
    #[tracing::instrument(skip(self))]
    pub async fn trending_subjects(&self, since: i64, limit: i64) -> DbResult<Vec<SubjectRow>> {
        Ok(dispatch!(self, |pool| {
            sqlx::query_as::<_, SubjectRow>(concat!(
                subject_select!(),
                "LEFT JOIN (SELECT subject_id, COUNT(*) AS n FROM likes WHERE created_at >= $1
                            GROUP BY subject_id) r ON r.subject_id = s.id
                 WHERE s.visibility = 'public'
                 ORDER BY COALESCE(r.n, 0) DESC, s.like_count + s.save_count DESC, s.id DESC
                 LIMIT $2"
            ))
            .bind(since)
            .bind(limit)
            .fetch_all(pool)
            .await
        })?)
    }

    /// A person's subjects that `viewer` (0: nobody signed in) may see, most recently updated
    /// first. Only public ones are listed to others; the owner and collaborators also see
    /// unlisted and private ones.
    #[tracing::instrument(skip(self))]
    pub async fn subjects_by_owner(
        &self,
        owner_id: i64,
        viewer: i64,
        limit: i64,
    ) -> DbResult<Vec<SubjectRow>> {
        Ok(dispatch!(self, |pool| {
            sqlx::query_as::<_, SubjectRow>(concat!(
                subject_select!(),
                "WHERE s.owner_id = $1 AND (s.visibility = 'public' OR s.owner_id = $2
                    OR EXISTS (SELECT 1 FROM subject_members m
                               WHERE m.subject_id = s.id AND m.user_id = $2))
                 ORDER BY s.updated_at DESC, s.id DESC LIMIT $3"
            ))
            .bind(owner_id)
            .bind(viewer)
            .bind(limit)
            .fetch_all(pool)
            .await
        })?)
    }

    /// Subjects `user_id` collaborates on (not owns), most recently updated first.
    #[tracing::instrument(skip(self))]
    pub async fn shared_with(&self, user_id: i64, limit: i64) -> DbResult<Vec<SubjectRow>> {
        Ok(dispatch!(self, |pool| {
            sqlx::query_as::<_, SubjectRow>(concat!(
                subject_select!(),
                "JOIN subject_members m ON m.subject_id = s.id AND m.user_id = $1
                 ORDER BY s.updated_at DESC, s.id DESC LIMIT $2"
            ))
            .bind(user_id)
            .bind(limit)
            .fetch_all(pool)
            .await
        })?)
    }
}
