//! What can go wrong on the live side. The HTTP status is the server's to choose (`server/`
//! maps these once); nothing here is logged when built, only where it is handled.

use arbor_db::DbError;

#[derive(Debug, thiserror::Error)]
pub enum LiveError {
    /// Storage failed (or a row the document needs is gone: [`DbError::NotFound`]).
    #[error(transparent)]
    Db(#[from] DbError),
    /// A stored document, or the rows it is seeded from, cannot be read as one.
    #[error("{doc} cannot be read: {reason}")]
    Unreadable { doc: String, reason: String },
    /// The update could not be made durable; the room went back to storage.
    #[error("could not save a change to {0}")]
    NotSaved(String),
    /// The socket caps of this replica are reached for the client or the account.
    #[error("too many live connections at once")]
    TooManySockets { retry_after_secs: u64 },
}

impl LiveError {
    pub(crate) fn unreadable(doc: &str, reason: impl std::fmt::Display) -> Self {
        LiveError::Unreadable {
            doc: doc.to_owned(),
            reason: reason.to_string(),
        }
    }
}
