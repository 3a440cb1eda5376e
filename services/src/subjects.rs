//! Subject services shared by the pages' server functions and the JSON API: creating and
//! editing subjects, collaborators, reading a subject or a topic (with its map, links and
//! backlinks), likes, saves, views, authors and follows. Access is decided by
//! [`crate::access`]; changes to the tree go through [`crate::tree`].

use std::collections::{BTreeSet, HashMap, HashSet};

use arbor_db::DbError;
use arbor_db::social::Mark;
use arbor_db::subjects::{NewSubject, SubjectRow, SubjectUpdate};
use arbor_db::topics::{BacklinkCursor, ByParent, LinkedTopicRow, TopicNodeRow};

use crate::ServiceError;
use crate::access::{self, Granted, Need};
use crate::accounts::user_named;
use crate::auth::Caller;
use crate::changes::{Touches, affected, changed, publish};
use crate::{Services, markdown, now_ms, tree};
use arbor_map::draw::{MapNode, layout, to_svg, to_svg_foldable};
use arbor_types::content::{
    Author, AuthorDetail, BacklinkPage, Body, Member, ReaderState, Role, Slug, SubjectCard,
    SubjectDetail, Summary, Tags, Title, TopicDetail, TopicNode, TopicRef, Visibility, slugify,
    topic_path,
};
use arbor_types::error::ErrorCode;

/// A reader's view counts at most once per subject in this window.
pub const VIEW_WINDOW_MS: i64 = 3_600_000;

/// A subject as listed.
pub fn card(row: &SubjectRow) -> SubjectCard {
    SubjectCard {
        slug: row.slug.clone(),
        title: row.title.clone(),
        summary: row.summary.clone(),
        tags: row.tags.split_whitespace().map(str::to_owned).collect(),
        visibility: Visibility::parse(&row.visibility).unwrap_or_default(),
        author: Author {
            username: row.owner_username.clone(),
            display_name: row.owner_display_name.clone(),
        },
        likes: row.like_count,
        saves: row.save_count,
        views: row.view_count,
        created_at: row.created_at,
        updated_at: row.updated_at,
    }
}

/// What a new subject is made of, as typed.
#[derive(Debug, Clone, Default)]
pub struct SubjectInput {
    pub title: String,
    pub summary: String,
    pub tags: Vec<String>,
    /// `None`: private (a draft until published).
    pub visibility: Option<String>,
}

/// Creates a subject owned by the caller, with a slug made from its title (made unique).
pub async fn create(
    state: &Services,
    caller: &Caller,
    input: &SubjectInput,
) -> Result<SubjectCard, ServiceError> {
    let title = Title::parse(&input.title)?;
    let summary = Summary::parse(&input.summary)?;
    let tags = Tags::from_list(input.tags.iter().cloned())?;
    let visibility = match &input.visibility {
        Some(v) => Visibility::parse(v)?,
        None => Visibility::Private,
    };
    let base = slugify(title.as_str());
    for attempt in 0..8u32 {
        let slug = match attempt {
            0 => base.clone(),
            1..4 => format!("{base}-{}", attempt + 1),
            _ => format!("{base}-{:06x}", rand::random::<u32>() & 0xff_ffff),
        };
        let new = NewSubject {
            slug: &slug,
            owner_id: caller.user.id,
            title: title.as_str(),
            summary: summary.as_str(),
            tags: tags.as_slice(),
            visibility: visibility.as_str(),
            root_id: crate::tree::new_topic_id(),
            root_order_key: &crate::tree::position_key(0),
            now: now_ms(),
        };
        match state.db().create_subject(new).await {
            Ok(row) => return Ok(card(&row)),
            Err(DbError::Conflict(_)) => continue,
            Err(e) => return Err(e.into()),
        }
    }
    Err(ServiceError::new(
        arbor_types::error::ErrorCode::Conflict,
        "Could not find a free address for this title; try another title.",
    ))
}

/// Changes to a subject; absent fields stay.
#[derive(Debug, Clone, Default)]
pub struct SubjectChanges {
    pub title: Option<String>,
    pub summary: Option<String>,
    pub tags: Option<Vec<String>>,
    pub visibility: Option<String>,
}

