//! Helpers for server functions that feed pages: the response status, the public-cache mark.

use leptos::prelude::use_context;

use crate::error::AppError;

/// Gives the page the status of `err` (404 for a missing subject, 400 for a bad query…).
pub fn set_status(err: &AppError) {
    if let Some(options) = use_context::<leptos_axum::ResponseOptions>() {
        options.set_status(
            axum::http::StatusCode::from_u16(err.code.status())
                .unwrap_or(axum::http::StatusCode::INTERNAL_SERVER_ERROR),
        );
    }
}

/// Passes `result` through as what the person is told, setting the page status when it is an
/// error.
pub fn with_status<T>(result: Result<T, impl Into<AppError>>) -> Result<T, AppError> {
    result.map_err(|err| {
        let err = err.into();
        set_status(&err);
        err
    })
}

/// Marks the page being rendered as showing `subject_id` and fit for the public page cache
/// (the server's cache middleware reads and removes the mark).
pub fn mark_cacheable(subject_id: i64) {
    if let Some(options) = use_context::<leptos_axum::ResponseOptions>()
        && let Ok(value) = axum::http::HeaderValue::from_str(&subject_id.to_string())
    {
        options.insert_header(
            axum::http::HeaderName::from_static("x-arbor-cache-subject"),
            value,
        );
    }
}

/// The subject's slug named by a route or a form; one that cannot be a slug is a missing page
/// (404, set on the page) before anything is looked up.
pub fn slug(raw: &str) -> Result<crate::content::Slug, AppError> {
    with_status(crate::content::Slug::parse(raw))
}
