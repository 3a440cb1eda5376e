//! Signs the form errors that travel in redirect URLs.
//!
//! Without JavaScript, a failed form post is redirected back to its page with the error in the
//! query string (`?__path=…&__err=…`), and Leptos renders that error inline. Left alone, anyone
//! could link to `/login?__err=…` with a message of their choosing shown as ours. So every
//! such redirect we send gets `__sig`, an HMAC of the error under a key all replicas share, and
//! a request whose error does not carry a valid signature has the error removed before the page
//! sees it.

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{HeaderValue, Uri, header};
use axum::middleware::Next;
use axum::response::Response;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

/// The key form-error signatures are made with.
#[derive(Clone)]
pub struct FormErrorKey(Arc<Vec<u8>>);

impl FormErrorKey {
    pub fn new(key: Vec<u8>) -> Self {
        Self(Arc::new(key))
    }

    fn mac(&self, path: &str, err: &str) -> Hmac<Sha256> {
        let mut mac =
            Hmac::<Sha256>::new_from_slice(&self.0).expect("HMAC takes keys of any length");
        mac.update(path.as_bytes());
        mac.update(&[0]);
        mac.update(err.as_bytes());
        mac
    }

    fn sign(&self, path: &str, err: &str) -> String {
        URL_SAFE_NO_PAD.encode(self.mac(path, err).finalize().into_bytes())
    }

    fn verify(&self, path: &str, err: &str, sig: &str) -> bool {
        URL_SAFE_NO_PAD
            .decode(sig)
            .is_ok_and(|sig| self.mac(path, err).verify_slice(&sig).is_ok())
    }
}

const PARAMS: [&str; 3] = ["__path", "__err", "__sig"];

/// The decoded `__path`, `__err` and `__sig` of a query string.
fn error_params(query: &str) -> [Option<String>; 3] {
    let mut found = [None, None, None];
    for (name, value) in url::form_urlencoded::parse(query.as_bytes()) {
        if let Some(i) = PARAMS.iter().position(|p| *p == name) {
            found[i] = Some(value.into_owned());
        }
    }
    found
}

/// `query` without the form-error parameters.
fn strip_error_params(query: &str) -> String {
    url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(
            url::form_urlencoded::parse(query.as_bytes())
                .filter(|(name, _)| !PARAMS.contains(&name.as_ref())),
        )
        .finish()
}

pub async fn sign_and_verify(
    State(key): State<FormErrorKey>,
    mut req: Request,
    next: Next,
) -> Response {
    // Incoming: drop an error whose signature is missing or wrong.
    if let Some(query) = req.uri().query().filter(|q| q.contains("__err=")) {
        let [path, err, sig] = error_params(query);
        let genuine =
            matches!((&path, &err, &sig), (Some(p), Some(e), Some(s)) if key.verify(p, e, s));
        if !genuine {
            let kept = strip_error_params(query);
            let path_and_query = if kept.is_empty() {
                req.uri().path().to_owned()
            } else {
                format!("{}?{kept}", req.uri().path())
            };
            if let Ok(uri) = path_and_query.parse::<Uri>() {
                tracing::info!(path = %req.uri().path(), "unsigned form error removed from the URL");
                *req.uri_mut() = uri;
            }
        }
    }

    // Outgoing: sign the error Leptos put in a redirect.
    let mut response = next.run(req).await;
    let location = response
        .headers()
        .get(header::LOCATION)
        .and_then(|v| v.to_str().ok())
        .filter(|l| l.contains("__err="))
        .map(str::to_owned);
    if let Some(location) = location
        && let Some((_, query)) = location.split_once('?')
        && let [Some(path), Some(err), _] =
            error_params(query.split('#').next().unwrap_or_default())
    {
        let signed = format!("{location}&__sig={}", key.sign(&path, &err));
        if let Ok(value) = HeaderValue::from_str(&signed) {
            response.headers_mut().insert(header::LOCATION, value);
        }
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_bind_the_error_to_the_key() {
        let key = FormErrorKey::new(vec![7; 32]);
        let sig = key.sign("/fn/login", "eyJjb2RlIjoi");
        assert!(key.verify("/fn/login", "eyJjb2RlIjoi", &sig));
        assert!(
            !key.verify("/fn/login", "eyJjb2RlIjoj", &sig),
            "another error"
        );
        assert!(
            !key.verify("/fn/signup", "eyJjb2RlIjoi", &sig),
            "another form"
        );
        assert!(!FormErrorKey::new(vec![8; 32]).verify("/fn/login", "eyJjb2RlIjoi", &sig));
        assert!(!key.verify("/fn/login", "eyJjb2RlIjoi", "not base64!"));
    }

    #[test]
    fn stripping_keeps_other_parameters() {
        assert_eq!(
            strip_error_params("next=%2Fsettings&__path=x&__err=y&__sig=z"),
            "next=%2Fsettings"
        );
        assert_eq!(strip_error_params("__err=y"), "");
    }
}