/// Edits a subject: title, summary and tags need edit rights, visibility ownership.
pub async fn update(
    state: &Services,
    caller: Option<&Caller>,
    slug: &Slug,
    changes: &SubjectChanges,
) -> Result<SubjectCard, ServiceError> {
    let need = if changes.visibility.is_some() {
        Need::Own
    } else {
        Need::Edit
    };
    let granted = access::subject_for(state, caller, slug, need).await?;
    let row = &granted.subject;
    let title = Title::parse(changes.title.as_deref().unwrap_or(&row.title))?;
    let summary = Summary::parse(changes.summary.as_deref().unwrap_or(&row.summary))?;
    let tags = match &changes.tags {
        Some(list) => Tags::from_list(list.iter().cloned())?,
        None => Tags::from_list(row.tags.split_whitespace().map(str::to_owned))?,
    };
    let visibility = Visibility::parse(changes.visibility.as_deref().unwrap_or(&row.visibility))?;
    let affected = affected(state, row).await?;
    state
        .db()
        .update_subject(
            row.id,
            SubjectUpdate {
                title: title.as_str(),
                summary: summary.as_str(),
                tags: tags.as_slice(),
                visibility: visibility.as_str(),
                now: now_ms(),
            },
        )
        .await?;
    let touches = if visibility.as_str() == row.visibility {
        Touches::Content
    } else {
        Touches::Access
    };
    changed(state, row, affected, touches).await;
    Ok(card(&state.db().subject_by_id(row.id).await?))
}

/// Deletes a subject and everything in it; `confirm` must repeat its slug.
pub async fn delete(
    state: &Services,
    caller: Option<&Caller>,
    slug: &Slug,
    confirm: &str,
) -> Result<(), ServiceError> {
    let granted = access::subject_for(state, caller, slug, Need::Own).await?;
    if confirm.trim() != granted.subject.slug {
        return Err(ServiceError::invalid(
            "confirm",
            format!(
                "To delete, type the subject's address ({}) to confirm.",
                granted.subject.slug
            ),
        ));
    }
    let affected = affected(state, &granted.subject).await?;
    state.db().delete_subject(granted.subject.id).await?;
    publish(state, affected, Touches::Content).await;
    publish(state, [granted.subject.id], Touches::Access).await;
    Ok(())
}

/// The subject's collaborators (owner and editors may list them).
pub async fn members(
    state: &Services,
    caller: Option<&Caller>,
    slug: &Slug,
) -> Result<Vec<Member>, ServiceError> {
    let granted = access::subject_for(state, caller, slug, Need::Edit).await?;
    Ok(state
        .db()
        .members(granted.subject.id)
        .await?
        .into_iter()
        .filter_map(|m| {
            Some(Member {
                role: Role::parse(&m.role).ok()?,
                username: m.username,
                display_name: m.display_name,
            })
        })
        .collect())
}

async fn member_user(state: &Services, username: &str) -> Result<i64, ServiceError> {
    match user_named(state, username).await {
        Ok(user) => Ok(user.id),
        // An unknown invitee is a mistake in the form, not a missing page.
        Err(ServiceError::Refused(e)) if e.code == ErrorCode::NotFound => {
            Err(ServiceError::invalid("username", e.message))
        }
        Err(e) => Err(e),
    }
}

/// Invites `username` as a collaborator with `role`, or changes their role (owner only).
pub async fn set_member(
    state: &Services,
    caller: Option<&Caller>,
    slug: &Slug,
    username: &str,
    role: &str,
) -> Result<Vec<Member>, ServiceError> {
    let granted = access::subject_for(state, caller, slug, Need::Own).await?;
    let role = Role::parse(role)?;
    let user_id = member_user(state, username).await?;
    if user_id == granted.subject.owner_id {
        return Err(ServiceError::invalid(
            "username",
            "The owner already has every right.",
        ));
    }
    state
        .db()
        .set_member(granted.subject.id, user_id, role.as_str(), now_ms())
        .await?;
    publish(state, [granted.subject.id], Touches::Access).await;
    members(state, caller, slug).await
}

