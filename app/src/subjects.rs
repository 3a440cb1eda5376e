//! Server functions for subjects and topics: what the reading and authoring pages call. Each
//! adapts a form or a page load to a service in `ssr` (shared with the JSON API), which decides
//! access. Without JavaScript the actions are plain form posts followed by a redirect.

use leptos::server;

use crate::content::{
    AuthorDetail, BacklinkPage, HomeFeed, MapUpkeep, Member, SubjectCard, SubjectDetail,
    SubjectPage, TopicDetail,
};
use crate::error::AppError;

/// The fold list of a map (`1,2,3`) as ids; anything unreadable is ignored.
pub fn parse_fold(fold: &str) -> Vec<i64> {
    fold.split(',')
        .filter_map(|id| id.trim().parse().ok())
        .take(1000)
        .collect()
}

/// A subject page: the subject, its tree and map, and what the reader may do.
#[server(prefix = "/fn", endpoint = "subject")]
pub async fn get_subject(slug: String, fold: Option<String>) -> Result<SubjectDetail, AppError> {
    use crate::ssr::{auth, page, state};
    use arbor_services::subjects;
    let slug = page::slug(&slug)?;
    let state = state()?;
    let caller = auth::current_caller().await?;
    let folded = parse_fold(fold.as_deref().unwrap_or_default());
    let client = auth::current_client_addr();
    let reader = subjects::Reader {
        caller: caller.as_ref(),
        client: client.as_deref(),
    };
    let (detail, granted) =
        page::with_status(subjects::read_subject(&state, reader, &slug, &folded, true).await)?;
    if caller.is_none() {
        page::mark_cacheable(granted.subject.id);
    }
    Ok(detail)
}

/// A topic page.
#[server(prefix = "/fn", endpoint = "topic")]
pub async fn get_topic(slug: String, id: i64) -> Result<TopicDetail, AppError> {
    use crate::ssr::{auth, page, state};
    use arbor_services::subjects;
    let slug = page::slug(&slug)?;
    let state = state()?;
    let caller = auth::current_caller().await?;
    let client = auth::current_client_addr();
    let reader = subjects::Reader {
        caller: caller.as_ref(),
        client: client.as_deref(),
    };
    let read = page::with_status(subjects::read_topic(&state, reader, &slug, id).await)?;
    // A body ahead of its rendered row is not cached (see `subjects::TopicRead`).
    if caller.is_none() && read.settled {
        page::mark_cacheable(read.granted.subject.id);
    }
    Ok(read.detail)
}

/// A page of the topics linking to a topic, from `cursor` on (the first page without one).
#[server(prefix = "/fn", endpoint = "backlinks")]
pub async fn get_backlinks(
    slug: String,
    id: i64,
    cursor: Option<String>,
) -> Result<BacklinkPage, AppError> {
    use crate::ssr::{auth, page, state};
    use arbor_services::subjects;
    let slug = page::slug(&slug)?;
    let state = state()?;
    let caller = auth::current_caller().await?;
    let (backlinks, granted) = page::with_status(
        subjects::backlinks(&state, caller.as_ref(), &slug, id, cursor.as_deref()).await,
    )?;
    if caller.is_none() {
        page::mark_cacheable(granted.subject.id);
    }
    Ok(backlinks)
}

/// The home page's lists.
#[server(prefix = "/fn", endpoint = "home")]
pub async fn home_page() -> Result<HomeFeed, AppError> {
    use crate::ssr::{auth, state};
    use arbor_services::catalogue;
    let caller = auth::current_caller().await?;
    Ok(catalogue::home(&state()?, caller.as_ref()).await?)
}

/// One page of the catalogue.
#[server(prefix = "/fn", endpoint = "explore")]
pub async fn explore_page(q: String, cursor: Option<String>) -> Result<SubjectPage, AppError> {
    use crate::ssr::{page, state};
    use arbor_services::catalogue;
    page::with_status(catalogue::search(&state()?, &q, cursor.as_deref(), None).await)
}

/// One page of the caller's saved subjects.
#[server(prefix = "/fn", endpoint = "saved")]
pub async fn saved_page(cursor: Option<String>) -> Result<SubjectPage, AppError> {
    use crate::ssr::{auth, page, state};
    use arbor_services::catalogue;
    let caller = page::with_status(auth::require_caller().await)?;
    page::with_status(catalogue::saved(&state()?, &caller, cursor.as_deref(), None).await)
}

