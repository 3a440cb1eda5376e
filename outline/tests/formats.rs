//! Every format: a file read into the expected tree, a tree written and read back unchanged,
//! and bad files refused with the line or element at fault.

use arbor_outline::{Format, ImportError, Limits, Outline};
use proptest::prelude::*;

const LIMITS: Limits = Limits {
    topics: 1000,
    depth: 32,
    title_chars: 120,
    body_bytes: 100_000,
};

fn t(title: &str, body: &str, children: Vec<Outline>) -> Outline {
    Outline {
        title: title.into(),
        body: body.into(),
        children,
    }
}

/// Titles and bodies that exercise escaping in every format.
fn sample() -> Outline {
    t(
        "Distributed *systems* & <friends>",
        "What this map covers.\n\n## A heading inside a body\n\n- a list\n- in a body",
        vec![
            t(
                "Caching",
                "Keep \"hot\" data close.\n\n```rust\n# not a heading\nlet x = 1;\n```",
                vec![
                    t("CDN #1", "Edge caches.", vec![]),
                    t(
                        "Write-through",
                        "",
                        vec![t("Deep [topic]", "Leaf\ttext", vec![])],
                    ),
                ],
            ),
            t(
                "Consensus — Raft 🌳",
                "| a | b |\n| - | - |\n| 1 | 2 |",
                vec![],
            ),
            t("Notes", "", vec![]),
        ],
    )
}

fn read(format: Format, text: &str) -> Result<Outline, ImportError> {
    format.read(text, &LIMITS)
}

#[test]
fn every_format_round_trips_the_sample() {
    for format in Format::ALL {
        let written = format.write(&sample());
        let back = read(format, &written).unwrap_or_else(|e| panic!("{format:?}: {e}\n{written}"));
        assert_eq!(back, sample(), "{format:?}:\n{written}");
    }
}

#[test]
fn markdown_headings_and_the_text_under_them() {
    let text = "Intro before any heading.\n\n# Networking\n\nThe root's own text.\n\n## Routing\n\nBGP and friends.\n\n- a list stays in the body\n\n### Anycast\n\n## Transport\n\n### TCP\n\n#### Congestion\n\nCubic.\n\n## Security\n";
    let got = read(Format::Markdown, text).unwrap();
    let want = t(
        "Networking",
        "Intro before any heading.\n\nThe root's own text.",
        vec![
            t(
                "Routing",
                "BGP and friends.\n\n- a list stays in the body",
                vec![t("Anycast", "", vec![])],
            ),
            t(
                "Transport",
                "",
                vec![t("TCP", "", vec![t("Congestion", "Cubic.", vec![])])],
            ),
            t("Security", "", vec![]),
        ],
    );
    assert_eq!(got, want);
    // Several top headings: they are the root's children, and the root is untitled.
    let got = read(Format::Markdown, "# A\n\ntext\n\n# B\n\n## B1\n").unwrap();
    assert_eq!(
        got,
        t(
            "",
            "",
            vec![
                t("A", "text", vec![]),
                t("B", "", vec![t("B1", "", vec![])])
            ]
        )
    );
}

#[test]
fn markdown_nested_lists_without_headings() {
    let text =
        "- Frontend\n  - React\n  - *Leptos*\n- Backend\n\n  Servers and such.\n\n  - Axum\n";
    let got = read(Format::Markdown, text).unwrap();
    let want = t(
        "",
        "",
        vec![
            t(
                "Frontend",
                "",
                vec![t("React", "", vec![]), t("Leptos", "", vec![])],
            ),
            t("Backend", "Servers and such.", vec![t("Axum", "", vec![])]),
        ],
    );
    assert_eq!(got, want);
}

#[test]
fn a_title_over_a_nested_list_is_the_root_over_its_topics() {
    // Pasted as people write an outline: once read as a root with a list for a body, and
    // imported as "0 topics".
    let text = "# Learning Rust\n\n- Basics\n  - Ownership\n  - Borrowing\n- Async\n";
    assert_eq!(
        read(Format::Markdown, text).unwrap(),
        t(
            "Learning Rust",
            "",
            vec![
                t(
                    "Basics",
                    "",
                    vec![t("Ownership", "", vec![]), t("Borrowing", "", vec![])]
                ),
                t("Async", "", vec![]),
            ]
        )
    );
    // A heading with prose under it keeps the prose as its body.
    let prose = "# Notes\n\nSome words.\n\n- a list\n";
    assert_eq!(read(Format::Markdown, prose).unwrap().children.len(), 0);
}

