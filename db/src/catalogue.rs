//! The catalogue: searching and listing public subjects.
//!
//! Full text goes through each backend's own index (SQLite FTS5 over `subject_search`,
//! Postgres `tsvector` with GIN over `subjects.search_doc`), both tokenising words the same
//! simple way. Lists page with keyset cursors (the sort value and the id of the last row), so
//! rows inserted meanwhile never shift a page; relevance, whose scores are not stable keys,
//! pages by offset.
//!
//! Neither database can tell how many subjects a tag or a word matches well enough to pick
//! a plan (SQLite keeps no such statistics; Postgres guesses wrong for combinations), and the
//! right plan differs by orders of magnitude: sort the 30 subjects of a rare tag, or walk the
//! likes index until 20 subjects of a common tag turn up. So each search first counts, in one
//! statement and capped at [`CatalogueLimits::drive`], what each of its filters matches, and
//! writes the statement for the [`Plan`] those counts call for.

use crate::subjects::{SubjectRow, subject_columns, subject_select, tag_token};
use crate::{Backend, Db, DbResult, dispatch};

/// How much work one search may do; [`CatalogueLimits::DEFAULT`] is what the app uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CatalogueLimits {
    /// A filter matching fewer subjects than this drives the search: its matches are read
    /// from its own index and the page is sorted from them. When every filter matches at least
    /// this many, the search walks the index of the requested order instead and stops at the
    /// end of the page.
    pub drive: i64,
    /// Ordered by relevance, only this many of the newest subjects that pass every filter are
    /// scored: ranking every match of a common word (tens of thousands) would cost far more
    /// than a page is worth. It also bounds the worst case on Postgres, a pair of words
    /// matching a few thousand subjects, where finding the candidates reads on the order of
    /// `sqrt(relevance × public subjects)` rows either way (see `rank_newest`): 500 reads
    /// half as many as the 2,000 it was (docs/BENCHMARKS.md has the figures).
    pub relevance: i64,
}

impl CatalogueLimits {
    pub const DEFAULT: CatalogueLimits = CatalogueLimits {
        drive: 2_000,
        relevance: 500,
    };
}

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

impl SearchSort {
    /// The column the order is keyed on (relevance pages keep the `Updated` key for ties).
    fn key(self) -> &'static str {
        match self {
            SearchSort::New => "s.created_at",
            SearchSort::Updated | SearchSort::Relevance => "s.updated_at",
            SearchSort::Likes => "s.like_count",
            SearchSort::Saves => "s.save_count",
            SearchSort::Views => "s.view_count",
        }
    }

    /// The SQLite index that lists public subjects in this order.
    fn sqlite_index(self) -> &'static str {
        match self {
            SearchSort::New => "subjects_by_new",
            SearchSort::Updated | SearchSort::Relevance => "subjects_by_updated",
            SearchSort::Likes => "subjects_by_likes",
            SearchSort::Saves => "subjects_by_saves",
            SearchSort::Views => "subjects_by_views",
        }
    }
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

/// A statement being written: its text and the values its placeholders stand for.
#[derive(Default)]
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

/// An FTS5 query string matching `terms` as quoted phrases of the text column, joined by `op`.
fn fts5_query(terms: &[&String], op: &str) -> String {
    terms
        .iter()
        .map(|t| format!("search_text : \"{}\"", t.replace('"', "\"\"")))
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

/// A filter that can list its own matches from an index.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Source {
    /// The search words (all of them).
    Text,
    /// One required tag, by position in `tags`.
    Tag(usize),
    Authors,
    /// One bounded column, by position in `ranges`.
    Range(usize),
}

