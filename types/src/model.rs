//! Checked values and the shapes shared by browser and server.
//!
//! Input is parsed into these newtypes at the edge (a form, a JSON body), so nothing further in
//! sees an unchecked string. The rules here are the single definition both the server and the
//! browser's inline validation use.

use serde::{Deserialize, Serialize};

use crate::error::AppError;

/// A username: 3–32 ASCII letters, digits, `-` or `_`. Unique regardless of letter case.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Username(String);

impl Username {
    pub const MIN: usize = 3;
    pub const MAX: usize = 32;

    pub fn parse(raw: &str) -> Result<Self, AppError> {
        let raw = raw.trim();
        let len = raw.chars().count();
        if !(Self::MIN..=Self::MAX).contains(&len) {
            return Err(AppError::invalid(
                "username",
                format!(
                    "A username has {} to {} characters (this one has {len}).",
                    Self::MIN,
                    Self::MAX
                ),
            ));
        }
        if let Some(bad) = raw
            .chars()
            .find(|c| !(c.is_ascii_alphanumeric() || *c == '-' || *c == '_'))
        {
            return Err(AppError::invalid(
                "username",
                format!("A username may hold letters, digits, '-' and '_', not {bad:?}."),
            ));
        }
        Ok(Self(raw.to_owned()))
    }

    /// The case-folded form that uniqueness and look-ups use.
    pub fn key(&self) -> String {
        self.0.to_ascii_lowercase()
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A password as typed: 8–128 characters. Whether it is too common is checked on the server,
/// which holds the list.
#[derive(Clone, PartialEq, Eq)]
pub struct Password(String);

impl std::fmt::Debug for Password {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Password(<redacted>)")
    }
}

impl Password {
    pub const MIN: usize = 8;
    pub const MAX: usize = 128;

