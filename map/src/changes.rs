//! What changed between two states of a map, in the terms a person uses ("added 'Raft' under
//! 'Consensus'"): the map editor says it in a polite live region when a collaborator's
//! change arrives. A subtree added or deleted whole is one change, named by its top topic.

use std::collections::HashSet;

use crate::{NodeId, Tree};

/// One change, with the titles it is told by (as they are after it, or before it for what is
/// gone).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    /// A topic (and whatever came with it) added under `parent`.
    Added {
        id: NodeId,
        title: String,
        parent: String,
    },
    /// A topic deleted, with `under` more below it.
    Deleted {
        id: NodeId,
        title: String,
        under: usize,
    },
    Renamed {
        id: NodeId,
        from: String,
        to: String,
    },
    /// Moved under another parent.
    Moved {
        id: NodeId,
        title: String,
        parent: String,
    },
    /// The subtopics of `parent` put in another order.
    Reordered { parent: String },
}

impl Change {
    /// The topic the change is about (for `Reordered`, none: it is its parent's).
    pub fn topic(&self) -> Option<NodeId> {
        match self {
            Change::Added { id, .. }
            | Change::Deleted { id, .. }
            | Change::Renamed { id, .. }
            | Change::Moved { id, .. } => Some(*id),
            Change::Reordered { .. } => None,
        }
    }

    /// The change as words after a person's name: "added 'Raft' under 'Consensus'".
    pub fn describe(&self) -> String {
        match self {
            Change::Added { title, parent, .. } => format!("added “{title}” under “{parent}”"),
            Change::Deleted { title, under, .. } => match under {
                0 => format!("deleted “{title}”"),
                1 => format!("deleted “{title}” and 1 subtopic"),
                n => format!("deleted “{title}” and {n} subtopics"),
            },
            Change::Renamed { from, to, .. } => format!("renamed “{from}” to “{to}”"),
            Change::Moved { title, parent, .. } => format!("moved “{title}” under “{parent}”"),
            Change::Reordered { parent } => format!("reordered the subtopics of “{parent}”"),
        }
    }
}

/// The changes from `old` to `new`, in `new`'s reading order (deletions last).
pub fn changes(old: &Tree, new: &Tree) -> Vec<Change> {
    let title = |tree: &Tree, id: NodeId| tree.nodes.get(&id).map(|n| n.title.clone());
    let mut found = Vec::new();
    let mut stack = vec![new.root];
    while let Some(id) = stack.pop() {
        let node = &new.nodes[&id];
        let parent_title = node.parent.and_then(|p| title(new, p)).unwrap_or_default();
        match old.nodes.get(&id) {
            None => {
                // Only the top of an added subtree: what came with it is part of it.
                found.push(Change::Added {
                    id,
                    title: node.title.clone(),
                    parent: parent_title,
                });
                continue;
            }
            Some(before) => {
                if before.title != node.title {
                    found.push(Change::Renamed {
                        id,
                        from: before.title.clone(),
                        to: node.title.clone(),
                    });
                }
                if before.parent != node.parent && node.parent.is_some() {
                    found.push(Change::Moved {
                        id,
                        title: node.title.clone(),
                        parent: parent_title,
                    });
                }
                let kept: HashSet<NodeId> = node.children.iter().copied().collect();
                let was: HashSet<NodeId> = before.children.iter().copied().collect();
                let order_now: Vec<NodeId> = node
                    .children
                    .iter()
                    .copied()
                    .filter(|c| was.contains(c))
                    .collect();
                let order_before: Vec<NodeId> = before
                    .children
                    .iter()
                    .copied()
                    .filter(|c| kept.contains(c))
                    .collect();
                if order_now != order_before {
                    found.push(Change::Reordered {
                        parent: node.title.clone(),
                    });
                }
            }
        }
        stack.extend(node.children.iter().rev());
    }
    // Deleted: gone from the tree, and its parent still here (else the parent's deletion
    // tells it) or moved away with it.
    let mut stack = vec![old.root];
    while let Some(id) = stack.pop() {
        let node = &old.nodes[&id];
        if new.nodes.contains_key(&id) {
            stack.extend(node.children.iter().rev());
        } else {
            found.push(Change::Deleted {
                id,
                title: node.title.clone(),
                under: below(old, id),
            });
        }
    }
    found
}

/// How many topics are under `id` in `tree`.
fn below(tree: &Tree, id: NodeId) -> usize {
    let mut n = 0;
    let mut stack = tree.nodes[&id].children.clone();
    while let Some(next) = stack.pop() {
        n += 1;
        stack.extend(tree.nodes[&next].children.iter().copied());
    }
    n
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::Node;

    /// A tree from `(id, parent, title)` in order.
    fn tree(rows: &[(NodeId, Option<NodeId>, &str)]) -> Tree {
        let mut nodes = BTreeMap::new();
        for (id, parent, title) in rows {
            nodes.insert(
                *id,
                Node {
                    parent: *parent,
                    children: rows
                        .iter()
                        .filter(|r| r.1 == Some(*id))
                        .map(|r| r.0)
                        .collect(),
                    title: (*title).to_owned(),
                },
            );
        }
        Tree {
            root: rows[0].0,
            nodes,
            trash: BTreeMap::new(),
        }
    }

    fn before() -> Tree {
        tree(&[
            (1, None, "Systems"),
            (2, Some(1), "Caching"),
            (3, Some(2), "CDNs"),
            (4, Some(2), "TTL"),
            (5, Some(1), "Consensus"),
        ])
    }

    #[test]
    fn nothing_changed_says_nothing() {
        assert_eq!(changes(&before(), &before()), []);
    }

    #[test]
    fn an_added_subtree_is_one_change_under_its_parent() {
        let after = tree(&[
            (1, None, "Systems"),
            (2, Some(1), "Caching"),
            (3, Some(2), "CDNs"),
            (4, Some(2), "TTL"),
            (5, Some(1), "Consensus"),
            (6, Some(5), "Raft"),
            (7, Some(6), "Leader election"),
        ]);
        let found = changes(&before(), &after);
        assert_eq!(
            found,
            [Change::Added {
                id: 6,
                title: "Raft".into(),
                parent: "Consensus".into()
            }]
        );
        assert_eq!(found[0].describe(), "added “Raft” under “Consensus”");
        assert_eq!(found[0].topic(), Some(6));
    }

    #[test]
    fn a_deleted_subtree_is_one_change_counting_what_went_with_it() {
        let after = tree(&[(1, None, "Systems"), (5, Some(1), "Consensus")]);
        let found = changes(&before(), &after);
        assert_eq!(
            found,
            [Change::Deleted {
                id: 2,
                title: "Caching".into(),
                under: 2
            }]
        );
        assert_eq!(found[0].describe(), "deleted “Caching” and 2 subtopics");
    }

    #[test]
    fn renames_moves_and_reorders_are_told_apart() {
        let after = tree(&[
            (1, None, "Systems"),
            (5, Some(1), "Agreement"),
            (2, Some(1), "Caching"),
            (4, Some(2), "TTL"),
            (3, Some(5), "CDNs"),
        ]);
        let found: Vec<String> = changes(&before(), &after)
            .iter()
            .map(Change::describe)
            .collect();
        assert_eq!(
            found,
            [
                "reordered the subtopics of “Systems”",
                "renamed “Consensus” to “Agreement”",
                "moved “CDNs” under “Agreement”",
            ]
        );
    }
}
