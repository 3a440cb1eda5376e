//! `/subjects/{slug}/imports` and `/subjects/{slug}/export`: a subject's tree from and to
//! files. Handlers only adapt HTTP to `arbor_services::transfer`.

use arbor_app::ssr::AppState;
use arbor_services::access::{self, Need};
use arbor_services::transfer::{self, ExportKind};
use arbor_types::content::{ImportItem, Slug};
use arbor_types::error::AppError;
use axum::Json;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::{ApiJson, ApiPath, ApiQuery};
use crate::http::caller::Visitor;
use crate::http::error::{ApiError, ErrorResponse};

/// A file to import into a subject.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ImportRequest {
    /// `markdown`, `opml`, `freemind` or `json`; absent: from the file name's extension.
    pub format: Option<String>,
    /// The file's name, kept in the history (1–200 characters).
    pub filename: String,
    /// The file's text (UTF-8).
    pub content: String,
}

/// A subject's import history.
#[derive(Debug, Serialize, ToSchema)]
pub struct ImportList {
    /// Newest first.
    pub items: Vec<ImportItem>,
}

/// Import a file: the subject's topics are replaced by the file's (the old ones go to the
/// trash) and the import is kept in the history. A bad file answers 422 naming the line or
/// element at fault, and nothing changes.
#[utoipa::path(post, path = "/subjects/{slug}/imports", tag = "transfer", request_body = ImportRequest,
    params(("slug" = String, Path)),
    responses(
        (status = 201, body = ImportItem),
        (status = 401, body = ErrorResponse),
        (status = 403, body = ErrorResponse),
        (status = 404, body = ErrorResponse),
        (status = 413, body = ErrorResponse),
        (status = 422, description = "The file is malformed or too large a tree", body = ErrorResponse),
    ),
    security(("session" = []), ("bearer" = [])))]
pub async fn create_import(
    State(state): State<AppState>,
    Visitor(caller): Visitor,
    ApiPath(slug): ApiPath<String>,
    ApiJson(request): ApiJson<ImportRequest>,
) -> Result<(StatusCode, Json<ImportItem>), ApiError> {
    let slug = Slug::parse(&slug)?;
    let granted = access::subject_for(&state, caller.as_ref(), &slug, Need::Edit).await?;
    let format = transfer::format_of(request.format.as_deref(), &request.filename)?;
    let user_id = caller.as_ref().map_or(0, |c| c.user.id);
    let imported = transfer::import(
        &state,
        &granted,
        user_id,
        format,
        &request.filename,
        &request.content,
    )
    .await?;
    let item = transfer::history(&state, &granted)
        .await?
        .into_iter()
        .find(|item| item.id == imported.id)
        .ok_or_else(|| AppError::internal(anyhow::anyhow!("an import vanished")))?;
    Ok((StatusCode::CREATED, Json(item)))
}

/// A subject's import history (editors).
#[utoipa::path(get, path = "/subjects/{slug}/imports", tag = "transfer",
    params(("slug" = String, Path)),
    responses(
        (status = 200, body = ImportList),
        (status = 401, body = ErrorResponse),
        (status = 403, body = ErrorResponse),
        (status = 404, body = ErrorResponse),
    ),
    security(("session" = []), ("bearer" = [])))]
pub async fn list_imports(
    State(state): State<AppState>,
    Visitor(caller): Visitor,
    ApiPath(slug): ApiPath<String>,
) -> Result<Json<ImportList>, ApiError> {
    let slug = Slug::parse(&slug)?;
    let granted = access::subject_for(&state, caller.as_ref(), &slug, Need::Edit).await?;
    let items = transfer::history(&state, &granted).await?;
    Ok(Json(ImportList { items }))
}

