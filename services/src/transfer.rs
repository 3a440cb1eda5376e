//! Import and export of a subject's tree (issue 5): files in and out through `arbor_outline`,
//! with every import applied through the subject's structure document like any other change
//! ([`crate::tree`]) and kept in the subject's import history, so its file can be downloaded
//! again and the owner can roll the subject back to the state before it.
//!
//! An import replaces the subject's topics: the root's children go to the trash (restorable
//! like any deleted subtree), the file's topics take their place, and the root takes the
//! file's title and text when the file names a root. Rolling back sends the imported topics to
//! the trash and restores the ones the import replaced, root title and text included; that
//! works while the replaced topics are in the trash (30 days).
//!
//! Exports are built off the async workers and stop when their request is dropped (client gone,
//! request timed out); PNGs, the costly kind, are drawn a strip at a time, a bounded number at
//! once, and kept by the digest of what they draw ([`PngExports`]). See docs/import-export.md.

use std::collections::{HashMap, VecDeque};
use std::io::Write as _;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use arbor_db::DbError;
use arbor_db::imports::{ImportRow, NewImport};
use arbor_db::topics::{ByParent, TopicNodeRow, TopicRow};
use arbor_map::MapError;
use arbor_outline::{Format, Limits, Outline};
use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};
use tokio::sync::Semaphore;

use crate::ServiceError;
use crate::access::{self, Granted, Need};
use crate::auth::Caller;
use crate::tree::{self, MAX_DEPTH, MAX_TOPICS};
use crate::{Services, now_ms, subjects};
use arbor_types::content::{Body, ImportItem, Slug, Title};
use arbor_types::error::{AppError, ErrorCode};

/// What an imported file may hold: what the tree allows.
pub const IMPORT_LIMITS: Limits = Limits {
    topics: MAX_TOPICS,
    depth: MAX_DEPTH,
    title_chars: Title::MAX,
    body_bytes: Body::MAX_BYTES,
};

/// Exports go this deep at most; deeper topics (only a live editor could make them) are
/// written as children of their ancestor at this depth.
const EXPORT_DEPTH: usize = 2 * MAX_DEPTH;

/// A PNG holds at most this many pixels (a 1,000-topic map is tall).
const PNG_MAX_PIXELS: f32 = 16_000_000.0;
/// Pixels of a PNG drawn at once (a strip of rows: 4 MiB).
const PNG_STRIP_PIXELS: u32 = 1 << 20;
/// PNGs drawn at once per replica.
pub const PNG_SLOTS: usize = 2;
/// PNG exports that may wait for a slot per replica; more are answered 429 at once.
pub const PNG_QUEUE: usize = 16;
/// How long a PNG export waits for a slot before it is answered 429.
pub const PNG_WAIT: Duration = Duration::from_secs(10);
/// What a PNG export answered 429 is told to wait, in seconds.
const PNG_RETRY_AFTER: u64 = 5;
/// Bytes of recent PNGs kept per replica.
pub const PNG_CACHE_BYTES: usize = 16 << 20;

/// What an import changed, to undo it.
#[derive(Debug, Serialize, Deserialize)]
struct Undo {
    /// The imported topics under the root.
    created: Vec<i64>,
    /// The root's children the import sent to the trash.
    replaced: Vec<i64>,
    root_title: String,
    root_body: String,
}

/// An import as applied.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Imported {
    pub id: i64,
    /// Topics created (the root not counted).
    pub topics: usize,
}

/// The format of an upload: named, or from the file name's extension.
pub fn format_of(named: Option<&str>, filename: &str) -> Result<Format, ServiceError> {
    let named = named.filter(|n| !n.is_empty());
    let extension = filename.rsplit_once('.').map(|(_, ext)| ext);
    named
        .or(extension)
        .and_then(Format::parse)
        .ok_or_else(|| {
            ServiceError::invalid(
                "format",
                "Give the format (markdown, opml, freemind or json) or a file name ending in .md, .txt, .opml, .mm or .json.",
            )
        })
}

/// `source` read as a `format` file within the import limits, refused with where it is wrong
/// (field `content`) — and when it brings no topic: an import replaces the topics, and one
/// that brings none would empty the map, never what the person meant.
fn read_outline(format: Format, source: &str) -> Result<Outline, ServiceError> {
    let outline = format.read(source, &IMPORT_LIMITS).map_err(|e| {
        ServiceError::invalid("content", format!("The file cannot be imported: {e}."))
    })?;
    if outline.children.is_empty() {
        return Err(ServiceError::invalid(
            "content",
            "The file holds no topics under its title: nothing was imported. Give topics as headings (## Topic), as a bulleted list (- Topic), or as indented lines.",
        ));
    }
    Ok(outline)
}

