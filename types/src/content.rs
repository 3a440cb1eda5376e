//! Subjects and topics as browser and server share them: the checked input values (titles,
//! tags, visibility, roles) and the shapes pages and the JSON API return.

use serde::{Deserialize, Serialize};

use crate::error::AppError;
use crate::model::parse_label;

/// Who may see a subject.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "schema", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Visibility {
    /// Listed in the catalogue, feeds and profiles; anyone may read it.
    Public,
    /// Anyone with the link may read it; listed nowhere.
    Unlisted,
    /// Only the owner and collaborators (everyone else gets 404).
    #[default]
    Private,
}

impl Visibility {
    pub fn parse(raw: &str) -> Result<Self, AppError> {
        match raw.trim() {
            "public" => Ok(Self::Public),
            "unlisted" => Ok(Self::Unlisted),
            "private" => Ok(Self::Private),
            other => Err(AppError::invalid(
                "visibility",
                format!("Visibility is public, unlisted or private, not {other:?}."),
            )),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Public => "public",
            Self::Unlisted => "unlisted",
            Self::Private => "private",
        }
    }
}

/// A collaborator's role.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Edits topics, the tree and the subject's title, summary and tags.
    Editor,
    /// Reads the subject even when it is private.
    Viewer,
}

impl Role {
    pub fn parse(raw: &str) -> Result<Self, AppError> {
        match raw.trim() {
            "editor" => Ok(Self::Editor),
            "viewer" => Ok(Self::Viewer),
            other => Err(AppError::invalid(
                "role",
                format!("A role is editor or viewer, not {other:?}."),
            )),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Editor => "editor",
            Self::Viewer => "viewer",
        }
    }
}

/// A subject or topic title: 1–120 characters on one line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Title(String);

impl Title {
    pub const MAX: usize = 120;