#[test]
fn outliner_exports_read_as_they_mean() {
    // Workflowy's or Dynalist's plain text: indentation, with or without bullets.
    let plain = "Trip\n  Packing\n    Passport\n\tTickets\n  • Route\nHome\n";
    assert_eq!(
        read(Format::Markdown, plain).unwrap(),
        t(
            "",
            "",
            vec![
                t(
                    "Trip",
                    "",
                    vec![
                        t(
                            "Packing",
                            "",
                            vec![t("Passport", "", vec![]), t("Tickets", "", vec![])]
                        ),
                        t("Route", "", vec![]),
                    ]
                ),
                t("Home", "", vec![]),
            ]
        )
    );
    assert_eq!(Format::parse("txt"), Some(Format::Markdown));
    // Logseq: tab-indented bullets with property lines, which are not text.
    let logseq = "- Garden\n  collapsed:: true\n\t- Tomatoes\n\t  id:: 6560b1a2-aaaa\n\t- Beans\n- Kitchen\n";
    assert_eq!(
        read(Format::Markdown, logseq).unwrap(),
        t(
            "",
            "",
            vec![
                t(
                    "Garden",
                    "",
                    vec![t("Tomatoes", "", vec![]), t("Beans", "", vec![])]
                ),
                t("Kitchen", "", vec![]),
            ]
        )
    );
    // Prose is still not an outline.
    assert!(read(Format::Markdown, "Just a sentence.\nAnd another.\n").is_err());
}

#[test]
fn opml_with_several_outlines_and_freemind_with_html_notes() {
    let opml = r#"<?xml version="1.0"?>
<opml version="2.0"><head><title>Reading list</title></head>
<body>
  <outline text="Books" _note="Paper&#10;and ink"><outline title="Dune"/></outline>
  <outline text="Papers"/>
</body></opml>"#;
    assert_eq!(
        read(Format::Opml, opml).unwrap(),
        t(
            "Reading list",
            "",
            vec![
                t("Books", "Paper\nand ink", vec![t("Dune", "", vec![])]),
                t("Papers", "", vec![])
            ]
        )
    );
    let mm = r#"<map version="1.0.1">
<node TEXT="Root">
  <node POSITION="right"><richcontent TYPE="NODE"><html><body><p>Rich <b>title</b></p></body></html></richcontent>
    <richcontent TYPE="NOTE"><html><head/><body><p>First paragraph.</p><p>Second<br/>line.</p></body></html></richcontent>
  </node>
  <node TEXT="Plain &amp; simple" POSITION="left"/>
</node></map>"#;
    assert_eq!(
        read(Format::FreeMind, mm).unwrap(),
        t(
            "Root",
            "",
            vec![
                t("Rich title", "First paragraph.\n\nSecond\nline.", vec![]),
                t("Plain & simple", "", vec![])
            ]
        )
    );
}

#[test]
fn bad_files_are_refused_with_where() {
    let cases: [(Format, &str, &str); 10] = [
        (Format::Markdown, "", "line 1: the file is empty"),
        (
            Format::Markdown,
            "Just a paragraph.\n",
            "line 1: a file without headings must be one bullet list of topics",
        ),
        (
            Format::Markdown,
            "# Root\n\n## Fine\n\n##\n",
            "line 5, heading \"\": a topic has no title",
        ),
        (
            Format::Opml,
            "<opml version=\"2.0\"><body>\n<outline text=\"a\">\n<outline/>\n</outline></body></opml>",
            "line 3, <outline>: it has no text attribute",
        ),
        (
            Format::Opml,
            "<opml>\n<body>\n<outline text=\"a\">\n</body></opml>",
            "line 4: not well-formed XML",
        ),
        (
            Format::Opml,
            "<rss/>",
            "line 1, <rss>: an OPML file starts with <opml>",
        ),
        (
            Format::FreeMind,
            "<map>\n  <node TEXT=\"root\">\n    <node/>\n  </node>\n</map>",
            "line 3, <node>: it has no TEXT attribute",
        ),
        (
            Format::FreeMind,
            "<!DOCTYPE map [<!ENTITY x \"y\">]><map/>",
            "line 1: not well-formed XML",
        ),
        (
            Format::Json,
            "{\"format\": \"arbor-subject\",\n \"version\": 1,\n \"children\": [{\"body\": 3}]}",
            "line 3: not an Arbor JSON file",
        ),
        (
            Format::Json,
            "{\"format\": \"something-else\"}",
            "format: expected \"arbor-subject\"",
        ),
    ];
    for (format, text, want) in cases {
        let error = read(format, text).expect_err(text).to_string();
        assert!(
            error.starts_with(want),
            "{format:?}: {error:?} should start with {want:?}"
        );
    }
}

#[test]
fn limits_are_checked_with_the_topic_at_fault() {
    let wide = t(
        "Root",
        "",
        (0..5).map(|i| t(&format!("T{i}"), "", vec![])).collect(),
    );
    let small = Limits {
        topics: 4,
        ..LIMITS
    };
    let error = Format::Opml
        .read(&Format::Opml.write(&wide), &small)
        .unwrap_err();
    assert_eq!(
        error.to_string(),
        "line 11, <outline>: the file has more than 4 topics"
    );
    let mut deep = t("Leaf", "", vec![]);
    for i in 0..5 {
        deep = t(&format!("L{i}"), "", vec![deep]);
    }
    let shallow = Limits { depth: 3, ..LIMITS };
    let error = Format::Json
        .read(&Format::Json.write(&deep), &shallow)
        .unwrap_err();
    assert_eq!(
        error.to_string(),
        "children[0].children[0].children[0].children[0]: topics nest more than 3 levels deep"
    );
    let long = t("Root", "", vec![t(&"x".repeat(121), "", vec![])]);
    let error = Format::Markdown
        .read(&Format::Markdown.write(&long), &LIMITS)
        .unwrap_err();
    assert!(error.to_string().starts_with("line 3, heading"), "{error}");
    // Nesting absurdly deep is refused before any reader recurses.
    let bomb = format!(
        "<opml><body>{}{}</body></opml>",
        "<outline text=\"a\">".repeat(5000),
        "</outline>".repeat(5000)
    );
    let error = read(Format::Opml, &bomb).unwrap_err();
    assert!(error.message.contains("nest more than 256"), "{error}");
}