/// An author's page.
#[server(prefix = "/fn", endpoint = "author")]
pub async fn author_page(username: String) -> Result<AuthorDetail, AppError> {
    use crate::ssr::{auth, page, state};
    use arbor_services::subjects;
    let caller = auth::current_caller().await?;
    page::with_status(subjects::author(&state()?, caller.as_ref(), &username).await)
}

/// The collaborators of a subject (settings page).
#[server(prefix = "/fn", endpoint = "subject/members")]
pub async fn subject_members(slug: String) -> Result<Vec<Member>, AppError> {
    use crate::ssr::{auth, page, state};
    use arbor_services::subjects;
    let slug = page::slug(&slug)?;
    let caller = auth::current_caller().await?;
    page::with_status(subjects::members(&state()?, caller.as_ref(), &slug).await)
}

/// Creates a subject and opens it.
#[server(prefix = "/fn", endpoint = "subject/create")]
pub async fn create_subject(
    title: String,
    summary: String,
    tags: String,
    visibility: String,
) -> Result<SubjectCard, AppError> {
    use crate::content::Tags;
    use crate::ssr::{auth, state};
    use arbor_services::subjects;
    let caller = auth::require_caller().await?;
    let input = subjects::SubjectInput {
        title,
        summary,
        tags: Tags::parse(&tags)?.as_slice().to_vec(),
        visibility: Some(visibility),
    };
    let card = subjects::create(&state()?, &caller, &input).await?;
    leptos_axum::redirect(&format!("/s/{}", card.slug));
    Ok(card)
}

/// Saves a subject's settings and goes back to it.
#[server(prefix = "/fn", endpoint = "subject/update")]
pub async fn update_subject(
    slug: String,
    title: String,
    summary: String,
    tags: String,
    visibility: Option<String>,
) -> Result<SubjectCard, AppError> {
    use crate::content::Tags;
    use crate::ssr::{auth, state};
    use arbor_services::subjects;
    let slug = crate::ssr::page::slug(&slug)?;
    let caller = auth::current_caller().await?;
    let changes = subjects::SubjectChanges {
        title: Some(title),
        summary: Some(summary),
        tags: Some(Tags::parse(&tags)?.as_slice().to_vec()),
        visibility,
    };
    let card = subjects::update(&state()?, caller.as_ref(), &slug, &changes).await?;
    leptos_axum::redirect(&format!("/s/{}", card.slug));
    Ok(card)
}

/// Deletes a subject (the form repeats its slug) and goes home.
#[server(prefix = "/fn", endpoint = "subject/delete")]
pub async fn delete_subject(slug: String, confirm: String) -> Result<(), AppError> {
    use crate::ssr::{auth, state};
    use arbor_services::subjects;
    let slug = crate::ssr::page::slug(&slug)?;
    let caller = auth::current_caller().await?;
    subjects::delete(&state()?, caller.as_ref(), &slug, &confirm).await?;
    leptos_axum::redirect("/");
    Ok(())
}

/// Invites a collaborator or changes their role.
#[server(prefix = "/fn", endpoint = "subject/member")]
pub async fn set_member(
    slug: String,
    username: String,
    role: String,
) -> Result<Vec<Member>, AppError> {
    use crate::ssr::{auth, state};
    use arbor_services::subjects;
    let slug = crate::ssr::page::slug(&slug)?;
    let caller = auth::current_caller().await?;
    Ok(subjects::set_member(&state()?, caller.as_ref(), &slug, &username, &role).await?)
}

/// Removes a collaborator.
#[server(prefix = "/fn", endpoint = "subject/member/remove")]
pub async fn remove_member(slug: String, username: String) -> Result<(), AppError> {
    use crate::ssr::{auth, state};
    use arbor_services::subjects;
    let slug = crate::ssr::page::slug(&slug)?;
    let caller = auth::current_caller().await?;
    Ok(subjects::remove_member(&state()?, caller.as_ref(), &slug, &username).await?)
}

