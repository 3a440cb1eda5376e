//! Refuses cross-site state-changing requests. A browser attaches our session cookie to a form
//! post from any site (SameSite=Lax stops only some of them), and Leptos server functions take
//! plain form posts — so every non-GET request must show that it came from our own pages:
//! `Sec-Fetch-Site: same-origin` (modern browsers), else an `Origin` or `Referer` whose origin
//! is ours (the public URL, or the `Host` the request was sent to when none is configured).
//! Requests authenticated by bearer token carry no ambient credential and are let through, as
//! are cookie-less requests that carry no browser headers at all (scripts, curl).

use arbor_services::auth::{bearer_token, session_secret};
use arbor_types::error::AppError;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::error::ApiError;

/// The origin the site is served from, when the operator configured one.
#[derive(Clone)]
pub struct PublicOrigin(pub Option<String>);

/// Our verdict on a state-changing request.
#[derive(Debug, PartialEq, Eq)]
enum Verdict {
    Allow,
    Refuse(&'static str),
}

fn origin_of(url: &str) -> Option<String> {
    let u = url::Url::parse(url).ok()?;
    Some(u.origin().ascii_serialization()).filter(|o| o != "null")
}

/// Why a websocket handshake must be refused as cross-site, if it must: with a session cookie
/// it is judged like a state-changing request (browsers always send `Origin` on websockets,
/// and a page on another site could otherwise edit with the reader's cookie).
pub fn websocket_refusal(headers: &HeaderMap, public: &PublicOrigin) -> Option<&'static str> {
    match judge(&Method::POST, headers, public.0.as_deref()) {
        Verdict::Allow => None,
        Verdict::Refuse(why) => Some(why),
    }
}

fn judge(method: &Method, headers: &HeaderMap, public: Option<&str>) -> Verdict {
    if matches!(
        *method,
        Method::GET | Method::HEAD | Method::OPTIONS | Method::TRACE
    ) {
        return Verdict::Allow;
    }
    let has_cookie = session_secret(headers).is_some();
    if bearer_token(headers).is_some() && !has_cookie {
        return Verdict::Allow;
    }
    if let Some(site) = headers.get("sec-fetch-site").and_then(|v| v.to_str().ok()) {
        return match site {
            "same-origin" | "none" => Verdict::Allow,
            _ => Verdict::Refuse("This request came from another site and was refused."),
        };
    }
    let origin = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok());
    if origin == Some("null") {
        // An opaque origin (a sandboxed frame, a data: page) is never one of our pages.
        return Verdict::Refuse("This request came from another site and was refused.");
    }
    let claimed = origin.map(str::to_owned).or_else(|| {
        headers
            .get(header::REFERER)
            .and_then(|v| v.to_str().ok())
            .and_then(origin_of)
    });
    let Some(claimed) = claimed else {
        // No browser headers at all: a script. Only refuse it if it carries a session cookie.
        return if has_cookie {
            Verdict::Refuse("A request with a session cookie must say where it came from (Origin).")
        } else {
            Verdict::Allow
        };
    };
    let ours = match public {
        Some(public) => claimed == public,
        None => {
            let host = headers.get(header::HOST).and_then(|v| v.to_str().ok());
            let claimed_host = claimed.split_once("://").map(|(_, h)| h);
            host.is_some() && claimed_host == host
        }
    };
    if ours {
        Verdict::Allow
    } else {
        Verdict::Refuse("This request came from another site and was refused.")
    }
}

pub async fn refuse_cross_site(
    State(public): State<PublicOrigin>,
    req: Request,
    next: Next,
) -> Response {
    match judge(req.method(), req.headers(), public.0.as_deref()) {
        Verdict::Allow => next.run(req).await,
        Verdict::Refuse(why) => {
            tracing::info!(method = %req.method(), path = %req.uri().path(), "cross-site request refused");
            ApiError(AppError::forbidden(why)).into_response()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(*k, HeaderValue::from_static(v));
        }
        h
    }

    #[test]
    fn safe_methods_pass() {
        let h = headers(&[
            ("origin", "https://evil.example"),
            ("cookie", "arbor_session=x"),
        ]);
        assert_eq!(judge(&Method::GET, &h, None), Verdict::Allow);
    }

    #[test]
    fn fetch_metadata_decides_when_present() {
        let same = headers(&[
            ("sec-fetch-site", "same-origin"),
            ("cookie", "arbor_session=x"),
        ]);
        assert_eq!(judge(&Method::POST, &same, None), Verdict::Allow);
        let cross = headers(&[
            ("sec-fetch-site", "cross-site"),
            ("cookie", "arbor_session=x"),
        ]);
        assert!(matches!(
            judge(&Method::POST, &cross, None),
            Verdict::Refuse(_)
        ));
        let sibling = headers(&[("sec-fetch-site", "same-site")]);
        assert!(matches!(
            judge(&Method::POST, &sibling, None),
            Verdict::Refuse(_)
        ));
    }

    #[test]
    fn origin_must_match_public_url_or_host() {
        let good = headers(&[
            ("origin", "https://arbor.example"),
            ("cookie", "arbor_session=x"),
        ]);
        assert_eq!(
            judge(&Method::POST, &good, Some("https://arbor.example")),
            Verdict::Allow
        );
        let bad = headers(&[
            ("origin", "https://evil.example"),
            ("cookie", "arbor_session=x"),
        ]);
        assert!(matches!(
            judge(&Method::POST, &bad, Some("https://arbor.example")),
            Verdict::Refuse(_)
        ));
        let by_host = headers(&[
            ("origin", "http://127.0.0.1:3000"),
            ("host", "127.0.0.1:3000"),
        ]);
        assert_eq!(judge(&Method::POST, &by_host, None), Verdict::Allow);
        let referer = headers(&[
            ("referer", "http://127.0.0.1:4000/login"),
            ("host", "127.0.0.1:3000"),
        ]);
        assert!(matches!(
            judge(&Method::POST, &referer, None),
            Verdict::Refuse(_)
        ));
    }

    #[test]
    fn scripts_without_cookies_or_with_bearer_pass() {
        assert_eq!(judge(&Method::POST, &headers(&[]), None), Verdict::Allow);
        let bearer = headers(&[
            ("authorization", "Bearer arbor_pat_x"),
            ("origin", "https://evil.example"),
        ]);
        assert_eq!(judge(&Method::DELETE, &bearer, None), Verdict::Allow);
        let opaque = headers(&[("origin", "null")]);
        assert!(matches!(
            judge(&Method::POST, &opaque, None),
            Verdict::Refuse(_)
        ));
        let cookie_only = headers(&[("cookie", "arbor_session=x")]);
        assert!(matches!(
            judge(&Method::POST, &cookie_only, None),
            Verdict::Refuse(_)
        ));
    }
}