/// A new subject of the caller's from a file: titled by the file's root (or its name), its
/// topics the file's, recorded in its import history like any import. A bad file is refused
/// before anything is created.
pub async fn create_from_file(
    state: &Services,
    caller: &Caller,
    format: Format,
    filename: &str,
    source: &str,
    visibility: Option<String>,
) -> Result<arbor_types::content::SubjectCard, ServiceError> {
    let outline = read_outline(format, source)?;
    let stem = filename
        .trim()
        .rsplit_once('.')
        .map_or(filename.trim(), |(stem, _)| stem);
    let title = if outline.title.trim().is_empty() {
        stem
    } else {
        outline.title.as_str()
    };
    let title: String = title.trim().chars().take(Title::MAX).collect();
    let input = subjects::SubjectInput {
        title: if title.is_empty() {
            "Imported".to_owned()
        } else {
            title
        },
        summary: String::new(),
        tags: Vec::new(),
        visibility,
    };
    let card = subjects::create(state, caller, &input).await?;
    let slug = Slug::parse(&card.slug)?;
    let granted = access::subject_for(state, Some(caller), &slug, Need::Own).await?;
    if let Err(e) = import(state, &granted, caller.user.id, format, filename, source).await {
        // Nothing half made stays behind.
        let _ = subjects::delete(state, Some(caller), &slug, &card.slug).await;
        return Err(e);
    }
    Ok(card)
}

/// Replaces `granted`'s topics with those of `source`, a `format` file named `filename`.
/// A bad file is refused with where it went wrong, and nothing changes.
pub async fn import(
    state: &Services,
    granted: &Granted,
    user_id: i64,
    format: Format,
    filename: &str,
    source: &str,
) -> Result<Imported, ServiceError> {
    if !granted.can_edit() {
        return Err(ServiceError::forbidden(
            "You may read this subject but not change it.",
        ));
    }
    let filename = filename.trim();
    if filename.is_empty() || filename.chars().count() > 200 {
        return Err(ServiceError::invalid(
            "filename",
            "Give a file name of 1–200 characters.",
        ));
    }
    let outline = read_outline(format, source)?;
    let subject = &granted.subject;
    // The root takes the file's text when the file names a root.
    let new_root_body = (!outline.title.is_empty() || !outline.body.is_empty())
        .then(|| Body::parse(&outline.body))
        .transpose()?;

    // Ids for the new topics, parents first and siblings in order.
    let mut plan: Vec<(i64, Option<i64>, &str)> = Vec::new();
    let mut bodies: Vec<(i64, &str)> = Vec::new();
    let mut created = Vec::new();
    let mut stack: Vec<(&Outline, Option<i64>)> =
        outline.children.iter().rev().map(|c| (c, None)).collect();
    while let Some((topic, parent)) = stack.pop() {
        let id = tree::new_topic_id();
        if parent.is_none() {
            created.push(id);
        }
        plan.push((id, parent, &topic.title));
        if !topic.body.is_empty() {
            bodies.push((id, &topic.body));
        }
        stack.extend(topic.children.iter().rev().map(|c| (c, Some(id))));
    }
    let hub = state.collab();
    hub.seed_bodies(subject.id, &bodies).await?;
    let applied = hub
        .change_structure(subject.id, |structure, txn, tree| {
            let root = tree.root;
            let replaced = tree.nodes[&root].children.clone();
            let root_title = tree.nodes[&root].title.clone();
            let map = |e| ServiceError::internal(anyhow::anyhow!("importing: {e}"));
            for id in &replaced {
                structure.delete(txn, *id, now_ms()).map_err(map)?;
            }
            if !outline.title.is_empty() {
                structure.rename(txn, root, &outline.title).map_err(map)?;
            }
            let nodes: Vec<(i64, i64, &str)> = plan
                .iter()
                .map(|(id, parent, title)| (*id, parent.unwrap_or(root), *title))
                .collect();
            structure.append(txn, &nodes).map_err(map)?;
            Ok((root, replaced, root_title))
        })
        .await;
    let (root, replaced, root_title) = match applied {
        Ok(applied) => applied,
        Err(e) => {
            let ids: Vec<i64> = bodies.iter().map(|(id, _)| *id).collect();
            hub.discard_bodies(subject.id, &ids).await;
            return Err(e);
        }
    };
    // Recorded as soon as the document holds it, so it can be rolled back even if what
    // follows (the rows, the root's text) has to be retried. The root's row still has its
    // old text: only the structure changed so far.
    let root_body = state.db().topic(subject.id, root).await?.body;
    let undo = Undo {
        created,
        replaced,
        root_title,
        root_body,
    };
    let topics = plan.len();
    let id = state
        .db()
        .record_import(NewImport {
            subject_id: subject.id,
            user_id,
            format: format.name(),
            filename,
            source,
            topics: topics as i64,
            undo: &serde_json::to_string(&undo).map_err(ServiceError::internal)?,
            now: now_ms(),
        })
        .await?;
    tree::project(state, subject).await?;
    if let Some(body) = &new_root_body {
        tree::edit_topic(state, granted, root, None, Some(body)).await?;
    }
    metrics::counter!("arbor_imports_total", "format" => format.name()).increment(1);
    Ok(Imported { id, topics })
}

