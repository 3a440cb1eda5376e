//! What a service returns when it does not do what was asked.
//!
//! Two kinds, because the edges treat them differently:
//! - [`ServiceError::Refused`]: the request broke a rule the person can act on (a field's
//!   value, not signed in, not allowed, not found, a clash, too large, slow down). It carries
//!   the [`AppError`] the person is told, kind and field included, unchanged to the browser.
//! - [`ServiceError::Internal`]: storage, Redis or our own code failed. The cause stays a
//!   typed source chain, never shown; it is logged exactly once, when the error becomes what a
//!   person is told (`From<ServiceError> for AppError`), not where it was built, so an internal
//!   error that a caller handles (a retry, a fallback) logs nothing.

use arbor_types::error::{AppError, ErrorCode};

/// A service's failure: a refusal to tell the person, or an internal error to log.
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    #[error("{0}")]
    Refused(AppError),
    #[error("internal error: {0:#}")]
    Internal(#[source] anyhow::Error),
}

/// What services return.
pub type ServiceResult<T> = Result<T, ServiceError>;

impl ServiceError {
    /// An internal failure with its cause (not logged here: see the module docs).
    pub fn internal(cause: impl Into<anyhow::Error>) -> Self {
        Self::Internal(cause.into())
    }

    /// A refusal of kind `code`.
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self::Refused(AppError::new(code, message))
    }

    /// A rule broken by one field's value.
    pub fn invalid(field: &str, message: impl Into<String>) -> Self {
        Self::Refused(AppError::invalid(field, message))
    }

    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::Refused(AppError::bad_request(message))
    }

    pub fn unauthenticated() -> Self {
        Self::Refused(AppError::unauthenticated())
    }

    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::Refused(AppError::forbidden(message))
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        Self::Refused(AppError::not_found(message))
    }

    pub fn throttled(retry_after: u64) -> Self {
        Self::Refused(AppError::throttled(retry_after))
    }

    /// The server is saturated (too many password hashes at once, say).
    pub fn busy() -> Self {
        Self::Refused(AppError::busy())
    }

    /// The same refusal, about `field`.
    pub fn with_field(self, field: &str) -> Self {
        match self {
            Self::Refused(err) => Self::Refused(err.with_field(field)),
            internal => internal,
        }
    }

    /// The kind of failure (an internal one is [`ErrorCode::Internal`]).
    pub fn code(&self) -> ErrorCode {
        match self {
            Self::Refused(err) => err.code,
            Self::Internal(_) => ErrorCode::Internal,
        }
    }
}

impl From<AppError> for ServiceError {
    /// An input that failed to parse (`arbor_types::model`) is a refusal.
    fn from(err: AppError) -> Self {
        Self::Refused(err)
    }
}

impl From<ServiceError> for AppError {
    /// What the person is told; an internal cause is logged here, once, with its whole chain.
    fn from(err: ServiceError) -> Self {
        match err {
            ServiceError::Refused(err) => err,
            ServiceError::Internal(cause) => {
                tracing::error!(error = ?cause, "internal error");
                AppError::new(
                    ErrorCode::Internal,
                    "Something went wrong on our side. Please try again.",
                )
            }
        }
    }
}

impl From<arbor_db::DbError> for ServiceError {
    /// The fallback mapping; callers handle `NotFound`/`Conflict` first where it means more.
    fn from(err: arbor_db::DbError) -> Self {
        match err {
            arbor_db::DbError::NotFound => Self::not_found("Not found."),
            other => Self::internal(other),
        }
    }
}

impl From<arbor_live::LiveError> for ServiceError {
    fn from(err: arbor_live::LiveError) -> Self {
        match err {
            arbor_live::LiveError::Db(e) => e.into(),
            arbor_live::LiveError::TooManySockets { retry_after_secs } => Self::Refused(AppError {
                retry_after: Some(retry_after_secs),
                ..AppError::new(
                    ErrorCode::Throttled,
                    "Too many live connections at once; close one or try again later.",
                )
            }),
            other => Self::internal(other),
        }
    }
}
