//! `/subjects`: the catalogue, subjects, collaborators, likes and saves. Handlers only adapt
//! HTTP to the services in `arbor_services`, which decide access (`arbor_services::access`).

use arbor_app::ssr::AppState;
use arbor_db::social::Mark;
use arbor_services::auth::{Caller, ClientAddr};
use arbor_services::catalogue;
use arbor_services::subjects::{self, SubjectChanges, SubjectInput};
use arbor_types::content::{Member, Slug, SubjectCard, SubjectDetail, SubjectPage};
use axum::extract::State;
use axum::http::StatusCode;
use axum::{Extension, Json};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

use super::{ApiJson, ApiPath, ApiQuery};
use crate::http::caller::{Signed, Visitor};
use crate::http::error::{ApiError, ErrorResponse};

/// Catalogue search parameters.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct SearchParams {
    /// Free text plus filters, e.g. `rust tag:async author:alice likes:>10 sort:likes`
    /// (grammar in `docs/search.md`).
    #[serde(default)]
    pub q: String,
    /// From the previous page's `next_cursor`.
    pub cursor: Option<String>,
    /// 1–100, default 20.
    pub limit: Option<i64>,
}

/// Search the catalogue of public subjects. A malformed query answers 400 with the position
/// (`error.position`, 0-based) and what was expected.
#[utoipa::path(get, path = "/subjects", tag = "subjects", params(SearchParams),
    responses((status = 200, body = SubjectPage), (status = 400, body = ErrorResponse)))]
pub async fn search_subjects(
    State(state): State<AppState>,
    ApiQuery(params): ApiQuery<SearchParams>,
) -> Result<Json<SubjectPage>, ApiError> {
    Ok(Json(
        catalogue::search(&state, &params.q, params.cursor.as_deref(), params.limit).await?,
    ))
}

/// A new subject.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewSubjectRequest {
    /// 1–120 characters.
    pub title: String,
    /// Up to 500 characters.
    #[serde(default)]
    pub summary: String,
    /// Up to 10 tags: letters, digits and `-`.
    #[serde(default)]
    pub tags: Vec<String>,
    /// `public`, `unlisted` or `private` (default: private, a draft).
    pub visibility: Option<String>,
}

/// Create a subject (with its root topic). The slug is made from the title.
#[utoipa::path(post, path = "/subjects", tag = "subjects", request_body = NewSubjectRequest,
    responses(
        (status = 201, body = SubjectCard),
        (status = 401, body = ErrorResponse),
        (status = 422, body = ErrorResponse),
    ),
    security(("session" = []), ("bearer" = [])))]
pub async fn create_subject(
    State(state): State<AppState>,
    Signed(caller): Signed,
    ApiJson(body): ApiJson<NewSubjectRequest>,
) -> Result<(StatusCode, Json<SubjectCard>), ApiError> {
    let input = SubjectInput {
        title: body.title,
        summary: body.summary,
        tags: body.tags,
        visibility: body.visibility,
    };
    Ok((
        StatusCode::CREATED,
        Json(subjects::create(&state, &caller, &input).await?),
    ))
}

/// A subject with its whole topic tree. Private subjects are 404 to everyone but the owner
/// and collaborators.
#[utoipa::path(get, path = "/subjects/{slug}", tag = "subjects",
    params(("slug" = String, Path)),
    responses((status = 200, body = SubjectDetail), (status = 404, body = ErrorResponse)))]
pub async fn get_subject(
    State(state): State<AppState>,
    Visitor(caller): Visitor,
    client: Option<Extension<ClientAddr>>,
    ApiPath(slug): ApiPath<String>,
) -> Result<Json<SubjectDetail>, ApiError> {
    let slug = Slug::parse(&slug)?;
    let client = client.map(|Extension(ClientAddr(addr))| addr);
    let reader = subjects::Reader {
        caller: caller.as_ref(),
        client: client.as_deref(),
    };
    let (detail, _) = subjects::read_subject(&state, reader, &slug, &[], false).await?;
    Ok(Json(detail))
}

/// Changes to a subject; absent fields stay as they are.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SubjectPatch {
    pub title: Option<String>,
    pub summary: Option<String>,
    pub tags: Option<Vec<String>>,
    /// Owner only.
    pub visibility: Option<String>,
}