/// A subject's imports, newest first (editors).
pub async fn history(state: &Services, granted: &Granted) -> Result<Vec<ImportItem>, ServiceError> {
    if !granted.can_edit() {
        return Err(ServiceError::forbidden(
            "You may read this subject but not change it.",
        ));
    }
    let rows: Vec<ImportRow> = state.db().imports(granted.subject.id).await?;
    Ok(rows
        .into_iter()
        .map(|row| ImportItem {
            id: row.id,
            username: row.username,
            format: row.format,
            filename: row.filename,
            topics: row.topics,
            created_at: row.created_at,
            rolled_back_at: row.rolled_back_at,
        })
        .collect())
}

/// An import's file as uploaded: (file name, text) (editors).
pub async fn source(
    state: &Services,
    granted: &Granted,
    id: i64,
) -> Result<(String, String), ServiceError> {
    if !granted.can_edit() {
        return Err(ServiceError::forbidden(
            "You may read this subject but not change it.",
        ));
    }
    match state.db().import_source(granted.subject.id, id).await {
        Ok(file) => Ok((file.filename, file.source)),
        Err(DbError::NotFound) => Err(ServiceError::not_found("No such import.")),
        Err(e) => Err(e.into()),
    }
}

/// Rolls the subject back to the state before import `id` (the owner, once per import).
pub async fn rollback(state: &Services, granted: &Granted, id: i64) -> Result<(), ServiceError> {
    if !granted.is_owner() {
        return Err(ServiceError::forbidden(
            "Only the subject's owner can roll back an import.",
        ));
    }
    let subject = &granted.subject;
    let undo = match state.db().claim_rollback(subject.id, id, now_ms()).await {
        Ok(undo) => undo,
        Err(DbError::NotFound) => return Err(ServiceError::not_found("No such import.")),
        Err(DbError::Conflict(_)) => {
            return Err(ServiceError::new(
                ErrorCode::Conflict,
                "This import was rolled back already.",
            ));
        }
        Err(e) => return Err(e.into()),
    };
    let done = undo_import(state, granted, &undo).await;
    if done.is_err()
        && let Err(e) = state.db().release_rollback(subject.id, id).await
    {
        tracing::warn!(error = %e, import = id, "could not release a failed rollback");
    }
    done
}

async fn undo_import(state: &Services, granted: &Granted, undo: &str) -> Result<(), ServiceError> {
    let undo: Undo = serde_json::from_str(undo).map_err(ServiceError::internal)?;
    let subject = &granted.subject;
    let root = state
        .collab()
        .change_structure(subject.id, |structure, txn, tree| {
            if let Some(gone) = undo
                .replaced
                .iter()
                .find(|id| !tree.trash.contains_key(id) && !tree.nodes.contains_key(id))
            {
                return Err(ServiceError::new(
                    ErrorCode::Conflict,
                    format!(
                        "Topic {gone}, which this import replaced, has been purged from the trash; the import can no longer be rolled back."
                    ),
                ));
            }
            let map = |e| ServiceError::internal(anyhow::anyhow!("rolling back: {e}"));
            for id in undo.created.iter().filter(|id| tree.nodes.contains_key(id)) {
                structure.delete(txn, *id, now_ms()).map_err(map)?;
            }
            for id in undo.replaced.iter().filter(|id| tree.trash.contains_key(id)) {
                structure.restore(txn, *id).map_err(|e| match e {
                    MapError::TooMany(_) | MapError::TooDeep(_) => ServiceError::new(
                        ErrorCode::Conflict,
                        format!("Rolling back would pass the subject's limits ({e}); delete some topics first."),
                    ),
                    e => map(e),
                })?;
            }
            structure
                .rename(txn, tree.root, &undo.root_title)
                .map_err(map)?;
            Ok(tree.root)
        })
        .await?;
    tree::project(state, subject).await?;
    let body = Body::parse(&undo.root_body)?;
    tree::edit_topic(state, granted, root, None, Some(&body)).await
}

