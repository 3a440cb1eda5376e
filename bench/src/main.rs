//! `catalogue-bench`: how long catalogue searches take over a large catalogue.
//!
//! Seeds an empty database (SQLite or Postgres) with generated accounts and subjects (100,000
//! by default: skewed authors, titles and summaries from a technical vocabulary, Zipf-like tags,
//! 90 % public, counters and times spread over two years, each with its root topic), then runs a
//! mix of catalogue queries through [`arbor_db::Db::search_subjects`] one after another, first
//! page of 20 (or the page after a keyset cursor), and prints p50/p90/p99/max per kind of query.
//! The latency is the storage call only: no HTTP, no rendering. See `docs/BENCHMARKS.md`.

#![forbid(unsafe_code)]

mod data;
mod queries;
mod raw;
mod seed;

use std::collections::BTreeMap;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::{Context, Result, bail};
use arbor_db::{Backend, Db, DbOptions};
use clap::Parser;
use rand::SeedableRng;
use rand::rngs::StdRng;

use crate::data::Pools;
use crate::queries::{Kind, Samples, percentile};
use crate::raw::Raw;
use crate::seed::SeedMode;

/// Seeds a catalogue and measures catalogue query latency.
#[derive(Debug, Parser)]
#[command(name = "catalogue-bench")]
struct Args {
    /// `sqlite://PATH` or `postgres://USER@HOST/DB`; seeding needs it empty (or new).
    #[arg(long, env = "DATABASE_URL")]
    database_url: String,
    /// Subjects to create.
    #[arg(long, default_value_t = 100_000)]
    subjects: usize,
    /// Accounts to create (the subjects' authors); must match the seeded run with --skip-seed.
    #[arg(long, default_value_t = 2_000)]
    users: usize,
    /// Timed runs of each kind of query.
    #[arg(long, default_value_t = 2_000)]
    queries: usize,
    /// Untimed runs of each kind before timing (fewer for a kind that takes a tenth of its
    /// budget).
    #[arg(long, default_value_t = 50)]
    warmup: usize,
    /// Stop timing a kind once its timed runs add up to this many seconds (its row then shows
    /// fewer runs), so one pathological kind cannot hold the whole run for hours.
    #[arg(long, default_value_t = 120)]
    kind_budget_secs: u64,
    /// Seed, print the row counts and stop.
    #[arg(long, conflicts_with = "skip_seed")]
    seed_only: bool,
    /// Query an already seeded database.
    #[arg(long)]
    skip_seed: bool,
    /// How subjects are written: batched INSERTs, or `create_subject` one by one.
    #[arg(long, value_enum, default_value_t = SeedMode::Api)]
    seed_mode: SeedMode,
    /// Run `ANALYZE` before querying. After seeding Postgres always does (autovacuum would, soon
    /// after a bulk load); the application never runs it on SQLite, so there it is opt-in.
    #[arg(long)]
    analyze: bool,
    /// Only these kinds of query, as letters (`a,c,e`).
    #[arg(long, value_delimiter = ',')]
    kinds: Vec<char>,
    /// Print the plan of one search per kind (as the database explains it) and its time, then
    /// stop.
    #[arg(long)]
    explain: bool,
    /// Seed of the data and query generators.
    #[arg(long, default_value_t = 1)]
    rng_seed: u64,
}

async fn analyze(db: &Db) -> Result<()> {
    let started = Instant::now();
    db.execute_admin("ANALYZE").await?;
    println!("ANALYZE in {:.1} s", started.elapsed().as_secs_f64());
    Ok(())
}

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