/// How a search finds its page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Plan {
    /// Read the matches of one selective filter, check the rest, sort them.
    Driven(Source),
    /// Walk the index of the requested order, checking every filter, until the page is full.
    Walk,
    /// Take the newest candidates that match the words and pass every filter, then rank
    /// those. SQLite walks the match list newest first (cheap however common the words);
    /// Postgres either reads every match from the GIN index and keeps the newest
    /// (`from_matches`, when they are few), or walks the subjects newest first checking each
    /// (when they are many, so the walk ends soon).
    RankNewest { from_matches: bool },
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

    fn text(&self) -> Vec<&String> {
        self.text.iter().filter(|t| indexable(t)).collect()
    }

    /// Filters that could drive the search.
    fn sources(&self, backend: Backend) -> Vec<Source> {
        // On Postgres, a search ordered by date walks an index that also holds every counter
        // and date, so range filters are checked there without reading rows; driving from a
        // range would read up to `drive` rows from the table instead (measured: 15–200 ms
        // against 1–10 ms for the walk at 100k subjects).
        let ranges_drive = backend == Backend::Sqlite
            || !matches!(self.effective_sort(), SearchSort::New | SearchSort::Updated);
        let mut sources = Vec::new();
        if self.text().is_empty() {
            sources.extend((0..self.tags.len()).map(Source::Tag));
        } else {
            // Required tags are part of the text match (their tokens are indexed with it).
            sources.push(Source::Text);
        }
        if !self.authors.is_empty() {
            sources.push(Source::Authors);
        }
        sources.extend(
            self.ranges
                .iter()
                .enumerate()
                .filter(|(_, (_, min, max))| ranges_drive && (min.is_some() || max.is_some()))
                .map(|(i, _)| Source::Range(i)),
        );
        sources
    }

    /// The Postgres `tsquery` of the search words and required tags.
    fn pg_query(&self, sql: &mut Sql) -> String {
        let mut parts: Vec<String> = self
            .text()
            .iter()
            .map(|t| {
                let p = sql.arg(Arg::Text((*t).clone()));
                format!("phraseto_tsquery('simple', {p})")
            })
            .collect();
        parts.extend(self.tags.iter().map(|tag| {
            let p = sql.arg(Arg::Text(tag_token(tag)));
            format!("plainto_tsquery('simple', {p})")
        }));
        parts.join(" && ")
    }

    /// The FTS5 query of the search words and required tags.
    fn fts5_match(&self) -> String {
        let mut query = fts5_query(&self.text(), " AND ");
        for tag in &self.tags {
            query.push_str(&format!(" AND tag_tokens : {}", tag_token(tag)));
        }
        query
    }

    /// A statement listing the ids (as `id`) of every subject `source` matches, public or not.
    fn source_ids(&self, source: Source, backend: Backend, sql: &mut Sql) -> String {
        match source {
            Source::Text => match backend {
                Backend::Sqlite => {
                    let p = sql.arg(Arg::Text(self.fts5_match()));
                    format!("SELECT rowid AS id FROM subject_search WHERE subject_search MATCH {p}")
                }
                Backend::Postgres => {
                    let q = self.pg_query(sql);
                    format!("SELECT id FROM subjects WHERE search_doc @@ ({q})")
                }
            },
            Source::Tag(i) => {
                let p = sql.arg(Arg::Text(self.tags[i].clone()));
                format!("SELECT subject_id AS id FROM subject_tags WHERE tag = {p}")
            }
            Source::Authors => format!(
                "SELECT s.id FROM subjects s WHERE {}",
                self.authors_condition(sql)
            ),
            Source::Range(i) => format!(
                "SELECT s.id FROM subjects s WHERE s.visibility = 'public' AND {}",
                self.range_condition(i, sql)
            ),
        }
    }

    fn authors_condition(&self, sql: &mut Sql) -> String {
        let list: Vec<String> = self
            .authors
            .iter()
            .map(|a| sql.arg(Arg::Text(a.clone())))
            .collect();
        format!(
            "s.owner_id IN (SELECT id FROM users WHERE username_key IN ({}))",
            list.join(", ")
        )
    }

    fn range_condition(&self, i: usize, sql: &mut Sql) -> String {
        let (column, min, max) = self.ranges[i];
        let mut parts = Vec::new();
        if let Some(min) = min {
            parts.push(format!("{} >= {}", column.sql(), sql.arg(Arg::Int(min))));
        }
        if let Some(max) = max {
            parts.push(format!("{} < {}", column.sql(), sql.arg(Arg::Int(max))));
        }
        if parts.is_empty() {
            "TRUE".to_owned()
        } else {
            parts.join(" AND ")
        }
    }

    /// One statement counting each source's matches, up to `cap`.
    fn probe_sql(&self, sources: &[Source], backend: Backend, cap: i64) -> Sql {
        let mut sql = Sql::default();
        let counts: Vec<String> = sources
            .iter()
            .map(|source| {
                let ids = self.source_ids(*source, backend, &mut sql);
                format!("(SELECT COUNT(*) FROM ({ids} LIMIT {cap}) p)")
            })
            .collect();
        sql.text = format!("SELECT {}", counts.join(", "));
        sql
    }

    /// Conditions on `s` for every filter except the full-text match itself (which each plan
    /// joins its own way) and `skip`.
    fn conditions(&self, backend: Backend, skip: Option<Source>, sql: &mut Sql) -> Vec<String> {
        let mut conditions = vec!["s.visibility = 'public'".to_owned()];
        let excluded: Vec<&String> = self.excluded_text.iter().filter(|t| indexable(t)).collect();
        match backend {
            Backend::Sqlite if !excluded.is_empty() => {
                let p = sql.arg(Arg::Text(fts5_query(&excluded, " OR ")));
                conditions.push(format!(
                    "s.id NOT IN (SELECT rowid FROM subject_search
                                  WHERE subject_search MATCH {p})"
                ));
            }
            Backend::Postgres => {
                for t in &excluded {
                    let p = sql.arg(Arg::Text((*t).clone()));
                    conditions.push(format!(
                        "NOT (s.search_doc @@ phraseto_tsquery('simple', {p}))"
                    ));
                }
            }
            Backend::Sqlite => {}
        }
        // With search words, required tags are checked by the text match.
        let tags_in_text = !self.text().is_empty();
        for (i, tag) in self.tags.iter().enumerate() {
            if !tags_in_text && skip != Some(Source::Tag(i)) {
                let p = sql.arg(Arg::Text(tag.clone()));
                conditions.push(format!(
                    "EXISTS (SELECT 1 FROM subject_tags t WHERE t.subject_id = s.id AND t.tag = {p})"
                ));
            }
        }
        for tag in &self.excluded_tags {
            let p = sql.arg(Arg::Text(tag.clone()));
            conditions.push(format!(
                "NOT EXISTS (SELECT 1 FROM subject_tags t WHERE t.subject_id = s.id AND t.tag = {p})"
            ));
        }
        if !self.authors.is_empty() && skip != Some(Source::Authors) {
            conditions.push(self.authors_condition(sql));
        }
        for i in 0..self.ranges.len() {
            if skip != Some(Source::Range(i)) {
                conditions.push(self.range_condition(i, sql));
            }
        }
        conditions
    }

    /// How to find the page, given each source's match count (capped at `limits.drive`).
    fn plan(&self, sources: &[Source], counts: &[i64], limits: CatalogueLimits) -> Plan {
        let smallest = sources
            .iter()
            .zip(counts)
            .min_by_key(|(_, count)| **count)
            .filter(|(_, count)| **count < limits.drive);
        match smallest {
            Some((source, _)) => Plan::Driven(*source),
            None if self.effective_sort() == SearchSort::Relevance => Plan::RankNewest {
                from_matches: false,
            },
            None => Plan::Walk,
        }
    }

    /// The statement that reads the page under `plan`.
    fn page_sql(&self, backend: Backend, plan: Plan, limits: CatalogueLimits) -> Sql {
        let mut sql = Sql::default();
        let sort = self.effective_sort();
        let key = sort.key();
        let has_text = !self.text().is_empty();
        let skip = match plan {
            Plan::Driven(source) => Some(source),
            _ => None,
        };
        // The row source and, for SQLite, the full-text join with its `bm25` score.
        let mut from = match (backend, plan) {
            (Backend::Sqlite, Plan::Driven(Source::Text) | Plan::RankNewest { .. }) => {
                "subject_search CROSS JOIN subjects s ON s.id = subject_search.rowid".to_owned()
            }
            (Backend::Sqlite, Plan::Driven(source)) => format!(
                "({}) d CROSS JOIN subjects s ON s.id = d.id",
                self.source_ids(source, backend, &mut sql)
            ),
            (Backend::Sqlite, Plan::Walk) => {
                format!("subjects s INDEXED BY {}", sort.sqlite_index())
            }
            (Backend::Postgres, Plan::Driven(source)) => {
                let ids = self.source_ids(source, backend, &mut sql);
                sql.text = format!("WITH d AS MATERIALIZED ({ids}) ");
                "d JOIN subjects s ON s.id = d.id".to_owned()
            }
            (Backend::Postgres, Plan::Walk | Plan::RankNewest { .. }) => "subjects s".to_owned(),
        };
        let mut conditions = Vec::new();
        let mut score = None;
        if has_text {
            match backend {
                Backend::Sqlite => {
                    if !matches!(plan, Plan::Driven(Source::Text) | Plan::RankNewest { .. }) {
                        // Checked per row: FTS5 seeks the row id in the match lists.
                        from.push_str(" CROSS JOIN subject_search ON subject_search.rowid = s.id");
                    }
                    let p = sql.arg(Arg::Text(self.fts5_match()));
                    conditions.push(format!("subject_search MATCH {p}"));
                    // Tag tokens match or not; only the text weighs in the rank.
                    score = Some("bm25(subject_search, 1.0, 0.0)".to_owned());
                }
                Backend::Postgres => {
                    let q = self.pg_query(&mut sql);
                    if plan != Plan::Driven(Source::Text) {
                        conditions.push(format!("s.search_doc @@ ({q})"));
                    }
                    score = Some(format!("ts_rank(s.search_doc, ({q}))"));
                }
            }
        }
        conditions.extend(self.conditions(backend, skip, &mut sql));
        let limit = sql.arg(Arg::Int(self.limit.clamp(1, 100)));
        let offset = match self.cursor {
            Some(SearchCursor::Offset(n)) if sort == SearchSort::Relevance => n.max(0),
            _ => 0,
        };
        let columns = subject_columns!();
        let users = "JOIN users u ON u.id = s.owner_id";
        if let (Plan::RankNewest { .. }, Some(score)) = (plan, &score) {
            // The newest candidates with their scores, then the best ranked page of them; only
            // that page is joined to the full rows. (How Postgres finds the candidates is set
            // per transaction, see `planner_settings`.)
            let (newest, rank, joined) = match backend {
                Backend::Sqlite => (
                    "subject_search.rowid",
                    "score ASC",
                    "p CROSS JOIN subjects s ON s.id = p.id",
                ),
                Backend::Postgres => ("s.id", "score DESC", "p JOIN subjects s ON s.id = p.id"),
            };
            sql.text.push_str(&format!(
                "WITH c AS MATERIALIZED (SELECT s.id, {score} AS score FROM {from}
                                         WHERE {} ORDER BY {newest} DESC LIMIT {}),
                      p AS MATERIALIZED (SELECT id, score FROM c
                                         ORDER BY {rank}, id DESC LIMIT {limit} OFFSET {offset})
                 SELECT {columns} FROM {joined} {users} ORDER BY p.{rank}, s.id DESC",
                conditions.join(" AND "),
                limits.relevance,
            ));
            return sql;
        }
        if let Some(SearchCursor::After { value, id }) = self.cursor
            && sort != SearchSort::Relevance
        {
            let v = sql.arg(Arg::Int(value));
            let i = sql.arg(Arg::Int(id));
            // A row comparison, so both databases use it as an index bound.
            conditions.push(format!("({key}, s.id) < ({v}, {i})"));
        }
        let order = match (sort, &score, backend) {
            (SearchSort::Relevance, Some(score), Backend::Sqlite) => format!("{score} ASC"),
            (SearchSort::Relevance, Some(score), Backend::Postgres) => format!("{score} DESC"),
            _ => format!("{key} DESC"),
        };
        sql.text.push_str(&format!(
            "SELECT {columns} FROM {from} {users} WHERE {}
             ORDER BY {order}, s.id DESC LIMIT {limit} OFFSET {offset}",
            conditions.join(" AND ")
        ));
        sql
    }
}

