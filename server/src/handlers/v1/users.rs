//! `/users/{username}`: public profiles.

use arbor_app::error::{AppError, ErrorResponse};
use arbor_app::model::Profile;
use arbor_app::ssr::{AppState, accounts};
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
