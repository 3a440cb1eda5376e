//! Account services: sign-up, sign-in, sign-out, profile, password, deletion and personal access
//! tokens. Server functions (the pages) and the JSON API both call these, so every rule is
//! written once. Inputs arrive raw and are parsed into the newtypes of [`arbor_types::model`] here.

use arbor_db::DbError;
use arbor_db::tokens::TokenRow;
use arbor_db::users::{NewUser, UserRow};

use crate::ServiceError;
use crate::auth::Caller;
use crate::secrets::{self, Minted};
use crate::{Services, now_ms, passwords};
use arbor_live::bus::Event;
use arbor_types::error::ErrorCode;
use arbor_types::model::{
    Bio, DisplayName, Me, NewToken, Password, Profile, SessionInfo, TokenInfo, TokenName, Username,
};

/// Most personal access tokens one account may hold.
pub const MAX_TOKENS: usize = 50;

/// What an account's owner sees of it.
pub fn me(u: UserRow) -> Me {
    Me {
        id: u.id,
        username: u.username,
        display_name: u.display_name,
        bio: u.bio,
        created_at: u.created_at,
    }
}

/// What anyone sees of an account.
pub fn public_profile(u: UserRow) -> Profile {
    Profile {
        username: u.username,
        display_name: u.display_name,
        bio: u.bio,
        created_at: u.created_at,
    }
}

/// What a token's owner sees of it (never its secret).
pub fn token_info(t: TokenRow) -> TokenInfo {
    TokenInfo {
        id: t.id,
        name: t.name,
        created_at: t.created_at,
        last_used_at: t.last_used_at,
    }
}

/// Starts a session for `user_id`; the caller sends `secret` in the cookie.
async fn start_session(state: &Services, user_id: i64) -> Result<Minted, ServiceError> {
    let session = secrets::mint_session();
    let now = now_ms();
    let absolute = crate::millis(state.policy().session_absolute);
    state
        .db()
        .create_session(&session.hash, user_id, now, now.saturating_add(absolute))
        .await?;
    Ok(session)
}

/// Creates an account and signs it in. Sign-ups are counted per client address.
pub async fn signup(
    state: &Services,
    username: &str,
    password: &str,
    client: Option<&str>,
) -> Result<(UserRow, Minted), ServiceError> {
    let username = Username::parse(username)?;
    let password = Password::parse_new(password, "password")?;
    passwords::check_new(&password, username.as_str(), "password")?;
    state
        .throttle()
        .attempt(&state.throttle().signup_keys(client))
        .await?;
    let hash = passwords::hash(&password).await?;
    let user = state
        .db()
        .create_user(NewUser {
            username: username.as_str(),
            username_key: &username.key(),
            display_name: username.as_str(),
            password_hash: &hash,
            now: now_ms(),
        })
        .await
        .map_err(|e| match e {
            DbError::Conflict(_) => {
                ServiceError::new(ErrorCode::Conflict, "That username is taken.")
                    .with_field("username")
            }
            other => other.into(),
        })?;
    tracing::info!(user_id = user.id, "account created");
    let session = start_session(state, user.id).await?;
    Ok((user, session))
}

/// Checks a username and password, subject to the throttle, and starts a session.
pub async fn login(
    state: &Services,
    username: &str,
    password: &str,
    client: Option<&str>,
) -> Result<(UserRow, Minted), ServiceError> {
    let key = username.trim().to_ascii_lowercase();
    if key.is_empty() || key.chars().count() > Username::MAX || password.is_empty() {
        return Err(ServiceError::invalid(
            "username",
            "Enter your username and password.",
        ));
    }
    if password.chars().count() > Password::MAX {
        return Err(wrong_credentials());
    }
    let throttle = state.throttle();
    let keys = throttle.password_keys(&key, client);
    throttle.check(&keys).await?;
    throttle.attempt(&keys).await?;

    let user = match state.db().user_by_key(&key).await {
        Ok(user) => Some(user),
        Err(DbError::NotFound) => None,
        Err(e) => return Err(e.into()),
    };
    let matched =
        passwords::verify(password, user.as_ref().map(|u| u.password_hash.as_str())).await?;
    match user {
        Some(user) if matched => {
            throttle.forgive(&keys).await?;
            let session = start_session(state, user.id).await?;
            tracing::info!(user_id = user.id, "signed in");
            Ok((user, session))
        }
        _ => Err(wrong_credentials()),
    }
}

fn wrong_credentials() -> ServiceError {
    ServiceError::new(ErrorCode::Unauthenticated, "Wrong username or password.")
        .with_field("password")
}

/// Tells every replica that a sign-in of `user_id` ended: live connections opened with it
/// close (see [`arbor_live`]).
async fn sign_in_revoked(state: &Services, user_id: i64) {
    state.bus().publish(Event::SignInRevoked { user_id }).await;
}

/// Ends the caller's session (a no-op for bearer-token callers).
pub async fn logout(state: &Services, caller: Option<&Caller>) -> Result<(), ServiceError> {
    if let Some(caller) = caller
        && let Some(hash) = caller.session.as_deref()
    {
        state.db().delete_session(hash).await?;
        sign_in_revoked(state, caller.user.id).await;
    }
    Ok(())
}

/// A public profile by username.
pub async fn profile(state: &Services, username: &str) -> Result<Profile, ServiceError> {
    Ok(public_profile(user_named(state, username).await?))
}

