//! `arbor seed-demo` (and `--seed-demo` on `serve`): loads a real sample subject, "Distributed
//! systems" (`server/demo/distributed-systems.json`: twenty topics with cross links), owned by
//! the account `arbor-demo`, so a new site shows a real map at once. It goes through the same
//! services as an author would (subjects, the tree module), and does nothing when the subject
//! is already there.

use anyhow::Context as _;
use arbor_app::ssr::AppState;
use arbor_db::DbError;
use arbor_services::access::{self, Need};
use arbor_services::auth::Caller;
use arbor_services::tree::{self, Placement};
use arbor_services::{now_ms, passwords, subjects};
use arbor_types::content::{Body, Slug, Title};
use arbor_types::model::{Password, Username};
use serde::Deserialize;

const DEMO_JSON: &str = include_str!("../demo/distributed-systems.json");
/// The account that owns the demo subject.
pub const DEMO_USER: &str = "arbor-demo";

#[derive(Deserialize)]
struct DemoSubject {
    title: String,
    summary: String,
    tags: Vec<String>,
    root: DemoTopic,
}

#[derive(Deserialize)]
struct DemoTopic {
    title: String,
    body: String,
    children: Vec<DemoTopic>,
}

/// What seeding did.
#[derive(Debug, PartialEq, Eq)]
pub enum Seeded {
    /// Created the subject at this slug with this many topics.
    Created { slug: String, topics: usize },
    /// The subject was already there.
    AlreadyThere { slug: String },
}

async fn demo_user(state: &AppState) -> anyhow::Result<Caller> {
    let name = Username::parse(DEMO_USER)?;
    let user = match state.db().user_by_key(&name.key()).await {
        Ok(user) => user,
        Err(DbError::NotFound) => {
            // Nobody signs in as the demo account: its password is random and thrown away.
            let secret: String = (0..40)
                .map(|_| char::from(b'a' + rand::random::<u8>() % 26))
                .collect();
            let password = Password::parse_new(&secret, "password")?;
            let hash = passwords::hash(&password).await?;
            state
                .db()
                .create_user(arbor_db::users::NewUser {
                    username: name.as_str(),
                    username_key: &name.key(),
                    display_name: "Arbor demo",
                    password_hash: &hash,
                    now: now_ms(),
                })
                .await
                .context("creating the demo account")?
        }
        Err(e) => return Err(e).context("looking up the demo account"),
    };
    Ok(Caller {
        user,
        session: None,
    })
}

/// Loads the demo subject unless it is there already.
pub async fn seed(state: &AppState) -> anyhow::Result<Seeded> {
    let demo: DemoSubject = serde_json::from_str(DEMO_JSON).context("reading the demo subject")?;
    let slug = arbor_types::content::slugify(&demo.title);
    if state.db().slug_exists(&slug).await? {
        return Ok(Seeded::AlreadyThere { slug });
    }
    let caller = demo_user(state).await?;
    let card = subjects::create(
        state,
        &caller,
        &subjects::SubjectInput {
            title: demo.title.clone(),
            summary: demo.summary,
            tags: demo.tags,
            visibility: Some("public".into()),
        },
    )
    .await?;
    let slug = Slug::parse(&card.slug)?;
    let granted = access::subject_for(state, Some(&caller), &slug, Need::Edit).await?;
    let root_id = state.db().topic_tree(granted.subject.id).await?[0].id;
    let root_title = Title::parse(&demo.root.title)?;
    let root_body = Body::parse(&demo.root.body)?;
    tree::edit_topic(
        state,
        &granted,
        root_id,
        Some(&root_title),
        Some(&root_body),
    )
    .await?;
    let mut topics = 1;
    let mut pending: Vec<(i64, DemoTopic)> = demo
        .root
        .children
        .into_iter()
        .rev()
        .map(|c| (root_id, c))
        .collect();
    while let Some((parent, topic)) = pending.pop() {
        let title = Title::parse(&topic.title)?;
        let body = Body::parse(&topic.body)?;
        let id =
            tree::create_topic(state, &granted, Placement::ChildOf(parent), &title, &body).await?;
        topics += 1;
        pending.extend(topic.children.into_iter().rev().map(|c| (id, c)));
    }
    Ok(Seeded::Created {
        slug: card.slug,
        topics,
    })
}
