//! `/subjects/{slug}/topics`: the topic tree. Every change goes through `arbor_services::tree`.

use arbor_app::ssr::AppState;
use arbor_services::access::{self, Need};
use arbor_services::auth::Caller;
use arbor_services::auth::ClientAddr;
use arbor_services::subjects;
use arbor_services::tree::{self, Placement};
use arbor_types::content::{BacklinkPage, Body, Slug, Title, TopicDetail, TrashItem};
use arbor_types::error::AppError;
use axum::extract::State;
use axum::http::StatusCode;
use axum::{Extension, Json};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::{ApiJson, ApiPath, ApiQuery};
use crate::http::caller::Visitor;
use crate::http::error::{ApiError, ErrorResponse};

/// A new topic: give `parent_id` (it becomes the last child) or `after_id` (the next sibling).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewTopicRequest {
    /// 1–120 characters.
    pub title: String,
    /// Markdown, at most 100 KB.
    #[serde(default)]
    pub body: String,
    pub parent_id: Option<i64>,
    pub after_id: Option<i64>,
}

async fn read_topic(
    state: &AppState,
    caller: Option<&Caller>,
    slug: &Slug,
    id: i64,
) -> Result<TopicDetail, ApiError> {
    Ok(subjects::topic_detail(state, caller, slug, id)
        .await?
        .detail)
}

/// Create a topic as a child or a sibling.
#[utoipa::path(post, path = "/subjects/{slug}/topics", tag = "topics", request_body = NewTopicRequest,
    params(("slug" = String, Path)),
    responses(
        (status = 201, body = TopicDetail),
        (status = 401, body = ErrorResponse),
        (status = 403, body = ErrorResponse),
        (status = 404, body = ErrorResponse),
        (status = 413, body = ErrorResponse),
        (status = 422, body = ErrorResponse),
    ),
    security(("session" = []), ("bearer" = [])))]
pub async fn create_topic(
    State(state): State<AppState>,
    Visitor(caller): Visitor,
    ApiPath(slug): ApiPath<String>,
    ApiJson(body): ApiJson<NewTopicRequest>,
) -> Result<(StatusCode, Json<TopicDetail>), ApiError> {
    let slug = Slug::parse(&slug)?;
    let granted = access::subject_for(&state, caller.as_ref(), &slug, Need::Edit).await?;
    let placement = match (body.parent_id, body.after_id) {
        (Some(parent), None) => Placement::ChildOf(parent),
        (None, Some(sibling)) => Placement::After(sibling),
        _ => {
            return Err(AppError::invalid(
                "parent_id",
                "Give exactly one of parent_id (new child) and after_id (new sibling).",
            )
            .into());
        }
    };
    let title = Title::parse(&body.title)?;
    let text = Body::parse(&body.body)?;
    let id = tree::create_topic(&state, &granted, placement, &title, &text).await?;
    Ok((
        StatusCode::CREATED,
        Json(read_topic(&state, caller.as_ref(), &slug, id).await?),
    ))
}

/// A topic: rendered body, breadcrumbs, children, previous/next, links and backlinks.
#[utoipa::path(get, path = "/subjects/{slug}/topics/{id}", tag = "topics",
    params(("slug" = String, Path), ("id" = i64, Path)),
    responses((status = 200, body = TopicDetail), (status = 404, body = ErrorResponse)))]
pub async fn get_topic(
    State(state): State<AppState>,
    Visitor(caller): Visitor,
    client: Option<Extension<ClientAddr>>,
    ApiPath((slug, id)): ApiPath<(String, i64)>,
) -> Result<Json<TopicDetail>, ApiError> {
    let slug = Slug::parse(&slug)?;
    let client = client.map(|Extension(ClientAddr(addr))| addr);
    let reader = subjects::Reader {
        caller: caller.as_ref(),
        client: client.as_deref(),
    };
    Ok(Json(
        subjects::read_topic(&state, reader, &slug, id)
            .await?
            .detail,
    ))
}

/// Where a page of backlinks starts.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct BacklinkParams {
    /// From the previous page's `next_cursor` (or the topic's `backlinks_cursor`).
    pub cursor: Option<String>,
}

