//! Announcing a change to a subject: what it touches ([`Touches`]: what its pages show, or who
//! may do what with it) and so who hears of it — this replica's page cache at once, then every
//! replica through the bus, the subjects whose pages show its links included. Every service
//! that changes a subject ends here.

use std::collections::BTreeSet;

use arbor_db::subjects::SubjectRow;
use arbor_live::bus::Event;

use crate::ServiceError;
use crate::Services;

/// Subjects whose pages show something of `subject` (they link to it or it links to them).
pub async fn affected(state: &Services, subject: &SubjectRow) -> Result<Vec<i64>, ServiceError> {
    Ok(state.db().related_subjects(subject.id).await?)
}

/// What a change to a subject touches, and so who must hear of it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Touches {
    /// What its pages show: caches drop them ([`Event::SubjectChanged`]); no socket is
    /// touched.
    Content,
    /// Who may do what with it, or some of its topics went away: caches drop its pages and
    /// its live connections re-check their access ([`Event::AccessChanged`]).
    Access,
}

/// Announces that `subject` changed, with the subjects related to it before and after (whose
/// pages show its links: their content changed).
pub async fn changed(state: &Services, subject: &SubjectRow, before: Vec<i64>, touches: Touches) {
    let after = match state.db().related_subjects(subject.id).await {
        Ok(ids) => ids,
        Err(e) => {
            tracing::warn!(error = %e, "could not list related subjects; resyncing caches");
            state.pages().clear();
            state.bus().publish(Event::Resync).await;
            Vec::new()
        }
    };
    let related = before
        .into_iter()
        .chain(after)
        .filter(|id| *id != subject.id);
    publish(state, related, Touches::Content).await;
    publish(state, [subject.id], touches).await;
}

pub async fn publish(state: &Services, ids: impl IntoIterator<Item = i64>, touches: Touches) {
    let ids: BTreeSet<i64> = ids.into_iter().collect();
    for subject_id in ids {
        // This replica's cache at once, so whoever made the change reads it on the next
        // request (the bus's own delivery comes a moment later, on another task).
        state.pages().invalidate(subject_id);
        let event = match touches {
            Touches::Content => Event::SubjectChanged { subject_id },
            Touches::Access => Event::AccessChanged { subject_id },
        };
        state.bus().publish(event).await;
    }
}
