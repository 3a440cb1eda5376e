//! Who is calling, as handler arguments: the services resolve the credentials (a session
//! cookie or a bearer token, [`arbor_services::auth::caller`]); these read them from the
//! request and answer in the API's error shape.

use arbor_app::ssr::AppState;
use arbor_services::auth::{Caller, caller};
use axum::extract::FromRequestParts;
use axum::http::request::Parts;

use super::error::ApiError;
use arbor_types::error::AppError;

/// A signed-in caller; anyone else gets 401 (an invalid bearer token too).
pub struct Signed(pub Caller);

/// The caller when signed in, or `None`; an invalid bearer token is still 401 (the client
/// meant to sign in).
pub struct Visitor(pub Option<Caller>);

impl FromRequestParts<AppState> for Signed {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let Visitor(caller) = Visitor::from_request_parts(parts, state).await?;
        Ok(Self(caller.ok_or_else(AppError::unauthenticated)?))
    }
}

impl FromRequestParts<AppState> for Visitor {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        Ok(Self(caller(state, &parts.headers).await?))
    }
}