/// Removes a collaborator (owner only).
pub async fn remove_member(
    state: &Services,
    caller: Option<&Caller>,
    slug: &Slug,
    username: &str,
) -> Result<(), ServiceError> {
    let granted = access::subject_for(state, caller, slug, Need::Own).await?;
    let user_id = member_user(state, username).await?;
    match state.db().remove_member(granted.subject.id, user_id).await {
        Ok(()) => {
            publish(state, [granted.subject.id], Touches::Access).await;
            Ok(())
        }
        Err(DbError::NotFound) => Err(ServiceError::not_found(format!(
            "{username} is not a collaborator."
        ))),
        Err(e) => Err(e.into()),
    }
}

/// Who is reading, for view counting: the account, or a hash of the client address.
pub fn viewer_key(caller: Option<&Caller>, client: Option<&str>) -> Option<String> {
    if let Some(c) = caller {
        return Some(format!("u:{}", c.user.id));
    }
    let client = client?;
    use sha2::Digest as _;
    let digest = sha2::Sha256::digest(client.as_bytes());
    Some(format!(
        "a:{}",
        digest[..12]
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<String>()
    ))
}

/// Who reads a page: the signed-in caller, if any, and the client's address (a signed-out
/// reader's views are counted by it).
#[derive(Clone, Copy)]
pub struct Reader<'a> {
    pub caller: Option<&'a Caller>,
    pub client: Option<&'a str>,
}

/// A subject page ([`detail`]) as `reader` opens it: the view is counted.
pub async fn read_subject(
    state: &Services,
    reader: Reader<'_>,
    slug: &Slug,
    folded: &[i64],
    with_map: bool,
) -> Result<(SubjectDetail, Granted), ServiceError> {
    let read = detail(state, reader.caller, slug, folded, with_map).await?;
    count_view(state, reader, read.1.subject.id).await;
    Ok(read)
}

/// A topic page ([`topic_detail`]) as `reader` opens it: the view (of its subject) is
/// counted.
pub async fn read_topic(
    state: &Services,
    reader: Reader<'_>,
    slug: &Slug,
    topic_id: i64,
) -> Result<TopicRead, ServiceError> {
    let read = topic_detail(state, reader.caller, slug, topic_id).await?;
    count_view(state, reader, read.granted.subject.id).await;
    Ok(read)
}

/// A topic as read ([`topic_detail`]).
pub struct TopicRead {
    pub detail: TopicDetail,
    pub granted: Granted,
    /// The body is the rendered row's: a page showing it may be cached until the subject
    /// changes. When false, the body came from its live document, ahead of the row (whose
    /// refresh will drop cached pages).
    pub settled: bool,
}

/// Counts a view of `subject_id` by the reader (or, signed out, their address).
async fn count_view(state: &Services, reader: Reader<'_>, subject_id: i64) {
    record_view(state, subject_id, viewer_key(reader.caller, reader.client)).await;
}

/// Counts a view of `subject_id` by `viewer`, at most once per [`VIEW_WINDOW_MS`]. Best
/// effort: a failure is logged, never shown to the reader.
pub async fn record_view(state: &Services, subject_id: i64, viewer: Option<String>) {
    let Some(viewer) = viewer else { return };
    let now = now_ms();
    if !state
        .views()
        .first_in_window(subject_id, &viewer, now, VIEW_WINDOW_MS)
    {
        return;
    }
    if let Err(e) = state
        .db()
        .record_view(subject_id, &viewer, now, VIEW_WINDOW_MS)
        .await
    {
        tracing::warn!(error = %e, "could not count a view");
    }
}

async fn reader_state(
    state: &Services,
    caller: Option<&Caller>,
    granted: &Granted,
) -> Result<ReaderState, ServiceError> {
    let marks = match caller {
        Some(c) => state.db().marks(c.user.id, granted.subject.id).await?,
        None => Default::default(),
    };
    Ok(ReaderState {
        signed_in: caller.is_some(),
        liked: marks.liked,
        saved: marks.saved,
        can_edit: granted.can_edit(),
        is_owner: granted.is_owner(),
    })
}