/// Edit a subject: title, summary and tags (owner and editors), visibility (owner).
#[utoipa::path(patch, path = "/subjects/{slug}", tag = "subjects", request_body = SubjectPatch,
    params(("slug" = String, Path)),
    responses(
        (status = 200, body = SubjectCard),
        (status = 401, body = ErrorResponse),
        (status = 403, body = ErrorResponse),
        (status = 404, body = ErrorResponse),
        (status = 422, body = ErrorResponse),
    ),
    security(("session" = []), ("bearer" = [])))]
pub async fn update_subject(
    State(state): State<AppState>,
    Visitor(caller): Visitor,
    ApiPath(slug): ApiPath<String>,
    ApiJson(body): ApiJson<SubjectPatch>,
) -> Result<Json<SubjectCard>, ApiError> {
    let slug = Slug::parse(&slug)?;
    let changes = SubjectChanges {
        title: body.title,
        summary: body.summary,
        tags: body.tags,
        visibility: body.visibility,
    };
    Ok(Json(
        subjects::update(&state, caller.as_ref(), &slug, &changes).await?,
    ))
}

/// Deletion must be confirmed by repeating the slug.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DeleteParams {
    /// The subject's slug again.
    #[serde(default)]
    pub confirm: String,
}

/// Delete a subject and everything in it (owner only; `?confirm={slug}`).
#[utoipa::path(delete, path = "/subjects/{slug}", tag = "subjects",
    params(("slug" = String, Path), DeleteParams),
    responses(
        (status = 204, description = "Deleted"),
        (status = 401, body = ErrorResponse),
        (status = 403, body = ErrorResponse),
        (status = 404, body = ErrorResponse),
        (status = 422, description = "Not confirmed", body = ErrorResponse),
    ),
    security(("session" = []), ("bearer" = [])))]
pub async fn delete_subject(
    State(state): State<AppState>,
    Visitor(caller): Visitor,
    ApiPath(slug): ApiPath<String>,
    ApiQuery(params): ApiQuery<DeleteParams>,
) -> Result<StatusCode, ApiError> {
    let slug = Slug::parse(&slug)?;
    subjects::delete(&state, caller.as_ref(), &slug, &params.confirm).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The subject's collaborators (owner and editors).
#[utoipa::path(get, path = "/subjects/{slug}/members", tag = "subjects",
    params(("slug" = String, Path)),
    responses(
        (status = 200, body = Vec<Member>),
        (status = 403, body = ErrorResponse),
        (status = 404, body = ErrorResponse),
    ),
    security(("session" = []), ("bearer" = [])))]
pub async fn list_members(
    State(state): State<AppState>,
    Visitor(caller): Visitor,
    ApiPath(slug): ApiPath<String>,
) -> Result<Json<Vec<Member>>, ApiError> {
    let slug = Slug::parse(&slug)?;
    Ok(Json(
        subjects::members(&state, caller.as_ref(), &slug).await?,
    ))
}

/// A collaborator's role.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RoleRequest {
    /// `editor` or `viewer`.
    pub role: String,
}

/// Invite a collaborator or change their role (owner only).
#[utoipa::path(put, path = "/subjects/{slug}/members/{username}", tag = "subjects",
    request_body = RoleRequest,
    params(("slug" = String, Path), ("username" = String, Path)),
    responses(
        (status = 200, body = Vec<Member>),
        (status = 403, body = ErrorResponse),
        (status = 404, body = ErrorResponse),
        (status = 422, body = ErrorResponse),
    ),
    security(("session" = []), ("bearer" = [])))]
pub async fn set_member(
    State(state): State<AppState>,
    Visitor(caller): Visitor,
    ApiPath((slug, username)): ApiPath<(String, String)>,
    ApiJson(body): ApiJson<RoleRequest>,
) -> Result<Json<Vec<Member>>, ApiError> {
    let slug = Slug::parse(&slug)?;
    Ok(Json(
        subjects::set_member(&state, caller.as_ref(), &slug, &username, &body.role).await?,
    ))
}

/// Remove a collaborator (owner only).
#[utoipa::path(delete, path = "/subjects/{slug}/members/{username}", tag = "subjects",
    params(("slug" = String, Path), ("username" = String, Path)),
    responses(
        (status = 204, description = "Removed"),
        (status = 403, body = ErrorResponse),
        (status = 404, body = ErrorResponse),
    ),
    security(("session" = []), ("bearer" = [])))]
