//! Replicas of one subject's structure editing at once, syncing now and then and fully at the
//! end in any order, always end with the same valid tree, nothing lost.

use std::collections::BTreeSet;

use arbor_map::{MAX_DEPTH, MAX_TOPICS, MapError, NodeId, Structure, Trashed, Tree};
use proptest::prelude::*;
use yrs::updates::decoder::Decode;
use yrs::{Doc, Map, OffsetKind, Options, ReadTxn, StateVector, Transact, Update};

const ROOT: NodeId = 1;

fn replica(client: u64) -> Doc {
    Doc::with_options(Options {
        client_id: yrs::block::ClientID::new(client),
        offset_kind: OffsetKind::Utf16,
        ..Options::default()
    })
}

/// Sends `from` what `to` lacks.
fn sync(from: &Doc, to: &Doc) {
    let missing = from
        .transact()
        .encode_state_as_update_v1(&to.transact().state_vector());
    to.transact_mut()
        .apply_update(Update::decode_v1(&missing).expect("own encoding"))
        .expect("applies");
}

fn read(doc: &Doc) -> Tree {
    Structure::new(doc)
        .read(&doc.transact())
        .expect("initialised")
}

/// Every node is reachable from the root exactly once, links agree both ways, and every node
/// ever added is either in the tree or in the trash.
fn assert_valid(tree: &Tree, added: &BTreeSet<NodeId>) {
    let mut seen = BTreeSet::new();
    let mut stack = vec![tree.root];
    while let Some(id) = stack.pop() {
        assert!(seen.insert(id), "{id} reached twice");
        let node = &tree.nodes[&id];
        for child in &node.children {
            assert_eq!(tree.nodes[child].parent, Some(id));
            stack.push(*child);
        }
    }
    assert_eq!(
        seen.len(),
        tree.nodes.len(),
        "every node hangs from the root"
    );
    assert_eq!(tree.nodes[&tree.root].parent, None);
    let trashed: BTreeSet<NodeId> = tree
        .trash
        .values()
        .flat_map(|t| &t.members)
        .copied()
        .collect();
    assert!(trashed.is_disjoint(&seen));
    let all: BTreeSet<NodeId> = seen.union(&trashed).copied().collect();
    assert_eq!(&all, added, "nothing lost");
}

#[derive(Debug, Clone)]
enum Op {
    Add {
        at: usize,
        parent: usize,
        index: usize,
    },
    Rename {
        at: usize,
        node: usize,
        title: String,
    },
    Move {
        at: usize,
        node: usize,
        parent: usize,
        index: usize,
    },
    Delete {
        at: usize,
        node: usize,
    },
    Restore {
        at: usize,
        node: usize,
    },
    Sync {
        from: usize,
        to: usize,
    },
}

fn op() -> impl Strategy<Value = Op> {
    let i = || 0usize..64;
    prop_oneof![
        (i(), i(), i()).prop_map(|(at, parent, index)| Op::Add { at, parent, index }),
        (i(), i(), "[a-zé🌳 ]{0,6}").prop_map(|(at, node, title)| Op::Rename { at, node, title }),
        (i(), i(), i(), i()).prop_map(|(at, node, parent, index)| Op::Move {
            at,
            node,
            parent,
            index
        }),
        (i(), i()).prop_map(|(at, node)| Op::Delete { at, node }),
        (i(), i()).prop_map(|(at, node)| Op::Restore { at, node }),
        (i(), i()).prop_map(|(from, to)| Op::Sync { from, to }),
    ]
}

