//! Filling an empty database with generated accounts and subjects.
//!
//! Accounts always go through [`Db::create_user`]. Subjects go one of two ways:
//!
//! * `api` (the default; 100,000 subjects in ~100 s on SQLite, ~180 s on Postgres):
//!   [`Db::create_subject`] per subject (the application's own path: subject, tags, root topic,
//!   reindex), then one batched `UPDATE … FROM (VALUES …)` per 1,000 subjects, sent with
//!   [`Db::execute_admin`], that sets what the API has no call for: the counters, the
//!   last-update time, the root topic's text and the search text.
//! * `sql` (~10 s on either): multi-row `INSERT`s of 1,000 subjects, their tags and their root
//!   topics, one transaction per batch, sent with [`Db::execute_admin`]; the search index is
//!   filled by the schema itself (SQLite's FTS triggers, Postgres' generated `search_doc`).
//!
//! Either way the SQL text holds values generated here (never user input), quoted as literals.
//! Counters (likes, saves, views) are written directly, with no rows in `likes`, `saves` or
//! `subject_views` behind them, and `search_text` is what `reindex_subject` would compute.

use std::time::Instant;

use anyhow::{Context, Result};
use arbor_db::subjects::{NewSubject, tag_token};
use arbor_db::users::NewUser;
use arbor_db::{Backend, Db};
use rand::rngs::StdRng;

use crate::data::{GenSubject, Pools, TWO_YEARS_MS};

/// A well-formed Argon2id PHC string that no password verifies against.
const FAKE_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$YmVuY2hzYWx0YmVuY2g$\
                         ZmFrZWhhc2hmYWtlaGFzaGZha2VoYXNoZmFrZWhhc2g";

/// Subjects per statement and per transaction.
const BATCH: usize = 1_000;

/// How subjects are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum SeedMode {
    /// Batched multi-row INSERTs through `execute_admin`.
    Sql,
    /// `create_subject` per subject, then batched counter updates.
    Api,
}