/// Topics linking to this one, 50 a page (this subject's first; others' when listed to you).
#[utoipa::path(get, path = "/subjects/{slug}/topics/{id}/backlinks", tag = "topics",
    params(("slug" = String, Path), ("id" = i64, Path), BacklinkParams),
    responses(
        (status = 200, body = BacklinkPage),
        (status = 400, body = ErrorResponse),
        (status = 404, body = ErrorResponse),
        (status = 422, body = ErrorResponse),
    ))]
pub async fn list_backlinks(
    State(state): State<AppState>,
    Visitor(caller): Visitor,
    ApiPath((slug, id)): ApiPath<(String, i64)>,
    ApiQuery(params): ApiQuery<BacklinkParams>,
) -> Result<Json<BacklinkPage>, ApiError> {
    let slug = Slug::parse(&slug)?;
    let (page, _) =
        subjects::backlinks(&state, caller.as_ref(), &slug, id, params.cursor.as_deref()).await?;
    Ok(Json(page))
}

/// Changes to a topic; absent fields stay.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TopicPatch {
    pub title: Option<String>,
    pub body: Option<String>,
}

/// Rename a topic and/or replace its body.
#[utoipa::path(patch, path = "/subjects/{slug}/topics/{id}", tag = "topics", request_body = TopicPatch,
    params(("slug" = String, Path), ("id" = i64, Path)),
    responses(
        (status = 200, body = TopicDetail),
        (status = 401, body = ErrorResponse),
        (status = 403, body = ErrorResponse),
        (status = 404, body = ErrorResponse),
        (status = 413, body = ErrorResponse),
        (status = 422, body = ErrorResponse),
    ),
    security(("session" = []), ("bearer" = [])))]
pub async fn update_topic(
    State(state): State<AppState>,
    Visitor(caller): Visitor,
    ApiPath((slug, id)): ApiPath<(String, i64)>,
    ApiJson(body): ApiJson<TopicPatch>,
) -> Result<Json<TopicDetail>, ApiError> {
    let slug = Slug::parse(&slug)?;
    let granted = access::subject_for(&state, caller.as_ref(), &slug, Need::Edit).await?;
    let title = body.title.as_deref().map(Title::parse).transpose()?;
    let text = body.body.as_deref().map(Body::parse).transpose()?;
    tree::edit_topic(&state, &granted, id, title.as_ref(), text.as_ref()).await?;
    Ok(Json(read_topic(&state, caller.as_ref(), &slug, id).await?))
}

/// Where to move a topic.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MoveRequest {
    /// The new parent (in the same subject; not the topic or one of its descendants).
    pub parent_id: i64,
    /// Position among the new parent's children, 0-based; absent: last.
    pub index: Option<usize>,
}

/// Move a topic: reparent and/or reorder. A move under itself is refused (422).
#[utoipa::path(post, path = "/subjects/{slug}/topics/{id}/move", tag = "topics", request_body = MoveRequest,
    params(("slug" = String, Path), ("id" = i64, Path)),
    responses(
        (status = 200, body = TopicDetail),
        (status = 401, body = ErrorResponse),
        (status = 403, body = ErrorResponse),
        (status = 404, body = ErrorResponse),
        (status = 422, description = "Would make a cycle", body = ErrorResponse),
    ),
    security(("session" = []), ("bearer" = [])))]
pub async fn move_topic(
    State(state): State<AppState>,
    Visitor(caller): Visitor,
    ApiPath((slug, id)): ApiPath<(String, i64)>,
    ApiJson(body): ApiJson<MoveRequest>,
) -> Result<Json<TopicDetail>, ApiError> {
    let slug = Slug::parse(&slug)?;
    let granted = access::subject_for(&state, caller.as_ref(), &slug, Need::Edit).await?;
    tree::move_topic(&state, &granted, id, body.parent_id, body.index).await?;
    Ok(Json(read_topic(&state, caller.as_ref(), &slug, id).await?))
}

/// How many topics a delete sent to the trash.
#[derive(Debug, Serialize, ToSchema)]
pub struct Deleted {
    pub deleted: u64,
}

/// Delete a topic and its whole subtree (not the root). They wait in the subject's trash for
/// 30 days and can be restored whole.
#[utoipa::path(delete, path = "/subjects/{slug}/topics/{id}", tag = "topics",
    params(("slug" = String, Path), ("id" = i64, Path)),
    responses(
        (status = 200, body = Deleted),
        (status = 401, body = ErrorResponse),
        (status = 403, body = ErrorResponse),
        (status = 404, body = ErrorResponse),
        (status = 422, description = "The root", body = ErrorResponse),
    ),
    security(("session" = []), ("bearer" = [])))]