fn pick(tree: &Tree, n: usize) -> NodeId {
    let ids: Vec<NodeId> = tree.nodes.keys().copied().collect();
    ids[n % ids.len()]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn replicas_converge_on_a_valid_tree(
        replicas in 2usize..=5,
        ops in prop::collection::vec(op(), 1..60),
        order in Just((0..5).collect::<Vec<usize>>()).prop_shuffle(),
    ) {
        let docs: Vec<Doc> = (0..replicas).map(|r| replica(r as u64 + 1)).collect();
        let mut added: BTreeSet<NodeId> = BTreeSet::from([ROOT]);
        {
            let s = Structure::new(&docs[0]);
            let mut txn = docs[0].transact_mut();
            s.init(&mut txn, ROOT, "Root");
            for id in 2..=6 {
                s.add(&mut txn, id, ROOT, 9, &format!("Topic {id}")).unwrap();
                added.insert(id);
            }
        }
        for r in 1..replicas {
            sync(&docs[0], &docs[r]);
        }
        let mut next_id = 100;
        for op in ops {
            match op {
                Op::Add { at, parent, index } => {
                    let doc = &docs[at % replicas];
                    let parent = pick(&read(doc), parent);
                    next_id += 1;
                    Structure::new(doc)
                        .add(&mut doc.transact_mut(), next_id, parent, index, "New")
                        .unwrap();
                    added.insert(next_id);
                }
                Op::Rename { at, node, title } => {
                    let doc = &docs[at % replicas];
                    let node = pick(&read(doc), node);
                    Structure::new(doc).rename(&mut doc.transact_mut(), node, &title).unwrap();
                }
                Op::Move { at, node, parent, index } => {
                    let doc = &docs[at % replicas];
                    let tree = read(doc);
                    let (node, parent) = (pick(&tree, node), pick(&tree, parent));
                    match Structure::new(doc).move_to(&mut doc.transact_mut(), node, parent, index) {
                        Ok(()) => {}
                        Err(MapError::Root) => prop_assert_eq!(node, ROOT),
                        Err(MapError::Cycle(_)) => prop_assert!(tree.is_within(parent, node)),
                        Err(e) => prop_assert!(false, "unexpected {e}"),
                    }
                }
                Op::Delete { at, node } => {
                    let doc = &docs[at % replicas];
                    let node = pick(&read(doc), node);
                    let done = Structure::new(doc).delete(&mut doc.transact_mut(), node, 5);
                    prop_assert_eq!(done.is_err(), node == ROOT);
                }
                Op::Restore { at, node } => {
                    let doc = &docs[at % replicas];
                    let tree = read(doc);
                    if let Some(top) = tree.trash.keys().nth(node % tree.trash.len().max(1)) {
                        Structure::new(doc).restore(&mut doc.transact_mut(), *top).unwrap();
                    }
                }
                Op::Sync { from, to } => sync(&docs[from % replicas], &docs[to % replicas]),
            }
            for doc in &docs {
                // Valid at every step, not only at the end; a replica may not know every id yet.
                let tree = read(doc);
                let known: BTreeSet<NodeId> = tree
                    .nodes
                    .keys()
                    .chain(tree.trash.values().flat_map(|t| &t.members))
                    .copied()
                    .collect();
                assert_valid(&tree, &known);
            }
        }
        // Everyone sends everything to everyone, in a random order.
        let order: Vec<usize> = order.into_iter().filter(|r| *r < replicas).collect();
        for from in &order {
            for to in &order {
                if from != to {
                    sync(&docs[*from], &docs[*to]);
                }
            }
        }
        let first = read(&docs[0]);
        assert_valid(&first, &added);
        for doc in &docs[1..] {
            prop_assert_eq!(&read(doc), &first);
        }
    }
}

/// Two fresh replicas, each with the same map, for the races below.
fn pair() -> (Doc, Doc) {
    let (a, b) = (replica(1), replica(2));
    {
        let s = Structure::new(&a);
        let mut txn = a.transact_mut();
        s.init(&mut txn, ROOT, "Root");
        for id in [2, 3, 4] {
            s.add(&mut txn, id, ROOT, 9, &format!("Topic {id}"))
                .unwrap();
        }
    }
    sync(&a, &b);
    (a, b)
}

fn both_ways(a: &Doc, b: &Doc) -> Tree {
    sync(a, b);
    sync(b, a);
    let tree = read(a);
    assert_eq!(read(b), tree);
    assert_valid(&tree, &BTreeSet::from([1, 2, 3, 4]));
    tree
}

#[test]
fn a_under_b_and_b_under_a_undoes_one_move() {
    let (a, b) = pair();
    Structure::new(&a)
        .move_to(&mut a.transact_mut(), 2, 3, 0)
        .unwrap();
    Structure::new(&b)
        .move_to(&mut b.transact_mut(), 3, 2, 0)
        .unwrap();
    let tree = both_ways(&a, &b);
    // Equal stamps: the higher id's move (3 under 2) is undone, back under the root.
    assert_eq!(tree.nodes[&2].parent, Some(3));
    assert_eq!(tree.nodes[&3].parent, Some(ROOT));
}