pub async fn remove_member(
    State(state): State<AppState>,
    Visitor(caller): Visitor,
    ApiPath((slug, username)): ApiPath<(String, String)>,
) -> Result<StatusCode, ApiError> {
    let slug = Slug::parse(&slug)?;
    subjects::remove_member(&state, caller.as_ref(), &slug, &username).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn mark(
    state: &AppState,
    caller: Option<Caller>,
    slug: &Slug,
    mark: Mark,
    on: bool,
) -> Result<Json<SubjectCard>, ApiError> {
    Ok(Json(
        subjects::set_mark(state, caller.as_ref(), slug, mark, on).await?,
    ))
}

/// Like a subject (idempotent). Returns the new counts.
#[utoipa::path(put, path = "/subjects/{slug}/like", tag = "subjects",
    params(("slug" = String, Path)),
    responses((status = 200, body = SubjectCard), (status = 401, body = ErrorResponse), (status = 404, body = ErrorResponse)),
    security(("session" = []), ("bearer" = [])))]
pub async fn like_subject(
    State(state): State<AppState>,
    Visitor(caller): Visitor,
    ApiPath(slug): ApiPath<String>,
) -> Result<Json<SubjectCard>, ApiError> {
    let slug = Slug::parse(&slug)?;
    mark(&state, caller, &slug, Mark::Like, true).await
}

/// Take a like back (idempotent).
#[utoipa::path(delete, path = "/subjects/{slug}/like", tag = "subjects",
    params(("slug" = String, Path)),
    responses((status = 200, body = SubjectCard), (status = 401, body = ErrorResponse), (status = 404, body = ErrorResponse)),
    security(("session" = []), ("bearer" = [])))]
pub async fn unlike_subject(
    State(state): State<AppState>,
    Visitor(caller): Visitor,
    ApiPath(slug): ApiPath<String>,
) -> Result<Json<SubjectCard>, ApiError> {
    let slug = Slug::parse(&slug)?;
    mark(&state, caller, &slug, Mark::Like, false).await
}

/// Save a subject to read later (idempotent).
#[utoipa::path(put, path = "/subjects/{slug}/save", tag = "subjects",
    params(("slug" = String, Path)),
    responses((status = 200, body = SubjectCard), (status = 401, body = ErrorResponse), (status = 404, body = ErrorResponse)),
    security(("session" = []), ("bearer" = [])))]
pub async fn save_subject(
    State(state): State<AppState>,
    Visitor(caller): Visitor,
    ApiPath(slug): ApiPath<String>,
) -> Result<Json<SubjectCard>, ApiError> {
    let slug = Slug::parse(&slug)?;
    mark(&state, caller, &slug, Mark::Save, true).await
}

/// Remove a subject from the saved list (idempotent).
#[utoipa::path(delete, path = "/subjects/{slug}/save", tag = "subjects",
    params(("slug" = String, Path)),
    responses((status = 200, body = SubjectCard), (status = 401, body = ErrorResponse), (status = 404, body = ErrorResponse)),
    security(("session" = []), ("bearer" = [])))]
pub async fn unsave_subject(
    State(state): State<AppState>,
    Visitor(caller): Visitor,
    ApiPath(slug): ApiPath<String>,
) -> Result<Json<SubjectCard>, ApiError> {
    let slug = Slug::parse(&slug)?;
    mark(&state, caller, &slug, Mark::Save, false).await
}

/// Paging parameters.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct PageParams {
    /// From the previous page's `next_cursor`.
    pub cursor: Option<String>,
    /// 1–100, default 20.
    pub limit: Option<i64>,
}

/// Subjects by the people you follow, most recently published or updated first.
#[utoipa::path(get, path = "/me/feed", tag = "me", params(PageParams),
    responses((status = 200, body = SubjectPage), (status = 400, body = ErrorResponse), (status = 401, body = ErrorResponse)),
    security(("session" = []), ("bearer" = [])))]
pub async fn get_feed(
    State(state): State<AppState>,
    Signed(caller): Signed,
    ApiQuery(params): ApiQuery<PageParams>,
) -> Result<Json<SubjectPage>, ApiError> {
    Ok(Json(
        catalogue::feed(&state, &caller, params.cursor.as_deref(), params.limit).await?,
    ))
}

/// Your saved subjects, most recently saved first.
#[utoipa::path(get, path = "/me/saved", tag = "me", params(PageParams),
    responses((status = 200, body = SubjectPage), (status = 400, body = ErrorResponse), (status = 401, body = ErrorResponse)),
    security(("session" = []), ("bearer" = [])))]
pub async fn get_saved(
    State(state): State<AppState>,
    Signed(caller): Signed,
    ApiQuery(params): ApiQuery<PageParams>,
) -> Result<Json<SubjectPage>, ApiError> {
    Ok(Json(
        catalogue::saved(&state, &caller, params.cursor.as_deref(), params.limit).await?,
    ))
}