/// The Postgres planner settings a plan needs, for one transaction. Its cost model misjudges
/// checking a row's text (left alone it walks the primary key through tens of thousands of
/// rows for a match that is not rare), so the way to the candidates is chosen here. And the
/// statement is planned for its own words every time: sqlx keeps statements prepared, and after
/// five runs Postgres may switch to a generic plan that guesses 500 matches for any words
/// (measured: a pair matching 12,000 subjects then took the bitmap path, 50–95 ms).
fn planner_settings(plan: Plan) -> Option<&'static str> {
    match plan {
        Plan::RankNewest { from_matches: true } => Some(
            "SET LOCAL enable_indexscan = off; SET LOCAL enable_seqscan = off; \
             SET LOCAL plan_cache_mode = force_custom_plan",
        ),
        Plan::RankNewest {
            from_matches: false,
        } => Some(
            "SET LOCAL enable_bitmapscan = off; SET LOCAL enable_seqscan = off; \
             SET LOCAL plan_cache_mode = force_custom_plan",
        ),
        _ => None,
    }
}

/// What checking one row on Postgres's newest-first walk costs, relative to reading one match
/// through the GIN bitmap (which visits heap pages in no useful order, mostly ones the walks
/// do not keep warm). Measured at 100,000 subjects: 1.1 µs against 2.5 µs a row, both cached.
const WALK_TO_BITMAP_ROW_COST: f64 = 0.44;

