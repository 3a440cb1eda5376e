//! `/users/{username}`: public profiles, authors' subjects, follows.

use arbor_app::content::AuthorDetail;
use arbor_app::error::{AppError, ErrorResponse};
use arbor_app::model::Profile;
use arbor_app::ssr::auth::Caller;
use arbor_app::ssr::{AppState, accounts, subjects};
use axum::Json;
use axum::extract::State;

use super::ApiPath;

/// A public profile.
#[utoipa::path(get, path = "/users/{username}", tag = "users",
    params(("username" = String, Path)),
    responses((status = 200, body = Profile), (status = 404, body = ErrorResponse)))]
pub async fn get_user(
    State(state): State<AppState>,
    ApiPath(username): ApiPath<String>,
) -> Result<Json<Profile>, AppError> {
    Ok(Json(accounts::profile(&state, &username).await?))
}

/// An author's page: profile, follower counts, whether you follow them, and their subjects
/// you may see.
#[utoipa::path(get, path = "/users/{username}/subjects", tag = "users",
    params(("username" = String, Path)),
    responses((status = 200, body = AuthorDetail), (status = 404, body = ErrorResponse)))]
pub async fn get_author(
    State(state): State<AppState>,
    caller: Option<Caller>,
    ApiPath(username): ApiPath<String>,
) -> Result<Json<AuthorDetail>, AppError> {
    Ok(Json(
        subjects::author(&state, caller.as_ref(), &username).await?,
    ))
}

/// Follow an author (idempotent; not yourself).
#[utoipa::path(put, path = "/users/{username}/follow", tag = "users",
    params(("username" = String, Path)),
    responses(
        (status = 200, body = AuthorDetail),
        (status = 401, body = ErrorResponse),
        (status = 404, body = ErrorResponse),
        (status = 422, description = "Yourself", body = ErrorResponse),
    ),
    security(("session" = []), ("bearer" = [])))]
pub async fn follow(
    State(state): State<AppState>,
    caller: Option<Caller>,
    ApiPath(username): ApiPath<String>,
) -> Result<Json<AuthorDetail>, AppError> {
    Ok(Json(
        subjects::follow(&state, caller.as_ref(), &username, true).await?,
    ))
}

/// Unfollow an author (idempotent).
#[utoipa::path(delete, path = "/users/{username}/follow", tag = "users",
    params(("username" = String, Path)),
    responses(
        (status = 200, body = AuthorDetail),
        (status = 401, body = ErrorResponse),
        (status = 404, body = ErrorResponse),
        (status = 422, description = "Yourself", body = ErrorResponse),
    ),
    security(("session" = []), ("bearer" = [])))]
pub async fn unfollow(
    State(state): State<AppState>,
    caller: Option<Caller>,
    ApiPath(username): ApiPath<String>,
) -> Result<Json<AuthorDetail>, AppError> {
    Ok(Json(
        subjects::follow(&state, caller.as_ref(), &username, false).await?,
    ))
}
