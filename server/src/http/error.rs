//! Errors as HTTP: the one place a failure becomes a status, headers and the contract's JSON
//! body `{"error": {"code", "message", "field"?, "position"?}}`.
//!
//! Handlers return [`ApiError`]: `?` takes a service's typed error (`ServiceError`, whose
//! internal cause is logged once as it becomes what the person is told), an [`AppError`], or
//! axum's rejection of a malformed body, query or path. The status comes from the error's
//! kind ([`ErrorCode::status`], the one table), with `Retry-After` for "slow down".

use arbor_services::ServiceError;
use arbor_types::error::{AppError, ErrorCode};
use axum::Json;
use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

/// The JSON body of every API error: `{"error": {"code", "message", "field"?}}`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ErrorResponse {
    pub error: ErrorDetail,
}

/// The inside of [`ErrorResponse`].
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ErrorDetail {
    /// Stable machine-readable code: `bad_request`, `unauthenticated`, `forbidden`,
    /// `not_found`, `method_not_allowed`, `conflict`, `too_large`, `invalid`, `throttled` or
    /// `internal`.
    #[schema(value_type = String)]
    pub code: ErrorCode,
    /// A sentence for people.
    pub message: String,
    /// The input field the error is about.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// For a malformed search query: the 0-based character position of the problem.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub position: Option<usize>,
}

/// A failure as an HTTP response.
#[derive(Debug)]
pub struct ApiError(pub AppError);

impl From<AppError> for ApiError {
    fn from(err: AppError) -> Self {
        Self(err)
    }
}

impl From<ServiceError> for ApiError {
    fn from(err: ServiceError) -> Self {
        Self(err.into())
    }
}

impl From<JsonRejection> for ApiError {
    /// Malformed JSON is 400, JSON of the wrong shape 422, an over-large body 413.
    fn from(rejection: JsonRejection) -> Self {
        let code = match rejection.status().as_u16() {
            413 => ErrorCode::TooLarge,
            422 => ErrorCode::Invalid,
            _ => ErrorCode::BadRequest,
        };
        let message = match &rejection {
            JsonRejection::MissingJsonContentType(_) => {
                "Send the body as JSON with `Content-Type: application/json`.".to_owned()
            }
            _ => rejection.body_text(),
        };
        Self(AppError::new(code, message))
    }
}

impl From<QueryRejection> for ApiError {
    /// A query string that does not parse (an unknown parameter, a non-number limit).
    fn from(rejection: QueryRejection) -> Self {
        Self(AppError::bad_request(rejection.body_text()))
    }
}

impl From<PathRejection> for ApiError {
    /// A path segment that is not what the route takes (bad UTF-8, not a number…).
    fn from(rejection: PathRejection) -> Self {
        Self(AppError::bad_request(rejection.body_text()))
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let Self(err) = self;
        let status =
            StatusCode::from_u16(err.code.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let body = ErrorResponse {
            error: ErrorDetail {
                code: err.code,
                message: err.message,
                field: err.field,
                position: err.position,
            },
        };
        let mut response = (status, Json(body)).into_response();
        if let Some(secs) = err.retry_after {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        response
    }
}