/// Likes or saves a subject (`mark`: `like` or `save`), or takes it back (`on` false).
#[server(prefix = "/fn", endpoint = "subject/mark")]
pub async fn mark_subject(slug: String, mark: String, on: bool) -> Result<SubjectCard, AppError> {
    use crate::ssr::{auth, state};
    use arbor_db::social::Mark;
    use arbor_services::subjects;
    let slug = crate::ssr::page::slug(&slug)?;
    let caller = auth::current_caller().await?;
    let mark = match mark.as_str() {
        "like" => Mark::Like,
        "save" => Mark::Save,
        _ => return Err(AppError::invalid("mark", "Mark is like or save.")),
    };
    Ok(subjects::set_mark(&state()?, caller.as_ref(), &slug, mark, on).await?)
}

/// Follows or unfollows an author.
#[server(prefix = "/fn", endpoint = "follow")]
pub async fn follow_author(username: String, on: bool) -> Result<AuthorDetail, AppError> {
    use crate::ssr::{auth, state};
    use arbor_services::subjects;
    let caller = auth::current_caller().await?;
    Ok(subjects::follow(&state()?, caller.as_ref(), &username, on).await?)
}

/// Adds a topic (`parent_id`: as its last child; `after_id`: as the next sibling) and opens
/// its editor.
#[server(prefix = "/fn", endpoint = "topic/create")]
pub async fn create_topic(
    slug: String,
    title: String,
    parent_id: Option<i64>,
    after_id: Option<i64>,
) -> Result<i64, AppError> {
    use crate::content::{Body, Title};
    use crate::ssr::{auth, state};
    use arbor_services::access::{self, Need};
    use arbor_services::tree::{self, Placement};
    let slug = crate::ssr::page::slug(&slug)?;
    let state = state()?;
    let caller = auth::current_caller().await?;
    let granted = access::subject_for(&state, caller.as_ref(), &slug, Need::Edit).await?;
    let placement = match (parent_id, after_id) {
        (Some(parent), _) => Placement::ChildOf(parent),
        (None, Some(sibling)) => Placement::After(sibling),
        (None, None) => {
            return Err(AppError::invalid(
                "parent_id",
                "Choose where the topic goes.",
            ));
        }
    };
    let title = Title::parse(&title)?;
    let id = tree::create_topic(&state, &granted, placement, &title, &Body::default()).await?;
    let path = crate::content::topic_path(slug.as_str(), id, title.as_str());
    leptos_axum::redirect(&format!("{path}/edit"));
    Ok(id)
}

/// Saves a topic's title and/or body (absent fields stay) and shows it.
#[server(prefix = "/fn", endpoint = "topic/update")]
pub async fn update_topic(
    slug: String,
    id: i64,
    title: Option<String>,
    body: Option<String>,
) -> Result<(), AppError> {
    use crate::content::{Body, Title};
    use crate::ssr::{auth, state};
    use arbor_services::access::{self, Need};
    use arbor_services::tree;
    let slug = crate::ssr::page::slug(&slug)?;
    let state = state()?;
    let caller = auth::current_caller().await?;
    let granted = access::subject_for(&state, caller.as_ref(), &slug, Need::Edit).await?;
    let title = title.as_deref().map(Title::parse).transpose()?;
    let body = body.as_deref().map(Body::parse).transpose()?;
    tree::edit_topic(&state, &granted, id, title.as_ref(), body.as_ref()).await?;
    // Without a new title the page redirects to its words.
    let title = title.as_ref().map_or("", Title::as_str);
    leptos_axum::redirect(&crate::content::topic_path(slug.as_str(), id, title));
    Ok(())
}

/// Moves a topic under `parent_id` at `position` (1-based; empty: last).
#[server(prefix = "/fn", endpoint = "topic/move")]
pub async fn move_topic(
    slug: String,
    id: i64,
    parent_id: i64,
    position: Option<String>,
) -> Result<(), AppError> {
    use crate::ssr::{auth, state};
    use arbor_services::access::{self, Need};
    use arbor_services::tree;
    let slug = crate::ssr::page::slug(&slug)?;
    let state = state()?;
    let caller = auth::current_caller().await?;
    let granted = access::subject_for(&state, caller.as_ref(), &slug, Need::Edit).await?;
    let index =
        match position.as_deref().map(str::trim).filter(|p| !p.is_empty()) {
            None => None,
            Some(p) => Some(
                p.parse::<usize>().ok().filter(|n| *n >= 1).ok_or_else(|| {
                    AppError::invalid("position", "The position is a number from 1.")
                })? - 1,
            ),
        };
    tree::move_topic(&state, &granted, id, parent_id, index).await?;
    leptos_axum::redirect(&format!("/s/{slug}/t/{id}"));
    Ok(())
}