/// What an export is made as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportKind {
    Outline(Format),
    /// One Markdown file per topic, zipped.
    MarkdownZip,
    Svg,
    Png,
}

impl ExportKind {
    /// The kind an API name stands for (`markdown`, `markdown-zip`, `opml`, `freemind`,
    /// `json`, `svg`, `png`).
    pub fn parse(name: &str) -> Option<ExportKind> {
        match name {
            "markdown-zip" | "zip" => Some(ExportKind::MarkdownZip),
            "svg" => Some(ExportKind::Svg),
            "png" => Some(ExportKind::Png),
            other => Format::parse(other).map(ExportKind::Outline),
        }
    }

    fn content_type(self) -> &'static str {
        match self {
            ExportKind::Outline(Format::Markdown) => "text/markdown; charset=utf-8",
            ExportKind::Outline(Format::Opml) => "text/x-opml; charset=utf-8",
            ExportKind::Outline(Format::FreeMind) => "application/x-freemind; charset=utf-8",
            ExportKind::Outline(Format::Json) => "application/json",
            ExportKind::MarkdownZip => "application/zip",
            ExportKind::Svg => "image/svg+xml",
            ExportKind::Png => "image/png",
        }
    }

    fn extension(self) -> &'static str {
        match self {
            ExportKind::Outline(format) => format.extension(),
            ExportKind::MarkdownZip => "zip",
            ExportKind::Svg => "svg",
            ExportKind::Png => "png",
        }
    }
}

/// An exported file.
#[derive(Debug, Clone)]
pub struct Exported {
    pub content_type: &'static str,
    pub filename: String,
    pub bytes: Vec<u8>,
}

/// Subject `slug` as a file of `kind`, for anyone who may read it. The work runs off the async
/// workers and stops when the request is dropped (see [`off_workers`]); PNGs are bounded
/// further by [`PngExports`].
pub async fn export(
    state: &Services,
    caller: Option<&Caller>,
    slug: &Slug,
    kind: ExportKind,
) -> Result<Exported, ServiceError> {
    let granted = access::subject_for(state, caller, slug, Need::Read).await?;
    let subject = granted.subject;
    let rows = state.db().subject_topics(subject.id).await?;
    let filename = format!("{}.{}", subject.slug, kind.extension());
    let bytes = match kind {
        ExportKind::Outline(format) => {
            off_workers(move |cancel| {
                let outline = outline_of(&rows)?;
                cancel.check()?;
                Ok(format.write(&outline).into_bytes())
            })
            .await?
        }
        ExportKind::MarkdownZip => {
            off_workers(move |cancel| {
                let outline = outline_of(&rows)?;
                cancel.check()?;
                Ok(arbor_outline::zip::write(&outline, &subject.slug))
            })
            .await?
        }
        ExportKind::Svg => {
            off_workers(move |_| Ok(map_svg(&rows, &subject.title)?.into_bytes())).await?
        }
        ExportKind::Png => state.png_exports().draw(rows, subject.title).await?,
    };
    metrics::counter!("arbor_exports_total", "format" => kind.extension()).increment(1);
    Ok(Exported {
        content_type: kind.content_type(),
        filename,
        bytes,
    })
}

/// The subject's map as a standalone SVG document.
fn map_svg(rows: &[TopicRow], title: &str) -> Result<String, ServiceError> {
    let nodes: Vec<TopicNodeRow> = rows
        .iter()
        .map(|r| TopicNodeRow {
            id: r.id,
            parent_id: r.parent_id,
            order_key: r.order_key.clone(),
            title: r.title.clone(),
        })
        .collect();
    subjects::standalone_map(&nodes, title)
}

/// Raised when the request that started some blocking work is gone: its client went away or
/// it timed out (the server's request timeout drops it). The work stops at its next check.
#[derive(Clone, Default)]
struct Cancel(Arc<AtomicBool>);

