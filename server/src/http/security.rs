//! Security headers on every response. HTML pages get a Content-Security-Policy with a fresh
//! script nonce per response (the same nonce Leptos puts on its hydration scripts, see
//! [`CspNonce`]); everything else gets a policy that allows nothing, which is right for JSON,
//! metrics and static files — except a `304 Not Modified`, which gets no policy at all: a
//! browser merges a 304's headers into the response it stored, whose body carries the nonce of
//! its own policy, so any policy sent with a 304 would contradict that page (RFC 9111 §4.3.4).

use axum::Router;
use axum::http::{HeaderName, HeaderValue, StatusCode, header};
use axum::response::Response;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use tower_http::set_header::SetResponseHeaderLayer;

pub fn layer<S: Clone + Send + Sync + 'static>(router: Router<S>) -> Router<S> {
    let headers: [(HeaderName, &'static str); 5] = [
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::X_FRAME_OPTIONS, "DENY"),
        // `same-origin` sends our own pages' Referer (which form posts without JavaScript use to
        // come back with their errors) and nothing at all to other sites.
        (header::REFERRER_POLICY, "same-origin"),
        (
            HeaderName::from_static("cross-origin-opener-policy"),
            "same-origin",
        ),
        (
            HeaderName::from_static("permissions-policy"),
            "camera=(), microphone=(), geolocation=(), interest-cohort=()",
        ),
    ];
    let router = headers.into_iter().fold(router, |router, (name, value)| {
        router.layer(SetResponseHeaderLayer::if_not_present(
            name,
            HeaderValue::from_static(value),
        ))
    });
    // Pages set their own policy (`content_security_policy`); the rest allow nothing, and a
    // 304 carries none.
    router.layer(SetResponseHeaderLayer::if_not_present(
        header::CONTENT_SECURITY_POLICY,
        |response: &Response| {
            (response.status() != StatusCode::NOT_MODIFIED)
                .then_some(HeaderValue::from_static(NOTHING_ALLOWED))
        },
    ))
}

/// The policy of everything that is not a page.
const NOTHING_ALLOWED: &str = "default-src 'none'; frame-ancestors 'none'";

/// `Cache-Control: private, no-store` on every response to a request that carried a
/// credential, unless the handler chose otherwise: personal pages, API answers and new token
/// secrets must never sit in a shared cache. Static assets (`/pkg`, `/editor`) stay cacheable.
pub async fn no_store_when_credentialed(
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    let path = req.uri().path();
    let credentialed = !(path.starts_with("/pkg/") || path.starts_with("/editor/"))
        && (req.headers().contains_key(header::AUTHORIZATION)
            || arbor_services::auth::session_secret(req.headers()).is_some());
    let mut response = next.run(req).await;
    if credentialed {
        response
            .headers_mut()
            .entry(header::CACHE_CONTROL)
            .or_insert(HeaderValue::from_static("private, no-store"));
    }
    response
}

/// This request's script nonce, in the request extensions for the page renderer.
#[derive(Debug, Clone)]
pub struct CspNonce(pub String);

/// Chooses a nonce for the request, and sends the page policy with it on HTML responses.
/// (Setting the header here, not from inside the render, makes it hold for every page,
/// however it was rendered or streamed.)
pub async fn content_security_policy(
    mut req: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    let nonce = URL_SAFE_NO_PAD.encode(rand::random::<[u8; 16]>());
    req.extensions_mut().insert(CspNonce(nonce.clone()));
    let mut response = next.run(req).await;
    let is_html = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/html"));
    if is_html {
        let policy = format!(
            "default-src 'self'; script-src 'self' 'nonce-{nonce}' 'wasm-unsafe-eval'; \
             style-src 'self'; img-src 'self' data:; connect-src 'self'; object-src 'none'; \
             base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
        );
        if let Ok(value) = HeaderValue::from_str(&policy) {
            response
                .headers_mut()
                .insert(header::CONTENT_SECURITY_POLICY, value);
        }
    }
    response
}
