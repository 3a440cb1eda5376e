//! The protocol core driven by yrs clients and by hostile bytes.

use arbor_collab::{Access, Close, Document, Limits, Room, check};
use proptest::prelude::*;
use yrs::updates::decoder::Decode;
use yrs::updates::encoder::Encode;
use yrs::{Doc, GetString, Map, OffsetKind, Options, ReadTxn, StateVector, Text, Transact, Update};

fn client() -> Doc {
    Doc::with_options(Options {
        offset_kind: OffsetKind::Utf16,
        ..Options::default()
    })
}

/// Reads `[0, kind, payload]`.
fn sync_payload(frame: &[u8]) -> (u8, Vec<u8>) {
    assert_eq!(frame[0], 0, "a sync message");
    let kind = frame[1];
    let mut len = 0usize;
    let mut shift = 0;
    let mut at = 2;
    loop {
        let b = frame[at];
        len |= usize::from(b & 0x7f) << shift;
        at += 1;
        if b & 0x80 == 0 {
            break;
        }
        shift += 7;
    }
    assert_eq!(frame.len(), at + len);
    (kind, frame[at..].to_vec())
}

/// A sync message of `kind` (0 step 1, 1 step 2, 2 update).
fn frame(kind: u8, payload: &[u8]) -> Vec<u8> {
    match kind {
        0 => arbor_collab::step1_message(payload),
        1 => arbor_collab::step2_message(payload),
        _ => arbor_collab::update_message(payload),
    }
}

/// Edits `doc`'s body and returns the update it produced.
fn edit(doc: &Doc, f: impl FnOnce(&yrs::TextRef, &mut yrs::TransactionMut)) -> Vec<u8> {
    let text = doc.get_or_insert_text("body");
    let before = doc.transact().state_vector();
    let mut txn = doc.transact_mut();
    f(&text, &mut txn);
    drop(txn);
    doc.transact().encode_state_as_update_v1(&before)
}

fn body(doc: &Doc) -> String {
    let text = doc.get_or_insert_text("body");
    text.get_string(&doc.transact())
}

#[test]
fn clients_converge_through_the_room_with_utf16_positions() {
    let mut room = Room::default();
    let (a, b) = (client(), client());
    // Handshake: the greeting's step 1 is answered with step 2, and the client's step 1 too.
    let greeting = room.greeting();
    assert_eq!(greeting.len(), 1, "no presence yet");
    let (kind, sv) = sync_payload(&greeting[0]);
    assert_eq!(kind, 0);
    assert_eq!(StateVector::decode_v1(&sv).unwrap(), StateVector::default());

    let u1 = edit(&a, |t, txn| t.insert(txn, 0, "héllo 🌳 世界"));
    let effects = room.receive(1, Access::ReadWrite, &frame(2, &u1), 0);
    assert_eq!(effects.update.as_deref(), Some(&u1[..]));
    assert!(effects.close.is_none());

    // B syncs from scratch, then both edit around the emoji (UTF-16 offsets: 🌳 is two units).
    // Its answer is the acknowledgement, so it waits until A's update is durable.
    let sv_b = b.transact().state_vector().encode_v1();
    let held = room.receive(2, Access::ReadWrite, &frame(0, &sv_b), 0);
    assert!(
        held.reply.is_empty(),
        "answered before the update was stored"
    );
    let released = room.durable(effects.number);
    assert_eq!(released.len(), 1);
    assert_eq!(released[0].0, 2);
    let (kind, diff) = sync_payload(&released[0].1);
    assert_eq!(kind, 1);
    b.transact_mut()
        .apply_update(Update::decode_v1(&diff).unwrap())
        .unwrap();
    assert_eq!(body(&b), "héllo 🌳 世界");
    let ua = edit(&a, |t, txn| t.insert(txn, 8, "!"));
    let ub = edit(&b, |t, txn| t.insert(txn, 6, "a\u{301}"));
    for (conn, update) in [(1, &ua), (2, &ub)] {
        let effects = room.receive(conn, Access::ReadWrite, &frame(2, update), 0);
        assert!(effects.update.is_some());
    }
    a.transact_mut()
        .apply_update(Update::decode_v1(&ub).unwrap())
        .unwrap();
    b.transact_mut()
        .apply_update(Update::decode_v1(&ua).unwrap())
        .unwrap();
    assert_eq!(body(&a), body(&b));
    assert_eq!(room.document.text("body"), body(&a));
    assert_eq!(body(&a), "héllo a\u{301}🌳! 世界");

    // A reload from the snapshot and the log gives the same text.
    let snapshot = room.document.snapshot().unwrap();
    let again = Document::load(Some(&snapshot), []).unwrap();
    assert_eq!(again.text("body"), body(&a));
    let replay = Document::load(None, [&u1[..], &ua[..], &ub[..]]).unwrap();
    assert_eq!(replay.text("body"), body(&a));
}