/// The tree as rows grouped by parent, in sibling order.
struct Outline<'a>(ByParent<'a, TopicNodeRow>);

impl<'a> Outline<'a> {
    fn new(rows: &'a [TopicNodeRow]) -> Result<Self, ServiceError> {
        ByParent::new(rows)
            .map(Outline)
            .ok_or_else(|| ServiceError::internal(anyhow::anyhow!("subject without a root topic")))
    }

    fn kids(&self, id: i64) -> &[&'a TopicNodeRow] {
        self.0.children(id)
    }

    fn node(&self, row: &TopicNodeRow, depth: usize) -> TopicNode {
        TopicNode {
            id: row.id,
            title: row.title.clone(),
            children: if depth > crate::tree::MAX_DEPTH {
                Vec::new()
            } else {
                self.kids(row.id)
                    .iter()
                    .map(|c| self.node(c, depth + 1))
                    .collect()
            },
        }
    }

    /// The map from `row` down; nodes link to their topic pages when `slug` is given.
    fn map_node(
        &self,
        row: &TopicNodeRow,
        slug: Option<&str>,
        folded: &HashSet<i64>,
        depth: usize,
    ) -> MapNode {
        MapNode {
            id: row.id,
            label: row.title.clone(),
            href: slug.map(|slug| topic_path(slug, row.id, &row.title)),
            collapsed: folded.contains(&row.id),
            children: if depth > crate::tree::MAX_DEPTH {
                Vec::new()
            } else {
                self.kids(row.id)
                    .iter()
                    .map(|c| self.map_node(c, slug, folded, depth + 1))
                    .collect()
            },
        }
    }

    /// Topic ids in reading order (depth first, children in order).
    fn reading_order(&self) -> Vec<i64> {
        let mut order = Vec::new();
        let mut stack = vec![self.0.root];
        while let Some(row) = stack.pop() {
            order.push(row.id);
            stack.extend(self.kids(row.id).iter().rev());
        }
        order
    }
}

/// A subject's whole map as a standalone SVG document (no links, nothing folded), drawn as on
/// its page.
pub fn standalone_map(rows: &[TopicNodeRow], title: &str) -> Result<String, ServiceError> {
    let outline = Outline::new(rows)?;
    let map = outline.map_node(outline.0.root, None, &HashSet::new(), 0);
    Ok(to_svg(&layout(&map), title))
}

/// A subject with its tree, its map (folded at `folded`), and what the reader may do.
pub async fn detail(
    state: &Services,
    caller: Option<&Caller>,
    slug: &Slug,
    folded: &[i64],
    with_map: bool,
) -> Result<(SubjectDetail, Granted), ServiceError> {
    let granted = access::subject_for(state, caller, slug, Need::Read).await?;
    let rows = state.db().topic_tree(granted.subject.id).await?;
    let outline = Outline::new(&rows)?;
    let root = outline.node(outline.0.root, 0);
    let map_svg = if with_map {
        let folded: HashSet<i64> = folded.iter().copied().collect();
        let map = outline.map_node(outline.0.root, Some(&granted.subject.slug), &folded, 0);
        to_svg_foldable(&layout(&map), &granted.subject.title)
    } else {
        String::new()
    };
    let reader = reader_state(state, caller, &granted).await?;
    Ok((
        SubjectDetail {
            map_document: arbor_live::DocKey::Subject(granted.subject.id).name(),
            subject: card(&granted.subject),
            root,
            reader,
            map_svg,
        },
        granted,
    ))
}

fn topic_ref(row: &TopicNodeRow, slug: &str) -> TopicRef {
    TopicRef {
        id: row.id,
        title: row.title.clone(),
        subject_slug: slug.to_owned(),
        subject_title: None,
    }
}

/// At most this many distinct `[[links]]` of a draft are looked up for its preview; the
/// rest show as text until the body is saved.
const PREVIEW_LINKS: usize = 50;

