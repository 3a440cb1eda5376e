//! Public pages: `ETag` validators and `304 Not Modified` on every page a signed-out reader
//! gets, and the in-process cache (`arbor_services::page_cache`) for subject and topic pages.
//!
//! Only signed-out `GET`s of `/s/…` without a query string are served from or stored in the
//! cache, and only pages whose render marked them cacheable ([`CACHE_MARK`]: the subject is
//! readable by anyone). The mark never leaves the server. A hit still counts the reader's view.
//!
//! Keys are canonical paths: lowercase slugs and words, topic ids in plain decimal (then the
//! title's words, which the page itself redirects to when they are not the current ones). Another
//! spelling of the same page (`/s/a%2Db/t/0012/`) is redirected (308) to the canonical one
//! (`/s/a-b/t/12`), and anything that cannot be made canonical is rendered without the cache,
//! so URL variants cannot multiply entries; the cache's byte budget bounds the rest.
//! Other signed-out pages (home, explore, profiles…) are rendered each time but still carry a
//! validator, so an unchanged page costs the client a `304` and no body.

use arbor_app::ssr::AppState;
use arbor_services::auth::{ClientAddr, session_secret};
use arbor_services::{page_cache, subjects};
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::error::ApiError;
use super::security::CspNonce;

/// Set by a page render on a response that may be cached, naming the subject it shows.
pub const CACHE_MARK: &str = "x-arbor-cache-subject";

/// Public pages may be stored anywhere but must be revalidated (cheap, thanks to the ETag).
const PUBLIC_CACHE_CONTROL: &str = "public, no-cache";

/// Largest page the cache stores (or validates).
const MAX_PAGE_BYTES: usize = 8 * 1024 * 1024;

/// A signed-out reader asking for a page (not the API, assets or server functions).
fn anonymous_page_request(req: &Request) -> bool {
    let path = req.uri().path();
    (req.method() == Method::GET || req.method() == Method::HEAD)
        && ![
            "/api/", "/pkg/", "/editor/", "/fn/", "/collab/", "/healthz", "/readyz", "/metrics",
        ]
        .iter()
        .any(|p| path.starts_with(p))
        && !req.headers().contains_key(header::AUTHORIZATION)
        && session_secret(req.headers()).is_none()
}

/// Longest path the cache considers.
const MAX_KEY_BYTES: usize = 256;

/// The canonical spelling of a subject or topic page's path, if it has one: each segment
/// percent-decoded and made only of `a-z`, `0-9` and `-`, no empty segment (a trailing slash
/// is dropped), and the segment after `t` a topic id in plain decimal.
fn canonical_path(path: &str) -> Option<String> {
    if path.len() > MAX_KEY_BYTES || !path.starts_with("/s/") {
        return None;
    }
    let mut segments = path[1..].strip_suffix('/').unwrap_or(&path[1..]).split('/');
    let mut canonical = String::with_capacity(path.len());
    let mut after_t = false;
    for raw in segments.by_ref() {
        let segment = percent_encoding::percent_decode_str(raw)
            .decode_utf8()
            .ok()?;
        let segment = if after_t {
            // A topic: its id in plain decimal, then the words of its title, if any.
            let (id, words) = segment
                .split_once('-')
                .map_or((segment.as_ref(), None), |(id, words)| (id, Some(words)));
            let id = id.parse::<i64>().ok().filter(|id| *id > 0)?;
            match words {
                Some(words) => format!("{id}-{words}"),
                None => id.to_string(),
            }
        } else {
            segment.into_owned()
        };
        let plain = !segment.is_empty()
            && segment
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
        if !plain {
            return None;
        }
        after_t = canonical.matches('/').count() == 2 && segment == "t";
        canonical.push('/');
        canonical.push_str(&segment);
    }
    Some(canonical)
}

/// A permanent redirect to the canonical spelling of the requested page.
fn to_canonical(path: &str) -> Response {
    let mut response = StatusCode::PERMANENT_REDIRECT.into_response();
    if let Ok(location) = HeaderValue::from_str(path) {
        response.headers_mut().insert(header::LOCATION, location);
    }
    response
}

fn is_html(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/html"))
}