/// `Content-Disposition` for a download named `filename` (an ASCII fallback and the UTF-8
/// name).
fn attachment(filename: &str) -> HeaderValue {
    let ascii: String = filename
        .chars()
        .map(|c| {
            if c.is_ascii_graphic() && c != '"' && c != '\\' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let encoded: String = url::form_urlencoded::byte_serialize(filename.as_bytes())
        .collect::<String>()
        .replace('+', "%20");
    HeaderValue::from_str(&format!(
        "attachment; filename=\"{ascii}\"; filename*=UTF-8''{encoded}"
    ))
    .unwrap_or_else(|_| HeaderValue::from_static("attachment"))
}

fn download(content_type: &'static str, filename: &str, bytes: Vec<u8>) -> Response {
    (
        [
            (header::CONTENT_TYPE, HeaderValue::from_static(content_type)),
            (header::CONTENT_DISPOSITION, attachment(filename)),
        ],
        bytes,
    )
        .into_response()
}

/// Download an import's file as it was uploaded (editors).
#[utoipa::path(get, path = "/subjects/{slug}/imports/{id}/source", tag = "transfer",
    params(("slug" = String, Path), ("id" = i64, Path)),
    responses(
        (status = 200, description = "The file", content_type = "text/plain"),
        (status = 401, body = ErrorResponse),
        (status = 403, body = ErrorResponse),
        (status = 404, body = ErrorResponse),
    ),
    security(("session" = []), ("bearer" = [])))]
pub async fn import_source(
    State(state): State<AppState>,
    Visitor(caller): Visitor,
    ApiPath((slug, id)): ApiPath<(String, i64)>,
) -> Result<Response, ApiError> {
    let slug = Slug::parse(&slug)?;
    let granted = access::subject_for(&state, caller.as_ref(), &slug, Need::Edit).await?;
    let (filename, source) = transfer::source(&state, &granted, id).await?;
    Ok(download(
        "text/plain; charset=utf-8",
        &filename,
        source.into_bytes(),
    ))
}

/// Roll the subject back to the state before an import (the owner; once per import, while
/// the topics it replaced are still in the trash).
#[utoipa::path(post, path = "/subjects/{slug}/imports/{id}/rollback", tag = "transfer",
    params(("slug" = String, Path), ("id" = i64, Path)),
    responses(
        (status = 204, description = "Rolled back"),
        (status = 401, body = ErrorResponse),
        (status = 403, body = ErrorResponse),
        (status = 404, body = ErrorResponse),
        (status = 409, description = "Rolled back already, or its topics were purged", body = ErrorResponse),
    ),
    security(("session" = []), ("bearer" = [])))]
pub async fn rollback_import(
    State(state): State<AppState>,
    Visitor(caller): Visitor,
    ApiPath((slug, id)): ApiPath<(String, i64)>,
) -> Result<StatusCode, ApiError> {
    let slug = Slug::parse(&slug)?;
    let granted = access::subject_for(&state, caller.as_ref(), &slug, Need::Edit).await?;
    transfer::rollback(&state, &granted, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Export parameters.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ExportParams {
    /// `markdown`, `markdown-zip` (one file per topic), `opml`, `freemind`, `json`, `svg` or
    /// `png`.
    pub format: String,
}

/// Download the subject as a file, for anyone who may read it.
#[utoipa::path(get, path = "/subjects/{slug}/export", tag = "transfer", params(("slug" = String, Path), ExportParams),
    responses(
        (status = 200, description = "The file, as an attachment"),
        (status = 404, body = ErrorResponse),
        (status = 422, body = ErrorResponse),
    ))]
pub async fn export_subject(
    State(state): State<AppState>,
    Visitor(caller): Visitor,
    ApiPath(slug): ApiPath<String>,
    ApiQuery(params): ApiQuery<ExportParams>,
) -> Result<Response, ApiError> {
    let slug = Slug::parse(&slug)?;
    let kind = ExportKind::parse(&params.format).ok_or_else(|| {
        AppError::invalid(
            "format",
            "Choose markdown, markdown-zip, opml, freemind, json, svg or png.",
        )
    })?;
    let file = transfer::export(&state, caller.as_ref(), &slug, kind).await?;
    Ok(download(file.content_type, &file.filename, file.bytes))
}
