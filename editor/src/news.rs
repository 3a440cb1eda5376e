//! What the map editor says in its polite live region, as words: this person's own changes
//! ("Added “Raft” under “Consensus”") and, grouped, what others did ("Ana added “Raft” under
//! “Consensus”"), from [`arbor_map::changes`]. Plain strings, tested natively; the live
//! region is `dom::Announcer`'s.

use arbor_map::changes::Change;

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

fn capitalised(text: &str) -> String {
    let mut chars = text.chars();
    chars.next().map_or_else(String::new, |first| {
        first.to_uppercase().chain(chars).collect()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

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