/// Deletes a topic and its subtree, then shows the subject.
#[server(prefix = "/fn", endpoint = "topic/delete")]
pub async fn delete_topic(slug: String, id: i64) -> Result<(), AppError> {
    use crate::ssr::{auth, state};
    use arbor_services::access::{self, Need};
    use arbor_services::tree;
    let slug = crate::ssr::page::slug(&slug)?;
    let state = state()?;
    let caller = auth::current_caller().await?;
    let granted = access::subject_for(&state, caller.as_ref(), &slug, Need::Edit).await?;
    tree::delete_topic(&state, &granted, id).await?;
    leptos_axum::redirect(&format!("/s/{slug}"));
    Ok(())
}

/// The trash and import history of a subject's map (editors).
#[server(prefix = "/fn", endpoint = "subject/upkeep")]
pub async fn subject_upkeep(slug: String) -> Result<MapUpkeep, AppError> {
    use crate::ssr::{auth, state};
    use arbor_services::access::{self, Need};
    use arbor_services::{transfer, tree};
    let slug = crate::ssr::page::slug(&slug)?;
    let state = state()?;
    let caller = auth::current_caller().await?;
    let granted = access::subject_for(&state, caller.as_ref(), &slug, Need::Edit).await?;
    Ok(MapUpkeep {
        trash: tree::trash(&state, &granted).await?,
        imports: transfer::history(&state, &granted).await?,
    })
}

/// Brings a deleted subtree back.
#[server(prefix = "/fn", endpoint = "topic/restore")]
pub async fn restore_topic(slug: String, id: i64) -> Result<(), AppError> {
    use crate::ssr::{auth, state};
    use arbor_services::access::{self, Need};
    use arbor_services::tree;
    let slug = crate::ssr::page::slug(&slug)?;
    let state = state()?;
    let caller = auth::current_caller().await?;
    let granted = access::subject_for(&state, caller.as_ref(), &slug, Need::Edit).await?;
    Ok(tree::restore_topic(&state, &granted, id).await?)
}

/// Replaces the subject's topics with a pasted file (`format` empty: from the file name),
/// then shows the subject.
#[server(prefix = "/fn", endpoint = "subject/import")]
pub async fn import_file(
    slug: String,
    filename: String,
    format: String,
    content: String,
) -> Result<(), AppError> {
    use crate::ssr::{auth, state};
    use arbor_services::access::{self, Need};
    use arbor_services::transfer;
    let slug = crate::ssr::page::slug(&slug)?;
    let state = state()?;
    let caller = auth::current_caller().await?;
    let granted = access::subject_for(&state, caller.as_ref(), &slug, Need::Edit).await?;
    let format = transfer::format_of(Some(&format), &filename)?;
    let user_id = caller.as_ref().map_or(0, |c| c.user.id);
    transfer::import(&state, &granted, user_id, format, &filename, &content).await?;
    leptos_axum::redirect(&format!("/s/{slug}"));
    Ok(())
}

/// Starts a subject of the caller's from a pasted or chosen file (`format` empty: from the
/// file name), then shows it.
#[server(prefix = "/fn", endpoint = "subject/from-file")]
pub async fn create_from_file(
    filename: String,
    format: String,
    content: String,
    visibility: String,
) -> Result<(), AppError> {
    use crate::ssr::{auth, state};
    use arbor_services::transfer;
    let caller = auth::require_caller().await?;
    let format = transfer::format_of(Some(&format), &filename)?;
    let card = transfer::create_from_file(
        &state()?,
        &caller,
        format,
        &filename,
        &content,
        Some(visibility),
    )
    .await?;
    leptos_axum::redirect(&format!("/s/{}", card.slug));
    Ok(())
}

/// Rolls the subject back to before an import (the owner).
#[server(prefix = "/fn", endpoint = "subject/import/rollback")]
pub async fn rollback_import(slug: String, id: i64) -> Result<(), AppError> {
    use crate::ssr::{auth, state};
    use arbor_services::access::{self, Need};
    use arbor_services::transfer;
    let slug = crate::ssr::page::slug(&slug)?;
    let state = state()?;
    let caller = auth::current_caller().await?;
    let granted = access::subject_for(&state, caller.as_ref(), &slug, Need::Edit).await?;
    Ok(transfer::rollback(&state, &granted, id).await?)
}