    /// Checks the length of a new password; `field` names the form field for the error.
    pub fn parse_new(raw: &str, field: &'static str) -> Result<Self, AppError> {
        let len = raw.chars().count();
        if len < Self::MIN {
            return Err(AppError::invalid(
                field,
                format!("Use at least {} characters.", Self::MIN),
            ));
        }
        if len > Self::MAX {
            return Err(AppError::invalid(
                field,
                format!("Use at most {} characters.", Self::MAX),
            ));
        }
        Ok(Self(raw.to_owned()))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

/// A one-line label: trimmed, not empty, at most `max` characters, no control characters.
pub(crate) fn parse_label(
    raw: &str,
    field: &str,
    max: usize,
    when_empty: &str,
) -> Result<String, AppError> {
    let raw = raw.trim();
    if raw.is_empty() {
        return Err(AppError::invalid(field, when_empty));
    }
    if raw.chars().count() > max {
        return Err(AppError::invalid(
            field,
            format!("Use at most {max} characters."),
        ));
    }
    if raw.chars().any(char::is_control) {
        return Err(AppError::invalid(
            field,
            "Control characters are not allowed here.",
        ));
    }
    Ok(raw.to_owned())
}

/// A display name: 1–64 characters after trimming, no control characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DisplayName(String);

impl DisplayName {
    pub const MAX: usize = 64;

    pub fn parse(raw: &str) -> Result<Self, AppError> {
        parse_label(raw, "display_name", Self::MAX, "Enter a display name.").map(Self)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A profile bio: up to 500 characters of plain text (line breaks allowed).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bio(String);

impl Bio {
    pub const MAX: usize = 500;

    pub fn parse(raw: &str) -> Result<Self, AppError> {
        let raw = raw.trim();
        if raw.chars().count() > Self::MAX {
            return Err(AppError::invalid(
                "bio",
                format!("Use at most {} characters.", Self::MAX),
            ));
        }
        if raw
            .chars()
            .any(|c| c.is_control() && c != '\n' && c != '\r' && c != '\t')
        {
            return Err(AppError::invalid(
                "bio",
                "A bio cannot hold control characters.",
            ));
        }
        Ok(Self(raw.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A personal access token's label: 1–64 characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenName(String);

impl TokenName {
    pub const MAX: usize = 64;

    pub fn parse(raw: &str) -> Result<Self, AppError> {
        parse_label(raw, "name", Self::MAX, "Give the token a name.").map(Self)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Where to send someone after signing in: `next` when it is a path on this site, else `/`.
///
/// Only printable ASCII without spaces or backslashes, starting with one `/`: browsers drop
/// tabs and newlines inside URLs and read `\` as `/`, so `/\t/evil.example` or `/\evil.example`
/// would otherwise become another site's address.
pub fn local_path_or_root(next: &str) -> &str {
    let safe = next.starts_with('/')
        && !next.starts_with("//")
        && next.len() <= 2048
        && next.bytes().all(|b| b.is_ascii_graphic() && b != b'\\');
    if safe { next } else { "/" }
}

/// The signed-in person, as pages and `GET /api/v1/me` show them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(utoipa::ToSchema))]
pub struct Me {
    pub id: i64,
    pub username: String,
    pub display_name: String,
    pub bio: String,
    /// Unix milliseconds.
    pub created_at: i64,
}

/// A public profile.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(utoipa::ToSchema))]
pub struct Profile {
    pub username: String,
    pub display_name: String,
    pub bio: String,
    /// Unix milliseconds.
    pub created_at: i64,
}

/// A personal access token as listed (the secret is never shown again).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(utoipa::ToSchema))]
pub struct TokenInfo {
    pub id: i64,
    pub name: String,
    /// Unix milliseconds.
    pub created_at: i64,
    /// Unix milliseconds; absent when never used.
    pub last_used_at: Option<i64>,
}

/// A place the account is signed in (a browser session).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(utoipa::ToSchema))]
pub struct SessionInfo {
    /// Unix milliseconds.
    pub created_at: i64,
    /// Unix milliseconds, to the minute.
    pub last_seen_at: i64,
    /// This is the session making the request.
    pub current: bool,
}

/// Unix milliseconds as `YYYY-MM-DD HH:MM UTC`.
pub fn format_utc(ms: i64) -> String {
    let secs = ms.div_euclid(1000);
    let (days, rest) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    // Days since 1970-01-01 to a civil date (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02} UTC",
        rest / 3_600,
        rest % 3_600 / 60
    )
}

/// A token just created: the only time its secret is shown.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(utoipa::ToSchema))]
pub struct NewToken {
    #[serde(flatten)]
    pub info: TokenInfo,
    /// Send as `Authorization: Bearer <token>`.
    pub token: String,
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn usernames_follow_the_rules() {
        assert!(Username::parse("ab").is_err());
        assert!(Username::parse(&"a".repeat(33)).is_err());
        assert!(Username::parse("al ice").is_err());
        assert!(Username::parse("alïce").is_err());
        assert_eq!(
            Username::parse(" Alice_1-x ").unwrap().as_str(),
            "Alice_1-x"
        );
        assert_eq!(Username::parse("Alice").unwrap().key(), "alice");
    }

    #[test]
    fn passwords_count_characters_not_bytes() {
        assert!(Password::parse_new("seven77", "password").is_err());
        assert!(Password::parse_new("ééééééé", "password").is_err());
        assert!(Password::parse_new("éééééééé", "password").is_ok());
        assert!(Password::parse_new(&"x".repeat(129), "password").is_err());
        assert_eq!(
            format!("{:?}", Password::parse_new("hunter2hunter2", "p").unwrap()),
            "Password(<redacted>)"
        );
    }

    #[test]
    fn errors_name_their_field() {
        let err = Username::parse("x").unwrap_err();
        assert_eq!(err.field.as_deref(), Some("username"));
        let err = DisplayName::parse("  ").unwrap_err();
        assert_eq!(err.field.as_deref(), Some("display_name"));
        assert!(DisplayName::parse(&"d".repeat(65)).is_err());
        assert!(DisplayName::parse("tab\there").is_err());
        assert_eq!(DisplayName::parse(" Ada ").unwrap().as_str(), "Ada");
        assert_eq!(
            TokenName::parse("").unwrap_err().field.as_deref(),
            Some("name")
        );
        assert!(Bio::parse("line\nbreak").is_ok());
        assert!(Bio::parse("bell\u{7}").is_err());
    }

    #[test]
    fn times_are_formatted_in_utc() {
        assert_eq!(format_utc(0), "1970-01-01 00:00 UTC");
        assert_eq!(
            format_utc(1_767_312_000_000 + 3_723_000),
            "2026-01-02 01:02 UTC"
        );
        assert_eq!(format_utc(951_782_400_000), "2000-02-29 00:00 UTC");
        assert_eq!(format_utc(-1), "1969-12-31 23:59 UTC");
    }

    #[test]
    fn only_local_paths_are_followed() {
        for ok in ["/", "/settings", "/u/ada?tab=maps#top", "/a%2F%2Fb"] {
            assert_eq!(local_path_or_root(ok), ok);
        }
        for bad in [
            "",
            "settings",
            "//evil.example",
            "/\\evil.example",
            "/\t/evil.example",
            "/\n",
            "/\r\n/x",
            "/ /evil",
            "https://evil.example",
            "/\u{7f}",
            "/é",
        ] {
            assert_eq!(local_path_or_root(bad), "/", "{bad:?}");
        }
    }

    proptest! {
        #[test]
        fn any_followed_path_stays_on_this_site(raw in "[/\\\\]{0,2}[ -~\\t\\n\\ré]{0,30}") {
            let next = local_path_or_root(&raw);
            prop_assert!(next == "/" || next == raw);
            prop_assert!(next.starts_with('/') && !next.starts_with("//"));
            prop_assert!(next.bytes().all(|b| b.is_ascii_graphic() && b != b'\\'));
        }

        #[test]
        fn accepted_usernames_are_stable(raw in " {0,2}[A-Za-z0-9_-]{1,34} {0,2}") {
            if let Ok(name) = Username::parse(&raw) {
                // Parsing is idempotent and the key is the lower-case form.
                prop_assert_eq!(Username::parse(name.as_str()).unwrap(), name.clone());
                prop_assert_eq!(name.key(), name.as_str().to_ascii_lowercase());
                prop_assert!(name.as_str().len() >= 3 && name.as_str().len() <= 32);
            }
        }
    }
}
