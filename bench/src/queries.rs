//! The catalogue query mix: what each kind asks, and timing one run of it.

use std::time::{Duration, Instant};

use anyhow::Result;
use arbor_db::Db;
use arbor_db::catalogue::{Column, SearchCursor, SearchSort, SubjectSearch, sort_value};
use rand::Rng;
use rand::rngs::StdRng;

use crate::data::{Pools, TWO_YEARS_MS};

const DAY_MS: i64 = 86_400_000;
const LIMIT: i64 = 20;

/// One kind of catalogue query; each run draws fresh parameters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    OneWord,
    TwoWords,
    TagByLikes,
    Author,
    LikesUpdatedNew,
    TextTag,
    UpdatedPage2,
    RareWord,
    DeepKeyset,
}

impl Kind {
    pub const ALL: [Kind; 9] = [
        Kind::OneWord,
        Kind::TwoWords,
        Kind::TagByLikes,
        Kind::Author,
        Kind::LikesUpdatedNew,
        Kind::TextTag,
        Kind::UpdatedPage2,
        Kind::RareWord,
        Kind::DeepKeyset,
    ];

    /// The letter the brief and `--kinds` use.
    pub fn letter(self) -> char {
        match self {
            Kind::OneWord => 'a',
            Kind::TwoWords => 'b',
            Kind::TagByLikes => 'c',
            Kind::Author => 'd',
            Kind::LikesUpdatedNew => 'e',
            Kind::TextTag => 'f',
            Kind::UpdatedPage2 => 'g',
            Kind::RareWord => 'h',
            Kind::DeepKeyset => 'i',
        }
    }

    /// The query as a reader would type it.
    pub fn label(self) -> &'static str {
        match self {
            Kind::OneWord => "common word            `rust`",
            Kind::TwoWords => "two words              `async kafka`",
            Kind::TagByLikes => "tag, by likes          `tag:T sort:likes`",
            Kind::Author => "author                 `author:U`",
            Kind::LikesUpdatedNew => {
                "likes+updated, new     `likes:>N updated:>=D updated:<E sort:new`"
            }
            Kind::TextTag => "word + tag, relevance  `W tag:T`",
            Kind::UpdatedPage2 => "page 2, by updated     `sort:updated` + cursor",
            Kind::RareWord => "rare word              `qorvex`",
            Kind::DeepKeyset => "deep page, by updated  `sort:updated` + random cursor",
        }
    }

    /// Runs one query of this kind with random parameters; returns the time of the measured
    /// search and the rows it returned.
    pub async fn run(
        self,
        db: &Db,
        pools: &Pools,
        rng: &mut StdRng,
        now: i64,
    ) -> Result<(Duration, usize)> {
        let search = self.search(db, pools, rng, now).await?;
        let started = Instant::now();
        let rows = db.search_subjects(&search).await?;
        let elapsed = started.elapsed();
        if slow_threshold().is_some_and(|t| elapsed > t) {
            eprintln!(
                "slow ({:.1} ms): {search:?}",
                elapsed.as_secs_f64() * 1000.0
            );
        }
        Ok((elapsed, rows.len()))
    }

    /// A search of this kind with random parameters (page 2 reads page 1 to find its cursor).
    pub async fn search(
        self,
        db: &Db,
        pools: &Pools,
        rng: &mut StdRng,
        now: i64,
    ) -> Result<SubjectSearch> {
        let page = |search: SubjectSearch| SubjectSearch {
            limit: LIMIT,
            ..search
        };
        let tag = |rng: &mut StdRng| pools.tags[rng.random_range(0..pools.tags.len())].clone();
        let search = match self {
            Kind::OneWord => page(SubjectSearch {
                text: vec![Pools::common_word(rng).to_owned()],
                sort: Some(SearchSort::Relevance),
                ..Default::default()
            }),
            Kind::TwoWords => {
                let first = pools.word(rng);
                let mut second = pools.word(rng);
                while second == first {
                    second = pools.word(rng);
                }
                page(SubjectSearch {
                    text: vec![first.to_owned(), second.to_owned()],
                    sort: Some(SearchSort::Relevance),
                    ..Default::default()
                })
            }
            Kind::TagByLikes => page(SubjectSearch {
                tags: vec![tag(rng)],
                sort: Some(SearchSort::Likes),
                ..Default::default()
            }),
            Kind::Author => page(SubjectSearch {
                authors: vec![Pools::username(rng.random_range(0..pools.users))],
                sort: Some(SearchSort::Relevance),
                ..Default::default()
            }),
            Kind::LikesUpdatedNew => {
                let likes = [0, 5, 10, 20, 50, 100][rng.random_range(0..6)];
                let from = now - rng.random_range(0..TWO_YEARS_MS);
                let to = from + rng.random_range(30..=365) * DAY_MS;
                page(SubjectSearch {
                    ranges: vec![
                        (Column::Likes, Some(likes + 1), None),
                        (Column::Updated, Some(from), Some(to)),
                    ],
                    sort: Some(SearchSort::New),
                    ..Default::default()
                })
            }
            Kind::TextTag => page(SubjectSearch {
                text: vec![pools.word(rng).to_owned()],
                tags: vec![tag(rng)],
                sort: Some(SearchSort::Relevance),
                ..Default::default()
            }),
            Kind::UpdatedPage2 => {
                let first = page(SubjectSearch {
                    sort: Some(SearchSort::Updated),
                    ..Default::default()
                });
                let rows = db.search_subjects(&first).await?;
                let last = rows
                    .last()
                    .ok_or_else(|| anyhow::anyhow!("empty catalogue"))?;
                SubjectSearch {
                    cursor: Some(SearchCursor::After {
                        value: sort_value(SearchSort::Updated, last),
                        id: last.id,
                    }),
                    ..first
                }
            }
            Kind::RareWord => page(SubjectSearch {
                text: vec![pools.rare_word(rng).to_owned()],
                sort: Some(SearchSort::Relevance),
                ..Default::default()
            }),
            Kind::DeepKeyset => page(SubjectSearch {
                sort: Some(SearchSort::Updated),
                cursor: Some(SearchCursor::After {
                    value: now - rng.random_range(0..TWO_YEARS_MS),
                    id: i64::MAX,
                }),
                ..Default::default()
            }),
        };
        Ok(search)
    }
}

/// `ARBOR_BENCH_SLOW_MS`: print every search slower than this (to find the slow cases).
fn slow_threshold() -> Option<Duration> {
    static SLOW: std::sync::OnceLock<Option<Duration>> = std::sync::OnceLock::new();
    *SLOW.get_or_init(|| {
        std::env::var("ARBOR_BENCH_SLOW_MS")
            .ok()
            .and_then(|v| v.parse().ok())
            .map(Duration::from_millis)
    })
}

/// Latencies of one kind.
#[derive(Debug, Default)]
pub struct Samples {
    pub times: Vec<Duration>,
    pub rows: usize,
    pub empty: usize,
    pub total: Duration,
}

impl Samples {
    pub fn push(&mut self, time: Duration, rows: usize) {
        self.times.push(time);
        self.total += time;
        self.rows += rows;
        if rows == 0 {
            self.empty += 1;
        }
    }
}

/// The nearest-rank percentile `p` (0..=1) of sorted `times`, in milliseconds.
pub fn percentile(sorted: &[Duration], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = ((p * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    sorted[rank - 1].as_secs_f64() * 1000.0
}
