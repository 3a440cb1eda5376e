//! What the map editor says in its polite live region, as words: this person's own changes
//! ("Added “Raft” under “Consensus”") and, grouped, what others did ("Ana added “Raft” under
//! “Consensus”"), from [`arbor_map::changes`], and what others' changes took from this
//! person ([`lost`]: the topic they had selected, or one they had just added, gone to the
//! trash). Plain strings, tested natively; the live region is `dom::Announcer`'s.

use std::collections::HashSet;

use arbor_map::changes::Change;
use arbor_map::{NodeId, Tree};

/// At most this many changes of one person are said one by one; more are counted.
const LISTED: usize = 3;

/// This person's change(s), said after they made them (`prefix`: "Undone: " and the like).
pub fn mine(prefix: &str, changes: &[Change]) -> Option<String> {
    let said = listed(changes.iter().map(Change::describe).collect());
    if said.is_empty() {
        return None;
    }
    let deleted = changes.iter().any(|c| matches!(c, Change::Deleted { .. }));
    let mut text = format!("{prefix}{said}.");
    if prefix.is_empty() {
        text = capitalised(&text);
    }
    if deleted && prefix.is_empty() {
        text.push_str(" Ctrl+Z brings it back.");
    }
    Some(text)
}

/// Others' changes, `(who, what)` in the order they came, grouped by person: "Ana added
/// “Raft” under “Consensus”. Ben made 5 changes; the last: renamed “A” to “B”."
pub fn theirs(heard: &[(String, String)]) -> Option<String> {
    let mut people: Vec<(&str, Vec<String>)> = Vec::new();
    for (who, what) in heard {
        match people.iter_mut().find(|(name, _)| name == who) {
            Some((_, said)) => said.push(what.clone()),
            None => people.push((who, vec![what.clone()])),
        }
    }
    let sentences: Vec<String> = people
        .into_iter()
        .map(|(who, said)| format!("{who} {}.", listed(said)))
        .collect();
    (!sentences.is_empty()).then(|| sentences.join(" "))
}

/// "a, b and c", or "made N changes; the last: z" past [`LISTED`].
fn listed(mut said: Vec<String>) -> String {
    match said.len() {
        0 => String::new(),
        n if n > LISTED => {
            let last = said.pop().unwrap_or_default();
            format!("made {n} changes; the last: {last}")
        }
        1 => said.remove(0),
        _ => {
            let last = said.pop().unwrap_or_default();
            format!("{} and {last}", said.join(", "))
        }
    }
}

/// Something of this person's that someone else's change put in the trash: what to say, and
/// what [`arbor_map::Structure::restore`] brings back (`top`, the deleted topic the trash
/// keeps it under) to show `topic` again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Loss {
    pub text: String,
    pub top: NodeId,
    pub topic: NodeId,
}

/// What the change from `before` to `now` took from this person: the topic they had
/// `selected`, else the first of those they `added` (newest last), when it is now in the
/// trash under a topic they did not delete themselves (`deleted_by_me`). Titles come from
/// `before` (the trash keeps none).
pub fn lost(
    before: &Tree,
    now: &Tree,
    selected: Option<NodeId>,
    added: &[NodeId],
    deleted_by_me: &HashSet<NodeId>,
) -> Option<Loss> {
    let title = |id: NodeId| {
        before
            .nodes
            .get(&id)
            .map_or_else(|| "a topic".to_owned(), |n| format!("“{}”", n.title))
    };
    let trashed = |id: NodeId| {
        if now.nodes.contains_key(&id) || !before.nodes.contains_key(&id) {
            return None;
        }
        now.trash
            .iter()
            .find(|(top, t)| t.members.contains(&id) && !deleted_by_me.contains(top))
            .map(|(top, _)| *top)
    };
    // "“CDNs” was deleted" and, when it went with a parent, " with “Caching”".
    let deleted = |id: NodeId, top: NodeId| {
        let with = if top == id {
            String::new()
        } else {
            format!(" with {}", title(top))
        };
        (title(id), with)
    };
    if let Some(id) = selected
        && let Some(top) = trashed(id)
    {
        let (what, with) = deleted(id, top);
        return Some(Loss {
            text: format!("{what} was deleted{with} by someone else while you had it selected."),
            top,
            topic: id,
        });
    }
    added.iter().rev().find_map(|&id| {
        let top = trashed(id)?;
        let (what, with) = deleted(id, top);
        Some(Loss {
            text: format!("{what}, which you had just added, was deleted{with} by someone else."),
            top,
            topic: id,
        })
    })
}

