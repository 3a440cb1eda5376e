//! `/auth`: sign up, sign in, sign out. Browsers get the session cookie; the response body is
//! the account.

use arbor_app::ssr::AppState;
use arbor_services::accounts;
use arbor_services::auth::{ClientAddr, clear_session_cookie, session_cookie};
use arbor_types::model::Me;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use axum::{Extension, Json};
use serde::Deserialize;
use utoipa::ToSchema;

use super::ApiJson;
use crate::http::caller::Visitor;
use crate::http::error::{ApiError, ErrorResponse};

/// Credentials for sign-up and sign-in.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Credentials {
    /// 3–32 letters, digits, `-` or `_`.
    pub username: String,
    /// 8–128 characters, not a common password.
    pub password: String,
}

/// Create an account and sign in.
#[utoipa::path(post, path = "/auth/signup", tag = "auth", request_body = Credentials,
    responses(
        (status = 201, description = "Created and signed in; sets the `arbor_session` cookie", body = Me),
        (status = 409, description = "Username taken", body = ErrorResponse),
        (status = 422, description = "A rule was broken", body = ErrorResponse),
    ))]
pub async fn signup(
    State(state): State<AppState>,
    client: Option<Extension<ClientAddr>>,
    ApiJson(body): ApiJson<Credentials>,
) -> Result<impl IntoResponse, ApiError> {
    let client = client.map(|Extension(ClientAddr(addr))| addr);
    let entered =
        accounts::signup(&state, &body.username, &body.password, client.as_deref()).await?;
    Ok((StatusCode::CREATED, welcome(&state, entered)))
}

/// The session cookie and the account, for whoever just signed up or in.
fn welcome(
    state: &AppState,
    (user, session): (arbor_db::users::UserRow, arbor_services::secrets::Minted),
) -> impl IntoResponse + use<> {
    (
        [(
            header::SET_COOKIE,
            session_cookie(&session.secret, state.policy()),
        )],
        Json(arbor_services::accounts::me(user)),
    )
}

/// Sign in. Repeated failures for one username or client answer 429 with `Retry-After`.
#[utoipa::path(post, path = "/auth/login", tag = "auth", request_body = Credentials,
    responses(
        (status = 200, description = "Signed in; sets the `arbor_session` cookie", body = Me),
        (status = 401, description = "Wrong username or password", body = ErrorResponse),
        (status = 429, description = "Too many failures; see `Retry-After`", body = ErrorResponse),
    ))]
pub async fn login(
    State(state): State<AppState>,
    client: Option<Extension<ClientAddr>>,
    ApiJson(body): ApiJson<Credentials>,
) -> Result<impl IntoResponse, ApiError> {
    let client = client.map(|Extension(ClientAddr(addr))| addr);
    let entered =
        accounts::login(&state, &body.username, &body.password, client.as_deref()).await?;
    Ok(welcome(&state, entered))
}

/// Sign out: ends the session on the server and clears the cookie.
#[utoipa::path(post, path = "/auth/logout", tag = "auth",
    responses((status = 204, description = "Signed out (also when not signed in)")))]
pub async fn logout(
    State(state): State<AppState>,
    Visitor(caller): Visitor,
) -> Result<impl IntoResponse, ApiError> {
    accounts::logout(&state, caller.as_ref()).await?;
    Ok((
        StatusCode::NO_CONTENT,
        [(header::SET_COOKIE, clear_session_cookie(state.policy()))],
    ))
}