/// Signed-out previews render one at a time (the others are told to retry): anyone may ask
/// for them, so they may take at most one core of the render pool from pages and editors.
static ANONYMOUS_PREVIEWS: std::sync::LazyLock<tokio::sync::Semaphore> =
    std::sync::LazyLock::new(|| tokio::sync::Semaphore::new(1));

/// A draft of a topic's body rendered as readers will see it, `[[links]]` resolved with the
/// caller's access. Changes nothing; anyone who may read the topic may ask.
pub async fn preview(
    state: &Services,
    caller: Option<&Caller>,
    slug: &Slug,
    topic_id: i64,
    body: &Body,
) -> Result<String, ServiceError> {
    let granted = access::subject_for(state, caller, slug, Need::Read).await?;
    let subject = &granted.subject;
    match state.db().topic(subject.id, topic_id).await {
        Ok(_) => {}
        Err(DbError::NotFound) => return Err(ServiceError::not_found("No such topic.")),
        Err(e) => return Err(e.into()),
    }
    let _anonymous = match caller {
        Some(_) => None,
        None => Some(
            ANONYMOUS_PREVIEWS
                .try_acquire()
                .map_err(|_| ServiceError::busy())?,
        ),
    };
    let draft = markdown::render_pooled(body.as_str().to_owned(), |_| None).await?;
    let keys: BTreeSet<_> = draft
        .links
        .iter()
        .map(|link| tree::link_ref(&subject.slug, link))
        .collect();
    let mut targets = HashMap::new();
    for key in keys.into_iter().take(PREVIEW_LINKS) {
        let target = state.db().link_target(&key, granted.viewer).await?;
        let href = target.map(|id| topic_path(&key.slug, id, &key.title_key));
        targets.insert(key, href);
    }
    let own_slug = subject.slug.clone();
    let rendered = markdown::render_pooled(body.as_str().to_owned(), move |link| {
        targets
            .get(&tree::link_ref(&own_slug, link))
            .cloned()
            .flatten()
    })
    .await?;
    Ok(rendered.html)
}

/// A linked topic as a reader sees it, seen from subject `own_slug`.
fn linked_ref(l: LinkedTopicRow, own_slug: &str) -> TopicRef {
    TopicRef {
        id: l.topic_id,
        title: l.title,
        subject_title: (l.subject_slug != own_slug).then_some(l.subject_title),
        subject_slug: l.subject_slug,
    }
}

/// One page of the backlinks of topic `topic_id` (in the granted subject), after `after`;
/// with the cursor of the next page when there is one.
async fn backlink_page(
    state: &Services,
    granted: &Granted,
    topic_id: i64,
    after: Option<BacklinkCursor>,
) -> Result<(Vec<TopicRef>, Option<String>), ServiceError> {
    let size = BacklinkPage::SIZE as usize;
    let mut rows = state
        .db()
        .backlinks(
            granted.subject.id,
            topic_id,
            granted.viewer,
            after,
            BacklinkPage::SIZE + 1,
        )
        .await?;
    let next = (rows.len() > size).then(|| {
        rows.truncate(size);
        rows.last().map(|row| cursor_text(row.cursor()))
    });
    let refs = rows
        .into_iter()
        .map(|row| linked_ref(row.topic, &granted.subject.slug))
        .collect();
    Ok((refs, next.flatten()))
}

/// A backlink cursor as written in a URL: `s` (this subject) or `o` (another), then the id.
fn cursor_text(cursor: BacklinkCursor) -> String {
    let side = if cursor.other_subject { 'o' } else { 's' };
    format!("{side}{}", cursor.topic_id)
}

fn parse_cursor(text: &str) -> Result<BacklinkCursor, ServiceError> {
    let other_subject = match text.get(..1) {
        Some("s") => false,
        Some("o") => true,
        _ => return Err(bad_cursor()),
    };
    let topic_id = text[1..].parse().map_err(|_| bad_cursor())?;
    Ok(BacklinkCursor {
        other_subject,
        topic_id,
    })
}

