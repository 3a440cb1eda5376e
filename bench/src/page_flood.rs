//! `page-flood-bench`: what a flood of URL variants of one big public page costs a running
//! server's memory. Signs up, imports a public subject of `--topics` topics (a large map on its
//! page), warms the page, then asks for `--variants` other spellings of its path (slug
//! characters percent-encoded in every combination, the way an attacker multiplies cache keys)
//! and prints the server's resident memory (`VmRSS` of `--pid`) before and after, with what the
//! server answered. See `docs/BENCHMARKS.md` for the command and figures.

#![forbid(unsafe_code)]

mod site;

use std::collections::BTreeMap;
use std::time::Instant;

use anyhow::Result;
use clap::Parser;
use serde_json::json;

use crate::site::{Site, rss_kib};

#[derive(Debug, Parser)]
#[command(about = "Flood a running server with URL variants of one big public page")]
struct Args {
    /// The server's base URL.
    #[arg(long, default_value = "http://127.0.0.1:3000")]
    server: String,
    /// The server's process id (its memory is read from /proc).
    #[arg(long)]
    pid: u32,
    /// Topics imported under the subject's root (999 and the root make the 1,000 a subject
    /// may hold).
    #[arg(long, default_value_t = 999)]
    topics: usize,
    /// Variants of the page's path to ask for.
    #[arg(long, default_value_t = 400)]
    variants: usize,
}

/// A Markdown list of `n` topics, ten children per topic, the first one the root.
fn outline(n: usize) -> String {
    fn write(out: &mut String, at: usize, depth: usize, n: usize) {
        out.push_str(&"  ".repeat(depth));
        out.push_str(&format!(
            "- Topic {at}: caching, consistency and flooding\n"
        ));
        for child in (at * 10 + 1..=at * 10 + 10).filter(|c| *c < n) {
            write(out, child, depth + 1, n);
        }
    }
    let mut out = String::new();
    write(&mut out, 0, 0, n);
    out
}

/// The `i`-th spelling of `/s/{slug}`: bit `k` of `i + 1` percent-encodes the slug's `k`-th
/// character, so every `i` below `2^len - 1` gives a distinct path.
fn variant(slug: &str, i: usize) -> String {
    let mask = i + 1;
    let encoded: String = slug
        .bytes()
        .enumerate()
        .map(|(k, b)| {
            if k < usize::BITS as usize && (mask >> k) & 1 == 1 {
                format!("%{b:02X}")
            } else {
                (b as char).to_string()
            }
        })
        .collect();
    format!("/s/{encoded}")
}

#[tokio::main]
async fn main() -> Result<()> {
    let args = Args::parse();
    let site = Site::sign_up(&args.server, "flood").await?;
    let slug = site
        .subject_with(
            "Flooded page",
            json!({"visibility": "public"}),
            &outline(args.topics),
        )
        .await?;

    // Signed out from here on, like the readers whose pages are cached.
    let anon = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()?;
    let page = anon
        .get(format!("{}/s/{slug}", args.server))
        .send()
        .await?
        .bytes()
        .await?;
    let before = rss_kib(args.pid)? as f64 / 1024.0;
    let started = Instant::now();
    let mut answers: BTreeMap<String, usize> = BTreeMap::new();
    for i in 0..args.variants {
        let r = anon
            .get(format!("{}{}", args.server, variant(&slug, i)))
            .send()
            .await?;
        let cache = r
            .headers()
            .get("x-arbor-cache")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("-")
            .to_owned();
        *answers
            .entry(format!("{} cache={cache}", r.status().as_u16()))
            .or_default() += 1;
        r.bytes().await?;
    }
    let elapsed = started.elapsed();
    let after = rss_kib(args.pid)? as f64 / 1024.0;
    println!(
        "page /s/{slug}: {} topics, {:.0} KiB",
        args.topics,
        page.len() as f64 / 1024.0
    );
    println!(
        "{} variants in {:.1} s: {}",
        args.variants,
        elapsed.as_secs_f64(),
        answers
            .iter()
            .map(|(k, n)| format!("{n}× {k}"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    println!(
        "server RSS: {before:.1} MiB before, {after:.1} MiB after, {:+.1} MiB",
        after - before
    );
    Ok(())
}