#[test]
fn in_a_cycle_of_three_the_latest_move_is_undone() {
    let (a, b) = pair();
    Structure::new(&a)
        .move_to(&mut a.transact_mut(), 4, 2, 0)
        .unwrap();
    sync(&a, &b);
    // Here 2 goes under 3 (after another move, so with the higher stamp); there 3 under 4.
    Structure::new(&a)
        .move_to(&mut a.transact_mut(), 4, 2, 0)
        .unwrap();
    Structure::new(&a)
        .move_to(&mut a.transact_mut(), 2, 3, 0)
        .unwrap();
    Structure::new(&b)
        .move_to(&mut b.transact_mut(), 3, 4, 0)
        .unwrap();
    let tree = both_ways(&a, &b);
    // 2 → 3 → 4 → 2: the latest move (2 under 3) is undone, back where 2 came from.
    assert_eq!(tree.nodes[&2].parent, Some(ROOT));
    assert_eq!(tree.nodes[&4].parent, Some(2));
    assert_eq!(tree.nodes[&3].parent, Some(4));
}

#[test]
fn deleting_while_someone_moves_a_child_in_keeps_both_recoverable() {
    let (a, b) = pair();
    Structure::new(&a)
        .delete(&mut a.transact_mut(), 2, 5)
        .unwrap();
    Structure::new(&b)
        .move_to(&mut b.transact_mut(), 3, 2, 0)
        .unwrap();
    let tree = both_ways(&a, &b);
    // The moved topic went with its new parent to the trash, and comes back with it.
    assert_eq!(tree.trash[&2].members, vec![2, 3]);
    assert_eq!(tree.trash[&2].at, 5);
    Structure::new(&a)
        .restore(&mut a.transact_mut(), 2)
        .unwrap();
    let tree = both_ways(&a, &b);
    assert_eq!(tree.nodes[&3].parent, Some(2));
    assert!(tree.trash.is_empty());
}

#[test]
fn deleting_while_someone_moves_a_child_out_keeps_the_child() {
    let (a, b) = pair();
    Structure::new(&a)
        .move_to(&mut a.transact_mut(), 3, 2, 0)
        .unwrap();
    sync(&a, &b);
    Structure::new(&a)
        .delete(&mut a.transact_mut(), 2, 5)
        .unwrap();
    Structure::new(&b)
        .move_to(&mut b.transact_mut(), 3, ROOT, 0)
        .unwrap();
    let tree = both_ways(&a, &b);
    assert_eq!(tree.trash[&2].members, vec![2]);
    assert_eq!(tree.nodes[&3].parent, Some(ROOT));
}

#[test]
fn concurrent_renames_merge_characters() {
    let (a, b) = pair();
    Structure::new(&a)
        .rename(&mut a.transact_mut(), 2, "Topic 2 — caching")
        .unwrap();
    Structure::new(&b)
        .rename(&mut b.transact_mut(), 2, "The topic 2")
        .unwrap();
    let tree = both_ways(&a, &b);
    assert_eq!(tree.nodes[&2].title, "The topic 2 — caching");
}

#[test]
fn concurrent_inserts_at_one_place_both_land_there() {
    let (a, b) = pair();
    Structure::new(&a)
        .add(&mut a.transact_mut(), 10, ROOT, 1, "From a")
        .unwrap();
    Structure::new(&b)
        .add(&mut b.transact_mut(), 11, ROOT, 1, "From b")
        .unwrap();
    sync(&a, &b);
    sync(&b, &a);
    let tree = read(&a);
    assert_eq!(read(&b), tree);
    let kids = &tree.nodes[&ROOT].children;
    assert_eq!(kids[0], 2);
    assert_eq!(BTreeSet::from([kids[1], kids[2]]), BTreeSet::from([10, 11]));
    assert_eq!(&kids[3..], &[3, 4]);
    // And one more between the two concurrent ones goes between them.
    Structure::new(&a)
        .add(&mut a.transact_mut(), 12, ROOT, 2, "Between")
        .unwrap();
    assert_eq!(read(&a).nodes[&ROOT].children[2], 12);
}