fn bad_cursor() -> ServiceError {
    ServiceError::invalid("cursor", "Not a cursor from a page of backlinks.")
}

/// A page of the topics linking to topic `topic_id`, from `cursor` on (the previous page's
/// `next_cursor`, or the topic's `backlinks_cursor`).
pub async fn backlinks(
    state: &Services,
    caller: Option<&Caller>,
    slug: &Slug,
    topic_id: i64,
    cursor: Option<&str>,
) -> Result<(BacklinkPage, Granted), ServiceError> {
    let after = cursor.map(parse_cursor).transpose()?;
    let granted = access::subject_for(state, caller, slug, Need::Read).await?;
    let topic = match state.db().topic(granted.subject.id, topic_id).await {
        Ok(t) => t,
        Err(DbError::NotFound) => return Err(ServiceError::not_found("No such topic.")),
        Err(e) => return Err(e.into()),
    };
    let (backlinks, next_cursor) = backlink_page(state, &granted, topic.id, after).await?;
    Ok((
        BacklinkPage {
            topic: TopicRef {
                id: topic.id,
                title: topic.title,
                subject_slug: granted.subject.slug.clone(),
                subject_title: None,
            },
            backlinks,
            next_cursor,
        },
        granted,
    ))
}

/// A topic with its rendered body, place in the tree, links and backlinks.
///
/// The body is what its editors were last told was saved: the rendered row lags the live
/// document by a couple of seconds (it is refreshed once editing goes quiet), so when the
/// document has changes the row does not, the body is read from the document instead (`[[…]]`
/// links typed meanwhile resolve once the row is refreshed).
pub async fn topic_detail(
    state: &Services,
    caller: Option<&Caller>,
    slug: &Slug,
    topic_id: i64,
) -> Result<TopicRead, ServiceError> {
    let granted = access::subject_for(state, caller, slug, Need::Read).await?;
    let subject = &granted.subject;
    let mut topic = match state.db().topic(subject.id, topic_id).await {
        Ok(t) => t,
        Err(DbError::NotFound) => return Err(ServiceError::not_found("No such topic.")),
        Err(e) => return Err(e.into()),
    };
    let newer = state
        .collab()
        .newer_body(topic.id, topic.updated_at)
        .await?;
    let settled = newer.is_none();
    if let Some(body) = newer {
        topic.body = body;
    }
    let rows = state.db().topic_tree(subject.id).await?;
    let outline = Outline::new(&rows)?;
    let by_id: HashMap<i64, &TopicNodeRow> = rows.iter().map(|r| (r.id, r)).collect();

    let mut breadcrumbs = Vec::new();
    let mut at = topic.parent_id;
    while let Some(id) = at {
        let Some(row) = by_id.get(&id) else { break };
        breadcrumbs.push(topic_ref(row, &subject.slug));
        at = row.parent_id;
        if breadcrumbs.len() > rows.len() {
            break;
        }
    }
    breadcrumbs.reverse();
    let children = outline
        .kids(topic.id)
        .iter()
        .map(|r| topic_ref(r, &subject.slug))
        .collect();
    let order = outline.reading_order();
    let position = order.iter().position(|id| *id == topic.id);
    let neighbour = |offset: isize| {
        position
            .and_then(|p| p.checked_add_signed(offset))
            .and_then(|p| order.get(p))
            .and_then(|id| by_id.get(id))
            .map(|r| topic_ref(r, &subject.slug))
    };

    let outgoing = state.db().outgoing_links(topic.id, granted.viewer).await?;
    let targets: HashMap<(String, String), String> = outgoing
        .iter()
        .map(|l| {
            (
                (l.subject_slug.clone(), l.title_key.clone()),
                topic_path(&l.subject_slug, l.topic_id, &l.title_key),
            )
        })
        .collect();
    let own_slug = subject.slug.clone();
    let rendered = markdown::render_pooled(topic.body.clone(), move |link| {
        let slug = link.subject.as_deref().unwrap_or(&own_slug).to_lowercase();
        targets.get(&(slug, link.title.to_lowercase())).cloned()
    })
    .await?;
    let mut seen = HashSet::new();
    let links = outgoing
        .into_iter()
        .filter(|l| seen.insert(l.topic_id))
        .map(|l| linked_ref(l, &subject.slug))
        .collect();
    let (backlinks, backlinks_cursor) = backlink_page(state, &granted, topic.id, None).await?;
    let reader = reader_state(state, caller, &granted).await?;
    Ok(TopicRead {
        detail: TopicDetail {
            subject: card(subject),
            id: topic.id,
            title: topic.title,
            body: topic.body,
            html: rendered.html,
            parent_id: topic.parent_id,
            breadcrumbs,
            children,
            previous: neighbour(-1),
            next: neighbour(1),
            links,
            backlinks,
            backlinks_cursor,
            reader,
            updated_at: topic.updated_at,
        },
        granted,
        settled,
    })
}

