//! `map-bench`: the cost of a 1,000-topic map on the server, in process: resolving its
//! structure document into a tree (`arbor_map`, what every projection and every browser does on
//! each change), adding every topic to one in a single change (an import), laying it out and drawing it as SVG (`arbor_map::draw`, what the subject page
//! does on every uncached render), and writing and reading it in every file format
//! (`arbor_outline`). Prints p50/p99 per step and its output (bytes written, or topics read).
//! See `docs/BENCHMARKS.md` for the command and figures.

#![forbid(unsafe_code)]

use std::time::{Duration, Instant};

use arbor_map::draw::{MapNode, layout, to_svg};
use arbor_map::{NodeId, Structure};
use arbor_outline::{Format, Limits, Outline};
use clap::Parser;
use yrs::{Doc, OffsetKind, Options, Transact};

#[derive(Debug, Parser)]
#[command(about = "Time the server-side work on a 1,000-topic map")]
struct Args {
    /// Topics in the map (the root included).
    #[arg(long, default_value_t = 1000)]
    topics: usize,
    /// Runs of each step.
    #[arg(long, default_value_t = 50)]
    runs: usize,
}

/// A tree of `n` topics, ten children per topic, breadth first (four levels for 1,000), each
/// with a title of a typical length and a short body.
fn outline(n: usize) -> Outline {
    let mut titles: Vec<(usize, Option<usize>)> = vec![(0, None)];
    for i in 1..n {
        titles.push((i, Some((i - 1) / 10)));
    }
    let mut nodes: Vec<Outline> = (0..n)
        .map(|i| Outline {
            title: format!("Topic {i}: caching and consistency"),
            body: format!(
                "Notes on topic {i}, with a [[Topic {}]] link.\n\n- one\n- two",
                i / 2
            ),
            children: Vec::new(),
        })
        .collect();
    for i in (1..n).rev() {
        let node = std::mem::take(&mut nodes[i]);
        let parent = titles[i].1.expect("below the root");
        nodes[parent].children.insert(0, node);
    }
    std::mem::take(&mut nodes[0])
}

fn map_node(outline: &Outline, id: &mut i64) -> MapNode {
    *id += 1;
    MapNode {
        id: *id,
        label: outline.title.clone(),
        href: Some(format!("/s/bench/t/{id}")),
        collapsed: false,
        children: outline.children.iter().map(|c| map_node(c, id)).collect(),
    }
}

/// The same tree as `(id, parent, title)`, parents first (the root is 1).
fn placed(n: usize) -> Vec<(NodeId, NodeId, String)> {
    (1..n)
        .map(|i| {
            (
                i as NodeId + 1,
                ((i - 1) / 10) as NodeId + 1,
                format!("Topic {i}"),
            )
        })
        .collect()
}

/// An empty document with UTF-16 offsets, as Arbor's are.
fn empty_doc() -> Doc {
    Doc::with_options(Options {
        offset_kind: OffsetKind::Utf16,
        ..Options::default()
    })
}

fn time(label: &str, runs: usize, mut f: impl FnMut() -> usize) {
    let mut samples: Vec<Duration> = Vec::with_capacity(runs);
    let mut size = 0;
    for _ in 0..runs {
        let started = Instant::now();
        size = std::hint::black_box(f());
        samples.push(started.elapsed());
    }
    samples.sort();
    let at = |q: f64| samples[((samples.len() as f64 * q) as usize).min(samples.len() - 1)];
    println!(
        "{label:<28} p50 {:>8.2} ms   p99 {:>8.2} ms   (output: {size})",
        at(0.5).as_secs_f64() * 1e3,
        at(0.99).as_secs_f64() * 1e3,
    );
}

fn main() {
    let args = Args::parse();
    let tree = outline(args.topics);
    println!("{} topics, {} runs per step", tree.count(), args.runs);

    // What an import does to the document: every topic added in one change.
    let nodes = placed(args.topics);
    let nodes: Vec<(NodeId, NodeId, &str)> =
        nodes.iter().map(|(a, b, t)| (*a, *b, t.as_str())).collect();
    time("append all topics (import)", args.runs, || {
        let doc = empty_doc();
        let s = Structure::new(&doc);
        let mut txn = doc.transact_mut();
        s.init(&mut txn, 1, "Root");
        s.append(&mut txn, &nodes).expect("valid");
        txn.encode_update_v1().len()
    });

    let doc = empty_doc();
    Structure::new(&doc)
        .seed(&mut doc.transact_mut(), 1, "Root", &nodes)
        .expect("a valid seed");
    time("resolve structure", args.runs, || {
        let tree = Structure::new(&doc).read(&doc.transact()).expect("seeded");
        tree.nodes.len()
    });

    let root = map_node(&tree, &mut 0);
    time("layout + SVG", args.runs, || {
        to_svg(&layout(&root), "Bench").len()
    });

    let limits = Limits {
        topics: args.topics,
        depth: 32,
        title_chars: 120,
        body_bytes: 100_000,
    };
    for format in Format::ALL {
        let text = format.write(&tree);
        time(&format!("write {}", format.name()), args.runs, || {
            format.write(&tree).len()
        });
        time(&format!("read {}", format.name()), args.runs, || {
            format
                .read(&text, &limits)
                .expect("own output reads")
                .count()
        });
    }
    time("write markdown-zip", args.runs, || {
        arbor_outline::zip::write(&tree, "bench").len()
    });
}
