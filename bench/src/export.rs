//! `export-bench`: the server's memory and time for concurrent map exports (PNG by default),
//! against a running `arbor` server.
//!
//! It signs up one account over the API, creates `--maps` subjects and imports a Markdown list
//! of `--topics` topics into each (titles of ~35 characters, all under the root: the tallest
//! map, so the biggest picture), then runs two rounds of `--concurrent` exports at once:
//!
//! - **cold**: each request exports a different subject (round-robin over the maps), so no
//!   export can reuse another's work;
//! - **again**: the same requests once more (what a server that keeps recent exports saves).
//!
//! For each round it prints the statuses, the time per request (p50, max), and the server's
//! peak resident memory above its resident memory before the round, sampled every 10 ms from
//! `/proc/<pid>/status` (`--server-pid`). See `docs/BENCHMARKS.md` for the command and figures.

#![forbid(unsafe_code)]

mod site;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::Result;
use clap::Parser;
use serde_json::json;

use crate::site::{Site, rss_kib};

#[derive(Debug, Parser)]
#[command(name = "export-bench")]
struct Args {
    /// The server's base URL.
    #[arg(long, default_value = "http://127.0.0.1:3000")]
    server: String,
    /// The server's process id, to read its memory (`/proc/<pid>/status`).
    #[arg(long)]
    server_pid: u32,
    /// Subjects to export (each its own map).
    #[arg(long, default_value_t = 10)]
    maps: usize,
    /// Topics per map (the root included; an import holds 1,000 at most).
    #[arg(long, default_value_t = 1000)]
    topics: usize,
    /// Exports at once.
    #[arg(long, default_value_t = 10)]
    concurrent: usize,
    /// `png`, `svg`, `json`, …
    #[arg(long, default_value = "png")]
    format: String,
}

fn mib(kib: u64) -> f64 {
    kib as f64 / 1024.0
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> Result<()> {
    let args = Args::parse();
    let site = Site::sign_up(&args.server, "exports").await?;
    let http = site.http.clone();
    let list: String = (1..args.topics)
        .map(|i| format!("- Topic {i}: caching and consistency\n"))
        .collect();
    let mut slugs = Vec::new();
    for m in 0..args.maps {
        slugs.push(
            site.subject_with(&format!("Export bench {m}"), json!({}), &list)
                .await?,
        );
    }
    println!(
        "{} maps of {} topics, {} {} exports at once; server RSS idle {:.0} MiB",
        args.maps,
        args.topics,
        args.concurrent,
        args.format,
        mib(rss_kib(args.server_pid)?)
    );
    for round in ["cold", "again"] {
        let before = rss_kib(args.server_pid)?;
        let peak = Arc::new(AtomicU64::new(before));
        let done = Arc::new(AtomicBool::new(false));
        let sampler = {
            let (peak, done, pid) = (peak.clone(), done.clone(), args.server_pid);
            tokio::spawn(async move {
                while !done.load(Ordering::Relaxed) {
                    if let Ok(now) = rss_kib(pid) {
                        peak.fetch_max(now, Ordering::Relaxed);
                    }
                    tokio::time::sleep(Duration::from_millis(10)).await;
                }
            })
        };
        let started = Instant::now();
        let requests = (0..args.concurrent).map(|i| {
            let url = format!(
                "{}/api/v1/subjects/{}/export?format={}",
                site.base,
                slugs[i % slugs.len()],
                args.format
            );
            let http = http.clone();
            async move {
                let sent = Instant::now();
                let response = http.get(url).send().await?;
                let status = response.status().as_u16();
                let bytes = response.bytes().await?.len();
                anyhow::Ok((status, bytes, sent.elapsed()))
            }
        });
        let results = futures_util::future::join_all(requests).await;
        let wall = started.elapsed();
        done.store(true, Ordering::Relaxed);
        sampler.await?;
        let mut statuses: BTreeMap<u16, usize> = BTreeMap::new();
        let mut times = Vec::new();
        let mut largest = 0;
        for result in results {
            let (status, bytes, took) = result?;
            *statuses.entry(status).or_default() += 1;
            times.push(took);
            largest = largest.max(bytes);
        }
        times.sort();
        let peak = peak.load(Ordering::Relaxed);
        println!(
            "{round:>5}: statuses {statuses:?}, largest file {:.1} MiB, per request p50 {:.2} s max {:.2} s, all done in {:.2} s; server RSS {:.0} MiB before, peak {:.0} MiB (+{:.0} MiB)",
            largest as f64 / 1048576.0,
            times[times.len() / 2].as_secs_f64(),
            times[times.len() - 1].as_secs_f64(),
            wall.as_secs_f64(),
            mib(before),
            mib(peak),
            mib(peak - before),
        );
    }
    Ok(())
}
