//! Replays the importers' fuzz corpus (`outline/fuzz/corpus/importers`) and every crash the
//! fuzzer found (`outline/fuzz/regressions`) through [`arbor_outline::exercise`], so CI runs
//! them as ordinary tests. Also runs a file of each format and a few hostile ones; with
//! `ARBOR_WRITE_FUZZ_SEEDS=1` it saves them into the corpus as seeds.

use std::path::Path;

use arbor_outline::{Format, Outline};

fn t(title: &str, body: &str, children: Vec<Outline>) -> Outline {
    Outline {
        title: title.into(),
        body: body.into(),
        children,
    }
}

/// `[format, file…]`, as `exercise` reads them.
fn input(format: Format, file: &str) -> Vec<u8> {
    let pick = Format::ALL.iter().position(|f| *f == format).unwrap() as u8;
    let mut out = vec![pick];
    out.extend_from_slice(file.as_bytes());
    out
}

fn seeds() -> Vec<(String, Vec<u8>)> {
    let tree = t(
        "Systems & <friends>",
        "Intro.\n\n## A heading in a body\n\n```\n# code\n```",
        vec![
            t(
                "Caching *hot*",
                "- a\n- b",
                vec![t("CDN", "> quoted\n\n| a | b |\n| - | - |", vec![])],
            ),
            t("Consensus 🌳", "", vec![t("Raft", "Leader\tterm", vec![])]),
        ],
    );
    let mut seeds: Vec<(String, Vec<u8>)> = Format::ALL
        .iter()
        .map(|f| (format!("seed-{}", f.name()), input(*f, &f.write(&tree))))
        .collect();
    let hostile = [
        (
            "list",
            Format::Markdown,
            "- a\n  - b\n\n    body\n  - c\n- d\n".to_owned(),
        ),
        ("deep-list", Format::Markdown, format!("{}x\n", "- ".repeat(300))),
        ("deep-quote", Format::Markdown, format!("# r\n\n{}x", "> ".repeat(300))),
        (
            "deep-opml",
            Format::Opml,
            format!("<opml><body>{}</body></opml>", "<outline text=\"a\">".repeat(300)),
        ),
        (
            "freemind-html",
            Format::FreeMind,
            "<map><node><richcontent TYPE=\"NODE\"><html><body><p>a<br/>b</p></body></html></richcontent></node></map>".to_owned(),
        ),
        ("deep-json", Format::Json, "[".repeat(300)),
    ];
    seeds.extend(
        hostile
            .into_iter()
            .map(|(name, format, file)| (format!("seed-{name}"), input(format, &file))),
    );
    seeds
}

#[test]
fn files_of_each_format_and_hostile_ones_run_through_the_readers() {
    let write = std::env::var_os("ARBOR_WRITE_FUZZ_SEEDS").is_some();
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus/importers");
    for (name, data) in seeds() {
        arbor_outline::exercise(&data);
        if write {
            std::fs::create_dir_all(&dir).unwrap();
            std::fs::write(dir.join(name), &data).unwrap();
        }
    }
}

#[test]
fn the_fuzz_corpus_and_every_crash_found_replay_cleanly() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz");
    let mut replayed = 0;
    for dir in ["corpus/importers", "regressions"] {
        let Ok(entries) = std::fs::read_dir(root.join(dir)) else {
            continue;
        };
        for entry in entries {
            let path = entry.unwrap().path();
            let data = std::fs::read(&path).unwrap();
            arbor_outline::exercise(&data);
            replayed += 1;
        }
    }
    assert!(replayed >= 10, "the corpus is missing ({replayed} inputs)");
}