/// The account called `username` (in any letter case); 404 when there is none.
pub async fn user_named(state: &Services, username: &str) -> Result<UserRow, ServiceError> {
    let not_found = || ServiceError::not_found(format!("There is no user called {username:?}."));
    let name = Username::parse(username).map_err(|_| not_found())?;
    match state.db().user_by_key(&name.key()).await {
        Ok(user) => Ok(user),
        Err(DbError::NotFound) => Err(not_found()),
        Err(e) => Err(e.into()),
    }
}

/// Replaces the caller's display name and bio.
pub async fn update_profile(
    state: &Services,
    caller: &Caller,
    display_name: &str,
    bio: &str,
) -> Result<Me, ServiceError> {
    let display_name = DisplayName::parse(display_name)?;
    let bio = Bio::parse(bio)?;
    let user = state
        .db()
        .update_profile(
            caller.user.id,
            display_name.as_str(),
            bio.as_str(),
            now_ms(),
        )
        .await?;
    Ok(me(user))
}

/// Checks the caller's current password (for changes that need it), under the same throttle
/// as signing in: a stolen session must not become a way to guess the password.
async fn confirm_password(
    state: &Services,
    caller: &Caller,
    password: &str,
    field: &str,
    client: Option<&str>,
) -> Result<(), ServiceError> {
    let throttle = state.throttle();
    let keys = throttle.password_keys(&caller.user.username.to_ascii_lowercase(), client);
    throttle.check(&keys).await?;
    throttle.attempt(&keys).await?;
    if passwords::verify(password, Some(&caller.user.password_hash)).await? {
        throttle.forgive(&keys).await
    } else {
        Err(
            ServiceError::new(ErrorCode::Forbidden, "That is not your current password.")
                .with_field(field),
        )
    }
}

/// Changes the caller's password; every other session of the account ends.
pub async fn change_password(
    state: &Services,
    caller: &Caller,
    current: &str,
    new: &str,
    client: Option<&str>,
) -> Result<(), ServiceError> {
    let new = Password::parse_new(new, "new_password")?;
    passwords::check_new(&new, &caller.user.username, "new_password")?;
    confirm_password(state, caller, current, "current_password", client).await?;
    let hash = passwords::hash(&new).await?;
    state
        .db()
        .change_password(caller.user.id, &hash, caller.session.as_deref(), now_ms())
        .await?;
    sign_in_revoked(state, caller.user.id).await;
    tracing::info!(
        user_id = caller.user.id,
        "password changed; other sessions ended"
    );
    Ok(())
}

/// Deletes the caller's account, which ends all its sessions and revokes its tokens.
pub async fn delete_account(
    state: &Services,
    caller: &Caller,
    password: &str,
    client: Option<&str>,
) -> Result<(), ServiceError> {
    confirm_password(state, caller, password, "password", client).await?;
    state.db().delete_user(caller.user.id).await?;
    sign_in_revoked(state, caller.user.id).await;
    tracing::info!(user_id = caller.user.id, "account deleted");
    Ok(())
}

/// The caller's personal access tokens.
pub async fn list_tokens(
    state: &Services,
    caller: &Caller,
) -> Result<Vec<TokenInfo>, ServiceError> {
    let rows = state.db().list_tokens(caller.user.id).await?;
    Ok(rows.into_iter().map(token_info).collect())
}

/// Creates a personal access token; its secret is in the result and nowhere else.
pub async fn create_token(
    state: &Services,
    caller: &Caller,
    name: &str,
) -> Result<NewToken, ServiceError> {
    let name = TokenName::parse(name)?;
    if state.db().list_tokens(caller.user.id).await?.len() >= MAX_TOKENS {
        return Err(ServiceError::new(
            ErrorCode::Conflict,
            format!("An account can hold at most {MAX_TOKENS} tokens; revoke one first."),
        )
        .with_field("name"));
    }
    let minted = secrets::mint_access_token();
    let row = state
        .db()
        .create_token(caller.user.id, name.as_str(), &minted.hash, now_ms())
        .await?;
    Ok(NewToken {
        info: token_info(row),
        token: minted.secret,
    })
}

/// Revokes one of the caller's tokens.
pub async fn revoke_token(
    state: &Services,
    caller: &Caller,
    token_id: i64,
) -> Result<(), ServiceError> {
    match state.db().revoke_token(caller.user.id, token_id).await {
        Ok(()) => {
            sign_in_revoked(state, caller.user.id).await;
            Ok(())
        }
        Err(DbError::NotFound) => Err(ServiceError::not_found("You have no token with that id.")),
        Err(e) => Err(e.into()),
    }
}

/// Where the caller is signed in, most recently used first.
pub async fn list_sessions(
    state: &Services,
    caller: &Caller,
) -> Result<Vec<SessionInfo>, ServiceError> {
    let now = now_ms();
    let rows = state
        .db()
        .list_sessions(caller.user.id, now, state.policy().idle_cutoff(now))
        .await?;
    Ok(rows
        .into_iter()
        .map(|row| SessionInfo {
            created_at: row.created_at,
            last_seen_at: row.last_seen_at,
            current: caller.session.as_deref() == Some(row.token_hash.as_slice()),
        })
        .collect())
}

/// Signs the caller out everywhere but here; returns how many sessions ended.
pub async fn end_other_sessions(state: &Services, caller: &Caller) -> Result<u64, ServiceError> {
    let ended = state
        .db()
        .delete_other_sessions(caller.user.id, caller.session.as_deref())
        .await?;
    tracing::info!(user_id = caller.user.id, ended, "other sessions ended");
    if ended > 0 {
        sign_in_revoked(state, caller.user.id).await;
    }
    Ok(ended)
}
