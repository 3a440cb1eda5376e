//! Replays the fuzz corpus (`collab/fuzz/corpus/message_pipeline`) and every crash the fuzzer
//! found (`collab/fuzz/regressions`) through [`arbor_collab::exercise`], so CI runs them as
//! ordinary tests. Also runs a few realistic frame streams written by yrs; with
//! `ARBOR_WRITE_FUZZ_SEEDS=1` it saves them into the corpus as seeds.

use std::path::Path;

use yrs::updates::encoder::Encode;
use yrs::{Doc, OffsetKind, Options, ReadTxn, StateVector, Text, Transact};

/// `[len, frame]` records, as `exercise` reads them (frames of 255 bytes at most).
fn stream(frames: &[Vec<u8>]) -> Vec<u8> {
    let mut out = Vec::new();
    for frame in frames.iter().filter(|f| f.len() <= 255) {
        out.push(frame.len() as u8);
        out.extend_from_slice(frame);
    }
    out
}

fn sync(kind: u8, payload: &[u8]) -> Vec<u8> {
    let mut out = vec![0, kind, payload.len() as u8];
    out.extend_from_slice(payload);
    out
}

fn seeds() -> Vec<(&'static str, Vec<u8>)> {
    let doc = Doc::with_options(Options {
        offset_kind: OffsetKind::Utf16,
        ..Options::default()
    });
    let text = doc.get_or_insert_text("body");
    let mut updates = Vec::new();
    for (at, piece) in [(0, "héllo"), (2, "🌳"), (0, "世界 "), (4, "e\u{301}")] {
        let before = doc.transact().state_vector();
        text.insert(&mut doc.transact_mut(), at, piece);
        updates.push(doc.transact().encode_state_as_update_v1(&before));
    }
    let before = doc.transact().state_vector();
    text.remove_range(&mut doc.transact_mut(), 1, 3);
    updates.push(doc.transact().encode_state_as_update_v1(&before));
    let sv = doc.transact().state_vector().encode_v1();
    let all = doc
        .transact()
        .encode_state_as_update_v1(&StateVector::default());
    let awareness = {
        let state = br##"{"user":{"name":"ann","color":"#30bced"}}"##;
        let mut payload = vec![1, 7, 1, state.len() as u8];
        payload.extend_from_slice(state);
        let mut frame = vec![1, payload.len() as u8];
        frame.extend(payload);
        frame
    };
    let edits: Vec<Vec<u8>> = updates.iter().map(|u| sync(2, u)).collect();
    vec![
        (
            "handshake",
            stream(&[sync(0, &[0]), sync(1, &[0, 0]), awareness.clone()]),
        ),
        ("edits", stream(&edits)),
        ("state", stream(&[sync(1, &all), sync(0, &sv), vec![3]])),
        (
            "out-of-order",
            stream(&[edits[2].clone(), edits[0].clone(), edits[1].clone()]),
        ),
        (
            "presence",
            stream(&[awareness.clone(), awareness, vec![2, 0, 1, b'x']]),
        ),
    ]
}

#[test]
fn realistic_streams_run_through_the_pipeline() {
    let write = std::env::var_os("ARBOR_WRITE_FUZZ_SEEDS").is_some();
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus/message_pipeline");
    for (name, data) in seeds() {
        arbor_collab::exercise(&data);
        if write {
            std::fs::create_dir_all(&dir).unwrap();
            std::fs::write(dir.join(format!("seed-{name}")), &data).unwrap();
        }
    }
}

#[test]
fn the_fuzz_corpus_and_every_crash_found_replay_cleanly() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz");
    let mut replayed = 0;
    for dir in ["corpus/message_pipeline", "regressions"] {
        let Ok(entries) = std::fs::read_dir(root.join(dir)) else {
            continue;
        };
        for entry in entries {
            let path = entry.unwrap().path();
            let data = std::fs::read(&path).unwrap();
            arbor_collab::exercise(&data);
            replayed += 1;
        }
    }
    assert!(replayed >= 5, "the corpus is missing ({replayed} inputs)");
}