#[test]
fn read_only_connections_sync_but_cannot_write() {
    let mut room = Room::default();
    let writer = client();
    let u = edit(&writer, |t, txn| t.insert(txn, 0, "kept"));
    let accepted = room.receive(1, Access::ReadWrite, &frame(2, &u), 0);
    assert!(
        room.durable(accepted.number).is_empty(),
        "nobody was waiting"
    );

    let reader = client();
    let forged = edit(&reader, |t, txn| t.insert(txn, 0, "vandal "));
    for kind in [1, 2] {
        let effects = room.receive(2, Access::ReadOnly, &frame(kind, &forged), 0);
        assert!(effects.update.is_none());
        assert_eq!(
            effects.reply,
            vec![arbor_collab::denied_message("read-only")]
        );
        assert!(effects.close.is_none());
    }
    // An empty step 2 (nothing to add) is not an offence.
    let effects = room.receive(2, Access::ReadOnly, &frame(1, &[0, 0]), 0);
    assert_eq!(effects, Default::default());
    // Syncing still works.
    let effects = room.receive(2, Access::ReadOnly, &frame(0, &[0]), 0);
    assert_eq!(effects.reply.len(), 1);
    assert_eq!(room.document.text("body"), "kept");
}

/// An awareness frame with one client's state (`json`; `"null"` removes it).
fn state(client: u8, clock: u8, json: &str) -> Vec<u8> {
    let mut p = vec![1, client, clock, json.len() as u8];
    p.extend_from_slice(json.as_bytes());
    let mut f = vec![1, p.len() as u8];
    f.extend(p);
    f
}

