//! Server functions for accounts: what the pages call. Each is a thin adapter from a form post
//! to a service in `arbor_services::accounts` (shared with the JSON API), plus the cookie and redirect a
//! browser needs. Without JavaScript these are plain form posts; failures come back to the
//! form through the URL (Leptos' `ServerAction` reads them) so errors show inline either way.

use leptos::server;

use crate::error::AppError;
use crate::model::{Me, NewToken, Profile, SessionInfo, TokenInfo};

#[cfg(feature = "ssr")]
mod edge {
    use axum::http::HeaderValue;
    use axum::http::header::SET_COOKIE;
    use leptos::prelude::*;

    use crate::error::AppError;

    /// Adds a `Set-Cookie` header to the response of this server function call.
    pub fn set_cookie(value: &str) -> Result<(), AppError> {
        let options = use_context::<leptos_axum::ResponseOptions>()
            .ok_or_else(|| AppError::internal(anyhow::anyhow!("ResponseOptions missing")))?;
        let value = HeaderValue::from_str(value).map_err(AppError::internal)?;
        options.append_header(SET_COOKIE, value);
        Ok(())
    }

    /// Signs `username` in, new (`new_account`) or known, sets the session cookie and goes to
    /// `next` (a local path; home otherwise).
    pub async fn enter(
        new_account: bool,
        username: &str,
        password: &str,
        next: Option<&str>,
    ) -> Result<(), AppError> {
        use crate::ssr::{auth, state};
        use arbor_services::accounts;
        let state = state()?;
        let client = auth::current_client_addr();
        let client = client.as_deref();
        let (_, session) = if new_account {
            accounts::signup(&state, username, password, client).await?
        } else {
            accounts::login(&state, username, password, client).await?
        };
        set_cookie(&arbor_services::auth::session_cookie(
            &session.secret,
            state.policy(),
        ))?;
        leptos_axum::redirect(crate::model::local_path_or_root(next.unwrap_or("/")));
        Ok(())
    }

    /// Whether this call is a browser's plain form post (JavaScript off): such a browser
    /// follows a redirect and cannot receive the function's result.
    pub fn is_plain_form_post() -> bool {
        use_context::<axum::http::request::Parts>().is_some_and(|parts| {
            parts
                .headers
                .get(axum::http::header::ACCEPT)
                .and_then(|v| v.to_str().ok())
                .is_some_and(|v| v.contains("text/html"))
        })
    }
}

/// The signed-in person, or `None`.
#[server(prefix = "/fn", endpoint = "me")]
pub async fn current_user() -> Result<Option<Me>, AppError> {
    use crate::ssr::auth::current_caller;
    Ok(current_caller()
        .await?
        .map(|c| arbor_services::accounts::me(c.user)))
}

/// Creates an account, signs it in and goes to `next` (or home).
#[server(prefix = "/fn", endpoint = "signup")]
pub async fn sign_up(
    username: String,
    password: String,
    next: Option<String>,
) -> Result<(), AppError> {
    edge::enter(true, &username, &password, next.as_deref()).await
}

/// Signs in and goes to `next` (or home).
#[server(prefix = "/fn", endpoint = "login")]
pub async fn sign_in(
    username: String,
    password: String,
    next: Option<String>,
) -> Result<(), AppError> {
    edge::enter(false, &username, &password, next.as_deref()).await
}

/// Signs out (ends the session on the server, drops the cookie) and goes home.
#[server(prefix = "/fn", endpoint = "logout")]
pub async fn sign_out() -> Result<(), AppError> {
    use crate::ssr::{auth, state};
    use arbor_services::accounts;
    let state = state()?;
    let caller = auth::current_caller().await?;
    accounts::logout(&state, caller.as_ref()).await?;
    edge::set_cookie(&arbor_services::auth::clear_session_cookie(state.policy()))?;
    leptos_axum::redirect("/");
    Ok(())
}

/// A public profile.
#[server(prefix = "/fn", endpoint = "profile")]
pub async fn get_profile(username: String) -> Result<Profile, AppError> {
    use crate::ssr::{page, state};
    use arbor_services::accounts;
    page::with_status(accounts::profile(&state()?, &username).await)
}

/// Updates the caller's display name and bio.
#[server(prefix = "/fn", endpoint = "profile/update")]
pub async fn update_profile(display_name: String, bio: String) -> Result<Me, AppError> {
    use crate::ssr::{auth, state};
    use arbor_services::accounts;
    let caller = auth::require_caller().await?;
    let me = accounts::update_profile(&state()?, &caller, &display_name, &bio).await?;
    if edge::is_plain_form_post() {
        // The page says so after the redirect (a plain post gets no result).
        leptos_axum::redirect("/settings?saved=profile");
    }
    Ok(me)
}

