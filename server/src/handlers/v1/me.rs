//! `/me`: the signed-in account.

use arbor_app::ssr::AppState;
use arbor_services::accounts;
use arbor_services::auth::{ClientAddr, clear_session_cookie};
use arbor_types::model::{Me, SessionInfo};
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use axum::{Extension, Json};
use serde::Deserialize;
use utoipa::ToSchema;

use super::ApiJson;
use crate::http::caller::Signed;
use crate::http::error::{ApiError, ErrorResponse};

/// The signed-in account.
#[utoipa::path(get, path = "/me", tag = "me",
    responses(
        (status = 200, body = Me),
        (status = 401, description = "Not signed in", body = ErrorResponse),
    ),
    security(("session" = []), ("bearer" = [])))]
pub async fn get_me(Signed(caller): Signed) -> Json<Me> {
    Json(arbor_services::accounts::me(caller.user))
}

/// Profile fields to change; absent fields stay as they are.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProfileUpdate {
    /// 1–64 characters.
    pub display_name: Option<String>,
    /// Up to 500 characters.
    pub bio: Option<String>,
}

/// Change the display name and bio.
#[utoipa::path(patch, path = "/me", tag = "me", request_body = ProfileUpdate,
    responses(
        (status = 200, body = Me),
        (status = 401, body = ErrorResponse),
        (status = 422, body = ErrorResponse),
    ),
    security(("session" = []), ("bearer" = [])))]
pub async fn update_me(
    State(state): State<AppState>,
    Signed(caller): Signed,
    ApiJson(body): ApiJson<ProfileUpdate>,
) -> Result<Json<Me>, ApiError> {
    let display_name = body
        .display_name
        .unwrap_or_else(|| caller.user.display_name.clone());
    let bio = body.bio.unwrap_or_else(|| caller.user.bio.clone());
    Ok(Json(
        accounts::update_profile(&state, &caller, &display_name, &bio).await?,
    ))
}

/// A password change.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordChange {
    pub current_password: String,
    /// 8–128 characters, not a common password.
    pub new_password: String,
}

/// Change the password. Every other session of the account ends.
#[utoipa::path(put, path = "/me/password", tag = "me", request_body = PasswordChange,
    responses(
        (status = 204, description = "Changed"),
        (status = 401, body = ErrorResponse),
        (status = 403, description = "Wrong current password", body = ErrorResponse),
        (status = 422, body = ErrorResponse),
    ),
    security(("session" = []), ("bearer" = [])))]
pub async fn change_password(
    State(state): State<AppState>,
    Signed(caller): Signed,
    client: Option<Extension<ClientAddr>>,
    ApiJson(body): ApiJson<PasswordChange>,
) -> Result<StatusCode, ApiError> {
    let client = client.map(|Extension(ClientAddr(addr))| addr);
    accounts::change_password(
        &state,
        &caller,
        &body.current_password,
        &body.new_password,
        client.as_deref(),
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Confirmation for deleting the account.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DeleteAccount {
    pub password: String,
}

/// Delete the account: all its sessions end and its tokens are revoked.
#[utoipa::path(delete, path = "/me", tag = "me", request_body = DeleteAccount,
    responses(
        (status = 204, description = "Deleted"),
        (status = 401, body = ErrorResponse),
        (status = 403, description = "Wrong password", body = ErrorResponse),
    ),
    security(("session" = []), ("bearer" = [])))]
pub async fn delete_me(
    State(state): State<AppState>,
    Signed(caller): Signed,
    client: Option<Extension<ClientAddr>>,
    ApiJson(body): ApiJson<DeleteAccount>,
) -> Result<impl IntoResponse, ApiError> {
    let client = client.map(|Extension(ClientAddr(addr))| addr);
    accounts::delete_account(&state, &caller, &body.password, client.as_deref()).await?;
    Ok((
        StatusCode::NO_CONTENT,
        [(header::SET_COOKIE, clear_session_cookie(state.policy()))],
    ))
}

/// Where the account is signed in, most recently used first (`current` marks this session).
#[utoipa::path(get, path = "/me/sessions", tag = "me",
    responses((status = 200, body = Vec<SessionInfo>), (status = 401, body = ErrorResponse)),
    security(("session" = []), ("bearer" = [])))]
pub async fn list_sessions(
    State(state): State<AppState>,
    Signed(caller): Signed,
) -> Result<Json<Vec<SessionInfo>>, ApiError> {
    Ok(Json(accounts::list_sessions(&state, &caller).await?))
}

/// How many sessions were ended.
#[derive(Debug, serde::Serialize, ToSchema)]
pub struct Ended {
    pub ended: u64,
}

/// Sign out everywhere else: every session of the account but this one ends (with a bearer
/// token, every session ends).
#[utoipa::path(delete, path = "/me/sessions", tag = "me",
    responses((status = 200, body = Ended), (status = 401, body = ErrorResponse)),
    security(("session" = []), ("bearer" = [])))]
pub async fn end_other_sessions(
    State(state): State<AppState>,
    Signed(caller): Signed,
) -> Result<Json<Ended>, ApiError> {
    let ended = accounts::end_other_sessions(&state, &caller).await?;
    Ok(Json(Ended { ended }))
}