/// Binds `args` to a dynamic query, in order.
macro_rules! bound {
    ($query:expr, $args:expr) => {{
        let mut query = $query;
        for arg in $args {
            query = match arg {
                Arg::Int(v) => query.bind(v),
                Arg::Text(v) => query.bind(v),
            };
        }
        query
    }};
}

impl Db {
    /// Public subjects matching `search`, one page.
    #[tracing::instrument(skip(self))]
    pub async fn search_subjects(&self, search: &SubjectSearch) -> DbResult<Vec<SubjectRow>> {
        self.search_subjects_within(search, CatalogueLimits::DEFAULT)
            .await
    }

    /// [`Db::search_subjects`] under other limits (tests run every plan on small data).
    #[tracing::instrument(skip(self))]
    pub async fn search_subjects_within(
        &self,
        search: &SubjectSearch,
        limits: CatalogueLimits,
    ) -> DbResult<Vec<SubjectRow>> {
        let plan = self.plan_search(search, limits).await?;
        let sql = search.page_sql(self.backend(), plan, limits);
        // Every value is bound; the text only holds placeholders and fixed fragments.
        let query = |text| sqlx::AssertSqlSafe(text);
        Ok(match (&self.pool, planner_settings(plan)) {
            (crate::Pool::Postgres(pool), Some(settings)) => {
                let mut tx = pool.begin().await?;
                sqlx::raw_sql(settings).execute(&mut *tx).await?;
                let rows = bound!(sqlx::query_as::<_, SubjectRow>(query(sql.text)), sql.args)
                    .fetch_all(&mut *tx)
                    .await?;
                tx.commit().await?;
                rows
            }
            _ => dispatch!(self, |pool| {
                bound!(sqlx::query_as::<_, SubjectRow>(query(sql.text)), sql.args)
                    .fetch_all(pool)
                    .await
            })?,
        })
    }