impl Cancel {
    /// An error once the request is gone (nobody reads it).
    fn check(&self) -> Result<(), ServiceError> {
        if self.0.load(Ordering::Relaxed) {
            metrics::counter!("arbor_exports_cancelled_total").increment(1);
            return Err(ServiceError::new(
                ErrorCode::Internal,
                "The export was cancelled.",
            ));
        }
        Ok(())
    }
}

/// Raises its [`Cancel`] when dropped, with the request's future.
struct RaiseOnDrop(Cancel);

impl Drop for RaiseOnDrop {
    fn drop(&mut self) {
        self.0.0.store(true, Ordering::Relaxed);
    }
}

/// Runs `work` on the blocking pool, off the async workers; if the request is dropped
/// meanwhile, `work`'s [`Cancel`] is raised.
async fn off_workers<T: Send + 'static>(
    work: impl FnOnce(&Cancel) -> Result<T, ServiceError> + Send + 'static,
) -> Result<T, ServiceError> {
    let raise = RaiseOnDrop(Cancel::default());
    let cancel = raise.0.clone();
    tokio::task::spawn_blocking(move || work(&cancel))
        .await
        .map_err(ServiceError::internal)?
}

/// A PNG kept, by the SHA-256 of the SVG it draws.
type RecentPng = ([u8; 32], Vec<u8>);

/// The PNG exports of a replica. Drawing one holds a parsed map and a strip of pixels, so at
/// most [`PNG_SLOTS`] are drawn at once; [`PNG_QUEUE`] more may wait up to [`PNG_WAIT`] for a
/// slot, and any other is answered 429 with `Retry-After`. The last few PNGs are kept (up to
/// [`PNG_CACHE_BYTES`]) by the digest of the SVG they draw, so exporting a map again, or many
/// readers exporting it at once, draws it once.
pub struct PngExports {
    slots: Arc<Semaphore>,
    places: Semaphore,
    recent: Mutex<VecDeque<RecentPng>>,
}

impl Default for PngExports {
    fn default() -> Self {
        PngExports {
            slots: Arc::new(Semaphore::new(PNG_SLOTS)),
            places: Semaphore::new(PNG_SLOTS + PNG_QUEUE),
            recent: Mutex::default(),
        }
    }
}

impl PngExports {
    /// The map of `rows` (a subject titled `title`) as a PNG.
    async fn draw(&self, rows: Vec<TopicRow>, title: String) -> Result<Vec<u8>, ServiceError> {
        let busy = || {
            ServiceError::Refused(AppError {
                retry_after: Some(PNG_RETRY_AFTER),
                ..AppError::new(
                    ErrorCode::Throttled,
                    format!(
                        "Too many maps are being drawn. Try again in {PNG_RETRY_AFTER} seconds."
                    ),
                )
            })
        };
        let _place = self.places.try_acquire().map_err(|_| busy())?;
        let svg = off_workers(move |_| map_svg(&rows, &title)).await?;
        let key: [u8; 32] = Sha256::digest(svg.as_bytes()).into();
        if let Some(png) = self.cached(&key) {
            return Ok(png);
        }
        let slot = tokio::time::timeout(PNG_WAIT, self.slots.clone().acquire_owned())
            .await
            .map_err(|_| busy())?
            .map_err(ServiceError::internal)?;
        // Drawn by another request while this one waited.
        if let Some(png) = self.cached(&key) {
            return Ok(png);
        }
        let png = off_workers(move |cancel| {
            let _slot = slot;
            draw_png(&svg, cancel)
        })
        .await?;
        self.keep(key, &png);
        Ok(png)
    }

    fn cached(&self, key: &[u8; 32]) -> Option<Vec<u8>> {
        let recent = self.recent.lock().unwrap_or_else(|e| e.into_inner());
        recent
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, png)| png.clone())
    }

    fn keep(&self, key: [u8; 32], png: &[u8]) {
        if png.len() > PNG_CACHE_BYTES {
            return;
        }
        let mut recent = self.recent.lock().unwrap_or_else(|e| e.into_inner());
        if recent.iter().any(|(k, _)| *k == key) {
            return;
        }
        recent.push_back((key, png.to_vec()));
        let mut total: usize = recent.iter().map(|(_, p)| p.len()).sum();
        while total > PNG_CACHE_BYTES {
            let (_, oldest) = recent.pop_front().expect("over budget, so not empty");
            total -= oldest.len();
        }
    }
}