#[tokio::main]
async fn main() -> Result<()> {
    let args = Args::parse();
    let db = Db::connect(&args.database_url, &DbOptions::default())
        .await
        .context("connecting")?;
    db.migrate().await.context("migrating")?;
    let raw = Raw::connect(&args.database_url).await?;
    let pools = Pools::new(args.users, args.rng_seed);
    let now = now_ms();

    if !args.skip_seed {
        let existing = raw.scalar("SELECT COUNT(*) FROM users").await?
            + raw.scalar("SELECT COUNT(*) FROM subjects").await?;
        if existing > 0 {
            bail!("seeding needs an empty database; pass --skip-seed to query this one");
        }
        let started = Instant::now();
        let mut rng = StdRng::seed_from_u64(args.rng_seed);
        let user_ids = seed::users(&db, &pools, now).await?;
        seed::subjects(
            &db,
            &pools,
            &mut rng,
            &user_ids,
            args.subjects,
            args.seed_mode,
            now,
        )
        .await?;
        if args.analyze || db.backend() == Backend::Postgres {
            let analyzed = Instant::now();
            // Postgres: what autovacuum does soon after a bulk load (statistics, and the
            // visibility map that index-only scans rely on).
            let analyze = match db.backend() {
                Backend::Postgres => "VACUUM ANALYZE",
                Backend::Sqlite => "ANALYZE",
            };
            db.execute_admin(analyze).await?;
            println!(
                "seed: {analyze} in {:.1} s",
                analyzed.elapsed().as_secs_f64()
            );
        }
        println!("seed: total {:.1} s", started.elapsed().as_secs_f64());
    }

    if args.analyze {
        analyze(&db).await?;
    }

    let backend = match db.backend() {
        Backend::Sqlite => "SQLite",
        Backend::Postgres => "Postgres",
    };
    println!(
        "database: {backend}; {} subjects ({} public), {} topics, {} subject tags, {} users",
        raw.scalar("SELECT COUNT(*) FROM subjects").await?,
        raw.scalar("SELECT COUNT(*) FROM subjects WHERE visibility = 'public'")
            .await?,
        raw.scalar("SELECT COUNT(*) FROM topics").await?,
        raw.scalar("SELECT COUNT(*) FROM subject_tags").await?,
        raw.scalar("SELECT COUNT(*) FROM users").await?,
    );
    raw.close().await;
    if args.explain {
        let mut rng = StdRng::seed_from_u64(args.rng_seed);
        for kind in Kind::ALL
            .into_iter()
            .filter(|k| args.kinds.is_empty() || args.kinds.contains(&k.letter()))
        {
            let search = kind.search(&db, &pools, &mut rng, now).await?;
            println!("--- ({}) {}", kind.letter(), kind.label());
            println!("  {search:?}");
            for line in db.explain_search(&search).await? {
                println!("  {line}");
            }
            let started = Instant::now();
            let rows = db.search_subjects(&search).await?.len();
            let ms = started.elapsed().as_secs_f64() * 1000.0;
            println!("  ran in {ms:.2} ms, {rows} rows");
        }
    }
    if args.seed_only || args.explain {
        db.close().await;
        return Ok(());
    }

    let kinds: Vec<Kind> = Kind::ALL
        .into_iter()
        .filter(|k| args.kinds.is_empty() || args.kinds.contains(&k.letter()))
        .collect();
    let mut rng = StdRng::seed_from_u64(args.rng_seed.wrapping_add(1));
    // Warm-up stops early for a kind that already took a tenth of its budget.
    let budget = Duration::from_secs(args.kind_budget_secs);
    let mut warm: BTreeMap<char, Duration> = BTreeMap::new();
    for _ in 0..args.warmup {
        for kind in &kinds {
            let spent = warm.entry(kind.letter()).or_default();
            if *spent < budget / 10 {
                *spent += kind.run(&db, &pools, &mut rng, now).await?.0;
            }
        }
    }
    // Kinds interleave, one of each per round, so no kind runs on a cache warmed only by itself.
    let started = Instant::now();
    let mut samples: BTreeMap<char, Samples> = BTreeMap::new();
    for round in 0..args.queries {
        for kind in &kinds {
            let entry = samples.entry(kind.letter()).or_default();
            if entry.total >= budget {
                continue;
            }
            let (time, rows) = kind.run(&db, &pools, &mut rng, now).await?;
            entry.push(time, rows);
        }
        if (round + 1) % 500 == 0 {
            eprintln!(
                "queries: round {}/{}, {:.0} s",
                round + 1,
                args.queries,
                started.elapsed().as_secs_f64()
            );
        }
    }

    println!();
    println!(
        "{backend}, up to {} timed runs per kind ({} s budget each, after {} warm-up), limit 20, \
         one client",
        args.queries, args.kind_budget_secs, args.warmup
    );
    println!("| kind | query | runs | rows (avg) | empty | p50 ms | p90 ms | p99 ms | max ms |");
    println!("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
    let mut all = Vec::new();
    for kind in &kinds {
        let s = samples.get_mut(&kind.letter()).expect("every kind ran");
        s.times.sort();
        let (name, query) = kind.label().split_once('`').unwrap_or((kind.label(), ""));
        println!(
            "| {} | {} `{} | {} | {:.1} | {} | {:.2} | {:.2} | {:.2} | {:.2} |",
            kind.letter(),
            name.trim(),
            query,
            s.times.len(),
            s.rows as f64 / s.times.len().max(1) as f64,
            s.empty,
            percentile(&s.times, 0.50),
            percentile(&s.times, 0.90),
            percentile(&s.times, 0.99),
            percentile(&s.times, 1.0),
        );
        all.extend_from_slice(&s.times);
    }
    all.sort();
    println!(
        "overall: {} queries, p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
        all.len(),
        percentile(&all, 0.50),
        percentile(&all, 0.99),
        percentile(&all, 1.0)
    );
    db.close().await;
    Ok(())
}
