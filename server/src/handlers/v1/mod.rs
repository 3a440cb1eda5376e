//! The JSON API, version 1 (`/api/v1`), described by the OpenAPI document built here from the
//! handlers' annotations.

pub mod auth;
pub mod me;
pub mod subjects;
pub mod tokens;
pub mod topics;
pub mod transfer;
pub mod users;

use arbor_app::ssr::AppState;
use axum::Router;
use axum::extract::{FromRequest, FromRequestParts};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::http::error::ApiError;

/// A JSON body whose rejections (bad syntax, wrong shape, too large) answer in our error shape.
#[derive(FromRequest)]
#[from_request(via(axum::Json), rejection(ApiError))]
pub struct ApiJson<T>(pub T);

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Arbor API",
        description = "Learn and teach through mind maps. Errors are `{\"error\": {\"code\", \"message\", \"field\"?}}`.",
        version = "1"
    ),
    servers((url = "/api/v1")),
    modifiers(&Security),
    components(schemas(crate::http::error::ErrorResponse)),
    tags(
        (name = "auth", description = "Sign up, sign in and out"),
        (name = "me", description = "The signed-in account"),
        (name = "tokens", description = "Personal access tokens"),
        (name = "users", description = "Public profiles, authors and follows"),
        (name = "subjects", description = "Subjects, the catalogue, collaborators, likes and saves"),
        (name = "topics", description = "The topic tree of a subject"),
        (name = "transfer", description = "Import and export of a subject's tree, with an import history"),
    )
)]
struct ApiDoc;

struct Security;

impl Modify for Security {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
        components.add_security_scheme(
            "session",
            SecurityScheme::ApiKey(utoipa::openapi::security::ApiKey::Cookie(
                utoipa::openapi::security::ApiKeyValue::new("arbor_session"),
            )),
        );
    }
}

/// A query string whose rejections answer in our error shape.
#[derive(FromRequestParts)]
#[from_request(via(axum::extract::Query), rejection(ApiError))]
pub struct ApiQuery<T>(pub T);

/// A path parameter whose rejections answer in our error shape.
#[derive(FromRequestParts)]
#[from_request(via(axum::extract::Path), rejection(ApiError))]
pub struct ApiPath<T>(pub T);

/// The `/api/v1` router (paths relative to it) and its OpenAPI document.
pub fn router() -> (Router<AppState>, utoipa::openapi::OpenApi) {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(auth::signup))
        .routes(routes!(auth::login))
        .routes(routes!(auth::logout))
        .routes(routes!(me::get_me, me::update_me, me::delete_me))
        .routes(routes!(me::change_password))
        .routes(routes!(me::list_sessions, me::end_other_sessions))
        .routes(routes!(tokens::list_tokens, tokens::create_token))
        .routes(routes!(tokens::revoke_token))
        .routes(routes!(users::get_user))
        .routes(routes!(users::get_author))
        .routes(routes!(users::follow, users::unfollow))
        .routes(routes!(subjects::search_subjects, subjects::create_subject))
        .routes(routes!(
            subjects::get_subject,
            subjects::update_subject,
            subjects::delete_subject
        ))
        .routes(routes!(subjects::list_members))
        .routes(routes!(subjects::set_member, subjects::remove_member))
        .routes(routes!(subjects::like_subject, subjects::unlike_subject))
        .routes(routes!(subjects::save_subject, subjects::unsave_subject))
        .routes(routes!(subjects::get_feed))
        .routes(routes!(subjects::get_saved))
        .routes(routes!(topics::create_topic))
        .routes(routes!(
            topics::get_topic,
            topics::update_topic,
            topics::delete_topic
        ))
        .routes(routes!(topics::move_topic))
        .routes(routes!(topics::preview_topic))
        .routes(routes!(topics::list_backlinks))
        .routes(routes!(topics::list_trash))
        .routes(routes!(topics::restore_topic))
        .routes(routes!(transfer::create_import, transfer::list_imports))
        .routes(routes!(transfer::import_source))
        .routes(routes!(transfer::rollback_import))
        .routes(routes!(transfer::export_subject))
        .split_for_parts()
}
