//! The services' side of the live crate's two traits: who may stay connected to a live
//! document ([`arbor_live::Permissions`], decided by [`crate::access`]) and bringing the rows
//! up to a document that went quiet ([`arbor_live::Rows`]: a topic's rendered snapshot, a
//! subject's projection, by [`crate::tree`]).

use arbor_collab::Access;
use arbor_db::DbError;
use arbor_db::subjects::SubjectRow;
use arbor_live::{DocKey, HostError, Levels, Permissions, Rows, Settled, SignIn};
use futures_util::future::BoxFuture;

use crate::ServiceError;
use crate::access::{self, Need};
use crate::{Services, now_ms, tree};
use arbor_types::error::ErrorCode;

/// What a level of access lets a connection do.
pub fn access_for(level: Need) -> Access {
    if level >= Need::Edit {
        Access::ReadWrite
    } else {
        Access::ReadOnly
    }
}

/// The document a name (`topic:{id}`, `subject:{id}`) stands for, and its subject; `None`
/// when there is none. A topic just made in a live map gets its row a moment later: its map is
/// projected now, so the topic can be opened at once.
pub async fn document(
    state: &Services,
    name: &str,
) -> Result<Option<(DocKey, SubjectRow)>, ServiceError> {
    let Some(key) = DocKey::parse(name) else {
        return Ok(None);
    };
    let db = state.db();
    let subject_id = match key {
        DocKey::Topic(id) => match db.topic_by_id(id).await {
            Err(DbError::NotFound) => match state.collab().subject_holding(id) {
                Some(subject_id) => {
                    tree::project(state, &db.subject_by_id(subject_id).await?).await?;
                    db.topic_by_id(id).await.map(|t| t.subject_id)
                }
                None => Err(DbError::NotFound),
            },
            found => found.map(|t| t.subject_id),
        },
        DocKey::Subject(id) => Ok(id),
    };
    let subject = match subject_id {
        Ok(id) => db.subject_by_id(id).await,
        Err(e) => Err(e),
    };
    match subject {
        Ok(subject) => Ok(Some((key, subject))),
        Err(DbError::NotFound) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

/// The services, as the live side sees them.
pub struct Host(pub Services);

fn host_error(e: impl std::error::Error + Send + Sync + 'static) -> HostError {
    Box::new(e)
}

impl Permissions for Host {
    fn levels(
        &self,
        key: DocKey,
        subject_id: i64,
    ) -> BoxFuture<'_, Result<Option<Levels>, HostError>> {
        Box::pin(async move {
            let db = self.0.db();
            // Counted, so a test can tell that a content change runs none.
            let queries = metrics::counter!("arbor_live_access_queries_total");
            if let DocKey::Topic(id) = key {
                queries.increment(1);
                match db.topic_by_id(id).await {
                    Ok(topic) if topic.subject_id == subject_id => {}
                    Ok(_) | Err(DbError::NotFound) => return Ok(None),
                    Err(e) => return Err(host_error(e)),
                }
            }
            queries.increment(1);
            let subject = match db.subject_by_id(subject_id).await {
                Ok(subject) => subject,
                Err(DbError::NotFound) => return Ok(None),
                Err(e) => return Err(host_error(e)),
            };
            queries.increment(1);
            let level = access::user_levels(&self.0, &subject)
                .await
                .map_err(HostError::from)?;
            let levels: Levels = Box::new(move |user_id| level(user_id).map(access_for));
            Ok(Some(levels))
        })
    }

    fn signed_in<'a>(&'a self, sign_in: &'a SignIn) -> BoxFuture<'a, Result<bool, HostError>> {
        Box::pin(async move {
            let (db, now) = (self.0.db(), now_ms());
            let found = match sign_in {
                SignIn::SignedOut => return Ok(true),
                SignIn::Session(hash) => db
                    .session_user(hash, now, self.0.policy().idle_cutoff(now))
                    .await
                    .map(drop),
                SignIn::Token(hash) => db.token_user(hash, now).await.map(drop),
            };
            match found {
                Ok(()) => Ok(true),
                Err(DbError::NotFound) => Ok(false),
                Err(e) => Err(host_error(e)),
            }
        })
    }
}

impl Rows for Host {
    fn settle<'a>(
        &'a self,
        key: DocKey,
        subject_id: i64,
        text: &'a str,
    ) -> BoxFuture<'a, Result<Settled, HostError>> {
        Box::pin(async move {
            let state = &self.0;
            let outcome: Result<(), ServiceError> = match key {
                DocKey::Topic(id) => tree::store_body(state, subject_id, id, text).await,
                DocKey::Subject(id) => match state.db().subject_by_id(id).await {
                    Ok(subject) => tree::project(state, &subject).await,
                    Err(e) => Err(e.into()),
                },
            };
            match outcome {
                Ok(()) => Ok(Settled::Done),
                Err(e) if e.code() == ErrorCode::NotFound => Ok(Settled::Gone),
                Err(e) => Err(HostError::from(e)),
            }
        })
    }
}
