//! Acknowledgement is durability: the state machine a room keeps between accepting an update
//! and storage confirming it.
//!
//! Each update a room accepts (from a client, or the server's own edit) takes the next number
//! ([`Ledger::accept`]). Storage reports each number durable ([`Ledger::durable`]), in any
//! order. A client's sync step 1 is answered by a sync step 2, and that answer is the only
//! acknowledgement the y-websocket protocol has: a stock client counts itself `synced` when it
//! arrives. So the answer is held ([`Ledger::hold`]) until every update accepted before the
//! question is durable, and released then, in the order the questions came. When storage
//! fails, the room is reloaded and its connections closed to reconnect and sync:
//! [`Ledger::failed`] drops the held answers, whose connections are gone.
//!
//! It does no I/O: the server drives it from its commit writer, and the editor's tests drive
//! it from a simulated disk, so both run the same rules.

use std::collections::{BTreeSet, VecDeque};

use crate::ConnId;

/// Updates accepted but not yet durable, and the answers waiting for them.
#[derive(Debug, Default)]
pub struct Ledger {
    /// The number of the last accepted update (numbers start at 1).
    accepted: u64,
    /// Every update numbered up to this is durable (or was resolved by a failure).
    durable: u64,
    /// Numbers above `durable` reported durable out of order.
    early: BTreeSet<u64>,
    /// Answers waiting for `durable` to reach their number, oldest first.
    held: VecDeque<(u64, ConnId, Vec<u8>)>,
}

impl Ledger {
    /// Numbers a newly accepted update; report it with [`Ledger::durable`] once it is stored.
    pub fn accept(&mut self) -> u64 {
        self.accepted += 1;
        self.accepted
    }

    /// An acknowledgement `frame` for `conn`: returned at once when everything accepted so far
    /// is durable, otherwise held until it is.
    pub fn hold(&mut self, conn: ConnId, frame: Vec<u8>) -> Option<Vec<u8>> {
        if self.durable >= self.accepted && self.held.is_empty() {
            return Some(frame);
        }
        self.held.push_back((self.accepted, conn, frame));
        None
    }

    /// Update `number` is durable; returns the acknowledgements that may go now, in order.
    pub fn durable(&mut self, number: u64) -> Vec<(ConnId, Vec<u8>)> {
        if number <= self.durable || number > self.accepted {
            return Vec::new();
        }
        self.early.insert(number);
        while self.early.remove(&(self.durable + 1)) {
            self.durable += 1;
        }
        self.release()
    }

    /// Storage failed: every update accepted so far is resolved (the room goes back to what
    /// storage holds and its clients sync again), and the held answers are dropped.
    pub fn failed(&mut self) {
        self.durable = self.accepted;
        self.early.clear();
        self.held.clear();
    }

    /// `conn` left: its held answers are dropped.
    pub fn forget(&mut self, conn: ConnId) {
        self.held.retain(|(_, c, _)| *c != conn);
    }

    /// Accepted updates not yet durable.
    #[cfg(test)]
    fn pending(&self) -> u64 {
        self.accepted - self.durable
    }

    /// Acknowledgements held.
    #[cfg(test)]
    fn held(&self) -> usize {
        self.held.len()
    }

    fn release(&mut self) -> Vec<(ConnId, Vec<u8>)> {
        let mut out = Vec::new();
        while let Some((needs, _, _)) = self.held.front() {
            if *needs > self.durable {
                break;
            }
            if let Some((_, conn, frame)) = self.held.pop_front() {
                out.push((conn, frame));
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn an_answer_waits_for_what_was_accepted_before_it() {
        let mut ledger = Ledger::default();
        assert_eq!(ledger.hold(1, vec![1]), Some(vec![1]), "nothing pending");
        let a = ledger.accept();
        let b = ledger.accept();
        assert_eq!(ledger.hold(1, vec![2]), None);
        let c = ledger.accept();
        assert_eq!(ledger.hold(2, vec![3]), None);
        assert!(ledger.durable(b).is_empty(), "a is not durable yet");
        assert_eq!(ledger.durable(a), vec![(1, vec![2])]);
        assert_eq!(ledger.pending(), 1);
        assert_eq!(ledger.durable(c), vec![(2, vec![3])]);
        assert_eq!((ledger.pending(), ledger.held()), (0, 0));
    }

    #[test]
    fn a_failure_drops_the_held_answers_and_a_left_connection_loses_its_own() {
        let mut ledger = Ledger::default();
        let a = ledger.accept();
        assert_eq!(ledger.hold(1, vec![1]), None);
        assert_eq!(ledger.hold(2, vec![2]), None);
        ledger.forget(1);
        assert_eq!(ledger.durable(a), vec![(2, vec![2])]);
        let b = ledger.accept();
        assert_eq!(ledger.hold(3, vec![3]), None);
        ledger.failed();
        assert!(ledger.durable(b).is_empty(), "resolved by the failure");
        assert_eq!(ledger.hold(3, vec![4]), Some(vec![4]));
    }

    proptest! {
        /// Whatever order storage confirms updates in, an answer goes exactly once, never
        /// before every update accepted ahead of it is durable, and answers keep their order.
        #[test]
        fn answers_follow_durability(steps in proptest::collection::vec(0u8..3, 1..60), seed in any::<u64>()) {
            let mut ledger = Ledger::default();
            let mut waiting: Vec<u64> = Vec::new();
            let mut confirmed: BTreeSet<u64> = BTreeSet::new();
            let mut asked: Vec<(u64, u64)> = Vec::new(); // (answer id, needs)
            let mut answered: Vec<u64> = Vec::new();
            let mut rng = seed;
            let mut next_answer = 0;
            let check = |released: Vec<(ConnId, Vec<u8>)>, confirmed: &BTreeSet<u64>, answered: &mut Vec<u64>, asked: &[(u64, u64)]| {
                for (_, frame) in released {
                    let id = u64::from_le_bytes(frame.try_into().unwrap());
                    let needs = asked.iter().find(|(a, _)| *a == id).unwrap().1;
                    assert!((1..=needs).all(|n| confirmed.contains(&n)));
                    answered.push(id);
                }
            };
            for step in steps {
                match step {
                    0 => waiting.push(ledger.accept()),
                    1 => {
                        next_answer += 1;
                        let needs = ledger.accepted;
                        asked.push((next_answer, needs));
                        if let Some(frame) = ledger.hold(7, next_answer.to_le_bytes().to_vec()) {
                            check(vec![(7, frame)], &confirmed, &mut answered, &asked);
                        }
                    }
                    _ if !waiting.is_empty() => {
                        rng = rng.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                        let n = waiting.swap_remove((rng >> 33) as usize % waiting.len());
                        confirmed.insert(n);
                        let released = ledger.durable(n);
                        check(released, &confirmed, &mut answered, &asked);
                    }
                    _ => {}
                }
            }
            for n in std::mem::take(&mut waiting) {
                confirmed.insert(n);
                let released = ledger.durable(n);
                check(released, &confirmed, &mut answered, &asked);
            }
            let all: Vec<u64> = asked.iter().map(|(a, _)| *a).collect();
            prop_assert_eq!(answered, all);
        }
    }
}