pub async fn delete_topic(
    State(state): State<AppState>,
    Visitor(caller): Visitor,
    ApiPath((slug, id)): ApiPath<(String, i64)>,
) -> Result<Json<Deleted>, ApiError> {
    let slug = Slug::parse(&slug)?;
    let granted = access::subject_for(&state, caller.as_ref(), &slug, Need::Edit).await?;
    let deleted = tree::delete_topic(&state, &granted, id).await?;
    Ok(Json(Deleted { deleted }))
}

/// A draft body to render.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PreviewRequest {
    /// Markdown, at most 100 KB.
    pub body: String,
}

/// A draft body as readers would see it.
#[derive(Debug, Serialize, ToSchema)]
pub struct PreviewResponse {
    /// Sanitised HTML; `[[links]]` to topics you may not see are plain text.
    pub html: String,
}

/// Render a draft body exactly as the topic page would (the live editor's preview). Changes
/// nothing; anyone who may read the topic may ask.
#[utoipa::path(post, path = "/subjects/{slug}/topics/{id}/preview", tag = "topics",
    request_body = PreviewRequest,
    params(("slug" = String, Path), ("id" = i64, Path)),
    responses(
        (status = 200, body = PreviewResponse),
        (status = 404, body = ErrorResponse),
        (status = 413, body = ErrorResponse),
        (status = 422, body = ErrorResponse),
    ))]
pub async fn preview_topic(
    State(state): State<AppState>,
    Visitor(caller): Visitor,
    ApiPath((slug, id)): ApiPath<(String, i64)>,
    ApiJson(request): ApiJson<PreviewRequest>,
) -> Result<Json<PreviewResponse>, ApiError> {
    let slug = Slug::parse(&slug)?;
    let body = Body::parse(&request.body)?;
    let html = subjects::preview(&state, caller.as_ref(), &slug, id, &body).await?;
    Ok(Json(PreviewResponse { html }))
}

/// What a subject's trash holds.
#[derive(Debug, Serialize, ToSchema)]
pub struct TrashList {
    /// Most recently deleted first.
    pub items: Vec<TrashItem>,
}

/// The subject's trash: deleted subtrees, restorable for 30 days (editors).
#[utoipa::path(get, path = "/subjects/{slug}/trash", tag = "topics",
    params(("slug" = String, Path)),
    responses(
        (status = 200, body = TrashList),
        (status = 401, body = ErrorResponse),
        (status = 403, body = ErrorResponse),
        (status = 404, body = ErrorResponse),
    ),
    security(("session" = []), ("bearer" = [])))]
pub async fn list_trash(
    State(state): State<AppState>,
    Visitor(caller): Visitor,
    ApiPath(slug): ApiPath<String>,
) -> Result<Json<TrashList>, ApiError> {
    let slug = Slug::parse(&slug)?;
    let granted = access::subject_for(&state, caller.as_ref(), &slug, Need::Edit).await?;
    let items = tree::trash(&state, &granted).await?;
    Ok(Json(TrashList { items }))
}

/// Restore a deleted subtree where it was (under the root if its old parent is gone too).
#[utoipa::path(post, path = "/subjects/{slug}/trash/{id}/restore", tag = "topics",
    params(("slug" = String, Path), ("id" = i64, Path)),
    responses(
        (status = 200, body = TopicDetail),
        (status = 401, body = ErrorResponse),
        (status = 403, body = ErrorResponse),
        (status = 404, description = "Not in the trash", body = ErrorResponse),
    ),
    security(("session" = []), ("bearer" = [])))]
pub async fn restore_topic(
    State(state): State<AppState>,
    Visitor(caller): Visitor,
    ApiPath((slug, id)): ApiPath<(String, i64)>,
) -> Result<Json<TopicDetail>, ApiError> {
    let slug = Slug::parse(&slug)?;
    let granted = access::subject_for(&state, caller.as_ref(), &slug, Need::Edit).await?;
    tree::restore_topic(&state, &granted, id).await?;
    Ok(Json(read_topic(&state, caller.as_ref(), &slug, id).await?))
}
