//! What a person is told when something fails: the one error every server function and API
//! handler returns.
//!
//! Policy: an [`AppError`] is a stable `code`, a human `message`, and the form `field` it
//! concerns. It never carries internal detail: an internal cause is logged once, where it
//! becomes an `AppError` (the services' `ServiceError`, or [`AppError::internal`] at an edge),
//! and the person gets a generic message, so nothing from a 5xx leaks. [`ErrorCode::status`]
//! is the one table from kind to HTTP status; the server's HTTP edge turns the value into the
//! contract's JSON body `{"error": {"code", "message", "field"?}}`, and server functions carry
//! it to the browser (and, without JavaScript, back to the form through the URL).

use serde::{Deserialize, Serialize};

/// What kind of failure this is; decides the HTTP status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// 400: the request could not be understood (bad JSON, bad query).
    BadRequest,
    /// 401: not signed in, or the credentials are wrong.
    Unauthenticated,
    /// 403: signed in but not allowed (also: a cross-site request).
    Forbidden,
    /// 404.
    NotFound,
    /// 405: the resource exists but not with this method.
    MethodNotAllowed,
    /// 409: clashes with existing state (a taken username).
    Conflict,
    /// 413.
    TooLarge,
    /// 422: well-formed but breaks a rule (a too-short password).
    Invalid,
    /// 429: slow down; `retry_after` says for how long.
    Throttled,
    /// 500: our fault; details are in the server log only.
    Internal,
}

impl ErrorCode {
    /// The HTTP status for this kind of error.
    pub fn status(self) -> u16 {
        match self {
            ErrorCode::BadRequest => 400,
            ErrorCode::Unauthenticated => 401,
            ErrorCode::Forbidden => 403,
            ErrorCode::NotFound => 404,
            ErrorCode::MethodNotAllowed => 405,
            ErrorCode::Conflict => 409,
            ErrorCode::TooLarge => 413,
            ErrorCode::Invalid => 422,
            ErrorCode::Throttled => 429,
            ErrorCode::Internal => 500,
        }
    }
}

/// A failure as the user sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[error("{message}")]
pub struct AppError {
    pub code: ErrorCode,
    pub message: String,
    /// The input field the error is about, for inline display.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// Seconds to wait, with [`ErrorCode::Throttled`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_after: Option<u64>,
    /// Where in the input the problem is (0-based characters), for a malformed query.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub position: Option<usize>,
}

impl AppError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
            field: None,
            retry_after: None,
            position: None,
        }
    }

    /// A rule broken by one field's value (422).
    pub fn invalid(field: &str, message: impl Into<String>) -> Self {
        Self::new(ErrorCode::Invalid, message).with_field(field)
    }

    pub fn with_field(mut self, field: &str) -> Self {
        self.field = Some(field.to_owned());
        self
    }

    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::BadRequest, message)
    }

    pub fn unauthenticated() -> Self {
        Self::new(ErrorCode::Unauthenticated, "Sign in to continue.")
    }

    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::Forbidden, message)
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::NotFound, message)
    }

    pub fn throttled(retry_after: u64) -> Self {
        Self {
            retry_after: Some(retry_after.max(1)),
            ..Self::new(
                ErrorCode::Throttled,
                format!(
                    "Too many attempts. Try again in {} seconds.",
                    retry_after.max(1)
                ),
            )
        }
    }

    /// The server is saturated (for example, too many password hashes at once).
    pub fn busy() -> Self {
        Self {
            retry_after: Some(1),
            ..Self::new(
                ErrorCode::Throttled,
                "The server is busy. Please try again in a moment.",
            )
        }
    }

    /// Logs `cause` with its whole chain and returns a generic 500 that reveals nothing.
    #[cfg(feature = "server")]
    pub fn internal(cause: impl Into<anyhow::Error>) -> Self {
        let cause = cause.into();
        tracing::error!(error = ?cause, "internal error");
        Self::new(
            ErrorCode::Internal,
            "Something went wrong on our side. Please try again.",
        )
    }

    /// The error shown for a field, if it is that field's.
    pub fn for_field(&self, field: &str) -> Option<String> {
        (self.field.as_deref() == Some(field)).then(|| self.message.clone())
    }
}

#[cfg(feature = "server-fn")]
impl server_fn::error::FromServerFnError for AppError {
    type Encoder = server_fn::codec::JsonEncoding;

    fn from_server_fn_error(value: server_fn::error::ServerFnErrorErr) -> Self {
        use server_fn::error::ServerFnErrorErr as E;
        match value {
            E::Args(msg) | E::MissingArg(msg) | E::Deserialization(msg) => {
                AppError::bad_request(format!("The form could not be read: {msg}"))
            }
            E::Request(_) | E::Response(_) => AppError::new(
                ErrorCode::Internal,
                "Could not reach the server. Check your connection and try again.",
            ),
            _other => {
                #[cfg(feature = "server")]
                tracing::error!(error = %_other, "server function failed");
                AppError::new(
                    ErrorCode::Internal,
                    "Something went wrong on our side. Please try again.",
                )
            }
        }
    }
}
