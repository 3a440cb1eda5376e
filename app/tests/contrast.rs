//! The palette in `style/tailwind.css` meets WCAG 2.2 AA in light and in dark: every pair of
//! tokens that markup puts together (text on a surface, text on a filled control, a message on
//! its note, a control's border or focus ring on a surface) has at least its required contrast.
//! Markup uses only these tokens, so a new colour has to come through here.

use std::collections::HashMap;

const CSS: &str = include_str!("../../style/tailwind.css");

/// Text tokens and the surfaces they sit on.
const TEXT: [&str; 4] = ["ink", "muted", "accent", "danger"];
const SURFACES: [&str; 3] = ["page", "surface", "raised"];
/// A foreground that only ever sits on one background.
const ON: [(&str, &str); 6] = [
    ("on-accent", "accent-fill"),
    ("on-accent", "accent-fill-hover"),
    ("on-danger", "danger-fill"),
    ("on-danger", "danger-fill-hover"),
    ("on-note-ok", "note-ok"),
    ("on-note-bad", "note-bad"),
];
const ON_MORE: [(&str, &str); 2] = [("on-note-warn", "note-warn"), ("on-tag", "tag")];
/// Non-text: a control's border and the focus ring, against every surface (WCAG 1.4.11).
const NON_TEXT: [&str; 2] = ["control", "focus"];

/// The `--arbor-*` tokens of the light `:root` block and of the dark one.
fn palettes() -> (HashMap<String, [f64; 3]>, HashMap<String, [f64; 3]>) {
    let dark_at = CSS
        .find("@media (prefers-color-scheme: dark)")
        .expect("a dark palette");
    let light_at = CSS.find("--arbor-").expect("a light palette");
    assert!(light_at < dark_at, "the light palette comes first");
    let block = |from: usize| {
        let rest = &CSS[from..];
        let end = rest.find('}').expect("a closed block");
        tokens(&rest[..end])
    };
    (block(light_at), block(dark_at))
}

fn tokens(block: &str) -> HashMap<String, [f64; 3]> {
    block
        .lines()
        .filter_map(|line| {
            let (name, value) = line.trim().strip_prefix("--arbor-")?.split_once(':')?;
            let hex = value.trim().trim_end_matches(';').strip_prefix('#')?;
            assert_eq!(hex.len(), 6, "--arbor-{name} is #rrggbb");
            let channel = |i: usize| u8::from_str_radix(&hex[i..i + 2], 16).unwrap() as f64 / 255.0;
            Some((name.to_owned(), [channel(0), channel(2), channel(4)]))
        })
        .collect()
}

/// Relative luminance (WCAG 2.2, sRGB).
fn luminance([r, g, b]: [f64; 3]) -> f64 {
    let lin = |c: f64| {
        if c <= 0.04045 {
            c / 12.92
        } else {
            ((c + 0.055) / 1.055).powf(2.4)
        }
    };
    0.2126 * lin(r) + 0.7152 * lin(g) + 0.0722 * lin(b)
}

fn ratio(a: [f64; 3], b: [f64; 3]) -> f64 {
    let (la, lb) = (luminance(a), luminance(b));
    (la.max(lb) + 0.05) / (la.min(lb) + 0.05)
}

#[test]
fn the_ratio_is_computed_as_wcag_defines_it() {
    assert!((ratio([0.0; 3], [1.0; 3]) - 21.0).abs() < 1e-9);
    // #009966 under white text: the failing button the accessibility review measured, 3.65:1.
    let green = [0.0, 0x99 as f64 / 255.0, 0x66 as f64 / 255.0];
    assert!((ratio(green, [1.0; 3]) - 3.65).abs() < 0.01);
}

#[test]
fn every_pair_of_the_palette_meets_wcag_aa_in_light_and_dark() {
    let (light, dark) = palettes();
    assert_eq!(
        light.keys().collect::<std::collections::BTreeSet<_>>(),
        dark.keys().collect(),
        "light and dark define the same tokens"
    );
    let mut failures = Vec::new();
    for (scheme, palette) in [("light", &light), ("dark", &dark)] {
        let colour = |name: &str| {
            *palette
                .get(name)
                .unwrap_or_else(|| panic!("--arbor-{name} is missing from the {scheme} palette"))
        };
        let mut check = |fg: &str, bg: &str, min: f64| {
            let r = ratio(colour(fg), colour(bg));
            if r < min {
                failures.push(format!("{scheme}: {fg} on {bg} is {r:.2}:1, needs {min}:1"));
            }
        };
        for fg in TEXT {
            for bg in SURFACES {
                check(fg, bg, 4.5);
            }
        }
        for (fg, bg) in ON.iter().chain(&ON_MORE) {
            check(fg, bg, 4.5);
        }
        for fg in NON_TEXT {
            for bg in SURFACES {
                check(fg, bg, 3.0);
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