    pub fn parse(raw: &str) -> Result<Self, AppError> {
        parse_label(raw, "title", Self::MAX, "Enter a title.").map(Self)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A subject's summary: up to 500 characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Summary(String);

impl Summary {
    pub const MAX: usize = 500;

    pub fn parse(raw: &str) -> Result<Self, AppError> {
        let raw = raw.trim();
        if raw.chars().count() > Self::MAX {
            return Err(AppError::invalid(
                "summary",
                format!("Use at most {} characters.", Self::MAX),
            ));
        }
        if raw
            .chars()
            .any(|c| c.is_control() && c != '\n' && c != '\r')
        {
            return Err(AppError::invalid(
                "summary",
                "Control characters are not allowed here.",
            ));
        }
        Ok(Self(raw.replace("\r\n", "\n")))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Up to 10 tags: lower-case letters, digits and `-`, 1–32 characters each, no repeats. Written
/// separated by commas or spaces; a leading `#` is dropped.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Tags(Vec<String>);

impl Tags {
    pub const MAX: usize = 10;
    pub const MAX_LEN: usize = 32;

    pub fn parse(raw: &str) -> Result<Self, AppError> {
        Self::from_list(raw.split([',', ' ', '\n', '\t']).map(str::to_owned))
    }

    pub fn from_list(items: impl IntoIterator<Item = String>) -> Result<Self, AppError> {
        let mut tags: Vec<String> = Vec::new();
        for item in items {
            let tag = item.trim().trim_start_matches('#').to_lowercase();
            if tag.is_empty() {
                continue;
            }
            if tag.chars().count() > Self::MAX_LEN {
                return Err(AppError::invalid(
                    "tags",
                    format!("A tag has at most {} characters.", Self::MAX_LEN),
                ));
            }
            if let Some(bad) = tag.chars().find(|c| !(c.is_alphanumeric() || *c == '-')) {
                return Err(AppError::invalid(
                    "tags",
                    format!("Tags hold letters, digits and '-', not {bad:?}."),
                ));
            }
            if !tags.contains(&tag) {
                tags.push(tag);
            }
        }
        if tags.len() > Self::MAX {
            return Err(AppError::invalid(
                "tags",
                format!("Use at most {} tags.", Self::MAX),
            ));
        }
        Ok(Self(tags))
    }

    pub fn as_slice(&self) -> &[String] {
        &self.0
    }
}

/// A topic's markdown: at most 100,000 bytes.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Body(String);

impl Body {
    pub const MAX_BYTES: usize = 100_000;

    pub fn parse(raw: &str) -> Result<Self, AppError> {
        if raw.len() > Self::MAX_BYTES {
            return Err(AppError::new(
                crate::error::ErrorCode::TooLarge,
                format!(
                    "A topic holds at most {} KB of text (this is {} KB).",
                    Self::MAX_BYTES / 1000,
                    raw.len().div_ceil(1000)
                ),
            )
            .with_field("body"));
        }
        Ok(Self(raw.replace("\r\n", "\n")))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A person as shown next to their work.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(utoipa::ToSchema))]
pub struct Author {
    pub username: String,
    pub display_name: String,
}

/// A subject wherever it is listed or shown.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(utoipa::ToSchema))]
pub struct SubjectCard {
    pub slug: String,
    pub title: String,
    pub summary: String,
    pub tags: Vec<String>,
    pub visibility: Visibility,
    pub author: Author,
    pub likes: i64,
    pub saves: i64,
    pub views: i64,
    /// Unix milliseconds.
    pub created_at: i64,
    /// Unix milliseconds.
    pub updated_at: i64,
}

/// One page of a list, and the cursor for the next (absent on the last page).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(utoipa::ToSchema))]
pub struct SubjectPage {
    pub items: Vec<SubjectCard>,
    pub next_cursor: Option<String>,
}

/// A topic in a tree: id, title and children in order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(utoipa::ToSchema))]
pub struct TopicNode {
    pub id: i64,
    pub title: String,
    #[cfg_attr(feature = "schema", schema(no_recursion))]
    pub children: Vec<TopicNode>,
}

/// What the reader may do with a subject, and what they did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "schema", derive(utoipa::ToSchema))]
pub struct ReaderState {
    pub signed_in: bool,
    pub liked: bool,
    pub saved: bool,
    /// May change topics and the tree (owner or editor).
    pub can_edit: bool,
    /// Owns the subject (visibility, collaborators, deletion).
    pub is_owner: bool,
}

/// A deleted subtree in a subject's trash.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(utoipa::ToSchema))]
pub struct TrashItem {
    /// The top topic of the subtree: the one to restore.
    pub id: i64,
    pub title: String,
    /// When it was deleted (Unix ms); it is purged 30 days later.
    pub deleted_at: i64,
    /// Topics in the subtree, its top included.
    pub topics: usize,
}

/// An import in a subject's history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(utoipa::ToSchema))]
pub struct ImportItem {
    pub id: i64,
    /// Who imported it (absent once their account is deleted).
    pub username: Option<String>,
    pub format: String,
    pub filename: String,
    /// Topics it created (the root not counted).
    pub topics: i64,
    /// Unix ms.
    pub created_at: i64,
    /// When it was rolled back (Unix ms), if it was.
    pub rolled_back_at: Option<i64>,
}

/// What an editor manages about a subject's map besides its topics: the trash and the
/// import history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct MapUpkeep {
    /// Most recently deleted first.
    pub trash: Vec<TrashItem>,
    /// Newest first.
    pub imports: Vec<ImportItem>,
}

/// A collaborator as listed to the owner.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(utoipa::ToSchema))]
pub struct Member {
    pub username: String,
    pub display_name: String,
    pub role: Role,
}

/// A subject with its whole tree.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(utoipa::ToSchema))]
pub struct SubjectDetail {
    /// The live document of the subject's structure, `subject:{id}` (see `/collab/{doc}`).
    pub map_document: String,
    pub subject: SubjectCard,
    pub root: TopicNode,
    pub reader: ReaderState,
    /// The map drawn on the server, as an SVG document (pages only; empty in the API).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub map_svg: String,
}

/// A topic named somewhere else (breadcrumbs, children, links).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(utoipa::ToSchema))]
pub struct TopicRef {
    pub id: i64,
    pub title: String,
    pub subject_slug: String,
    /// Set when the topic is in another subject.
    pub subject_title: Option<String>,
}

impl TopicRef {
    /// The topic's page.
    pub fn href(&self) -> String {
        topic_path(&self.subject_slug, self.id, &self.title)
    }
}

/// One page of the topics that link to a topic (see [`TopicDetail::backlinks`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(utoipa::ToSchema))]
pub struct BacklinkPage {
    /// The topic linked to.
    pub topic: TopicRef,
    /// At most 50, this subject's first, then by id.
    pub backlinks: Vec<TopicRef>,
    /// The cursor of the next page (`cursor=`), when there is one.
    pub next_cursor: Option<String>,
}

impl BacklinkPage {
    /// Backlinks per page, on a topic's page too (the documentation says 50).
    pub const SIZE: u32 = 50;

    /// The page listing the backlinks of `topic` from `cursor` on.
    pub fn href(topic: &TopicRef, cursor: &str) -> String {
        format!("{}/backlinks?cursor={cursor}", topic.href())
    }
}

/// A topic with everything its page shows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(utoipa::ToSchema))]
pub struct TopicDetail {
    pub subject: SubjectCard,
    pub id: i64,
    pub title: String,
    /// The markdown source.
    pub body: String,
    /// The body rendered and sanitised; links the reader may not follow are plain text.
    pub html: String,
    /// The parent, absent for the root.
    pub parent_id: Option<i64>,
    /// From the root down to the parent.
    pub breadcrumbs: Vec<TopicRef>,
    pub children: Vec<TopicRef>,
    /// The topics before and after this one in reading order (depth first).
    pub previous: Option<TopicRef>,
    pub next: Option<TopicRef>,
    /// Topics this one links to (that the reader may see).
    pub links: Vec<TopicRef>,
    /// Topics that link here that the reader may see listed (this subject's, and other
    /// subjects' that are public or the reader's own), this subject's first; at most 50.
    pub backlinks: Vec<TopicRef>,
    /// When there are more: the cursor of the next page of backlinks (`…/backlinks?cursor=`).
    pub backlinks_cursor: Option<String>,
    pub reader: ReaderState,
    /// Unix milliseconds.
    pub updated_at: i64,
}

/// An author's page: the profile, follow counts, and their subjects the reader may see.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(utoipa::ToSchema))]
pub struct AuthorDetail {
    pub profile: crate::model::Profile,
    pub followers: i64,
    pub following: i64,
    /// The reader follows this person.
    pub followed: bool,
    /// The reader is this person.
    pub is_me: bool,
    pub subjects: Vec<SubjectCard>,
}

/// The home page: the feed for a signed-in reader, trending and newest subjects for everyone.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(utoipa::ToSchema))]
pub struct HomeFeed {
    /// `None` when signed out.
    pub feed: Option<SubjectPage>,
    pub trending: Vec<SubjectCard>,
    pub newest: Vec<SubjectCard>,
    /// The reader's own and shared subjects (signed in only).
    pub mine: Vec<SubjectCard>,
}

/// The public URL path of a subject.
pub fn subject_href(slug: &str) -> String {
    format!("/s/{slug}")
}

/// A subject's slug as a URL or a body names it: 1 to [`Slug::MAX_CHARS`] lower-case ASCII
/// letters, digits and hyphens (what [`slugify`] makes, plus a suffix that makes it unique).
/// Parsed once where a path or a form names a subject. A string that cannot be a slug names no
/// subject, so it gets the same answer as a slug nobody has (404), without a database lookup.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Slug(String);

impl Slug {
    pub const MAX_CHARS: usize = 80;

    pub fn parse(raw: &str) -> Result<Self, AppError> {
        let fits = !raw.is_empty()
            && raw.len() <= Self::MAX_CHARS
            && raw
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
        if fits {
            Ok(Self(raw.to_owned()))
        } else {
            Err(AppError::not_found("No such subject."))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for Slug {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// A URL slug for `title`: lower-case ASCII letters, digits and single hyphens, at most 60
/// characters; `subject` when nothing is left.
pub fn slugify(title: &str) -> String {
    let slug = words(title);
    if slug.is_empty() {
        "subject".to_owned()
    } else {
        slug
    }
}

/// The path of a topic's page: `/s/{subject}/t/{id}-{words of the title}` (as [`slugify`]
/// makes them), or `/s/{subject}/t/{id}` for a title without ASCII letters or digits. Only
/// the id finds the topic ([`topic_id`]); the words are for people and are redirected to
/// the current ones when the title changes.
pub fn topic_path(subject_slug: &str, id: i64, title: &str) -> String {
    let words = words(title);
    if words.is_empty() {
        format!("/s/{subject_slug}/t/{id}")
    } else {
        format!("/s/{subject_slug}/t/{id}-{words}")
    }
}

/// The topic id a topic path's segment (`12-consensus`, or `12`) names.
pub fn topic_id(segment: &str) -> Option<i64> {
    let digits = segment.split_once('-').map_or(segment, |(id, _)| id);
    digits.parse().ok().filter(|id| *id > 0)
}

/// `title` as lower-case ASCII letters, digits and single hyphens, at most 60 characters
/// (empty when nothing is left).
fn words(title: &str) -> String {
    let mut slug = String::new();
    for c in title.chars().flat_map(char::to_lowercase) {
        if c.is_ascii_alphanumeric() {
            slug.push(c);
        } else if !slug.is_empty() && !slug.ends_with('-') {
            slug.push('-');
        }
        if slug.len() >= 60 {
            break;
        }
    }
    slug.trim_end_matches('-').to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn topic_paths_carry_the_title_and_are_found_by_id() {
        assert_eq!(
            topic_path("systems", 12, "Raft: Leader Election!"),
            "/s/systems/t/12-raft-leader-election"
        );
        assert_eq!(topic_path("systems", 12, "日本語"), "/s/systems/t/12");
        assert!(topic_path("s", 1, &"x ".repeat(200)).len() < 80);
        assert_eq!(topic_id("12-raft-leader-election"), Some(12));
        assert_eq!(topic_id("12"), Some(12));
        assert_eq!(topic_id("12-"), Some(12));
        for bad in ["", "-12", "0", "x-12", "12x", "99999999999999999999"] {
            assert_eq!(topic_id(bad), None, "{bad}");
        }
        assert_eq!(slugify("日本語"), "subject");
    }

    #[test]
    fn tags_are_normalised_and_bounded() {
        let tags = Tags::parse("Rust, #async  rust\ttokio").unwrap();
        assert_eq!(tags.as_slice(), ["rust", "async", "tokio"]);
        let eleven = (0..11)
            .map(|i| format!("t{i}"))
            .collect::<Vec<_>>()
            .join(",");
        assert_eq!(
            Tags::parse(&eleven).unwrap_err().field.as_deref(),
            Some("tags")
        );
        assert!(Tags::parse("c++").is_err());
        assert!(Tags::parse(&"x".repeat(33)).is_err());
    }

    #[test]
    fn a_slug_is_what_slugify_makes_and_nothing_else() {
        for title in [
            "Distributed systems!",
            "  Ünïcode — only  ",
            "🌳",
            &"a b ".repeat(100),
        ] {
            let made = slugify(title);
            assert_eq!(Slug::parse(&made).map(|s| s.to_string()), Ok(made.clone()));
            assert!(Slug::parse(&format!("{made}-2")).is_ok());
        }
        for bad in ["", "Caps", "a b", "a/b", "..", "a%2F", "é", &"a".repeat(81)] {
            let err = Slug::parse(bad).unwrap_err();
            assert_eq!(err.code, crate::error::ErrorCode::NotFound, "{bad:?}");
        }
    }

    #[test]
    fn slugs_are_url_safe() {
        assert_eq!(slugify("Distributed systems!"), "distributed-systems");
        assert_eq!(slugify("  Ünïcode — only  "), "n-code-only");
        assert_eq!(slugify("🌳"), "subject");
        assert!(slugify(&"a b ".repeat(100)).len() <= 60);
    }

    #[test]
    fn titles_and_bodies_are_checked() {
        assert!(Title::parse("  ").is_err());
        assert!(Title::parse(&"x".repeat(121)).is_err());
        assert!(Title::parse("a\u{7}b").is_err());
        assert_eq!(Title::parse(" Raft ").unwrap().as_str(), "Raft");
        let big = "x".repeat(Body::MAX_BYTES + 1);
        assert_eq!(
            Body::parse(&big).unwrap_err().code,
            crate::error::ErrorCode::TooLarge
        );
        assert!(Visibility::parse("secret").is_err());
        assert!(Role::parse("owner").is_err());
    }
}