fn matches(headers: &HeaderMap, etag: &str) -> bool {
    headers
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|v| v.trim().trim_start_matches("W/"))
        .any(|v| v == etag || v == "*")
}

fn validators(headers: &mut HeaderMap, etag: &str, outcome: &'static str) {
    if let Ok(value) = HeaderValue::from_str(etag) {
        headers.insert(header::ETAG, value);
    }
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static(PUBLIC_CACHE_CONTROL),
    );
    headers.insert(
        header::VARY,
        HeaderValue::from_static("Cookie, Authorization"),
    );
    headers.insert("x-arbor-cache", HeaderValue::from_static(outcome));
}

fn not_modified(etag: &str, outcome: &'static str) -> Response {
    let mut response = StatusCode::NOT_MODIFIED.into_response();
    validators(response.headers_mut(), etag, outcome);
    response
}

pub async fn serve(State(state): State<AppState>, req: Request, next: Next) -> Response {
    if !anonymous_page_request(&req) {
        let mut response = next.run(req).await;
        response.headers_mut().remove(CACHE_MARK);
        return response;
    }
    let key = req.uri().path().to_owned();
    let canonical = req
        .uri()
        .query()
        .is_none()
        .then(|| canonical_path(&key))
        .flatten();
    if let Some(canonical) = canonical.as_deref()
        && canonical != key
    {
        return to_canonical(canonical);
    }
    let cacheable = canonical.is_some();
    let nonce = req
        .extensions()
        .get::<CspNonce>()
        .map(|n| n.0.clone())
        .unwrap_or_default();
    let conditional = req.headers().clone();

    if let Some(page) = cacheable.then(|| state.pages().get(&key)).flatten() {
        metrics::counter!("arbor_page_cache_total", "result" => "hit").increment(1);
        let client = req.extensions().get::<ClientAddr>().map(|c| c.0.clone());
        let viewer = subjects::viewer_key(None, client.as_deref());
        let counting = state.clone();
        tokio::spawn(
            async move { subjects::record_view(&counting, page.subject_id, viewer).await },
        );
        if matches(&conditional, &page.etag) {
            return not_modified(&page.etag, "hit");
        }
        let mut response = Response::new(Body::from(page.body(&nonce)));
        response.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/html; charset=utf-8"),
        );
        validators(response.headers_mut(), &page.etag, "hit");
        return response;
    }

    let generation = state.pages().generation();
    let response = next.run(req).await;
    let subject_id = response
        .headers()
        .get(CACHE_MARK)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<i64>().ok());
    let (mut parts, body) = response.into_parts();
    parts.headers.remove(CACHE_MARK);
    if parts.status != StatusCode::OK || !is_html(&parts.headers) {
        return Response::from_parts(parts, body);
    }
    let subject_id = subject_id.filter(|_| cacheable);
    let bytes = match axum::body::to_bytes(body, MAX_PAGE_BYTES).await {
        Ok(bytes) => bytes,
        Err(e) => {
            tracing::error!(error = %e, "could not read a rendered page");
            return ApiError(arbor_types::error::AppError::internal(anyhow::anyhow!(
                "page body: {e}"
            )))
            .into_response();
        }
    };
    let Ok(text) = std::str::from_utf8(&bytes) else {
        return Response::from_parts(parts, Body::from(bytes));
    };
    let (etag, outcome) = match subject_id {
        Some(subject_id) => {
            metrics::counter!("arbor_page_cache_total", "result" => "miss").increment(1);
            let etag = match state
                .pages()
                .store(key, subject_id, text, &nonce, generation)
            {
                Some(page) => page.etag,
                None => page_cache::etag_of(&page_cache::split_at_nonce(text, &nonce)),
            };
            (etag, "miss")
        }
        None => (
            page_cache::etag_of(&page_cache::split_at_nonce(text, &nonce)),
            "none",
        ),
    };
    parts.headers.remove(header::CONTENT_LENGTH);
    validators(&mut parts.headers, &etag, outcome);
    if matches(&conditional, &etag) {
        return not_modified(&etag, outcome);
    }
    Response::from_parts(parts, Body::from(bytes))
}