    /// Chooses the plan: one bounded count per filter that could drive the search, in one
    /// statement, unless there is nothing to choose (no filter, or words alone ranked by
    /// relevance, whose newest-first walk is right however common they are).
    async fn plan_search(&self, search: &SubjectSearch, limits: CatalogueLimits) -> DbResult<Plan> {
        let sources = search.sources(self.backend());
        let words_alone = sources == [Source::Text];
        if sources.is_empty() {
            return Ok(search.plan(&[], &[], limits));
        }
        if words_alone && search.effective_sort() == SearchSort::Relevance {
            return self.rank_newest(search, limits).await;
        }
        let probe = search.probe_sql(&sources, self.backend(), limits.drive);
        let counts: Vec<i64> = dispatch!(self, |pool| {
            let row = bound!(sqlx::query(sqlx::AssertSqlSafe(probe.text)), probe.args)
                .fetch_one(pool)
                .await?;
            (0..sources.len())
                .map(|i| sqlx::Row::try_get::<i64, _>(&row, i))
                .collect::<Result<Vec<i64>, sqlx::Error>>()
        })?;
        let plan = search.plan(&sources, &counts, limits);
        if plan
            == (Plan::RankNewest {
                from_matches: false,
            })
        {
            return self.rank_newest(search, limits).await;
        }
        Ok(plan)
    }

