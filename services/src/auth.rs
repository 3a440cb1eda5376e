//! Who is calling: the session cookie (browsers) or a bearer token (other clients), resolved
//! against the database on every request — nothing about a session lives in process memory,
//! so any replica can serve any request.

use arbor_db::DbError;
use arbor_db::users::UserRow;
use cookie::time::Duration as CookieDuration;
use cookie::{Cookie, SameSite};
use http::{HeaderMap, header};

use crate::{AuthPolicy, ServiceError, Services, now_ms, secrets};

/// The session cookie's name (a public contract).
pub const SESSION_COOKIE: &str = "arbor_session";

/// Sessions are marked as seen at most this often, so reading pages is not a write each time.
const TOUCH_EVERY_MS: i64 = 60_000;

/// The client's address as the server determined it (the socket peer, or the proxy's
/// `X-Forwarded-For` when the operator trusts it). Put into request extensions by `server/`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientAddr(pub String);

/// The signed-in caller of a request.
#[derive(Debug, Clone)]
pub struct Caller {
    pub user: UserRow,
    /// The hash of the session used, when the caller came by cookie.
    pub session: Option<Vec<u8>>,
}

/// The `Set-Cookie` value that starts a browser session.
pub fn session_cookie(secret: &str, policy: &AuthPolicy) -> String {
    Cookie::build((SESSION_COOKIE, secret.to_owned()))
        .path("/")
        .http_only(true)
        .same_site(SameSite::Lax)
        .secure(policy.secure_cookies)
        .max_age(CookieDuration::try_from(policy.session_absolute).unwrap_or(CookieDuration::DAY))
        .build()
        .to_string()
}

/// The `Set-Cookie` value that removes the session cookie from the browser.
pub fn clear_session_cookie(policy: &AuthPolicy) -> String {
    Cookie::build((SESSION_COOKIE, ""))
        .path("/")
        .http_only(true)
        .same_site(SameSite::Lax)
        .secure(policy.secure_cookies)
        .max_age(CookieDuration::ZERO)
        .build()
        .to_string()
}

/// The bearer token in `Authorization`, if any.
pub fn bearer_token(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim())
        .filter(|t| !t.is_empty())
}

/// The value of cookie `name`, if the request carries a non-empty one.
pub fn cookie_value(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(Cookie::split_parse)
        .filter_map(Result::ok)
        .find(|c| c.name() == name)
        .map(|c| c.value().to_owned())
        .filter(|v| !v.is_empty())
}

/// The session cookie's value, if any.
pub fn session_secret(headers: &HeaderMap) -> Option<String> {
    cookie_value(headers, SESSION_COOKIE)
}

/// Carries a new token's secret to the settings page after a form post without JavaScript.
pub const NEW_TOKEN_COOKIE: &str = "arbor_new_token";

/// The `Set-Cookie` value that hands `secret` to `/settings` for two minutes, or (with `None`)
/// removes it.
pub fn new_token_cookie(secret: Option<&str>, policy: &AuthPolicy) -> String {
    Cookie::build((NEW_TOKEN_COOKIE, secret.unwrap_or_default().to_owned()))
        .path("/settings")
        .http_only(true)
        .same_site(SameSite::Strict)
        .secure(policy.secure_cookies)
        .max_age(if secret.is_some() {
            CookieDuration::minutes(2)
        } else {
            CookieDuration::ZERO
        })
        .build()
        .to_string()
}

/// The owner of personal access token `token` (from `Authorization: Bearer`, or a websocket's
/// `?token=`); an invalid token is an error (the client meant to sign in).
pub async fn token_caller(state: &Services, token: &str) -> Result<Caller, ServiceError> {
    match state.db().token_user(&secrets::hash(token), now_ms()).await {
        Ok(user) => Ok(Caller {
            user,
            session: None,
        }),
        Err(DbError::NotFound) => Err(ServiceError::new(
            arbor_types::error::ErrorCode::Unauthenticated,
            "The access token is not valid (it may have been revoked).",
        )),
        Err(e) => Err(e.into()),
    }
}

/// Resolves the caller from request headers. `Ok(None)` when no credential was presented or
/// the session has lapsed; an invalid bearer token is an error (the client meant to sign in).
pub async fn caller(state: &Services, headers: &HeaderMap) -> Result<Option<Caller>, ServiceError> {
    let now = now_ms();
    if let Some(token) = bearer_token(headers) {
        return token_caller(state, token).await.map(Some);
    }
    let Some(secret) = session_secret(headers) else {
        return Ok(None);
    };
    let hash = secrets::hash(&secret);
    let idle_cutoff = state.policy().idle_cutoff(now);
    match state.db().session_user(&hash, now, idle_cutoff).await {
        Ok(found) => {
            // Best effort: a missed touch only makes the idle expiry a minute early.
            if now - found.session_last_seen_at > TOUCH_EVERY_MS
                && let Err(e) = state.db().touch_session(&hash, now).await
            {
                tracing::warn!(error = %e, "could not record session activity");
            }
            Ok(Some(Caller {
                user: found.user,
                session: Some(hash),
            }))
        }
        Err(DbError::NotFound) => Ok(None),
        Err(e) => Err(e.into()),
    }
}
