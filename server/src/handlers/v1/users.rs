//! `/users/{username}`: public profiles, authors' subjects, follows.

use arbor_app::ssr::AppState;
use arbor_services::{accounts, subjects};
use arbor_types::content::AuthorDetail;
use arbor_types::model::Profile;
use axum::Json;
use axum::extract::State;

use super::ApiPath;
use crate::http::caller::Visitor;
use crate::http::error::{ApiError, ErrorResponse};

/// A public profile.
#[utoipa::path(get, path = "/users/{username}", tag = "users",
    params(("username" = String, Path)),
    responses((status = 200, body = Profile), (status = 404, body = ErrorResponse)))]
pub async fn get_user(
    State(state): State<AppState>,
    ApiPath(username): ApiPath<String>,
) -> Result<Json<Profile>, ApiError> {
    Ok(Json(accounts::profile(&state, &username).await?))
}

/// An author's page: profile, follower counts, whether you follow them, and their subjects
/// you may see.
#[utoipa::path(get, path = "/users/{username}/subjects", tag = "users",
    params(("username" = String, Path)),
    responses((status = 200, body = AuthorDetail), (status = 404, body = ErrorResponse)))]
pub async fn get_author(
    State(state): State<AppState>,
    Visitor(caller): Visitor,
    ApiPath(username): ApiPath<String>,
) -> Result<Json<AuthorDetail>, ApiError> {
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
    Visitor(caller): Visitor,
    ApiPath(username): ApiPath<String>,
) -> Result<Json<AuthorDetail>, ApiError> {
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
    Visitor(caller): Visitor,
    ApiPath(username): ApiPath<String>,
) -> Result<Json<AuthorDetail>, ApiError> {
    Ok(Json(
        subjects::follow(&state, caller.as_ref(), &username, false).await?,
    ))
}