    /// How Postgres should find the newest candidates. Walking the subjects newest first
    /// reads about `relevance / density` rows; reading every match from the GIN index reads
    /// `matches` rows, each dearer (see [`WALK_TO_BITMAP_ROW_COST`]); they cross at
    /// `sqrt(relevance × public subjects × that ratio)` matches. The planner's own row
    /// estimates give both numbers without reading anything (its costs are what it misjudges,
    /// which is why it is not left to choose).
    async fn rank_newest(&self, search: &SubjectSearch, limits: CatalogueLimits) -> DbResult<Plan> {
        let crate::Pool::Postgres(pool) = &self.pool else {
            return Ok(Plan::RankNewest {
                from_matches: false,
            });
        };
        let mut sql = Sql::default();
        let q = search.pg_query(&mut sql);
        let mut conditions = search.conditions(Backend::Postgres, None, &mut sql);
        conditions.push(format!("s.search_doc @@ ({q})"));
        sql.text = format!(
            "EXPLAIN SELECT s.id FROM subjects s WHERE {}",
            conditions.join(" AND ")
        );
        let estimate = |lines: Vec<String>| {
            lines
                .first()
                .and_then(|l| l.split("rows=").nth(1))
                .and_then(|r| r.split(' ').next())
                .and_then(|r| r.parse::<f64>().ok())
                .unwrap_or(0.0)
        };
        // Not kept prepared: a generic plan's estimate knows nothing of the words.
        let matches = estimate(
            bound!(
                sqlx::query_scalar::<_, String>(sqlx::AssertSqlSafe(sql.text)).persistent(false),
                sql.args
            )
            .fetch_all(pool)
            .await?,
        );
        let public = estimate(
            sqlx::query_scalar::<_, String>(
                "EXPLAIN SELECT id FROM subjects WHERE visibility = 'public'",
            )
            .fetch_all(pool)
            .await?,
        );
        Ok(Plan::RankNewest {
            from_matches: matches
                <= (limits.relevance as f64 * public * WALK_TO_BITMAP_ROW_COST).sqrt(),
        })
    }

    /// The plan `search` would run and the database's own account of its page statement
    /// (`EXPLAIN QUERY PLAN` on SQLite, `EXPLAIN (ANALYZE, BUFFERS)` on Postgres), one line
    /// per entry: what the catalogue benchmark prints to show where time goes.
    #[tracing::instrument(skip(self))]
    pub async fn explain_search(&self, search: &SubjectSearch) -> DbResult<Vec<String>> {
        let limits = CatalogueLimits::DEFAULT;
        let plan = self.plan_search(search, limits).await?;
        let sql = search.page_sql(self.backend(), plan, limits);
        let mut lines = vec![format!("plan: {plan:?}")];
        match &self.pool {
            crate::Pool::Sqlite(pool) => {
                let text = format!("EXPLAIN QUERY PLAN {}", sql.text);
                let rows = bound!(
                    sqlx::query_as::<_, (i64, i64, i64, String)>(sqlx::AssertSqlSafe(text)),
                    sql.args
                )
                .fetch_all(pool)
                .await?;
                lines.extend(rows.into_iter().map(|(_, _, _, detail)| detail));
            }
            crate::Pool::Postgres(pool) => {
                let mut tx = pool.begin().await?;
                if let Some(settings) = planner_settings(plan) {
                    sqlx::raw_sql(settings).execute(&mut *tx).await?;
                }
                let text = format!("EXPLAIN (ANALYZE, BUFFERS) {}", sql.text);
                let rows = bound!(
                    sqlx::query_scalar::<_, String>(sqlx::AssertSqlSafe(text)),
                    sql.args
                )
                .fetch_all(&mut *tx)
                .await?;
                tx.commit().await?;
                lines.extend(rows);
            }
        }
        Ok(lines)
    }

    /// Public subjects with the most likes and saves in the window since `since`, then the
    /// most liked overall.
    ///
    /// A like and a save in the window count one each (the current ones: a mark taken back is
    /// gone); ties go to the larger `like_count`, then the newer id. Each window is read
    /// through its own index (`likes_recent`, `saves_recent`).
    #[tracing::instrument(skip(self))]
    pub async fn trending_subjects(&self, since: i64, limit: i64) -> DbResult<Vec<SubjectRow>> {
        Ok(dispatch!(self, |pool| {
            sqlx::query_as::<_, SubjectRow>(concat!(
                subject_select!(),
                "LEFT JOIN (SELECT subject_id, COUNT(*) AS n
                            FROM (SELECT subject_id FROM likes WHERE created_at >= $1
                                  UNION ALL
                                  SELECT subject_id FROM saves WHERE created_at >= $1) marks
                            GROUP BY subject_id) r ON r.subject_id = s.id
                 WHERE s.visibility = 'public'
                 ORDER BY COALESCE(r.n, 0) DESC, s.like_count DESC, s.id DESC
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
