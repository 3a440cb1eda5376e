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
use axum::http::{HeaderValue, Method, Uri, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
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

/// The decoded `__path`, `__err` and `__sig` of a query string (decoded names too, as Leptos
/// and browsers decode them), or `Err(())` when one of them is given twice.
fn error_params(query: &str) -> Result<[Option<String>; 3], ()> {
    let mut found = [None, None, None];
    for (name, value) in url::form_urlencoded::parse(query.as_bytes()) {
        if let Some(i) = PARAMS.iter().position(|p| *p == name) {
            if found[i].is_some() {
                return Err(());
            }
            found[i] = Some(value.into_owned());
        }
    }
    Ok(found)
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

/// Whether `query` carries form-error parameters without a valid signature.
fn is_forged(key: &FormErrorKey, query: &str) -> bool {
    match error_params(query) {
        Err(()) => true,
        Ok([None, None, None]) => false,
        Ok([Some(path), Some(err), Some(sig)]) => !key.verify(&path, &err, &sig),
        Ok(_) => true,
    }
}

pub async fn sign_and_verify(
    State(key): State<FormErrorKey>,
    mut req: Request,
    next: Next,
) -> Response {
    // Incoming: an error without a valid signature never reaches the page. A browser is sent
    // to the clean address (so the hydrated page, which reads the address bar, does not show
    // it either); other requests just lose the parameters.
    if let Some(query) = req.uri().query()
        && is_forged(&key, query)
    {
        let kept = strip_error_params(query);
        let clean = if kept.is_empty() {
            req.uri().path().to_owned()
        } else {
            format!("{}?{kept}", req.uri().path())
        };
        tracing::info!(path = %req.uri().path(), "unsigned form error removed from the URL");
        if matches!(*req.method(), Method::GET | Method::HEAD) {
            return Redirect::to(&clean).into_response();
        }
        if let Ok(uri) = clean.parse::<Uri>() {
            *req.uri_mut() = uri;
        }
    }

    // Outgoing: sign the error Leptos put in a redirect.
    let mut response = next.run(req).await;
    let location = response
        .headers()
        .get(header::LOCATION)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    if let Some(location) = location {
        let (url, fragment) = location
            .split_once('#')
            .map_or((location.as_str(), None), |(u, f)| (u, Some(f)));
        if let Some((_, query)) = url.split_once('?')
            && let Ok([Some(path), Some(err), None]) = error_params(query)
        {
            let mut signed = format!("{url}&__sig={}", key.sign(&path, &err));
            if let Some(fragment) = fragment {
                signed = format!("{signed}#{fragment}");
            }
            if let Ok(value) = HeaderValue::from_str(&signed) {
                response.headers_mut().insert(header::LOCATION, value);
            }
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
    fn encoded_or_repeated_names_count_as_forged() {
        let key = FormErrorKey::new(vec![7; 32]);
        let sig = key.sign("/fn/login", "e30");
        assert!(!is_forged(
            &key,
            &format!("__path=%2Ffn%2Flogin&__err=e30&__sig={sig}")
        ));
        assert!(!is_forged(&key, "next=%2Fsettings"));
        assert!(is_forged(&key, "__path=%2Ffn%2Flogin&__%65rr=e30"));
        assert!(is_forged(&key, "__path=%2Ffn%2Flogin&%5F_err=e30"));
        assert!(is_forged(
            &key,
            &format!("__path=%2Ffn%2Flogin&__err=e30&__sig={sig}&__err=e31")
        ));
        assert!(is_forged(&key, "__sig=abc"));
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