/// Likes or saves (`on`) a subject, or takes that back; idempotent. Returns the new counts.
pub async fn set_mark(
    state: &Services,
    caller: Option<&Caller>,
    slug: &Slug,
    mark: Mark,
    on: bool,
) -> Result<SubjectCard, ServiceError> {
    let caller = caller.ok_or_else(ServiceError::unauthenticated)?;
    let granted = access::subject_for(state, Some(caller), slug, Need::Read).await?;
    let changed = state
        .db()
        .set_mark(mark, caller.user.id, granted.subject.id, on, now_ms())
        .await?;
    if changed {
        publish(state, [granted.subject.id], Touches::Content).await;
    }
    Ok(card(&state.db().subject_by_id(granted.subject.id).await?))
}

/// An author's page as `caller` sees it.
pub async fn author(
    state: &Services,
    caller: Option<&Caller>,
    username: &str,
) -> Result<AuthorDetail, ServiceError> {
    let user = user_named(state, username).await?;
    let viewer = caller.map_or(0, |c| c.user.id);
    let counts = state.db().follow_counts(user.id).await?;
    let followed = match caller {
        Some(c) if c.user.id != user.id => state.db().follows(c.user.id, user.id).await?,
        _ => false,
    };
    let subjects = state
        .db()
        .subjects_by_owner(user.id, viewer, 100)
        .await?
        .iter()
        .map(card)
        .collect();
    Ok(AuthorDetail {
        is_me: viewer == user.id,
        profile: crate::accounts::public_profile(user),
        followers: counts.followers,
        following: counts.following,
        followed,
        subjects,
    })
}

/// Follows (`on`) or unfollows an author; idempotent. Following yourself is refused.
pub async fn follow(
    state: &Services,
    caller: Option<&Caller>,
    username: &str,
    on: bool,
) -> Result<AuthorDetail, ServiceError> {
    let caller = caller.ok_or_else(ServiceError::unauthenticated)?;
    let user = user_named(state, username).await?;
    if user.id == caller.user.id {
        return Err(ServiceError::invalid(
            "username",
            "You cannot follow yourself.",
        ));
    }
    state
        .db()
        .set_follow(caller.user.id, user.id, on, now_ms())
        .await?;
    author(state, Some(caller), username).await
}

/// Views this replica counted recently, so a reader re-reading a page does not cost a database
/// write each time. The database stays the judge across replicas.
#[derive(Default)]
pub struct RecentViews {
    seen: std::sync::Mutex<HashMap<(i64, String), i64>>,
}

impl RecentViews {
    const MAX: usize = 100_000;

    /// Whether this is the first view of `subject_id` by `viewer` within `window` here.
    pub fn first_in_window(&self, subject_id: i64, viewer: &str, now: i64, window: i64) -> bool {
        let Ok(mut seen) = self.seen.lock() else {
            return true;
        };
        let key = (subject_id, viewer.to_owned());
        if seen.get(&key).is_some_and(|at| now - at < window) {
            return false;
        }
        if seen.len() >= Self::MAX {
            seen.retain(|_, at| now - *at < window);
            if seen.len() >= Self::MAX {
                seen.clear();
            }
        }
        seen.insert(key, now);
        true
    }
}