#[test]
fn bad_changes_are_refused_and_change_nothing() {
    let (a, _) = pair();
    let s = Structure::new(&a);
    s.move_to(&mut a.transact_mut(), 2, 3, 0).unwrap();
    let state = || {
        a.transact()
            .encode_state_as_update_v1(&StateVector::default())
    };
    let before = state();
    {
        let mut txn = a.transact_mut();
        assert_eq!(s.move_to(&mut txn, 3, 2, 0), Err(MapError::Cycle(3)));
        assert_eq!(s.move_to(&mut txn, ROOT, 2, 0), Err(MapError::Root));
        assert_eq!(s.delete(&mut txn, ROOT, 5), Err(MapError::Root));
        assert_eq!(s.add(&mut txn, 2, ROOT, 0, "x"), Err(MapError::Exists(2)));
        assert_eq!(
            s.add(&mut txn, 9, 77, 0, "x"),
            Err(MapError::NoSuchNode(77))
        );
        assert_eq!(s.restore(&mut txn, 3), Err(MapError::NotDeleted(3)));
    }
    assert_eq!(before, state());
}

#[test]
fn seeding_keeps_the_given_order_and_purging_forgets_only_the_trash() {
    let a = replica(1);
    let s = Structure::new(&a);
    let nodes = [(5, ROOT, "E"), (3, ROOT, "C"), (9, 5, "E1"), (2, 5, "E2")];
    s.seed(&mut a.transact_mut(), ROOT, "Root", &nodes).unwrap();
    let tree = read(&a);
    assert_eq!(tree.nodes[&ROOT].children, vec![5, 3]);
    assert_eq!(tree.nodes[&5].children, vec![9, 2]);
    assert_eq!(tree.nodes[&9].title, "E1");
    s.add(&mut a.transact_mut(), 7, ROOT, 9, "G").unwrap();
    assert_eq!(read(&a).nodes[&ROOT].children, vec![5, 3, 7]);

    assert_eq!(
        s.purge(&mut a.transact_mut(), &[3]),
        Err(MapError::NotDeleted(3))
    );
    s.delete(&mut a.transact_mut(), 5, 42).unwrap();
    let tree = read(&a);
    assert_eq!(
        tree.trash[&5],
        Trashed {
            at: 42,
            members: vec![2, 5, 9],
            titles: [(2, "E2"), (5, "E"), (9, "E1")]
                .map(|(id, t)| (id, t.to_owned()))
                .into(),
        }
    );
    s.purge(&mut a.transact_mut(), &[2, 5, 9]).unwrap();
    let tree = read(&a);
    assert!(tree.trash.is_empty());
    assert_eq!(
        tree.nodes.keys().copied().collect::<Vec<_>>(),
        vec![1, 3, 7]
    );

    // Appending many at once: after the last child, nested, in order; refusals write nothing.
    s.append(
        &mut a.transact_mut(),
        &[
            (20, ROOT, "T"),
            (21, 20, "T1"),
            (22, 20, "T2"),
            (23, 3, "C1"),
        ],
    )
    .unwrap();
    let tree = read(&a);
    assert_eq!(tree.nodes[&ROOT].children, vec![3, 7, 20]);
    assert_eq!(tree.nodes[&20].children, vec![21, 22]);
    assert_eq!(tree.nodes[&3].children, vec![23]);
    for refused in [
        vec![(30, 99, "orphan")],
        vec![(31, 32, "child first"), (32, ROOT, "parent")],
        vec![(3, ROOT, "exists")],
        vec![(33, ROOT, "twice"), (33, ROOT, "twice")],
    ] {
        assert!(
            s.append(&mut a.transact_mut(), &refused).is_err(),
            "{refused:?}"
        );
    }
    assert_eq!(read(&a), tree, "nothing written");

    let b = replica(2);
    assert_eq!(
        Structure::new(&b).seed(
            &mut b.transact_mut(),
            ROOT,
            "Root",
            &[(4, 6, "x"), (6, ROOT, "y")]
        ),
        Err(MapError::ParentUnknown(4, 6))
    );
    assert!(
        Structure::new(&b).read(&b.transact()).is_none(),
        "nothing written"
    );
}

