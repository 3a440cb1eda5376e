//! `render-bench`: the cost of rendering hostile topic bodies to safe HTML
//! (`arbor_services::markdown::render`: pulldown-cmark, syntect, ammonia), in process. Each body
//! is as large as a topic body may be (100 KB) and nested as deeply as its kind allows: block
//! quotes, bullet and ordered lists, both mixed, emphasis, links, images, raw HTML tags, and
//! code for the highlighter. Prints the time per body (best and worst of `--runs`) and the size
//! of the HTML. See `docs/BENCHMARKS.md` for the command and figures.

#![forbid(unsafe_code)]

use std::time::{Duration, Instant};

use arbor_services::markdown::render;
use arbor_types::content::Body;
use clap::Parser;

#[derive(Debug, Parser)]
#[command(about = "Time rendering of maximally nested 100 KB topic bodies")]
struct Args {
    /// Runs of each body.
    #[arg(long, default_value_t = 3)]
    runs: usize,
    /// Only the bodies whose name contains this.
    #[arg(long)]
    only: Option<String>,
    /// Fail (exit code 1) when a body's slowest run takes longer than this many milliseconds.
    #[arg(long)]
    budget_ms: Option<u64>,
}

/// `unit` repeated to fill a body of the largest size, then `tail`.
fn fill(unit: &str, tail: &str) -> String {
    let n = (Body::MAX_BYTES - tail.len()) / unit.len();
    let mut s = unit.repeat(n);
    s.push_str(tail);
    s
}

/// The hostile bodies: (name, text).
fn bodies() -> Vec<(&'static str, String)> {
    let half = |a: &str, b: &str| {
        let mut s = fill(a, "").split_at(Body::MAX_BYTES / 2).0.to_owned();
        s.push_str(&b.repeat(Body::MAX_BYTES / 2 / b.len() - 1));
        s.push('x');
        s
    };
    vec![
        ("quotes `> `", fill("> ", "x")),
        ("quotes `>`", fill(">", "x")),
        ("bullets `- `", fill("- ", "x")),
        ("ordered `1. `", fill("1. ", "x")),
        ("mixed `> - 1. `", fill("> - 1. ", "x")),
        ("quote lines `>`×n", {
            // one line per level: each line re-enters every container above it
            let mut s = String::new();
            let mut depth = 1;
            while s.len() + depth + 3 < Body::MAX_BYTES {
                s.push_str(&">".repeat(depth));
                s.push_str(" x\n");
                depth += 1;
            }
            s
        }),
        ("list lines, indented", {
            let mut s = String::new();
            let mut depth = 0;
            while s.len() + 2 * depth + 4 < Body::MAX_BYTES {
                s.push_str(&"  ".repeat(depth));
                s.push_str("- x\n");
                depth += 1;
            }
            s
        }),
        ("emphasis `*`", half("*a ", " b*")),
        ("strong `**`", half("**a ", " b**")),
        ("strike `~~`", half("~~a ", " b~~")),
        ("links `[`", half("[", "](/x)")),
        ("images `![`", half("![", "](/x.png)")),
        ("brackets `[`", fill("[", "")),
        ("html `<div>`", fill("<div>", "x")),
        ("html `<b>`", fill("<b>", "x")),
        ("html `<a>`", fill("<a href=\"/x\">", "x")),
        ("inline html lines", fill("<span>x\n", "")),
        ("footnotes", fill("[^a]: [^a]", "")),
        ("table", {
            let row = format!("|{}\n", "a|".repeat(50));
            let mut s = row.clone();
            s.push_str(&format!("|{}\n", "-|".repeat(50)));
            s.push_str(&row.repeat((Body::MAX_BYTES - s.len()) / row.len()));
            s
        }),
        (
            "code rust `{`",
            format!("```rust\n{}\n```", "{".repeat(60_000)),
        ),
        (
            "code lisp `(`",
            format!("```lisp\n{}\n```", "(".repeat(60_000)),
        ),
        (
            "code json `[`",
            format!("```json\n{}\n```", "[".repeat(60_000)),
        ),
        (
            "code html `<a>`",
            format!("```html\n{}\n```", "<a>".repeat(20_000)),
        ),
        (
            "code rust lines",
            format!(
                "```rust\n{}```",
                "fn a() { let x = \"s\"; }\n".repeat(2_500)
            ),
        ),
        (
            "prose",
            fill("Some *plain* prose with a [[Link]] and `code`.\n\n", ""),
        ),
    ]
}

fn main() {
    let args = Args::parse();
    println!(
        "{:<24} {:>9} {:>9} {:>10} {:>10}",
        "body (100 KB)", "best ms", "worst ms", "html KB", "in KB"
    );
    let mut over = false;
    for (name, body) in bodies() {
        if args.only.as_deref().is_some_and(|o| !name.contains(o)) {
            continue;
        }
        assert!(body.len() <= Body::MAX_BYTES, "{name}: {}", body.len());
        let mut times = Vec::new();
        let mut html = 0;
        for _ in 0..args.runs.max(1) {
            let started = Instant::now();
            let out = render(&body, |_| Some("/s/bench/t/1".to_owned()));
            times.push(started.elapsed());
            html = out.html.len();
        }
        let best = times.iter().min().copied().unwrap_or_default();
        let worst = times.iter().max().copied().unwrap_or_default();
        let ms = |d: Duration| d.as_secs_f64() * 1000.0;
        println!(
            "{name:<24} {:>9.1} {:>9.1} {:>10.1} {:>10.1}",
            ms(best),
            ms(worst),
            html as f64 / 1000.0,
            body.len() as f64 / 1000.0
        );
        if args
            .budget_ms
            .is_some_and(|b| worst > Duration::from_millis(b))
        {
            over = true;
        }
    }
    if over {
        eprintln!("over budget");
        std::process::exit(1);
    }
}