fn capitalised(text: &str) -> String {
    let mut chars = text.chars();
    chars.next().map_or_else(String::new, |first| {
        first.to_uppercase().chain(chars).collect()
    })
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use arbor_map::{Node, Trashed};

    use super::*;

    /// A tree from `(id, parent, title)` in order, with `trash` (top, members).
    fn tree(rows: &[(NodeId, Option<NodeId>, &str)], trash: &[(NodeId, &[NodeId])]) -> Tree {
        let nodes = rows
            .iter()
            .map(|(id, parent, title)| {
                let children = rows.iter().filter(|r| r.1 == Some(*id)).map(|r| r.0);
                let node = Node {
                    parent: *parent,
                    children: children.collect(),
                    title: (*title).to_owned(),
                };
                (*id, node)
            })
            .collect();
        let trash = trash
            .iter()
            .map(|(top, members)| {
                let t = Trashed {
                    at: 1,
                    members: members.to_vec(),
                    titles: BTreeMap::new(),
                };
                (*top, t)
            })
            .collect();
        Tree {
            root: rows[0].0,
            nodes,
            trash,
        }
    }

    #[test]
    fn a_loss_is_told_for_the_selection_or_an_added_topic_deleted_by_someone_else() {
        let before = tree(
            &[
                (1, None, "Systems"),
                (2, Some(1), "Caching"),
                (3, Some(2), "CDNs"),
                (4, Some(1), "Consensus"),
            ],
            &[],
        );
        let now = tree(
            &[(1, None, "Systems"), (4, Some(1), "Consensus")],
            &[(2, &[2, 3])],
        );
        let none = HashSet::new();
        // The selection itself deleted, or with its parent.
        let loss = lost(&before, &now, Some(2), &[], &none).unwrap();
        assert_eq!((loss.top, loss.topic), (2, 2));
        assert_eq!(
            loss.text,
            "“Caching” was deleted by someone else while you had it selected."
        );
        let loss = lost(&before, &now, Some(3), &[], &none).unwrap();
        assert_eq!((loss.top, loss.topic), (2, 3));
        assert!(loss.text.contains("“CDNs” was deleted with “Caching”"));
        // A subtopic just added under a parent someone deleted.
        let loss = lost(&before, &now, Some(4), &[3], &none).unwrap();
        assert_eq!((loss.top, loss.topic), (2, 3));
        assert!(loss.text.starts_with("“CDNs”, which you had just added"));
        // Nothing when this person deleted it, or nothing of theirs is gone.
        let mine: HashSet<NodeId> = [2].into();
        assert_eq!(lost(&before, &now, Some(3), &[3], &mine), None);
        assert_eq!(lost(&before, &now, Some(4), &[4], &none), None);
        assert_eq!(lost(&before, &before, Some(2), &[2], &none), None);
        // A topic that was never in the map before (undone, say) is not a loss either.
        assert_eq!(lost(&now, &now, Some(2), &[], &none), None);
    }

    fn added(title: &str, parent: &str) -> Change {
        Change::Added {
            id: 9,
            title: title.into(),
            parent: parent.into(),
        }
    }

    #[test]
    fn own_changes_are_sentences_and_a_deletion_says_how_to_undo_it() {
        assert_eq!(
            mine("", &[added("New topic", "Consensus")]).as_deref(),
            Some("Added “New topic” under “Consensus”.")
        );
        let deleted = Change::Deleted {
            id: 3,
            title: "Raft".into(),
            under: 0,
        };
        assert_eq!(
            mine("", std::slice::from_ref(&deleted)).as_deref(),
            Some("Deleted “Raft”. Ctrl+Z brings it back.")
        );
        assert_eq!(
            mine("Undone: ", &[added("Raft", "Consensus")]).as_deref(),
            Some("Undone: added “Raft” under “Consensus”.")
        );
        assert_eq!(mine("", &[]), None);
    }

    #[test]
    fn others_are_grouped_by_person_and_counted_past_three() {
        let heard: Vec<(String, String)> = [
            ("Ana", "added “Raft” under “Consensus”"),
            ("Ben", "renamed “A” to “B”"),
            ("Ana", "added “Paxos” under “Consensus”"),
        ]
        .iter()
        .map(|(w, s)| ((*w).to_owned(), (*s).to_owned()))
        .collect();
        assert_eq!(
            theirs(&heard).as_deref(),
            Some(
                "Ana added “Raft” under “Consensus” and added “Paxos” under “Consensus”. Ben renamed “A” to “B”."
            )
        );
        let many: Vec<(String, String)> = (1..=5)
            .map(|i| ("Ana".to_owned(), format!("added “T{i}” under “Root”")))
            .collect();
        assert_eq!(
            theirs(&many).as_deref(),
            Some("Ana made 5 changes; the last: added “T5” under “Root”.")
        );
        assert_eq!(theirs(&[]), None);
    }
}