/// A string as an SQL literal (generated data only).
fn lit(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

/// Creates `pools.users` accounts and returns their ids in generation order.
pub async fn users(db: &Db, pools: &Pools, now: i64) -> Result<Vec<i64>> {
    let started = Instant::now();
    let mut ids = Vec::with_capacity(pools.users);
    for i in 0..pools.users {
        let username = Pools::username(i);
        let display_name = format!("{} {}", &username[..1].to_uppercase(), &username[1..]);
        let row = db
            .create_user(NewUser {
                username: &username,
                username_key: &username,
                display_name: &display_name,
                password_hash: FAKE_HASH,
                now: now - TWO_YEARS_MS - 86_400_000,
            })
            .await
            .with_context(|| format!("creating user {username}"))?;
        ids.push(row.id);
    }
    println!(
        "seed: {} users in {:.1} s",
        ids.len(),
        started.elapsed().as_secs_f64()
    );
    Ok(ids)
}

/// Writes `count` generated subjects owned by `user_ids`.
pub async fn subjects(
    db: &Db,
    pools: &Pools,
    rng: &mut StdRng,
    user_ids: &[i64],
    count: usize,
    mode: SeedMode,
    now: i64,
) -> Result<()> {
    let started = Instant::now();
    let mut done = 0;
    while done < count {
        let n = BATCH.min(count - done);
        let batch: Vec<GenSubject> = (done..done + n)
            .map(|i| pools.subject(rng, i, now))
            .collect();
        match mode {
            SeedMode::Sql => insert_batch(db, &batch, done as i64 + 1, user_ids).await?,
            SeedMode::Api => create_batch(db, &batch, user_ids).await?,
        }
        let before = done;
        done += n;
        if done / 10_000 > before / 10_000 || done == count {
            println!(
                "seed: {done:>7} subjects, {:7.1} s",
                started.elapsed().as_secs_f64()
            );
        }
    }
    if db.backend() == Backend::Postgres && mode == SeedMode::Sql {
        // Explicit ids leave the identity sequence behind; later inserts must not collide.
        db.execute_admin(
            "SELECT setval(pg_get_serial_sequence('subjects', 'id'),
                           (SELECT MAX(id) FROM subjects))",
        )
        .await?;
    }
    println!(
        "seed: {count} subjects ({mode:?} mode) in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// One transaction of multi-row INSERTs; subject ids are `first_id..`.
async fn insert_batch(
    db: &Db,
    batch: &[GenSubject],
    first_id: i64,
    user_ids: &[i64],
) -> Result<()> {
    let mut subjects = Vec::with_capacity(batch.len());
    let mut tags = Vec::new();
    let mut topics = Vec::with_capacity(batch.len());
    for (offset, s) in batch.iter().enumerate() {
        let id = first_id + offset as i64;
        let published = if s.visibility == "private" {
            "NULL".to_owned()
        } else {
            s.created_at.to_string()
        };
        subjects.push(format!(
            "({id}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {published}, {})",
            lit(&s.slug),
            user_ids[s.author],
            lit(&s.title),
            lit(&s.summary),
            lit(&s.tags.join(" ")),
            lit(s.visibility),
            s.like_count,
            s.save_count,
            s.view_count,
            lit(&s.search_text),
            s.created_at,
            s.updated_at,
            lit(&s
                .tags
                .iter()
                .map(|t| tag_token(t))
                .collect::<Vec<_>>()
                .join(" ")),
        ));
        for tag in &s.tags {
            tags.push(format!("({id}, {})", lit(tag)));
        }
        topics.push(format!(
            "({id}, NULL, 'V', {}, {}, {}, {}, {}, {})",
            lit(&s.title),
            lit(&s.title.to_lowercase()),
            lit(&s.body),
            lit(&s.body_text),
            s.created_at,
            s.updated_at,
        ));
    }
    let mut sql = String::from("BEGIN;\n");
    sql.push_str(
        "INSERT INTO subjects (id, slug, owner_id, title, summary, tags, visibility, like_count,
                               save_count, view_count, search_text, created_at, updated_at,
                               published_at, tag_tokens) VALUES\n",
    );
    sql.push_str(&subjects.join(",\n"));
    sql.push_str(";\n");
    if !tags.is_empty() {
        sql.push_str("INSERT INTO subject_tags (subject_id, tag) VALUES\n");
        sql.push_str(&tags.join(",\n"));
        sql.push_str(";\n");
    }
    sql.push_str(
        "INSERT INTO topics (subject_id, parent_id, order_key, title, title_key, body, body_text,
                             created_at, updated_at) VALUES\n",
    );
    sql.push_str(&topics.join(",\n"));
    sql.push_str(";\nCOMMIT;\n");
    db.execute_admin(&sql)
        .await
        .context("inserting a batch of subjects")?;
    Ok(())
}

/// `create_subject` for each, then one transaction setting what the API does not.
async fn create_batch(db: &Db, batch: &[GenSubject], user_ids: &[i64]) -> Result<()> {
    let mut subjects = Vec::with_capacity(batch.len());
    let mut topics = Vec::with_capacity(batch.len());
    for s in batch {
        let row = db
            .create_subject(NewSubject {
                slug: &s.slug,
                owner_id: user_ids[s.author],
                title: &s.title,
                summary: &s.summary,
                tags: &s.tags,
                visibility: s.visibility,
                root_id: rand::random_range(arbor_map::INVENTED_IDS),
                root_order_key: "V",
                now: s.created_at,
            })
            .await
            .with_context(|| format!("creating subject {}", s.slug))?;
        subjects.push(format!(
            "({}, {}, {}, {}, {}, {})",
            row.id,
            s.like_count,
            s.save_count,
            s.view_count,
            s.updated_at,
            lit(&s.search_text)
        ));
        topics.push(format!(
            "({}, {}, {}, {})",
            row.id,
            lit(&s.body),
            lit(&s.body_text),
            s.updated_at
        ));
    }
    let sql = format!(
        "BEGIN;
         UPDATE subjects SET like_count = v.column2, save_count = v.column3,
                view_count = v.column4, updated_at = v.column5, search_text = v.column6
         FROM (VALUES {}) AS v WHERE subjects.id = v.column1;
         UPDATE topics SET body = v.column2, body_text = v.column3, updated_at = v.column4
         FROM (VALUES {}) AS v WHERE topics.subject_id = v.column1 AND topics.parent_id IS NULL;
         COMMIT;",
        subjects.join(",\n"),
        topics.join(",\n")
    );
    db.execute_admin(&sql)
        .await
        .context("updating a batch of subjects")?;
    Ok(())
}
