//! Bearer secrets: session tokens and personal access tokens. 256 random bits each, shown to
//! their holder once, stored only as a SHA-256 hash (a fast hash is right here: the secret is
//! random, not a guessable password).

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::RngCore;
use sha2::{Digest, Sha256};

/// The prefix personal access tokens carry, so they are recognisable in logs and secret
/// scanners, and never mistaken for session tokens.
pub const TOKEN_PREFIX: &str = "arbor_pat_";

/// A freshly minted secret and the hash to store.
pub struct Minted {
    pub secret: String,
    pub hash: Vec<u8>,
}

fn random_256() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// A new session token (the cookie value).
pub fn mint_session() -> Minted {
    let secret = random_256();
    let hash = hash(&secret);
    Minted { secret, hash }
}

/// A new personal access token.
pub fn mint_access_token() -> Minted {
    let secret = format!("{TOKEN_PREFIX}{}", random_256());
    let hash = hash(&secret);
    Minted { secret, hash }
}

/// The stored form of a presented secret.
pub fn hash(secret: &str) -> Vec<u8> {
    Sha256::digest(secret.as_bytes()).to_vec()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_long_random_and_hashed() {
        let a = mint_session();
        let b = mint_session();
        assert_ne!(a.secret, b.secret);
        assert_eq!(a.secret.len(), 43, "256 bits in unpadded base64");
        assert_eq!(a.hash, hash(&a.secret));
        assert_eq!(a.hash.len(), 32);
        let t = mint_access_token();
        assert!(t.secret.starts_with(TOKEN_PREFIX));
        assert_ne!(t.hash, hash(&a.secret));
    }
}
