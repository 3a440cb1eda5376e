//! Password hashing and the new-password rules that need server-side data.
//!
//! Argon2id with OWASP's parameters (m = 19 MiB, t = 2, p = 1), run on the blocking pool so a
//! burst of sign-ins cannot stall the async workers, and at most two per core at once so it
//! cannot exhaust memory either. Verifying against an unknown account
//! checks a fixed dummy hash instead, so the time taken does not tell which usernames exist.

use std::sync::LazyLock;
use std::time::Duration;

use argon2::{Algorithm, Argon2, Params, PasswordHash, PasswordHasher, PasswordVerifier, Version};

use crate::ServiceError;
use crate::blocking::Slots;
use arbor_types::model::Password;

fn hasher() -> Argon2<'static> {
    Argon2::new(Algorithm::Argon2id, Version::V0x13, Params::default())
}

/// At most two hashes per core run at once (each takes 19 MiB and a core for tens of
/// milliseconds); further requests wait up to 5 s, then are told to retry.
static HASH_SLOTS: LazyLock<Slots> = LazyLock::new(|| Slots::per_core(2, Duration::from_secs(5)));

/// Runs one Argon2 computation on the blocking pool, within the concurrency limit.
async fn with_slot<T: Send + 'static>(
    work: impl FnOnce() -> anyhow::Result<T> + Send + 'static,
) -> Result<T, ServiceError> {
    HASH_SLOTS.run(work).await?.map_err(ServiceError::internal)
}

/// A real hash of a throwaway password, verified against when the account does not exist.
static DUMMY_HASH: LazyLock<String> = LazyLock::new(|| {
    hasher()
        .hash_password(b"arbor-timing-equaliser")
        .map(|h| h.to_string())
        .unwrap_or_default()
});

/// Rejects a new password that is in the bundled list of the most common passwords, or that
/// contains the username.
pub fn check_new(
    password: &Password,
    username: &str,
    field: &'static str,
) -> Result<(), ServiceError> {
    let pw = password.expose();
    if passwords::analyzer::is_common_password(pw)
        || passwords::analyzer::is_common_password(pw.to_lowercase())
    {
        return Err(ServiceError::invalid(
            field,
            "This password is one of the most common ones; choose another.",
        ));
    }
    if !username.is_empty() && pw.to_lowercase().contains(&username.to_lowercase()) {
        return Err(ServiceError::invalid(
            field,
            "The password cannot contain your username.",
        ));
    }
    Ok(())
}

/// Hashes a password into a PHC string.
pub async fn hash(password: &Password) -> Result<String, ServiceError> {
    let pw = password.expose().to_owned();
    with_slot(move || {
        hasher()
            .hash_password(pw.as_bytes())
            .map(|h| h.to_string())
            .map_err(|e| anyhow::anyhow!("hashing a password: {e}"))
    })
    .await
}

/// Checks `password` against `stored` (a PHC string), or against the dummy hash when there is
/// no account, so both paths cost the same. Returns whether it matched.
pub async fn verify(password: &str, stored: Option<&str>) -> Result<bool, ServiceError> {
    let real = stored.is_some();
    let stored = stored.map_or_else(|| DUMMY_HASH.clone(), str::to_owned);
    let pw = password.to_owned();
    let matched = with_slot(move || {
        let parsed = PasswordHash::new(&stored)
            .map_err(|e| anyhow::anyhow!("stored password hash is malformed: {e}"))?;
        match hasher().verify_password(pw.as_bytes(), &parsed) {
            Ok(()) => Ok(true),
            Err(argon2::password_hash::Error::PasswordInvalid) => Ok(false),
            Err(e) => Err(anyhow::anyhow!("verifying a password: {e}")),
        }
    })
    .await?;
    Ok(real && matched)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn common_passwords_are_refused() {
        let common = Password::parse_new("password123", "password").unwrap();
        assert!(check_new(&common, "someone", "password").is_err());
        let with_name = Password::parse_new("xx-Alice-rocks-42", "password").unwrap();
        assert!(check_new(&with_name, "alice", "password").is_err());
        let fine = Password::parse_new("correct horse battery staple 7", "password").unwrap();
        assert!(check_new(&fine, "alice", "password").is_ok());
    }

    #[tokio::test]
    async fn hashes_verify_and_unknown_accounts_never_match() {
        let pw = Password::parse_new("a fine long passphrase", "password").unwrap();
        let phc = hash(&pw).await.unwrap();
        assert!(phc.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
        assert!(verify("a fine long passphrase", Some(&phc)).await.unwrap());
        assert!(!verify("a wrong passphrase", Some(&phc)).await.unwrap());
        assert!(!verify("arbor-timing-equaliser", None).await.unwrap());
    }
}