#[test]
fn depth_height_and_the_nesting_limit() {
    let doc = replica(1);
    let s = Structure::new(&doc);
    {
        let mut txn = doc.transact_mut();
        s.init(&mut txn, ROOT, "Root");
        // A chain 2 → 3 → … → 33 under the root: 33 sits at depth 32, the limit.
        let mut parent = ROOT;
        for id in 2..=33 {
            s.add(&mut txn, id, parent, 0, "t").unwrap();
            parent = id;
        }
        s.add(&mut txn, 100, ROOT, 9, "side").unwrap();
    }
    let tree = read(&doc);
    assert_eq!(
        (tree.depth(ROOT), tree.depth(2), tree.depth(33)),
        (0, 1, MAX_DEPTH)
    );
    assert_eq!(
        (tree.height(2), tree.height(33), tree.height(ROOT)),
        (31, 0, 32)
    );
    // Nothing new below the deepest topic; a new topic anywhere shallower.
    assert!(!tree.fits_under(None, 33) && tree.fits_under(None, 32));
    // The chain may not go one level down (under the side topic), a leaf may.
    assert!(!tree.fits_under(Some(2), 100) && tree.fits_under(Some(33), 100));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// An import appends a thousand topics and more under one parent, in batches, whatever the
    /// document's client id: keys stay short and the children keep the order they were added in.
    #[test]
    fn appending_a_thousand_topics_keeps_keys_short(
        client in 1..(1_u64 << 53),
        batches in prop::collection::vec(1_usize..400, 3..6),
    ) {
        let doc = replica(client);
        let s = Structure::new(&doc);
        let mut next: NodeId = 2;
        let mut added = Vec::new();
        s.init(&mut doc.transact_mut(), ROOT, "Root");
        for batch in batches.iter().chain([&1_000]) {
            let nodes: Vec<(NodeId, NodeId, &str)> =
                (0..*batch).map(|i| (next + i as NodeId, ROOT, "t")).collect();
            next += *batch as NodeId;
            added.extend(nodes.iter().map(|n| n.0));
            s.append(&mut doc.transact_mut(), &nodes).unwrap();
        }
        prop_assert_eq!(&read(&doc).nodes[&ROOT].children, &added);
        let txn = doc.transact();
        let nodes = txn.get_map(arbor_map::NODES).unwrap();
        for (_, node) in nodes.iter(&txn) {
            let yrs::Out::YMap(node) = node else { continue };
            if let Some(yrs::Out::Any(yrs::Any::Map(place))) = node.get(&txn, "place") {
                let Some(yrs::Any::String(order)) = place.get("order") else { continue };
                prop_assert!(order.len() <= 12, "{}", order);
            }
        }
    }
}

#[test]
fn ids_outside_the_topic_space_are_skipped_and_restores_keep_to_the_limits() {
    let doc = replica(1);
    let s = Structure::new(&doc);
    {
        let mut txn = doc.transact_mut();
        s.init(&mut txn, ROOT, "Root");
        s.add(&mut txn, i64::MAX, ROOT, 0, "max").unwrap();
        s.add(&mut txn, -5, ROOT, 0, "negative").unwrap();
        s.add(&mut txn, 1 << 53, ROOT, 0, "past JavaScript")
            .unwrap();
        s.add(&mut txn, (1 << 53) - 1, ROOT, 0, "fine").unwrap();
    }
    assert_eq!(read(&doc).nodes[&ROOT].children, vec![(1 << 53) - 1]);

    // A chain of 20 to the trash, then the map filled up: the chain may not come back.
    {
        let mut txn = doc.transact_mut();
        let mut parent = ROOT;
        for id in 2..22 {
            s.add(&mut txn, id, parent, 0, "chain").unwrap();
            parent = id;
        }
        s.delete(&mut txn, 2, 1).unwrap();
        let nodes: Vec<(NodeId, NodeId, &str)> = (100..1_098).map(|id| (id, ROOT, "t")).collect();
        s.append(&mut txn, &nodes).unwrap();
    }
    assert_eq!(read(&doc).extent().topics, MAX_TOPICS);
    let restored = s.restore(&mut doc.transact_mut(), 2);
    assert_eq!(restored, Err(MapError::TooMany(MAX_TOPICS)));
    assert!(read(&doc).trash.contains_key(&2));
}