#[test]
fn the_zip_has_a_file_per_topic_with_working_links() {
    let root = t(
        "Systems",
        "Start at [[Caching]] or [[systems/CDN]]; [[other/Thing]] stays.",
        vec![t(
            "Caching",
            "See [[CDN]].\n\n```\n[[CDN]] in code stays\n```",
            vec![t("CDN", "Back to [[Systems]].", vec![])],
        )],
    );
    let bytes = arbor_outline::zip::write(&root, "systems");
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(bytes)).unwrap();
    let mut files = std::collections::BTreeMap::new();
    for i in 0..archive.len() {
        let mut file = archive.by_index(i).unwrap();
        let mut text = String::new();
        std::io::Read::read_to_string(&mut file, &mut text).unwrap();
        files.insert(file.name().unwrap().to_string(), text);
    }
    assert_eq!(
        files.keys().collect::<Vec<_>>(),
        ["01-caching.md", "01-caching/01-cdn.md", "index.md"]
    );
    assert!(files["index.md"].contains(
        "Start at [Caching](01-caching.md) or [CDN](01-caching/01-cdn.md); [[other/Thing]] stays."
    ));
    assert!(files["01-caching.md"].contains("See [CDN](01-caching/01-cdn.md)."));
    assert!(files["01-caching.md"].contains("[[CDN]] in code stays"));
    assert!(files["01-caching/01-cdn.md"].contains("Back to [Systems](../index.md)."));
    assert!(files["01-caching/01-cdn.md"].contains("Up: [Caching](../01-caching.md)"));
}

/// Titles as imports keep them: one line, single spaces.
fn title() -> impl Strategy<Value = String> {
    "[A-Za-z0-9ÄéЖ中🌳 ,.!?*_#&<>'\"\\[\\]()-]{0,24}[A-Za-z0-9]"
        .prop_map(|t| t.split_whitespace().collect::<Vec<_>>().join(" "))
}

fn body() -> impl Strategy<Value = String> {
    prop_oneof![
        Just(String::new()),
        "[A-Za-z0-9 ,.*_&<>'\"-]{1,40}[a-z]",
        ("[a-z ]{1,20}[a-z]", "[a-z ]{1,20}[a-z]")
            .prop_map(|(a, b)| format!("{a}\n\n## {b}\n\n- {a}")),
    ]
}

fn outline() -> impl Strategy<Value = Outline> {
    let leaf = (title(), body()).prop_map(|(title, body)| t(&title, &body, vec![]));
    leaf.prop_recursive(4, 40, 5, |inner| {
        (title(), body(), prop::collection::vec(inner, 0..5))
            .prop_map(|(title, body, children)| t(&title, &body, children))
    })
}

proptest! {
    #[test]
    fn any_tree_round_trips(tree in outline()) {
        for format in Format::ALL {
            let written = format.write(&tree);
            let back = read(format, &written);
            prop_assert_eq!(back.as_ref(), Ok(&tree), "{:?}:\n{}", format, written);
        }
    }
}

/// A hostile file cannot nest deeper than the readers allow: a one-line list of 50,000 levels
/// is refused with a located error (it used to overflow the stack while the rejected tree was
/// dropped, killing the process), and so are as deep blockquotes and lists under headings.
#[test]
fn absurdly_nested_markdown_is_refused() {
    let list = format!("{}x\n", "- ".repeat(50_000));
    let error = read(Format::Markdown, &list).unwrap_err();
    assert_eq!(error.line, 1, "{error}");
    assert!(error.message.contains("nest more than 256"), "{error}");
    // Under the bound, the list reads (and is then refused by the depth limit).
    let deep: String = (0..200)
        .map(|i| format!("{}- t\n", "  ".repeat(i)))
        .collect();
    let error = read(Format::Markdown, &deep).unwrap_err();
    assert!(error.message.contains("more than 32 levels"), "{error}");
    // Nesting that is not a list of topics stays text of a body, however deep.
    let roomy = Limits {
        body_bytes: 1_000_000,
        ..LIMITS
    };
    for (text, topics) in [
        (format!("# Root\n\n{}x\n", "> ".repeat(50_000)), 1),
        (format!("# Root\n\n{}x\n", "- ".repeat(50_000)), 1),
        (format!("- item\n\n  {}x\n", "> ".repeat(50_000)), 2),
    ] {
        let outline = Format::Markdown
            .read(&text, &roomy)
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(outline.count(), topics);
        assert!(outline.body.len() + outline.children.len() > 0);
    }
}
