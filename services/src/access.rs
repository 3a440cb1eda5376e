//! Who may do what with a subject — the one place authorization is decided. Every service that
//! reads or changes a subject (pages, server functions, the JSON API) loads it through
//! [`subject_for`], naming the [`Need`]; nothing checks roles anywhere else.
//!
//! | level  | who                                            | may                                  |
//! | ------ | ---------------------------------------------- | ------------------------------------ |
//! | read   | anyone (public/unlisted), viewers (private)    | read, like, save (signed in)         |
//! | edit   | editors                                        | + topics, tree, title/summary/tags   |
//! | owner  | the owner                                      | + visibility, collaborators, delete  |
//!
//! Someone who may not read a subject gets 404, exactly as for a subject that does not exist,
//! so private subjects do not leak. Someone who may read but not do what they asked gets 403
//! (401 when not signed in).

use arbor_db::DbError;
use arbor_db::subjects::SubjectRow;

use crate::ServiceError;
use crate::Services;
use crate::auth::Caller;
use arbor_types::content::{Role, Slug, Visibility};

/// What a caller may do with a subject, from least to most.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Need {
    Read,
    Edit,
    Own,
}

/// A subject loaded for a caller, with the level they hold.
#[derive(Debug, Clone)]
pub struct Granted {
    pub subject: SubjectRow,
    pub level: Need,
    /// The caller's user id (0 when signed out).
    pub viewer: i64,
}

impl Granted {
    pub fn can_edit(&self) -> bool {
        self.level >= Need::Edit
    }

    pub fn is_owner(&self) -> bool {
        self.level == Need::Own
    }
}

fn not_found() -> ServiceError {
    ServiceError::not_found("No such subject.")
}

/// The level `caller` holds on `subject`, or `None` when they may not even read it.
pub async fn level(
    state: &Services,
    caller: Option<&Caller>,
    subject: &SubjectRow,
) -> Result<Option<Need>, ServiceError> {
    user_level(state, caller.map_or(0, |c| c.user.id), subject).await
}

/// [`level`] for a user id (0: nobody signed in), as a connection is opened.
pub async fn user_level(
    state: &Services,
    user_id: i64,
    subject: &SubjectRow,
) -> Result<Option<Need>, ServiceError> {
    let role = match user_id {
        0 => None,
        id if id == subject.owner_id => return Ok(Some(Need::Own)),
        id => state.db().member_role(subject.id, id).await?,
    };
    Ok(level_with_role(user_id, subject, role.as_deref()))
}

/// [`user_level`] for many users at once, from one read of the collaborators, as live
/// connections re-check it (a room may hold a thousand readers; one query each would turn
/// every change to the subject into a thousand queries).
pub async fn user_levels(
    state: &Services,
    subject: &SubjectRow,
) -> Result<impl Fn(i64) -> Option<Need> + Send + Sync + use<>, ServiceError> {
    let roles: std::collections::HashMap<i64, String> = state
        .db()
        .members(subject.id)
        .await?
        .into_iter()
        .map(|m| (m.user_id, m.role))
        .collect();
    let subject = subject.clone();
    Ok(move |user_id| {
        let role = (user_id != 0).then(|| roles.get(&user_id)).flatten();
        level_with_role(user_id, &subject, role.map(String::as_str))
    })
}

/// The level of `user_id` on `subject` given their collaborator role, if any.
fn level_with_role(user_id: i64, subject: &SubjectRow, role: Option<&str>) -> Option<Need> {
    if user_id != 0 && user_id == subject.owner_id {
        return Some(Need::Own);
    }
    match role.and_then(|r| Role::parse(r).ok()) {
        Some(Role::Editor) => Some(Need::Edit),
        Some(Role::Viewer) => Some(Need::Read),
        None if subject.visibility != Visibility::Private.as_str() => Some(Need::Read),
        None => None,
    }
}

/// Loads the subject `slug` for `caller`, if they hold at least `need` on it.
pub async fn subject_for(
    state: &Services,
    caller: Option<&Caller>,
    slug: &Slug,
    need: Need,
) -> Result<Granted, ServiceError> {
    let subject = match state.db().subject_by_slug(slug.as_str()).await {
        Ok(s) => s,
        Err(DbError::NotFound) => return Err(not_found()),
        Err(e) => return Err(e.into()),
    };
    let Some(level) = level(state, caller, &subject).await? else {
        return Err(not_found());
    };
    if level < need {
        return Err(match caller {
            None => ServiceError::unauthenticated(),
            Some(_) if need == Need::Own => {
                ServiceError::forbidden("Only the subject's owner may do that.")
            }
            Some(_) => ServiceError::forbidden("You may read this subject but not change it."),
        });
    }
    Ok(Granted {
        subject,
        level,
        viewer: caller.map_or(0, |c| c.user.id),
    })
}