/// Changes the caller's password, ending their other sessions.
#[server(prefix = "/fn", endpoint = "password")]
pub async fn change_password(
    current_password: String,
    new_password: String,
) -> Result<(), AppError> {
    use crate::ssr::{auth, state};
    use arbor_services::accounts;
    let caller = auth::require_caller().await?;
    let client = auth::current_client_addr();
    accounts::change_password(
        &state()?,
        &caller,
        &current_password,
        &new_password,
        client.as_deref(),
    )
    .await?;
    if edge::is_plain_form_post() {
        leptos_axum::redirect("/settings?saved=password");
    }
    Ok(())
}

/// Deletes the caller's account after checking their password and the confirmation box.
#[server(prefix = "/fn", endpoint = "account/delete")]
pub async fn delete_account(password: String, confirm: Option<String>) -> Result<(), AppError> {
    use crate::ssr::{auth, state};
    use arbor_services::accounts;
    let state = state()?;
    let caller = auth::require_caller().await?;
    if confirm.as_deref() != Some("on") {
        return Err(AppError::invalid(
            "confirm",
            "Tick the box to confirm that the account should be deleted.",
        ));
    }
    let client = auth::current_client_addr();
    accounts::delete_account(&state, &caller, &password, client.as_deref()).await?;
    edge::set_cookie(&arbor_services::auth::clear_session_cookie(state.policy()))?;
    leptos_axum::redirect("/");
    Ok(())
}

/// The caller's personal access tokens.
#[server(prefix = "/fn", endpoint = "tokens")]
pub async fn list_tokens() -> Result<Vec<TokenInfo>, AppError> {
    use crate::ssr::{auth, state};
    use arbor_services::accounts;
    let caller = auth::require_caller().await?;
    Ok(accounts::list_tokens(&state()?, &caller).await?)
}

/// Creates a personal access token; the secret is returned this once. A browser without
/// JavaScript is redirected back to the settings page, which cannot receive the result, so
/// the secret travels in a short-lived cookie that only `/settings` sees and the next render
/// of that page consumes ([`take_new_token`]).
#[server(prefix = "/fn", endpoint = "tokens/create")]
pub async fn create_token(name: String) -> Result<NewToken, AppError> {
    use crate::ssr::{auth, state};
    use arbor_services::accounts;
    let state = state()?;
    let caller = auth::require_caller().await?;
    let token = accounts::create_token(&state, &caller, &name).await?;
    if edge::is_plain_form_post() {
        edge::set_cookie(&arbor_services::auth::new_token_cookie(
            Some(&token.token),
            state.policy(),
        ))?;
    }
    Ok(token)
}

/// The secret of a token just created by a form post without JavaScript, once.
#[server(prefix = "/fn", endpoint = "tokens/new")]
pub async fn take_new_token() -> Result<Option<String>, AppError> {
    use crate::ssr::{auth, state};
    let Some(parts) = leptos::prelude::use_context::<axum::http::request::Parts>() else {
        return Ok(None);
    };
    let Some(secret) =
        arbor_services::auth::cookie_value(&parts.headers, arbor_services::auth::NEW_TOKEN_COOKIE)
    else {
        return Ok(None);
    };
    edge::set_cookie(&arbor_services::auth::new_token_cookie(
        None,
        state()?.policy(),
    ))?;
    // Only a token of ours, belonging to the caller, is shown.
    let caller = auth::require_caller().await?;
    let owned = state()?
        .db()
        .token_owner(&arbor_services::secrets::hash(&secret))
        .await
        .is_ok_and(|owner| owner == caller.user.id);
    Ok(owned.then_some(secret))
}

/// Revokes one of the caller's tokens.
#[server(prefix = "/fn", endpoint = "tokens/revoke")]
pub async fn revoke_token(id: i64) -> Result<(), AppError> {
    use crate::ssr::{auth, state};
    use arbor_services::accounts;
    let caller = auth::require_caller().await?;
    Ok(accounts::revoke_token(&state()?, &caller, id).await?)
}

/// Where the caller is signed in.
#[server(prefix = "/fn", endpoint = "sessions")]
pub async fn list_sessions() -> Result<Vec<SessionInfo>, AppError> {
    use crate::ssr::{auth, state};
    use arbor_services::accounts;
    let caller = auth::require_caller().await?;
    Ok(accounts::list_sessions(&state()?, &caller).await?)
}

/// Signs the caller out everywhere but here.
#[server(prefix = "/fn", endpoint = "sessions/end-others")]
pub async fn end_other_sessions() -> Result<u64, AppError> {
    use crate::ssr::{auth, state};
    use arbor_services::accounts;
    let caller = auth::require_caller().await?;
    Ok(accounts::end_other_sessions(&state()?, &caller).await?)
}
