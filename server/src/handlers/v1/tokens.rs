//! `/me/tokens`: personal access tokens.

use arbor_app::ssr::AppState;
use arbor_services::accounts;
use arbor_types::model::{NewToken, TokenInfo};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;
use utoipa::ToSchema;

use super::{ApiJson, ApiPath};
use crate::http::caller::Signed;
use crate::http::error::{ApiError, ErrorResponse};

/// The caller's tokens (never their secrets).
#[utoipa::path(get, path = "/me/tokens", tag = "tokens",
    responses((status = 200, body = Vec<TokenInfo>), (status = 401, body = ErrorResponse)),
    security(("session" = []), ("bearer" = [])))]
pub async fn list_tokens(
    State(state): State<AppState>,
    Signed(caller): Signed,
) -> Result<Json<Vec<TokenInfo>>, ApiError> {
    Ok(Json(accounts::list_tokens(&state, &caller).await?))
}

/// A token to create.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TokenRequest {
    /// A label, 1–64 characters.
    pub name: String,
}

/// Create a token. The secret is in this response and never shown again.
#[utoipa::path(post, path = "/me/tokens", tag = "tokens", request_body = TokenRequest,
    responses(
        (status = 201, body = NewToken),
        (status = 401, body = ErrorResponse),
        (status = 409, description = "Too many tokens", body = ErrorResponse),
        (status = 422, body = ErrorResponse),
    ),
    security(("session" = []), ("bearer" = [])))]
pub async fn create_token(
    State(state): State<AppState>,
    Signed(caller): Signed,
    ApiJson(body): ApiJson<TokenRequest>,
) -> Result<(StatusCode, Json<NewToken>), ApiError> {
    let token = accounts::create_token(&state, &caller, &body.name).await?;
    Ok((StatusCode::CREATED, Json(token)))
}

/// Revoke a token; clients using it are refused from the next request on.
#[utoipa::path(delete, path = "/me/tokens/{id}", tag = "tokens",
    params(("id" = i64, Path, description = "The token's id")),
    responses(
        (status = 204, description = "Revoked"),
        (status = 401, body = ErrorResponse),
        (status = 404, body = ErrorResponse),
    ),
    security(("session" = []), ("bearer" = [])))]
pub async fn revoke_token(
    State(state): State<AppState>,
    Signed(caller): Signed,
    ApiPath(id): ApiPath<i64>,
) -> Result<StatusCode, ApiError> {
    accounts::revoke_token(&state, &caller, id).await?;
    Ok(StatusCode::NO_CONTENT)
}