#[test]
fn presence_is_echoed_owned_and_expired() {
    let mut room = Room::default();
    let effects = room.receive(
        1,
        Access::ReadOnly,
        &state(7, 1, r#"{"user":{"name":"ann"}}"#),
        0,
    );
    assert!(
        effects.presence.is_some(),
        "echoed to everyone, the sender too"
    );
    assert_eq!(room.presence.present(), 1);
    assert_eq!(
        room.greeting().len(),
        2,
        "a newcomer gets the current presence"
    );
    // A stale clock changes nothing.
    let effects = room.receive(2, Access::ReadOnly, &state(7, 0, r#"{"x":1}"#), 0);
    assert!(effects.presence.is_none());
    // Not JSON, or nested too deep: refused.
    let bad = room.receive(1, Access::ReadOnly, &state(8, 1, "{nope"), 0);
    assert_eq!(bad.close.unwrap().code, Close::MALFORMED);
    let deep = format!("{}{}", "[".repeat(70), "]".repeat(70));
    let bad = room.receive(1, Access::ReadOnly, &state(8, 1, &deep), 0);
    assert_eq!(bad.close.unwrap().code, Close::MALFORMED);
    // Leaving broadcasts the removal; silent clients expire after 30 s.
    assert!(room.leave(1, 10).is_some());
    assert_eq!(room.presence.present(), 0);
    room.receive(3, Access::ReadOnly, &state(9, 1, "{}"), 20);
    assert!(room.expire(20 + 29_999).is_none());
    assert!(room.expire(20 + 30_000).is_some());
    assert_eq!(room.presence.present(), 0);
}

#[test]
fn presence_belongs_to_the_connection_that_made_it_and_floods_are_dropped() {
    let mut room = Room::default();
    room.receive(1, Access::ReadWrite, &state(7, 1, r#"{"c":"ann"}"#), 0);
    // Another connection can neither erase client 7 (a removal at a later clock) nor
    // replace it.
    for json in ["null", r#"{"c":"forged"}"#] {
        let effects = room.receive(2, Access::ReadOnly, &state(7, 9, json), 0);
        assert_eq!(effects, Default::default(), "ignored, not fatal");
    }
    let snapshot = String::from_utf8_lossy(&room.presence.snapshot().unwrap()).into_owned();
    assert!(
        snapshot.contains("ann") && !snapshot.contains("forged"),
        "{snapshot}"
    );
    // Once its owner has left, the id is free again (a reconnecting client keeps it).
    room.leave(1, 10);
    let effects = room.receive(3, Access::ReadWrite, &state(7, 9, r#"{"c":"ann"}"#), 20);
    assert!(effects.presence.is_some());

    // A burst is taken, then frames pass at the sustained rate and the rest are dropped
    // (clocks stay below 128: one varint byte).
    let limits = Limits::default();
    let mut room = Room::default();
    let mut passed = |clocks: std::ops::Range<u8>, at: u64| {
        clocks
            .filter(|clock| {
                room.receive(4, Access::ReadOnly, &state(8, *clock, "{}"), at)
                    .presence
                    .is_some()
            })
            .count()
    };
    assert_eq!(passed(1..71, 0), limits.presence_frame_burst as usize);
    assert_eq!(
        passed(71..121, 1_000),
        limits.presence_frames_per_second as usize
    );
    // Bytes count too: large states pass at the byte rate, not the frame rate.
    let limits = Limits {
        presence_byte_burst: 1_000,
        presence_bytes_per_second: 500,
        ..Limits::default()
    };
    let mut room = Room::new(Document::default(), limits);
    let pad = format!(r#"{{"pad":"{}"}}"#, "x".repeat(100));
    let accepted = (1..=20u8)
        .filter(|clock| {
            let frame = state(8, *clock, &pad);
            room.receive(5, Access::ReadOnly, &frame, 0)
                .presence
                .is_some()
        })
        .count();
    assert_eq!(accepted, 1_000 / state(8, 1, &pad).len());
}

#[test]
fn presence_names_are_the_servers_word() {
    let mut room = Room::default();
    let frame = |json: &str| {
        let mut p = vec![1, 7, 1, json.len() as u8];
        p.extend_from_slice(json.as_bytes());
        let mut f = vec![1, p.len() as u8];
        f.extend(p);
        f
    };
    let identity = serde_json::json!({"name": "Ann Lee", "account": "ann"});
    room.presence
        .identify(1, identity.as_object().unwrap().clone());
    let effects = room.receive(
        1,
        Access::ReadWrite,
        &frame(r##"{"user":{"name":"the owner","color":"#e11d48"},"cursor":null}"##),
        0,
    );
    let sent = String::from_utf8_lossy(&effects.presence.unwrap()).into_owned();
    assert!(sent.contains(r#""name":"Ann Lee""#), "{sent}");
    assert!(sent.contains(r#""account":"ann""#), "{sent}");
    assert!(
        sent.contains("#e11d48"),
        "the client's own fields stay: {sent}"
    );
    assert!(!sent.contains("the owner"), "{sent}");
}

#[test]
fn malformed_frames_close_with_a_reason_and_change_nothing() {
    let mut room = Room::default();
    let cases: Vec<Vec<u8>> = vec![
        vec![],
        vec![0],
        vec![0, 2],
        vec![0, 2, 5, 1],                      // length past the end
        vec![0, 2, 2, 0, 0, 9],                // trailing bytes
        vec![9, 0],                            // unknown message type
        vec![0, 7, 0],                         // unknown sync message
        vec![0, 0, 4, 0xff, 0xff, 0xff, 0x7f], // state vector claiming ~268M entries
        vec![0, 2, 4, 0xff, 0xff, 0xff, 0x7f], // update claiming ~268M groups
    ];
    for bytes in cases {
        let effects = room.receive(1, Access::ReadWrite, &bytes, 0);
        let close = effects
            .close
            .unwrap_or_else(|| panic!("{bytes:?} accepted"));
        assert_eq!(close.code, Close::MALFORMED, "{bytes:?}: {}", close.reason);
        assert!(effects.update.is_none());
    }
    assert_eq!(room.document.text("body"), "");
}

/// An update inserting one `Any` value nested `depth` arrays deep into root array "a".
fn nested_update(depth: usize) -> Vec<u8> {
    let mut u = vec![1, 1, 42, 0]; // one group: 1 struct, client 42, clock 0
    u.extend([8, 1, 1, b'a', 1]); // Any content, parent named "a", one value
    for _ in 0..depth {
        u.extend([117, 1]); // an array of one
    }
    u.push(126); // null
    u.push(0); // empty delete set
    u
}

#[test]
fn deep_nesting_is_refused_before_yrs_sees_it() {
    assert!(check::update(&nested_update(10)).is_ok());
    let mut room = Room::default();
    assert!(
        room.receive(1, Access::ReadWrite, &frame(2, &nested_update(10)), 0)
            .update
            .is_some()
    );
    // Deep enough to overflow the stack if decoded recursively.
    let effects = room.receive(1, Access::ReadWrite, &frame(2, &nested_update(200_000)), 0);
    assert_eq!(effects.close.unwrap().code, Close::MALFORMED);
}

#[test]
fn size_limits_close_with_too_large() {
    let limits = Limits {
        max_update: 64,
        max_document: 200,
        ..Limits::default()
    };
    let mut room = Room::new(Document::default(), limits);
    let doc = client();
    let big = edit(&doc, |t, txn| t.insert(txn, 0, &"x".repeat(100)));
    let effects = room.receive(1, Access::ReadWrite, &frame(2, &big), 0);
    assert_eq!(effects.close.unwrap().code, Close::TOO_LARGE);
    // A fresh client (the first one holds the refused text, which later edits depend on).
    let doc = client();
    let mut accepted = 0;
    loop {
        let small = edit(&doc, |t, txn| t.insert(txn, 0, "yy"));
        let effects = room.receive(1, Access::ReadWrite, &frame(2, &small), 0);
        if let Some(close) = effects.close {
            assert_eq!(close.code, Close::TOO_LARGE);
            break;
        }
        accepted += 1;
    }
    assert!(accepted > 2 && room.document.size() <= 200);
}

#[test]
fn an_update_with_missing_dependencies_asks_for_a_reload() {
    let mut room = Room::default();
    let doc = client();
    let first = edit(&doc, |t, txn| t.insert(txn, 0, "one "));
    let second = edit(&doc, |t, txn| t.insert(txn, 4, "two"));
    let effects = room.receive(1, Access::ReadWrite, &frame(2, &second), 0);
    assert!(effects.reload);
    assert_eq!(effects.close.unwrap().code, Close::RELOAD);
    // The reloaded document (nothing stored) takes them in order.
    let mut room = Room::default();
    for u in [&first, &second] {
        assert!(
            room.receive(1, Access::ReadWrite, &frame(2, u), 0)
                .update
                .is_some()
        );
    }
    assert_eq!(room.document.text("body"), "one two");
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2_000))]

    /// No byte string makes the core panic or abort.
    #[test]
    fn arbitrary_frames_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..64)) {
        let mut room = Room::default();
        let _ = room.receive(1, Access::ReadWrite, &bytes, 0);
        let _ = room.document.snapshot();
    }

    /// Nor does any corruption of a real update.
    #[test]
    fn corrupted_updates_never_panic(
        flips in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..4),
    ) {
        let doc = client();
        let _ = edit(&doc, |t, txn| t.insert(txn, 0, "base text"));
        let mut update = edit(&doc, |t, txn| {
            t.insert(txn, 4, "🌳 inserted");
            t.remove_range(txn, 0, 2);
        });
        for (at, byte) in flips {
            let i = at.index(update.len());
            update[i] = byte;
        }
        let mut room = Room::default();
        let _ = room.receive(1, Access::ReadWrite, &frame(2, &update), 0);
        let _ = room.document.snapshot();
        let _ = room.document.text("body");
    }

    /// Every update yrs writes passes the structural check.
    #[test]
    fn real_updates_pass_the_check(words in proptest::collection::vec("[a-zé🌳 ]{0,12}", 1..8)) {
        let doc = client();
        for w in &words {
            let u = edit(&doc, |t, txn| {
                let len = t.len(txn);
                t.insert(txn, len / 2, w);
            });
            prop_assert!(check::update(&u).is_ok());
        }
        let all = doc.transact().encode_state_as_update_v1(&StateVector::default());
        prop_assert!(check::update(&all).is_ok());
    }
}

#[test]
fn server_side_replacement_is_a_minimal_splice_that_merges() {
    let mut room = Room::default();
    let a = client();
    let u = edit(&a, |t, txn| t.insert(txn, 0, "alpha 🌳 beta gamma"));
    room.receive(1, Access::ReadWrite, &frame(2, &u), 0);
    // A client edits the end while the server (a form post) rewrites the middle.
    let ua = edit(&a, |t, txn| {
        let len = t.len(txn);
        t.insert(txn, len, " delta");
    });
    let server = room
        .document
        .replace_text("body", "alpha 🌳 BETA gamma")
        .expect("changed");
    assert!(
        room.document
            .replace_text("body", "alpha 🌳 BETA gamma")
            .is_none()
    );
    room.receive(1, Access::ReadWrite, &frame(2, &ua), 0);
    a.transact_mut()
        .apply_update(Update::decode_v1(&server).unwrap())
        .unwrap();
    assert_eq!(room.document.text("body"), "alpha 🌳 BETA gamma delta");
    assert_eq!(body(&a), room.document.text("body"));
}

#[test]
fn the_text_limit_refuses_growth_but_room_freed_by_deletions_counts() {
    let limits = Limits {
        max_text: 20,
        ..Limits::default()
    };
    let mut room = Room::new(Document::default(), limits);
    let doc = client();
    let first = edit(&doc, |t, txn| t.insert(txn, 0, "fifteen bytes.."));
    assert!(
        room.receive(1, Access::ReadWrite, &frame(2, &first), 0)
            .update
            .is_some()
    );
    let cut = edit(&doc, |t, txn| t.remove_range(txn, 0, 10));
    assert!(
        room.receive(1, Access::ReadWrite, &frame(2, &cut), 0)
            .update
            .is_some()
    );
    let more = edit(&doc, |t, txn| t.insert(txn, 0, "ten bytes."));
    assert!(
        room.receive(1, Access::ReadWrite, &frame(2, &more), 0)
            .update
            .is_some()
    );
    assert_eq!(room.document.text("body"), "ten bytes.tes..");
    let fresh = client();
    let too_much = edit(&fresh, |t, txn| t.insert(txn, 0, "seven b"));
    let effects = room.receive(2, Access::ReadWrite, &frame(2, &too_much), 0);
    assert_eq!(effects.close.unwrap().code, Close::TOO_LARGE);
    assert_eq!(room.document.text("body"), "ten bytes.tes..");
}

/// The update setting `entries` in `doc`'s root map `nodes`.
fn set_keys(doc: &Doc, entries: &[(&str, &str)]) -> Vec<u8> {
    let nodes = doc.get_or_insert_map("nodes");
    let before = doc.transact().state_vector();
    {
        let mut txn = doc.transact_mut();
        for (key, value) in entries {
            nodes.insert(&mut txn, *key, *value);
        }
    }
    doc.transact().encode_state_as_update_v1(&before)
}

fn accepted(room: &mut Room, update: &[u8]) -> bool {
    room.receive(1, Access::ReadWrite, &frame(2, update), 0)
        .update
        .is_some()
}

#[test]
fn the_root_key_limit_refuses_new_keys_but_not_edits_of_existing_ones() {
    let limits = Limits {
        max_root_keys: 3,
        ..Limits::default()
    };
    let mut room = Room::new(Document::default(), limits.clone());
    let doc = client();
    let two = set_keys(&doc, &[("1", "a"), ("2", "b")]);
    assert_eq!(check::update(&two).unwrap().new_root_keys, 2);
    assert!(accepted(&mut room, &two));
    // Overwriting a key it has seen is not a new key.
    let overwrite = set_keys(&doc, &[("1", "a2")]);
    assert_eq!(check::update(&overwrite).unwrap().new_root_keys, 0);
    assert!(accepted(&mut room, &overwrite));
    // Two more keys would make four: refused, and nothing of them is in the document.
    let more = set_keys(&doc, &[("3", "c"), ("4", "d")]);
    let close = room
        .receive(1, Access::ReadWrite, &frame(2, &more), 0)
        .close
        .unwrap();
    assert_eq!(close.code, Close::TOO_LARGE);
    assert!(
        close.reason.contains("more than 3 keys"),
        "{}",
        close.reason
    );
    let held = room
        .document
        .diff(&StateVector::default().encode_v1())
        .unwrap();
    let copy = client();
    copy.transact_mut()
        .apply_update(Update::decode_v1(&held).unwrap())
        .unwrap();
    let seen = copy.get_or_insert_map("nodes");
    let txn = copy.transact();
    assert_eq!(seen.len(&txn), 2);
    assert_eq!(seen.get(&txn, "1").unwrap().to_string(&txn), "a2");
    drop(txn);
    // Loaded from storage, the keys are counted again: one more fits, a second does not.
    let mut room = Room::new(Document::load(Some(&held), []).unwrap(), limits);
    let fresh = client();
    assert!(accepted(&mut room, &set_keys(&fresh, &[("5", "e")])));
    assert!(!accepted(&mut room, &set_keys(&fresh, &[("6", "f")])));
}