/// The subject's rows as an outline: the root with its title and body, children in order
/// (rows come in sibling order).
fn outline_of(rows: &[TopicRow]) -> Result<Outline, ServiceError> {
    let tree = ByParent::new(rows)
        .ok_or_else(|| ServiceError::internal(anyhow::anyhow!("a subject without a root topic")))?;
    let root = tree.root;
    // Reading order with each topic's parent in the export (deep topics move up).
    let mut order: Vec<(&TopicRow, Option<i64>)> = Vec::with_capacity(rows.len());
    let mut stack = vec![(root, None, 0_usize)];
    while let Some((row, parent, depth)) = stack.pop() {
        order.push((row, parent));
        let (under, depth) = if depth >= EXPORT_DEPTH {
            (parent, depth)
        } else {
            (Some(row.id), depth + 1)
        };
        stack.extend(
            tree.children(row.id)
                .iter()
                .rev()
                .map(|k| (*k, under, depth)),
        );
    }
    let mut built: HashMap<i64, Outline> = order
        .iter()
        .map(|(row, _)| {
            let topic = Outline {
                title: row.title.clone(),
                body: row.body.clone(),
                children: Vec::new(),
            };
            (row.id, topic)
        })
        .collect();
    // Last first, so every topic is complete before it joins its parent.
    for (row, parent) in order.iter().rev() {
        if let Some(parent) = parent
            && let Some(topic) = built.remove(&row.id)
            && let Some(parent) = built.get_mut(parent)
        {
            parent.children.insert(0, topic);
        }
    }
    built
        .remove(&root.id)
        .ok_or_else(|| ServiceError::internal(anyhow::anyhow!("the root went missing")))
}

/// The fonts PNGs are drawn with: the system's, loaded once.
fn fonts() -> Arc<resvg::usvg::fontdb::Database> {
    static FONTS: OnceLock<Arc<resvg::usvg::fontdb::Database>> = OnceLock::new();
    FONTS
        .get_or_init(|| {
            let mut db = resvg::usvg::fontdb::Database::new();
            db.load_system_fonts();
            db.set_sans_serif_family("DejaVu Sans");
            Arc::new(db)
        })
        .clone()
}

/// Draws an SVG document as a PNG, at twice its size when that fits [`PNG_MAX_PIXELS`]: a
/// strip of [`PNG_STRIP_PIXELS`] at a time, each encoded as soon as it is drawn, checking
/// `cancel` before each.
fn draw_png(svg: &str, cancel: &Cancel) -> Result<Vec<u8>, ServiceError> {
    let options = resvg::usvg::Options {
        fontdb: fonts(),
        font_family: "DejaVu Sans".into(),
        ..resvg::usvg::Options::default()
    };
    let tree = resvg::usvg::Tree::from_str(svg, &options).map_err(ServiceError::internal)?;
    let size = tree.size();
    let scale = (PNG_MAX_PIXELS / (size.width() * size.height()))
        .sqrt()
        .min(2.0);
    let width = ((size.width() * scale).ceil() as u32).max(1);
    let height = ((size.height() * scale).ceil() as u32).max(1);
    let rows = (PNG_STRIP_PIXELS / width).clamp(1, height);
    let mut strip = resvg::tiny_skia::Pixmap::new(width, rows).ok_or_else(|| {
        ServiceError::internal(anyhow::anyhow!("no room for a {width}×{rows} strip"))
    })?;
    let mut out = Vec::new();
    let mut encoder = png::Encoder::new(&mut out, width, height);
    encoder.set_color(png::ColorType::Rgb);
    encoder.set_depth(png::BitDepth::Eight);
    let mut writer = encoder.write_header().map_err(ServiceError::internal)?;
    let mut stream = writer.stream_writer().map_err(ServiceError::internal)?;
    let mut rgb = Vec::with_capacity(width as usize * rows as usize * 3);
    for top in (0..height).step_by(rows as usize) {
        cancel.check()?;
        strip.fill(resvg::tiny_skia::Color::WHITE);
        resvg::render(
            &tree,
            resvg::tiny_skia::Transform::from_row(scale, 0.0, 0.0, scale, 0.0, -(top as f32)),
            &mut strip.as_mut(),
        );
        // Drawn over opaque white, so the premultiplied pixels are the colours themselves.
        let drawn = (rows.min(height - top) * width * 4) as usize;
        rgb.clear();
        rgb.extend(
            strip.data()[..drawn]
                .chunks_exact(4)
                .flat_map(|p| [p[0], p[1], p[2]]),
        );
        stream.write_all(&rgb).map_err(ServiceError::internal)?;
    }
    stream.finish().map_err(ServiceError::internal)?;
    writer.finish().map_err(ServiceError::internal)?;
    Ok(out)
}
