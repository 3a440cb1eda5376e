//! Who is calling the current server function or page render: the services resolve the
//! credentials ([`arbor_services::auth::caller`]); this reads them from the request Leptos
//! serves.

use arbor_services::auth::{Caller, ClientAddr, caller};
use axum::http::request::Parts;

use crate::error::AppError;

/// The caller of the current server function or page render.
pub async fn current_caller() -> Result<Option<Caller>, AppError> {
    let state = super::state()?;
    let Some(parts) = leptos::prelude::use_context::<Parts>() else {
        return Ok(None);
    };
    Ok(caller(&state, &parts.headers).await?)
}

/// Like [`current_caller`], but signed-out callers get 401.
pub async fn require_caller() -> Result<Caller, AppError> {
    current_caller()
        .await?
        .ok_or_else(AppError::unauthenticated)
}

/// The client address of the current server function call.
pub fn current_client_addr() -> Option<String> {
    leptos::prelude::use_context::<Parts>()
        .and_then(|parts| parts.extensions.get::<ClientAddr>().map(|c| c.0.clone()))
}
