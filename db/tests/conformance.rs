//! The storage conformance story: every repository function, run against SQLite always and
//! against Postgres whenever `ARBOR_TEST_POSTGRES_URL` names a server (a throwaway database is
//! created for the run and dropped after). One story, two backends, one behaviour.
//!
//! `every_public_db_method_is_called_here` (at the end) holds the "every": it reads `db/src`
//! and fails naming any public method of `Db` that no story calls. Under `CI=true` a missing
//! `ARBOR_TEST_POSTGRES_URL` fails every story instead of skipping its Postgres leg.

use arbor_db::users::NewUser;
use arbor_db::{Backend, Db, DbError, DbOptions};

/// A database for one test: a fresh SQLite file, or a fresh Postgres database.
struct TestDb {
    db: Db,
    cleanup: Option<(Db, String)>,
    _dir: Option<tempfile::TempDir>,
}

impl TestDb {
    async fn sqlite() -> TestDb {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}/nested/arbor.db", dir.path().display());
        let db = Db::connect(&url, &DbOptions::default()).await.unwrap();
        db.migrate().await.unwrap();
        TestDb {
            db,
            cleanup: None,
            _dir: Some(dir),
        }
    }

    async fn postgres() -> Option<TestDb> {
        let admin_url = std::env::var("ARBOR_TEST_POSTGRES_URL").ok()?;
        let admin = Db::connect(&admin_url, &DbOptions::default())
            .await
            .unwrap();
        let prefix = std::env::var("ARBOR_TEST_DB_PREFIX").unwrap_or_else(|_| "arbor_test_".into());
        let name = format!("{prefix}db_{}", rand::random::<u64>());
        admin
            .execute_admin(&format!("CREATE DATABASE {name}"))
            .await
            .unwrap();
        let url = url_with_db(&admin_url, &name);
        let db = Db::connect(&url, &DbOptions::default()).await.unwrap();
        db.migrate().await.unwrap();
        Some(TestDb {
            db,
            cleanup: Some((admin, name)),
            _dir: None,
        })
    }

    async fn finish(self) {
        self.db.close().await;
        if let Some((admin, name)) = self.cleanup {
            admin
                .execute_admin(&format!("DROP DATABASE IF EXISTS {name}"))
                .await
                .unwrap();
        }
    }
}

fn url_with_db(admin_url: &str, name: &str) -> String {
    let (base, query) = admin_url
        .split_once('?')
        .map_or((admin_url, None), |(b, q)| (b, Some(q)));
    let base = base.rsplit_once('/').map_or(base, |(b, _)| b);
    match query {
        Some(q) => format!("{base}/{name}?{q}"),
        None => format!("{base}/{name}"),
    }
}

/// Runs `story` on SQLite, and on Postgres when configured.
macro_rules! on_every_backend {
    ($story:ident) => {
        let sqlite = TestDb::sqlite().await;
        $story(&sqlite.db).await;
        sqlite.finish().await;
        match TestDb::postgres().await {
            Some(pg) => {
                assert_eq!(pg.db.backend(), Backend::Postgres);
                $story(&pg.db).await;
                pg.finish().await;
            }
            None if std::env::var("CI").is_ok_and(|v| v == "true") => {
                panic!(
                    "ARBOR_TEST_POSTGRES_URL is not set under CI=true: the Postgres leg must run"
                )
            }
            None => eprintln!("ARBOR_TEST_POSTGRES_URL not set: Postgres leg skipped"),
        }
    };
}

fn new_user<'a>(username: &'a str, key: &'a str, now: i64) -> NewUser<'a> {
    NewUser {
        username,
        username_key: key,
        display_name: username,
        password_hash: "$argon2id$x",
        now,
    }
}

async fn accounts_story(db: &Db) {
    db.ping().await.unwrap();
    let alice = db
        .create_user(new_user("Alice", "alice", 1_000))
        .await
        .unwrap();
    assert_eq!(alice.username, "Alice");
    assert_eq!(alice.bio, "");
    assert_eq!(alice.created_at, 1_000);

    // Uniqueness is on the case-folded key.
    let clash = db.create_user(new_user("ALICE", "alice", 2_000)).await;
    assert!(matches!(clash, Err(DbError::Conflict(_))), "{clash:?}");

    assert_eq!(db.user_by_key("alice").await.unwrap().id, alice.id);
    assert!(matches!(
        db.user_by_key("bob").await,
        Err(DbError::NotFound)
    ));
    assert!(matches!(
        db.user_by_id(alice.id + 1000).await,
        Err(DbError::NotFound)
    ));

    let updated = db
        .update_profile(alice.id, "Alice A.", "Writes about ü and 🌳", 3_000)
        .await
        .unwrap();
    assert_eq!(updated.display_name, "Alice A.");
    assert_eq!(updated.bio, "Writes about ü and 🌳");
    assert_eq!(updated.updated_at, 3_000);
    assert_eq!(updated.created_at, 1_000);

    assert!(matches!(
        db.delete_user(alice.id + 1000).await,
        Err(DbError::NotFound)
    ));
}

async fn sessions_story(db: &Db) {
    let u = db.create_user(new_user("sam", "sam", 0)).await.unwrap();
    let (a, b, c) = (vec![1u8; 32], vec![2u8; 32], vec![3u8; 32]);
    db.create_session(&a, u.id, 1_000, 100_000).await.unwrap();
    db.create_session(&b, u.id, 1_000, 100_000).await.unwrap();
    db.create_session(&c, u.id, 1_000, 5_000).await.unwrap();
    assert!(
        db.create_session(&a, u.id, 1_000, 100_000).await.is_err(),
        "token hashes are unique"
    );

    let found = db.session_user(&a, 2_000, 0).await.unwrap();
    assert_eq!(found.user.id, u.id);
    assert_eq!(found.session_last_seen_at, 1_000);
    // Absolute expiry.
    assert!(matches!(
        db.session_user(&c, 6_000, 0).await,
        Err(DbError::NotFound)
    ));
    // Idle expiry: last seen at 1000 is not after the cutoff 1500…
    assert!(matches!(
        db.session_user(&a, 2_000, 1_500).await,
        Err(DbError::NotFound)
    ));
    // …until it is touched.
    db.touch_session(&a, 2_000).await.unwrap();
    assert_eq!(
        db.session_user(&a, 2_500, 1_500)
            .await
            .unwrap()
            .session_last_seen_at,
        2_000
    );
    assert_eq!(db.count_sessions(u.id, 2_000).await.unwrap(), 3);

    // A password change keeps only the session that asked for it.
    db.change_password(u.id, "$argon2id$new", Some(&a), 3_000)
        .await
        .unwrap();
    assert_eq!(
        db.user_by_id(u.id).await.unwrap().password_hash,
        "$argon2id$new"
    );
    assert!(db.session_user(&a, 3_000, 0).await.is_ok());
    assert!(matches!(
        db.session_user(&b, 3_000, 0).await,
        Err(DbError::NotFound)
    ));
    assert!(matches!(
        db.change_password(u.id + 99, "$x", None, 3_000).await,
        Err(DbError::NotFound)
    ));

    let listed = db.list_sessions(u.id, 3_000, 0).await.unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].token_hash, a);
    db.create_session(&b, u.id, 3_000, 100_000).await.unwrap();
    let listed = db.list_sessions(u.id, 3_000, 0).await.unwrap();
    assert_eq!(listed.len(), 2);
    assert_eq!(listed[0].token_hash, b, "most recently used first");
    assert_eq!(db.delete_other_sessions(u.id, Some(&a)).await.unwrap(), 1);
    assert_eq!(db.list_sessions(u.id, 3_000, 0).await.unwrap().len(), 1);

    db.delete_session(&a).await.unwrap();
    db.delete_session(&a).await.unwrap(); // idempotent
    assert!(matches!(
        db.session_user(&a, 3_000, 0).await,
        Err(DbError::NotFound)
    ));

    db.create_session(&b, u.id, 10_000, 20_000).await.unwrap();
    db.create_session(&c, u.id, 10_000, 90_000).await.unwrap();
    assert_eq!(db.delete_expired_sessions(30_000, 5_000).await.unwrap(), 1);
    assert_eq!(db.count_sessions(u.id, 30_000).await.unwrap(), 1);

    // Deleting the account ends every session.
    db.delete_user(u.id).await.unwrap();
    assert!(matches!(
        db.session_user(&c, 30_000, 0).await,
        Err(DbError::NotFound)
    ));
}

async fn tokens_story(db: &Db) {
    let u = db.create_user(new_user("tia", "tia", 0)).await.unwrap();
    let other = db.create_user(new_user("oli", "oli", 0)).await.unwrap();
    let t1 = db
        .create_token(u.id, "laptop", &[7u8; 32], 1_000)
        .await
        .unwrap();
    let t2 = db
        .create_token(u.id, "ci", &[8u8; 32], 2_000)
        .await
        .unwrap();
    assert_eq!(t1.last_used_at, None);
    let listed = db.list_tokens(u.id).await.unwrap();
    assert_eq!(
        listed.iter().map(|t| t.name.as_str()).collect::<Vec<_>>(),
        ["ci", "laptop"]
    );

    // The owner, without recording a use.
    assert_eq!(db.token_owner(&[7u8; 32]).await.unwrap(), u.id);
    assert_eq!(db.list_tokens(u.id).await.unwrap()[1].last_used_at, None);
    assert!(matches!(
        db.token_owner(&[9u8; 32]).await,
        Err(DbError::NotFound)
    ));

    assert_eq!(db.token_user(&[7u8; 32], 5_000).await.unwrap().id, u.id);
    assert_eq!(
        db.list_tokens(u.id).await.unwrap()[1].last_used_at,
        Some(5_000)
    );
    // Use within a minute is not written again.
    db.token_user(&[7u8; 32], 6_000).await.unwrap();
    assert_eq!(
        db.list_tokens(u.id).await.unwrap()[1].last_used_at,
        Some(5_000)
    );
    assert!(matches!(
        db.token_user(&[9u8; 32], 5_000).await,
        Err(DbError::NotFound)
    ));

    // Only the owner can revoke.
    assert!(matches!(
        db.revoke_token(other.id, t2.id).await,
        Err(DbError::NotFound)
    ));
    db.revoke_token(u.id, t2.id).await.unwrap();
    assert!(matches!(
        db.token_user(&[8u8; 32], 7_000).await,
        Err(DbError::NotFound)
    ));
    assert!(matches!(
        db.token_owner(&[8u8; 32]).await,
        Err(DbError::NotFound)
    ));

    db.delete_user(u.id).await.unwrap();
    assert!(matches!(
        db.token_user(&[7u8; 32], 8_000).await,
        Err(DbError::NotFound)
    ));
    assert!(matches!(
        db.token_owner(&[7u8; 32]).await,
        Err(DbError::NotFound)
    ));
}

async fn throttle_story(db: &Db) {
    let window = 10_000;
    assert_eq!(
        db.throttle_window("user:x", 1_000, window).await.unwrap(),
        None
    );
    for i in 1..=3 {
        let w = db.throttle_hit("user:x", 1_000 + i, window).await.unwrap();
        assert_eq!(w.failures, i);
        assert_eq!(
            w.window_start, 1_001,
            "the window starts at the first failure"
        );
    }
    assert_eq!(
        db.throttle_window("user:x", 5_000, window)
            .await
            .unwrap()
            .unwrap()
            .failures,
        3
    );
    // After the window the counter starts again.
    assert_eq!(
        db.throttle_window("user:x", 11_002, window).await.unwrap(),
        None
    );
    let w = db.throttle_hit("user:x", 11_002, window).await.unwrap();
    assert_eq!((w.failures, w.window_start), (1, 11_002));

    // Concurrent failures are all counted.
    let mut tasks = Vec::new();
    for _ in 0..20 {
        let db = db.clone();
        tasks.push(tokio::spawn(async move {
            db.throttle_hit("client:1.2.3.4", 50_000, window).await
        }));
    }
    for t in tasks {
        t.await.unwrap().unwrap();
    }
    assert_eq!(
        db.throttle_window("client:1.2.3.4", 50_001, window)
            .await
            .unwrap()
            .unwrap()
            .failures,
        20
    );

    db.throttle_forgive("client:1.2.3.4").await.unwrap();
    assert_eq!(
        db.throttle_window("client:1.2.3.4", 50_001, window)
            .await
            .unwrap()
            .unwrap()
            .failures,
        19
    );
    db.throttle_forgive("user:nobody").await.unwrap(); // no row: nothing happens

    db.throttle_reset("user:x").await.unwrap();
    assert_eq!(
        db.throttle_window("user:x", 11_003, window).await.unwrap(),
        None
    );
    assert_eq!(db.throttle_prune(60_000).await.unwrap(), 1);
    assert_eq!(
        db.throttle_window("client:1.2.3.4", 50_001, window)
            .await
            .unwrap(),
        None
    );
}

#[tokio::test]
async fn accounts() {
    on_every_backend!(accounts_story);
}

#[tokio::test]
async fn sessions() {
    on_every_backend!(sessions_story);
}

#[tokio::test]
async fn tokens() {
    on_every_backend!(tokens_story);
}

#[tokio::test]
async fn throttle() {
    on_every_backend!(throttle_story);
}

#[tokio::test]
async fn bad_urls_are_refused() {
    assert!(matches!(
        Db::connect("mysql://x", &DbOptions::default()).await,
        Err(DbError::InvalidUrl(_))
    ));
}

async fn secrets_story(db: &Db) {
    let first = db.server_secret("form-errors", &[1u8; 32]).await.unwrap();
    assert_eq!(first, vec![1u8; 32]);
    // A second replica brings its own candidate but gets the stored key.
    let second = db.server_secret("form-errors", &[2u8; 32]).await.unwrap();
    assert_eq!(second, first);
    assert_eq!(
        db.server_secret("other", &[3u8; 8]).await.unwrap(),
        vec![3u8; 8]
    );
}

#[tokio::test]
async fn secrets() {
    on_every_backend!(secrets_story);
}

use arbor_db::catalogue::{CatalogueLimits, Column, SearchCursor, SearchSort, SubjectSearch};
use arbor_db::docs::DocOwner;
use arbor_db::imports::{ImportRow, ImportSource, NewImport};
use arbor_db::projection::{FreshText, InTrash, PlacedTopic, Projected, TreeProjection};
use arbor_db::social::{Mark, TimeCursor};
use arbor_db::subjects::{NewSubject, SubjectRow, SubjectUpdate};
use arbor_db::topics::{LinkRef, TopicContent};

fn new_subject<'a>(slug: &'a str, owner_id: i64, tags: &'a [String], now: i64) -> NewSubject<'a> {
    NewSubject {
        slug,
        owner_id,
        title: slug,
        summary: "",
        tags,
        visibility: "public",
        root_id: rand::random_range(NEW_IDS),
        root_order_key: "000000",
        now,
    }
}

fn content<'a>(title: &'a str, body: &'a str, links: &'a [LinkRef]) -> TopicContent<'a> {
    TopicContent {
        title,
        body,
        body_text: body,
        links,
    }
}

/// The ids writers invent (`arbor_map::INVENTED_IDS`).
const NEW_IDS: std::ops::Range<i64> = (1 << 32)..(1 << 52);

/// Projects a tree given as `(id, parent, title, body)` (root first, parents before
/// children; a body for every topic that may be new) with `trashed` in the trash.
async fn project(
    db: &Db,
    subject: i64,
    nodes: &[(i64, Option<i64>, &str, &str)],
    trashed: &[(i64, i64)],
    now: i64,
) -> Projected {
    let mut children: std::collections::HashMap<Option<i64>, usize> = Default::default();
    let placed = nodes
        .iter()
        .map(|(id, parent, title, _)| {
            let index = children.entry(*parent).or_default();
            *index += 1;
            PlacedTopic {
                id: *id,
                parent_id: *parent,
                order_key: format!("{:06}", *index - 1),
                title: (*title).to_owned(),
            }
        })
        .collect();
    let fresh = nodes
        .iter()
        .map(|(id, _, _, body)| {
            let text = FreshText {
                body: (*body).to_owned(),
                body_text: (*body).to_owned(),
                links: Vec::new(),
            };
            (*id, text)
        })
        .collect();
    let projection = TreeProjection {
        nodes: placed,
        fresh,
        trashed: trashed
            .iter()
            .map(|(id, at)| InTrash {
                id: *id,
                deleted_at: *at,
                title: None,
            })
            .collect(),
        new_ids: NEW_IDS,
    };
    db.project_tree(subject, &projection, now).await.unwrap()
}

async fn subjects_story(db: &Db) {
    let owner = db.create_user(new_user("olga", "olga", 0)).await.unwrap();
    let eve = db.create_user(new_user("eve", "eve", 0)).await.unwrap();
    let tags = vec!["rust".to_owned(), "async".to_owned()];
    let s = db
        .create_subject(new_subject("tokio", owner.id, &tags, 10))
        .await
        .unwrap();
    assert_eq!(
        (s.slug.as_str(), s.tags.as_str(), s.owner_username.as_str()),
        ("tokio", "rust async", "olga")
    );
    assert_eq!((s.like_count, s.published_at), (0, Some(10)));
    let clash = db
        .create_subject(new_subject("tokio", eve.id, &[], 11))
        .await;
    assert!(
        matches!(clash, Err(DbError::Conflict(ref c)) if c == "slug"),
        "{clash:?}"
    );
    assert!(db.slug_exists("tokio").await.unwrap());

    // The root topic exists, titled like the subject.
    let tree = db.topic_tree(s.id).await.unwrap();
    assert_eq!(tree.len(), 1);
    assert_eq!((tree[0].parent_id, tree[0].title.as_str()), (None, "tokio"));

    // A private subject has no publication time until it leaves private.
    let draft = db
        .create_subject(NewSubject {
            visibility: "private",
            ..new_subject("draft", owner.id, &[], 20)
        })
        .await
        .unwrap();
    assert_eq!(draft.published_at, None);
    let new_tags = vec!["x".to_owned()];
    db.update_subject(
        draft.id,
        SubjectUpdate {
            title: "Draft!",
            summary: "now out",
            tags: &new_tags,
            visibility: "unlisted",
            now: 30,
        },
    )
    .await
    .unwrap();
    let draft = db.subject_by_slug("draft").await.unwrap();
    assert_eq!(
        (
            draft.title.as_str(),
            draft.tags.as_str(),
            draft.published_at
        ),
        ("Draft!", "x", Some(30))
    );

    // Collaborators: add, change role, remove.
    assert_eq!(db.member_role(s.id, eve.id).await.unwrap(), None);
    db.set_member(s.id, eve.id, "viewer", 40).await.unwrap();
    db.set_member(s.id, eve.id, "editor", 41).await.unwrap();
    assert_eq!(
        db.member_role(s.id, eve.id).await.unwrap().as_deref(),
        Some("editor")
    );
    let members = db.members(s.id).await.unwrap();
    assert_eq!(members.len(), 1);
    assert_eq!(
        (members[0].username.as_str(), members[0].role.as_str()),
        ("eve", "editor")
    );
    db.remove_member(s.id, eve.id).await.unwrap();
    assert!(matches!(
        db.remove_member(s.id, eve.id).await,
        Err(DbError::NotFound)
    ));

    // Deleting takes everything under it.
    let root = tree[0].id;
    let child = 1 << 40;
    let nodes = [
        (root, None, tree[0].title.as_str(), ""),
        (child, Some(root), "Child", "text"),
    ];
    assert_eq!(project(db, s.id, &nodes, &[], 50).await.changes, 1);
    db.set_mark(Mark::Like, eve.id, s.id, true, 60)
        .await
        .unwrap();
    db.delete_subject(s.id).await.unwrap();
    assert!(matches!(
        db.subject_by_id(s.id).await,
        Err(DbError::NotFound)
    ));
    assert!(matches!(
        db.topic(s.id, child).await,
        Err(DbError::NotFound)
    ));
    assert!(matches!(
        db.delete_subject(s.id).await,
        Err(DbError::NotFound)
    ));
}

async fn topics_story(db: &Db) {
    let owner = db.create_user(new_user("tom", "tom", 0)).await.unwrap();
    let s = db
        .create_subject(new_subject("trees", owner.id, &[], 0))
        .await
        .unwrap();
    let root = db.topic_tree(s.id).await.unwrap()[0].id;
    let (a, b, c) = (1 << 40, (1 << 40) + 1, (1 << 40) + 2);
    let abc = [
        (root, None, "trees", ""),
        (a, Some(root), "A", "alpha"),
        (b, Some(a), "B", "beta"),
        (c, Some(b), "C", "gamma"),
    ];
    assert_eq!(project(db, s.id, &abc, &[], 3).await.changes, 3);
    assert_eq!(db.subject_by_id(s.id).await.unwrap().updated_at, 3);
    assert_eq!(db.topic(s.id, c).await.unwrap().body, "gamma");
    // The same tree again changes nothing, not even the subject's time.
    assert_eq!(project(db, s.id, &abc, &[], 4).await, Projected::default());
    assert_eq!(db.subject_by_id(s.id).await.unwrap().updated_at, 3);

    // A topic without a row and without prepared text: nothing is written.
    let unprepared = TreeProjection {
        nodes: vec![PlacedTopic {
            id: (1 << 40) + 77,
            parent_id: Some(root),
            order_key: "000009".into(),
            title: "Late".into(),
        }],
        new_ids: NEW_IDS,
        ..TreeProjection::default()
    };
    let outcome = db.project_tree(s.id, &unprepared, 5).await.unwrap();
    assert!(outcome.stale && outcome.changes == 0);
    assert_eq!(db.topic_tree(s.id).await.unwrap().len(), 4);

    // An id belonging to another subject is left alone, with everything under it.
    let other = db
        .create_subject(new_subject("other", owner.id, &[], 0))
        .await
        .unwrap();
    let other_root = db.topic_tree(other.id).await.unwrap()[0].id;
    let mut with_foreign = abc.to_vec();
    with_foreign.push((other_root, Some(root), "Stolen", ""));
    with_foreign.push(((1 << 40) + 9, Some(other_root), "Under it", ""));
    let outcome = project(db, s.id, &with_foreign, &[], 5).await;
    assert_eq!(outcome.foreign, vec![other_root, (1 << 40) + 9]);
    assert_eq!(outcome.changes, 0);
    assert_eq!(db.topic(other.id, other_root).await.unwrap().title, "other");

    // Moves and renames follow the tree.
    let moved = [
        (root, None, "trees", ""),
        (c, Some(root), "C", ""),
        (a, Some(root), "A", ""),
        (b, Some(a), "Bee", ""),
    ];
    assert_eq!(project(db, s.id, &moved, &[], 6).await.changes, 3);
    let tree = db.topic_tree(s.id).await.unwrap();
    let parent_of = |id: i64| tree.iter().find(|t| t.id == id).unwrap().parent_id;
    assert_eq!((parent_of(c), parent_of(b)), (Some(root), Some(a)));
    let order: Vec<i64> = tree
        .iter()
        .filter(|t| t.parent_id == Some(root))
        .map(|t| t.id)
        .collect();
    assert_eq!(order, vec![c, a]);
    assert_eq!(db.topic(s.id, b).await.unwrap().title, "Bee");

    // Search text follows the topics.
    let found = db
        .search_subjects(&SubjectSearch {
            text: vec!["gamma".into()],
            limit: 10,
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(found.iter().map(|s| s.id).collect::<Vec<_>>(), vec![s.id]);

    // Links and backlinks, by slug and case-folded title; invisible subjects are hidden.
    let secret = db
        .create_subject(NewSubject {
            visibility: "private",
            ..new_subject("secret", owner.id, &[], 0)
        })
        .await
        .unwrap();
    let secret_root = db.topic_tree(secret.id).await.unwrap()[0].id;
    let links = [
        LinkRef {
            slug: "trees".into(),
            title_key: "bee".into(),
        },
        LinkRef {
            slug: "trees".into(),
            title_key: "nowhere".into(),
        },
    ];
    db.update_topic(
        secret.id,
        secret_root,
        content("Secret", "see [[trees/Bee]]", &links),
        7,
    )
    .await
    .unwrap();
    let same = [LinkRef {
        slug: "trees".into(),
        title_key: "bee".into(),
    }];
    db.update_topic(s.id, c, content("C", "see [[Bee]]", &same), 8)
        .await
        .unwrap();
    let anyone = db.backlinks(s.id, b, 0, None, 50).await.unwrap();
    assert_eq!(
        anyone.iter().map(|l| l.topic.topic_id).collect::<Vec<_>>(),
        vec![c]
    );
    let owner_sees = db.backlinks(s.id, b, owner.id, None, 50).await.unwrap();
    assert_eq!(owner_sees.len(), 2);
    // An unlisted subject's backlinks are listed to nobody but its owner and members, though
    // anyone may read it by its link; a public one's to everybody.
    let reader = db.create_user(new_user("ray", "ray", 0)).await.unwrap();
    let mut linking = Vec::new();
    for (slug, visibility) in [("quiet", "unlisted"), ("loud", "public")] {
        let subject = db
            .create_subject(NewSubject {
                visibility,
                ..new_subject(slug, reader.id, &[], 0)
            })
            .await
            .unwrap();
        let root = db.topic_tree(subject.id).await.unwrap()[0].id;
        let to_bee = [LinkRef {
            slug: "trees".into(),
            title_key: "bee".into(),
        }];
        db.update_topic(subject.id, root, content(slug, "[[trees/Bee]]", &to_bee), 7)
            .await
            .unwrap();
        linking.push(root);
    }
    let (quiet, loud) = (linking[0], linking[1]);
    let ids = |rows: Vec<arbor_db::topics::BacklinkRow>| {
        rows.iter().map(|r| r.topic.topic_id).collect::<Vec<_>>()
    };
    assert_eq!(
        ids(db.backlinks(s.id, b, 0, None, 50).await.unwrap()),
        vec![c, loud]
    );
    let mut readers = vec![c, quiet, loud];
    readers[1..].sort_unstable();
    assert_eq!(
        ids(db.backlinks(s.id, b, reader.id, None, 50).await.unwrap()),
        readers
    );
    // Pages: this subject's first, then by id, each after the last row of the one before.
    let mut paged = Vec::new();
    let mut after = None;
    loop {
        let page = db.backlinks(s.id, b, reader.id, after, 1).await.unwrap();
        let Some(last) = page.last() else { break };
        assert_eq!(page.len(), 1);
        after = Some(last.cursor());
        paged.extend(ids(page));
    }
    assert_eq!(paged, readers);
    let owner_sees = db.backlinks(s.id, b, owner.id, None, 50).await.unwrap();
    assert_eq!(owner_sees.len(), 3, "secret, C and loud");
    let out = db.outgoing_links(secret_root, owner.id).await.unwrap();
    assert_eq!(out.iter().map(|l| l.topic_id).collect::<Vec<_>>(), vec![b]);
    // A topic created later with a linked title starts resolving.
    let nowhere = 1 << 41;
    let mut with_nowhere = moved.to_vec();
    with_nowhere.push((nowhere, Some(root), "Nowhere", ""));
    let outcome = project(db, s.id, &with_nowhere, &[], 9).await;
    assert_eq!(outcome.changes, 1, "{outcome:?}");
    assert_eq!(
        db.outgoing_links(secret_root, owner.id)
            .await
            .unwrap()
            .len(),
        2
    );
    assert_eq!(
        db.backlinks(s.id, nowhere, owner.id, None, 50)
            .await
            .unwrap()
            .len(),
        1
    );
    assert_eq!(
        db.backlinks(s.id, nowhere, 0, None, 50)
            .await
            .unwrap()
            .len(),
        0
    );

    // A subtree to the trash: its rows go, its text and body document wait.
    let b_doc = format!("topic:{b}");
    let doc = db
        .open_doc(&b_doc, DocOwner::Topic(b), b"snapshot", 9)
        .await
        .unwrap();
    let kept = [
        (root, None, "trees", ""),
        (c, Some(root), "C", ""),
        (nowhere, Some(root), "Nowhere", ""),
    ];
    let trash = [(a, 10), (b, 10)];
    // Two rows to the trash, and Nowhere moves up a place.
    assert_eq!(project(db, s.id, &kept, &trash, 10).await.changes, 3);
    assert!(matches!(db.topic(s.id, b).await, Err(DbError::NotFound)));
    let waiting = db.trashed_topics(s.id).await.unwrap();
    let waiting: Vec<(i64, &str, &str, i64)> = waiting
        .iter()
        .map(|t| (t.id, t.title.as_str(), t.body.as_str(), t.trashed_at))
        .collect();
    assert_eq!(waiting, vec![(a, "A", "alpha", 10), (b, "Bee", "beta", 10)]);
    assert_eq!(db.doc_id(&b_doc).await.unwrap(), Some(doc));
    assert!(
        db.backlinks(s.id, nowhere, owner.id, None, 50)
            .await
            .unwrap()
            .len()
            == 1
    );

    // Back from the trash (the caller prepares the text), the document with it.
    let mut back = kept.to_vec();
    back.push((a, Some(root), "A", "alpha"));
    back.push((b, Some(a), "Bee", "beta again"));
    assert_eq!(project(db, s.id, &back, &[], 11).await.changes, 2);
    assert_eq!(db.topic(s.id, b).await.unwrap().body, "beta again");
    assert!(db.trashed_topics(s.id).await.unwrap().is_empty());

    // Trashed, then purged: the rows, the kept text and the body document go for good; a
    // topic neither in the tree nor in the trash is deleted outright.
    assert_eq!(project(db, s.id, &kept, &trash, 12).await.changes, 2);
    assert_eq!(project(db, s.id, &kept[..2], &[], 13).await.changes, 3);
    assert!(db.trashed_topics(s.id).await.unwrap().is_empty());
    assert_eq!(db.doc_id(&b_doc).await.unwrap(), None);
    assert!(matches!(
        db.topic(s.id, nowhere).await,
        Err(DbError::NotFound)
    ));
    assert_eq!(db.topic_tree(s.id).await.unwrap().len(), 2);
}

/// Ids a projection may not give a row to: outside the invented ids (the largest integer,
/// the small ids the tables' sequences hand out), or held by another subject — its row, its
/// trash, a body document it owns. Trash members without a row keep their title in the trash.
async fn foreign_ids_story(db: &Db) {
    let owner = db.create_user(new_user("fay", "fay", 0)).await.unwrap();
    let thief = db.create_user(new_user("tim", "tim", 0)).await.unwrap();
    let diary = db
        .create_subject(new_subject("diary", owner.id, &[], 0))
        .await
        .unwrap();
    let diary_root = db.topic_tree(diary.id).await.unwrap()[0].id;
    let (secret, seeded) = ((1 << 45) + 1, (1 << 45) + 2);
    let with_secret = [
        (diary_root, None, "diary", ""),
        (secret, Some(diary_root), "Secret", "private body"),
    ];
    assert_eq!(project(db, diary.id, &with_secret, &[], 1).await.changes, 1);
    db.open_doc(&format!("topic:{secret}"), DocOwner::Topic(secret), b"s", 1)
        .await
        .unwrap();
    assert_eq!(
        project(db, diary.id, &with_secret[..1], &[(secret, 2)], 2)
            .await
            .changes,
        1
    );
    // A body seeded for a topic about to be added to the diary.
    db.open_doc(
        &format!("topic:{seeded}"),
        DocOwner::Subject(diary.id),
        b"s",
        2,
    )
    .await
    .unwrap();

    let mine = db
        .create_subject(new_subject("mine", thief.id, &[], 0))
        .await
        .unwrap();
    let root = db.topic_tree(mine.id).await.unwrap()[0].id;
    let fine = (1 << 45) + 3;
    let claimed = [
        (root, None, "mine", ""),
        (i64::MAX, Some(root), "Max", "x"),
        (7, Some(root), "Small", "x"),
        (secret, Some(root), "Claimed", "stolen"),
        (seeded, Some(root), "Seeded", "stolen"),
        (fine, Some(root), "Fine", "ok"),
    ];
    let outcome = project(db, mine.id, &claimed, &[], 3).await;
    assert_eq!(outcome.foreign, vec![i64::MAX, 7, secret, seeded]);
    assert_eq!(outcome.changes, 1);
    let ids: Vec<i64> = db
        .topic_tree(mine.id)
        .await
        .unwrap()
        .iter()
        .map(|t| t.id)
        .collect();
    assert_eq!(ids, vec![root, fine]);
    // The diary's trash is untouched, and its restore works.
    let waiting = db.trashed_topics(diary.id).await.unwrap();
    assert_eq!(
        (waiting[0].id, waiting[0].body.as_str()),
        (secret, "private body")
    );
    assert_eq!(project(db, diary.id, &with_secret, &[], 4).await.changes, 1);
    assert_eq!(
        db.topic(diary.id, secret).await.unwrap().body,
        "private body"
    );
    // Creating subjects still works.
    db.create_subject(new_subject("after", thief.id, &[], 5))
        .await
        .unwrap();

    // A topic deleted before it had a row: the trash keeps the title the document held
    // (Fine, neither in the tree nor in the trash, is deleted outright).
    let gone = (1 << 45) + 4;
    let trashed = TreeProjection {
        nodes: vec![PlacedTopic {
            id: root,
            parent_id: None,
            order_key: "000000".into(),
            title: "mine".into(),
        }],
        trashed: vec![InTrash {
            id: gone,
            deleted_at: 6,
            title: Some("Gone".into()),
        }],
        new_ids: NEW_IDS,
        ..TreeProjection::default()
    };
    db.project_tree(mine.id, &trashed, 6).await.unwrap();
    assert_eq!(
        db.trashed_titles(mine.id).await.unwrap(),
        vec![(gone, "Gone".to_owned())]
    );
}

#[tokio::test]
async fn foreign_ids() {
    on_every_backend!(foreign_ids_story);
}

async fn social_story(db: &Db) {
    let author = db.create_user(new_user("ann", "ann", 0)).await.unwrap();
    let reader = db.create_user(new_user("rob", "rob", 0)).await.unwrap();
    let s = db
        .create_subject(new_subject("liked", author.id, &[], 0))
        .await
        .unwrap();

    // Idempotent marks; counts exact and never negative.
    assert!(
        db.set_mark(Mark::Like, reader.id, s.id, true, 1)
            .await
            .unwrap()
    );
    assert!(
        !db.set_mark(Mark::Like, reader.id, s.id, true, 2)
            .await
            .unwrap()
    );
    assert!(
        db.set_mark(Mark::Save, reader.id, s.id, true, 2)
            .await
            .unwrap()
    );
    let row = db.subject_by_id(s.id).await.unwrap();
    assert_eq!((row.like_count, row.save_count), (1, 1));
    let marks = db.marks(reader.id, s.id).await.unwrap();
    assert!(marks.liked && marks.saved);
    assert!(
        db.set_mark(Mark::Like, reader.id, s.id, false, 3)
            .await
            .unwrap()
    );
    assert!(
        !db.set_mark(Mark::Like, reader.id, s.id, false, 3)
            .await
            .unwrap()
    );
    assert!(
        !db.set_mark(Mark::Save, author.id, s.id, false, 3)
            .await
            .unwrap()
    );
    let row = db.subject_by_id(s.id).await.unwrap();
    assert_eq!((row.like_count, row.save_count), (0, 1));

    // Views: once per reader per window.
    assert!(db.record_view(s.id, "u:1", 1_000, 500).await.unwrap());
    assert!(!db.record_view(s.id, "u:1", 1_400, 500).await.unwrap());
    assert!(db.record_view(s.id, "a:x", 1_400, 500).await.unwrap());
    assert!(db.record_view(s.id, "u:1", 1_500, 500).await.unwrap());
    assert_eq!(db.subject_by_id(s.id).await.unwrap().view_count, 3);

    // Saved list.
    let saved = db.saved_subjects(reader.id, None, 10).await.unwrap();
    assert_eq!(
        saved.iter().map(|(s, at)| (s.id, *at)).collect::<Vec<_>>(),
        vec![(s.id, 2)]
    );

    // Follows and the feed, newest update first, paged by cursor.
    assert!(db.set_follow(author.id, author.id, true, 1).await.is_err());
    assert!(db.set_follow(reader.id, author.id, true, 1).await.unwrap());
    assert!(!db.set_follow(reader.id, author.id, true, 1).await.unwrap());
    assert!(db.follows(reader.id, author.id).await.unwrap());
    let counts = db.follow_counts(author.id).await.unwrap();
    assert_eq!((counts.followers, counts.following), (1, 0));
    for i in 0..4 {
        let slug = format!("feed-{i}");
        db.create_subject(new_subject(&slug, author.id, &[], 100 + i))
            .await
            .unwrap();
    }
    db.create_subject(NewSubject {
        visibility: "private",
        ..new_subject("hidden", author.id, &[], 200)
    })
    .await
    .unwrap();
    let page1 = db.feed(reader.id, None, 2).await.unwrap();
    assert_eq!(
        page1.iter().map(|s| s.slug.as_str()).collect::<Vec<_>>(),
        ["feed-3", "feed-2"]
    );
    // A subject published between pages does not shift the next page.
    db.create_subject(new_subject("feed-new", author.id, &[], 300))
        .await
        .unwrap();
    let last = page1.last().unwrap();
    let cursor = TimeCursor {
        at: last.updated_at,
        id: last.id,
    };
    let page2 = db.feed(reader.id, Some(cursor), 10).await.unwrap();
    assert_eq!(
        page2.iter().map(|s| s.slug.as_str()).collect::<Vec<_>>(),
        ["feed-1", "feed-0", "liked"]
    );
    assert!(db.set_follow(reader.id, author.id, false, 1).await.unwrap());
    assert!(db.feed(reader.id, None, 10).await.unwrap().is_empty());
}

async fn catalogue_story(db: &Db) {
    let alice = db.create_user(new_user("alice", "alice", 0)).await.unwrap();
    let bob = db.create_user(new_user("bob", "bob", 0)).await.unwrap();
    let rust_async = vec!["rust".to_owned(), "async".to_owned()];
    let rust = vec!["rust".to_owned()];
    let a = db
        .create_subject(new_subject("async-rust", alice.id, &rust_async, 1))
        .await
        .unwrap();
    let b = db
        .create_subject(new_subject("rust-basics", bob.id, &rust, 2))
        .await
        .unwrap();
    let c = db
        .create_subject(new_subject("kafka-streams", bob.id, &[], 3))
        .await
        .unwrap();
    let root = db.topic_tree(c.id).await.unwrap()[0].id;
    let consumers = [
        (root, None, "kafka-streams", ""),
        (1 << 40, Some(root), "Consumers", "Rust clients for Kafka"),
    ];
    assert_eq!(project(db, c.id, &consumers, &[], 4).await.changes, 1);
    db.set_mark(Mark::Like, bob.id, a.id, true, 5)
        .await
        .unwrap();
    db.set_mark(Mark::Like, alice.id, a.id, true, 5)
        .await
        .unwrap();
    db.set_mark(Mark::Like, alice.id, b.id, true, 5)
        .await
        .unwrap();

    let ids =
        |rows: Vec<arbor_db::subjects::SubjectRow>| rows.iter().map(|s| s.id).collect::<Vec<_>>();
    // Every search gives the same page under each plan: driven by its most selective filter
    // (any filter may drive), walking an order's index (no filter may drive), and the default.
    let plans = [
        CatalogueLimits::DEFAULT,
        CatalogueLimits {
            drive: i64::MAX,
            ..CatalogueLimits::DEFAULT
        },
        CatalogueLimits {
            drive: 1,
            ..CatalogueLimits::DEFAULT
        },
    ];
    let search = |s: SubjectSearch| async move {
        let s = SubjectSearch { limit: 10, ..s };
        let mut pages = Vec::new();
        for limits in plans {
            pages.push(ids(db.search_subjects_within(&s, limits).await.unwrap()));
        }
        assert!(
            pages.iter().all(|p| *p == pages[0]),
            "plans disagree on {s:?}: {pages:?}"
        );
        pages.swap_remove(0)
    };

    // Topic bodies are searched; newest update first without a sort.
    assert_eq!(
        search(SubjectSearch {
            text: vec!["rust".into()],
            sort: Some(SearchSort::New),
            ..Default::default()
        })
        .await,
        vec![c.id, b.id, a.id]
    );
    assert_eq!(
        search(SubjectSearch {
            text: vec!["kafka".into()],
            ..Default::default()
        })
        .await,
        vec![c.id]
    );
    assert_eq!(
        search(SubjectSearch {
            text: vec!["rust".into()],
            excluded_text: vec!["kafka".into()],
            sort: Some(SearchSort::New),
            ..Default::default()
        })
        .await,
        vec![b.id, a.id]
    );
    assert_eq!(
        search(SubjectSearch {
            tags: vec!["async".into()],
            ..Default::default()
        })
        .await,
        vec![a.id]
    );
    assert_eq!(
        search(SubjectSearch {
            tags: vec!["rust".into()],
            excluded_tags: vec!["async".into()],
            ..Default::default()
        })
        .await,
        vec![b.id]
    );
    assert_eq!(
        search(SubjectSearch {
            authors: vec!["bob".into()],
            sort: Some(SearchSort::New),
            ..Default::default()
        })
        .await,
        vec![c.id, b.id]
    );
    assert_eq!(
        search(SubjectSearch {
            ranges: vec![(Column::Likes, Some(2), None)],
            ..Default::default()
        })
        .await,
        vec![a.id]
    );
    assert_eq!(
        search(SubjectSearch {
            ranges: vec![(Column::Created, Some(2), Some(3))],
            ..Default::default()
        })
        .await,
        vec![b.id]
    );
    assert_eq!(
        search(SubjectSearch {
            sort: Some(SearchSort::Likes),
            ..Default::default()
        })
        .await,
        vec![a.id, b.id, c.id]
    );
    // Punctuation-only words are ignored rather than failing the query.
    assert_eq!(
        search(SubjectSearch {
            text: vec!["++".into(), "kafka".into()],
            ..Default::default()
        })
        .await,
        vec![c.id]
    );
    assert_eq!(
        search(SubjectSearch {
            text: vec!["\"quoted\" AND".into()],
            ..Default::default()
        })
        .await,
        Vec::<i64>::new()
    );
    // Relevance order puts the best match first and pages by offset.
    assert_eq!(
        search(SubjectSearch {
            text: vec!["rust".into()],
            ..Default::default()
        })
        .await
        .len(),
        3
    );
    let first = db
        .search_subjects(&SubjectSearch {
            text: vec!["rust".into()],
            limit: 2,
            ..Default::default()
        })
        .await
        .unwrap();
    let rest = db
        .search_subjects(&SubjectSearch {
            text: vec!["rust".into()],
            limit: 2,
            cursor: Some(SearchCursor::Offset(2)),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(first.len() + rest.len(), 3);
    // Relevance ranks only the newest candidates that pass every filter.
    let newest_two = db
        .search_subjects_within(
            &SubjectSearch {
                text: vec!["rust".into()],
                limit: 10,
                ..Default::default()
            },
            CatalogueLimits {
                relevance: 2,
                ..CatalogueLimits::DEFAULT
            },
        )
        .await
        .unwrap();
    let mut newest_two = ids(newest_two);
    newest_two.sort();
    assert_eq!(newest_two, vec![b.id, c.id]);
    // Combined filters: a word, a tag, an author and a count range together.
    assert_eq!(
        search(SubjectSearch {
            text: vec!["rust".into()],
            tags: vec!["rust".into()],
            authors: vec!["alice".into(), "bob".into()],
            ranges: vec![(Column::Likes, Some(1), Some(3))],
            ..Default::default()
        })
        .await
        .len(),
        2
    );
    assert_eq!(
        search(SubjectSearch {
            text: vec!["rust".into()],
            tags: vec!["rust".into()],
            sort: Some(SearchSort::Likes),
            ..Default::default()
        })
        .await,
        vec![a.id, b.id]
    );
    // Keyset pages under the likes order.
    let page = search(SubjectSearch {
        sort: Some(SearchSort::Likes),
        cursor: Some(SearchCursor::After { value: 1, id: b.id }),
        ..Default::default()
    })
    .await;
    assert_eq!(page, vec![c.id]);
    // A tag given later (here with characters beyond ASCII) is found with words too.
    let kafka_tags = vec!["kafka".to_owned(), "streams-ü".to_owned()];
    db.update_subject(
        c.id,
        SubjectUpdate {
            title: "Kafka streams",
            summary: "",
            tags: &kafka_tags,
            visibility: "public",
            now: 8,
        },
    )
    .await
    .unwrap();
    assert_eq!(
        search(SubjectSearch {
            text: vec!["rust".into()],
            tags: vec!["streams-ü".into()],
            ..Default::default()
        })
        .await,
        vec![c.id]
    );
    assert_eq!(
        search(SubjectSearch {
            text: vec!["rust".into()],
            tags: vec!["streams".into()],
            ..Default::default()
        })
        .await,
        Vec::<i64>::new()
    );
    // Private subjects never show.
    db.create_subject(NewSubject {
        visibility: "private",
        ..new_subject("rust-secret", alice.id, &rust, 9)
    })
    .await
    .unwrap();
    assert_eq!(
        search(SubjectSearch {
            tags: vec!["rust".into()],
            ..Default::default()
        })
        .await
        .len(),
        2
    );
    // Owner listings: others see public only, the owner everything.
    assert_eq!(
        db.subjects_by_owner(alice.id, 0, 10).await.unwrap().len(),
        1
    );
    assert_eq!(
        db.subjects_by_owner(alice.id, alice.id, 10)
            .await
            .unwrap()
            .len(),
        2
    );
    let trending = db.trending_subjects(0, 2).await.unwrap();
    assert_eq!(trending[0].id, a.id);
}

#[tokio::test]
async fn subjects() {
    on_every_backend!(subjects_story);
}

#[tokio::test]
async fn topics() {
    on_every_backend!(topics_story);
}

#[tokio::test]
async fn social() {
    on_every_backend!(social_story);
}

#[tokio::test]
async fn catalogue() {
    on_every_backend!(catalogue_story);
}

async fn docs_story(db: &Db) {
    use arbor_db::docs::DocOwner;
    let owner = db.create_user(new_user("dora", "dora", 0)).await.unwrap();
    let s = db
        .create_subject(new_subject("live", owner.id, &[], 1))
        .await
        .unwrap();
    let root = db.topic_tree(s.id).await.unwrap()[0].id;
    let name = format!("topic:{root}");
    assert_eq!(db.doc_id(&name).await.unwrap(), None);
    assert_eq!(db.topic_doc_changed(root).await.unwrap(), None);
    let id = db
        .open_doc(&name, DocOwner::Topic(root), b"seed", 2)
        .await
        .unwrap();
    // When a topic's document last changed in storage: seeded…
    assert_eq!(db.topic_doc_changed(root).await.unwrap(), Some((id, 2)));
    // A second opener (another replica) gets the same document; the first seed stays.
    let again = db
        .open_doc(&name, DocOwner::Topic(root), b"other seed", 3)
        .await
        .unwrap();
    assert_eq!(again, id);
    db.append_updates(&[(id, b"u1"), (id, b"u2")], 4)
        .await
        .unwrap();
    // …its newest logged update…
    assert_eq!(db.topic_doc_changed(root).await.unwrap(), Some((id, 4)));
    let loaded = db.load_doc(id).await.unwrap();
    assert_eq!(loaded.snapshot, b"seed");
    let log: Vec<&[u8]> = loaded.log.iter().map(|(_, u)| u.as_slice()).collect();
    assert_eq!(log, [b"u1", b"u2"]);
    assert_eq!(loaded.log_bytes(), 4);
    // An update written while a compaction works from `loaded` survives it.
    db.append_updates(&[(id, b"u3")], 5).await.unwrap();
    assert!(db.compact_doc(&loaded, b"seed+u1+u2", 6).await.unwrap());
    // …or its last compaction, whichever is later.
    assert_eq!(db.topic_doc_changed(root).await.unwrap(), Some((id, 6)));
    let after = db.load_doc(id).await.unwrap();
    assert_eq!(after.snapshot, b"seed+u1+u2");
    let log: Vec<&[u8]> = after.log.iter().map(|(_, u)| u.as_slice()).collect();
    assert_eq!(log, [b"u3"]);
    // A compaction from a stale load loses the race and changes nothing.
    assert!(!db.compact_doc(&loaded, b"stale", 7).await.unwrap());
    assert_eq!(db.load_doc(id).await.unwrap(), after);
    // The document goes with its subject.
    db.delete_subject(s.id).await.unwrap();
    assert_eq!(db.doc_id(&name).await.unwrap(), None);
    assert!(matches!(db.load_doc(id).await, Err(DbError::NotFound)));
}

#[tokio::test]
async fn docs() {
    on_every_backend!(docs_story);
}

fn link(slug: &str, title_key: &str) -> LinkRef {
    LinkRef {
        slug: slug.into(),
        title_key: title_key.into(),
    }
}

/// Import history: recorded, listed newest first, its file read back only through its own
/// subject, and rolled back once — exactly one of several concurrent claims wins.
async fn imports_story(db: &Db) {
    let owner = db.create_user(new_user("ida", "ida", 0)).await.unwrap();
    let editor = db.create_user(new_user("ed", "ed", 0)).await.unwrap();
    let s = db
        .create_subject(new_subject("imported", owner.id, &[], 0))
        .await
        .unwrap();
    let other = db
        .create_subject(new_subject("elsewhere", owner.id, &[], 0))
        .await
        .unwrap();
    assert!(db.imports(s.id).await.unwrap().is_empty());

    let notes = NewImport {
        subject_id: s.id,
        user_id: editor.id,
        format: "markdown",
        filename: "notes.md",
        source: "# Notes\n\nü and 🌳",
        topics: 3,
        undo: r#"{"created":[1]}"#,
        now: 10,
    };
    let first = db.record_import(notes).await.unwrap();
    let second = db
        .record_import(NewImport {
            user_id: owner.id,
            format: "opml",
            filename: "map.opml",
            source: "<opml/>",
            topics: 1,
            undo: r#"{"created":[2]}"#,
            now: 20,
            ..notes
        })
        .await
        .unwrap();
    assert_ne!(first, second);
    assert_eq!(
        db.imports(s.id).await.unwrap(),
        vec![
            ImportRow {
                id: second,
                username: Some("ida".into()),
                format: "opml".into(),
                filename: "map.opml".into(),
                topics: 1,
                created_at: 20,
                rolled_back_at: None,
            },
            ImportRow {
                id: first,
                username: Some("ed".into()),
                format: "markdown".into(),
                filename: "notes.md".into(),
                topics: 3,
                created_at: 10,
                rolled_back_at: None,
            },
        ]
    );
    assert!(db.imports(other.id).await.unwrap().is_empty());
    // A subject that does not exist cannot have imports.
    assert!(matches!(
        db.record_import(NewImport {
            subject_id: other.id + 1000,
            ..notes
        })
        .await,
        Err(DbError::Other(_))
    ));

    // The file as uploaded, through its own subject only.
    assert_eq!(
        db.import_source(s.id, first).await.unwrap(),
        ImportSource {
            format: "markdown".into(),
            filename: "notes.md".into(),
            source: "# Notes\n\nü and 🌳".into(),
        }
    );
    assert!(matches!(
        db.import_source(other.id, first).await,
        Err(DbError::NotFound)
    ));
    assert!(matches!(
        db.import_source(s.id, second + 1000).await,
        Err(DbError::NotFound)
    ));

    // Claims: another subject's import, or none, is NotFound and claims nothing.
    assert!(matches!(
        db.claim_rollback(other.id, first, 30).await,
        Err(DbError::NotFound)
    ));
    assert!(matches!(
        db.claim_rollback(s.id, second + 1000, 30).await,
        Err(DbError::NotFound)
    ));
    let rolled_back = |id: i64| async move {
        let rows = db.imports(s.id).await.unwrap();
        rows.iter().find(|r| r.id == id).unwrap().rolled_back_at
    };
    assert_eq!(rolled_back(first).await, None);
    // Exactly one of several concurrent claims wins and gets the undo record; the others
    // are Conflict.
    let mut tasks = Vec::new();
    for at in 100..108 {
        let db = db.clone();
        let subject = s.id;
        tasks.push(tokio::spawn(async move {
            (at, db.claim_rollback(subject, first, at).await)
        }));
    }
    let mut winners = Vec::new();
    for task in tasks {
        match task.await.unwrap() {
            (at, Ok(undo)) => winners.push((at, undo)),
            (_, Err(DbError::Conflict(_))) => {}
            (_, Err(e)) => panic!("a losing claim must be Conflict, not {e:?}"),
        }
    }
    assert_eq!(winners.len(), 1, "{winners:?}");
    let (claimed_at, undo) = winners.pop().unwrap();
    assert_eq!(undo, r#"{"created":[1]}"#);
    assert_eq!(rolled_back(first).await, Some(claimed_at));
    assert_eq!(rolled_back(second).await, None, "the other import stays");
    assert!(matches!(
        db.claim_rollback(s.id, first, 200).await,
        Err(DbError::Conflict(_))
    ));

    // Another subject cannot give the claim back; this one can, and it can be claimed again.
    assert!(matches!(
        db.release_rollback(other.id, first).await,
        Err(DbError::NotFound)
    ));
    assert_eq!(rolled_back(first).await, Some(claimed_at));
    db.release_rollback(s.id, first).await.unwrap();
    assert_eq!(rolled_back(first).await, None);
    assert_eq!(rolled_back(second).await, None);
    assert_eq!(db.claim_rollback(s.id, first, 300).await.unwrap(), undo);
    assert_eq!(rolled_back(first).await, Some(300));

    // The importer's account goes: the record stays, without a name.
    db.delete_user(editor.id).await.unwrap();
    let rows = db.imports(s.id).await.unwrap();
    assert_eq!(
        rows.iter()
            .map(|r| r.username.as_deref())
            .collect::<Vec<_>>(),
        [Some("ida"), None]
    );
    assert!(db.import_source(s.id, first).await.is_ok());
    // The subject goes: its imports go with it.
    db.delete_subject(s.id).await.unwrap();
    assert!(db.imports(s.id).await.unwrap().is_empty());
    assert!(matches!(
        db.import_source(s.id, second).await,
        Err(DbError::NotFound)
    ));
    assert!(matches!(
        db.claim_rollback(s.id, second, 400).await,
        Err(DbError::NotFound)
    ));
}

#[tokio::test]
async fn imports() {
    on_every_backend!(imports_story);
}

/// Body documents that wait without a topic row in a subject — seeded for a topic about to be
/// added, or the body of a topic in the trash: found, and discarded, only there.
async fn waiting_docs_story(db: &Db) {
    let owner = db.create_user(new_user("wes", "wes", 0)).await.unwrap();
    let s = db
        .create_subject(new_subject("waiting", owner.id, &[], 0))
        .await
        .unwrap();
    let other = db
        .create_subject(new_subject("not-here", owner.id, &[], 0))
        .await
        .unwrap();
    let root = db.topic_tree(s.id).await.unwrap()[0].id;
    let root_doc = format!("topic:{root}");
    let root_id = db
        .open_doc(&root_doc, DocOwner::Topic(root), b"root", 1)
        .await
        .unwrap();
    let new_topic = 1 << 44;
    let seeded = format!("topic:{new_topic}");
    let seeded_id = db
        .open_doc(&seeded, DocOwner::Subject(s.id), b"seed", 1)
        .await
        .unwrap();
    assert_eq!(
        db.waiting_doc_id(&seeded, s.id).await.unwrap(),
        Some(seeded_id)
    );
    assert_eq!(db.waiting_doc_id(&seeded, other.id).await.unwrap(), None);
    assert_eq!(db.waiting_doc_id("topic:1", s.id).await.unwrap(), None);
    // A topic's own body does not wait.
    assert_eq!(db.waiting_doc_id(&root_doc, s.id).await.unwrap(), None);

    // Once the topic has a row the document is its own; in the trash it waits again.
    let with_new = [
        (root, None, "waiting", ""),
        (new_topic, Some(root), "New", "text"),
    ];
    assert_eq!(project(db, s.id, &with_new, &[], 2).await.changes, 1);
    assert_eq!(db.waiting_doc_id(&seeded, s.id).await.unwrap(), None);
    assert_eq!(db.doc_id(&seeded).await.unwrap(), Some(seeded_id));
    assert_eq!(
        project(db, s.id, &with_new[..1], &[(new_topic, 3)], 3)
            .await
            .changes,
        1
    );
    assert_eq!(
        db.waiting_doc_id(&seeded, s.id).await.unwrap(),
        Some(seeded_id)
    );

    // Discarding touches neither another subject's document nor a topic's own.
    db.discard_doc(&seeded, other.id).await.unwrap();
    assert_eq!(db.doc_id(&seeded).await.unwrap(), Some(seeded_id));
    db.discard_doc(&root_doc, s.id).await.unwrap();
    assert_eq!(db.doc_id(&root_doc).await.unwrap(), Some(root_id));
    // A seeded body whose topic was not added goes, with its log; twice is no error.
    let unused = format!("topic:{}", new_topic + 1);
    let unused_id = db
        .open_doc(&unused, DocOwner::Subject(s.id), b"seed", 4)
        .await
        .unwrap();
    db.append_updates(&[(unused_id, b"u1")], 4).await.unwrap();
    db.discard_doc(&unused, s.id).await.unwrap();
    assert_eq!(db.doc_id(&unused).await.unwrap(), None);
    assert_eq!(db.waiting_doc_id(&unused, s.id).await.unwrap(), None);
    assert!(matches!(
        db.load_doc(unused_id).await,
        Err(DbError::NotFound)
    ));
    db.discard_doc(&unused, s.id).await.unwrap();
}

#[tokio::test]
async fn waiting_docs() {
    on_every_backend!(waiting_docs_story);
}

/// Reading topics with their bodies and by id alone, where a link leads, and which subjects
/// are related through links.
async fn topic_lookups_story(db: &Db) {
    let ada = db.create_user(new_user("ada", "ada", 0)).await.unwrap();
    let ben = db.create_user(new_user("ben", "ben", 0)).await.unwrap();
    let atlas = db
        .create_subject(new_subject("atlas", ada.id, &[], 0))
        .await
        .unwrap();
    let root = db.topic_tree(atlas.id).await.unwrap()[0].id;
    let (a, b, c) = (1 << 40, (1 << 40) + 1, (1 << 40) + 2);
    let nodes = [
        (root, None, "atlas", ""),
        (a, Some(root), "A", "alpha"),
        (b, Some(a), "B", "beta"),
        (c, Some(root), "C", "gamma"),
    ];
    assert_eq!(project(db, atlas.id, &nodes, &[], 1).await.changes, 3);

    // Every topic with its body, in the tree's order.
    let topics = db.subject_topics(atlas.id).await.unwrap();
    let tree: Vec<i64> = db
        .topic_tree(atlas.id)
        .await
        .unwrap()
        .iter()
        .map(|t| t.id)
        .collect();
    assert_eq!(topics.iter().map(|t| t.id).collect::<Vec<_>>(), tree);
    let at = |id: i64| tree.iter().position(|t| *t == id).unwrap();
    assert!(at(a) < at(c), "siblings in order");
    let body = |id: i64| topics.iter().find(|t| t.id == id).unwrap().body.as_str();
    assert_eq!(
        (body(root), body(a), body(b), body(c)),
        ("", "alpha", "beta", "gamma")
    );
    assert!(topics.iter().all(|t| t.subject_id == atlas.id));
    assert!(db.subject_topics(atlas.id + 1000).await.unwrap().is_empty());

    // By id alone, whatever the subject.
    let beacon = db
        .create_subject(new_subject("beacon", ben.id, &[], 0))
        .await
        .unwrap();
    let beacon_root = db.topic_tree(beacon.id).await.unwrap()[0].id;
    assert_eq!(
        db.topic_by_id(b).await.unwrap(),
        db.topic(atlas.id, b).await.unwrap()
    );
    assert_eq!(
        db.topic_by_id(beacon_root).await.unwrap().subject_id,
        beacon.id
    );
    assert!(matches!(
        db.topic_by_id(1 << 50).await,
        Err(DbError::NotFound)
    ));

    // Where a link leads: by slug and case-folded title.
    assert_eq!(
        db.link_target(&link("atlas", "a"), 0).await.unwrap(),
        Some(a)
    );
    assert_eq!(
        db.link_target(&link("atlas", "nowhere"), 0).await.unwrap(),
        None
    );
    assert_eq!(
        db.link_target(&link("no-such", "a"), 0).await.unwrap(),
        None
    );
    // A private subject only to its owner and members; an unlisted one to anyone.
    let cellar = db
        .create_subject(NewSubject {
            visibility: "private",
            ..new_subject("cellar", ada.id, &[], 0)
        })
        .await
        .unwrap();
    let cellar_root = db.topic_tree(cellar.id).await.unwrap()[0].id;
    let vault = link("cellar", "cellar");
    assert_eq!(db.link_target(&vault, 0).await.unwrap(), None);
    assert_eq!(db.link_target(&vault, ben.id).await.unwrap(), None);
    assert_eq!(
        db.link_target(&vault, ada.id).await.unwrap(),
        Some(cellar_root)
    );
    db.set_member(cellar.id, ben.id, "viewer", 1).await.unwrap();
    assert_eq!(
        db.link_target(&vault, ben.id).await.unwrap(),
        Some(cellar_root)
    );
    let attic = db
        .create_subject(NewSubject {
            visibility: "unlisted",
            ..new_subject("attic", ada.id, &[], 0)
        })
        .await
        .unwrap();
    let attic_root = db.topic_tree(attic.id).await.unwrap()[0].id;
    assert_eq!(
        db.link_target(&link("attic", "attic"), 0).await.unwrap(),
        Some(attic_root)
    );
    // Two topics of one title: the link stays with the one that was there first.
    let (first_dup, later_dup) = ((1 << 40) + 10, (1 << 40) + 11);
    let mut with_dups = nodes.to_vec();
    with_dups.push((first_dup, Some(root), "Dup", "one"));
    assert_eq!(project(db, atlas.id, &with_dups, &[], 2).await.changes, 1);
    with_dups.push((later_dup, Some(root), "DUP", "two"));
    assert_eq!(project(db, atlas.id, &with_dups, &[], 3).await.changes, 1);
    assert_eq!(
        db.link_target(&link("atlas", "dup"), 0).await.unwrap(),
        Some(first_dup)
    );

    // Related subjects: those linking here and those linked from here, each once.
    let comet = db
        .create_subject(new_subject("comet", ben.id, &[], 0))
        .await
        .unwrap();
    let to_atlas = [link("atlas", "a"), link("atlas", "b")];
    db.update_topic(
        beacon.id,
        beacon_root,
        content("beacon", "[[atlas/A]] [[atlas/B]]", &to_atlas),
        4,
    )
    .await
    .unwrap();
    let to_comet = [link("comet", "comet"), link("ghost", "boo")];
    db.update_topic(atlas.id, c, content("C", "[[comet/comet]]", &to_comet), 5)
        .await
        .unwrap();
    let related = |id: i64| async move {
        let mut ids = db.related_subjects(id).await.unwrap();
        ids.sort_unstable();
        ids
    };
    let mut expected = vec![beacon.id, comet.id];
    expected.sort_unstable();
    assert_eq!(related(atlas.id).await, expected);
    assert_eq!(related(beacon.id).await, vec![atlas.id]);
    assert_eq!(related(comet.id).await, vec![atlas.id]);
    assert!(related(attic.id).await.is_empty());
    // A topic in the trash has no row and links nowhere (C to the trash, the two after it
    // move up a place).
    let without_c: Vec<_> = with_dups.into_iter().filter(|n| n.0 != c).collect();
    assert_eq!(
        project(db, atlas.id, &without_c, &[(c, 6)], 6)
            .await
            .changes,
        3
    );
    assert!(matches!(db.topic_by_id(c).await, Err(DbError::NotFound)));
    assert_eq!(related(atlas.id).await, vec![beacon.id]);
}

#[tokio::test]
async fn topic_lookups() {
    on_every_backend!(topic_lookups_story);
}

/// The subject's search text: recomputed from its topics, and at most 400,000 characters.
async fn search_text_story(db: &Db) {
    let owner = db.create_user(new_user("sue", "sue", 0)).await.unwrap();
    let s = db
        .create_subject(new_subject("indexed", owner.id, &[], 0))
        .await
        .unwrap();
    let root = db.topic_tree(s.id).await.unwrap()[0].id;
    let t = 1 << 40;
    let nodes = [(root, None, "indexed", ""), (t, Some(root), "T", "plain")];
    assert_eq!(project(db, s.id, &nodes, &[], 1).await.changes, 1);
    let finds = |word: &'static str| async move {
        let search = SubjectSearch {
            text: vec![word.into()],
            limit: 10,
            ..Default::default()
        };
        let rows = db.search_subjects(&search).await.unwrap();
        rows.iter().map(|r| r.id).collect::<Vec<_>>()
    };
    assert_eq!(finds("plain").await, vec![s.id]);
    // Text changed behind the repository's back is searched once the subject is reindexed.
    db.execute_admin(&format!(
        "UPDATE topics SET body_text = 'zebra' WHERE id = {t}"
    ))
    .await
    .unwrap();
    assert!(finds("zebra").await.is_empty());
    db.reindex_subject(s.id).await.unwrap();
    assert_eq!(finds("zebra").await, vec![s.id]);
    assert!(finds("plain").await.is_empty());
    // Words beyond the first 400,000 characters are not indexed.
    let long = format!("nearby {}faraway", "filler ".repeat(60_000));
    db.update_topic(s.id, t, content("T", &long, &[]), 2)
        .await
        .unwrap();
    assert_eq!(finds("nearby").await, vec![s.id]);
    assert!(finds("faraway").await.is_empty());
}

#[tokio::test]
async fn search_text() {
    on_every_backend!(search_text_story);
}

/// Subjects shared with a collaborator, and how touching a subject moves it up the lists.
async fn shared_story(db: &Db) {
    let olive = db.create_user(new_user("olive", "olive", 0)).await.unwrap();
    let sam = db.create_user(new_user("sam", "sam", 0)).await.unwrap();
    let open = db
        .create_subject(new_subject("open", olive.id, &[], 1))
        .await
        .unwrap();
    db.create_subject(NewSubject {
        visibility: "private",
        ..new_subject("closed", olive.id, &[], 2)
    })
    .await
    .unwrap();
    let closed = db.subject_by_slug("closed").await.unwrap();
    db.create_subject(new_subject("unrelated", olive.id, &[], 3))
        .await
        .unwrap();
    let slugs = |rows: Vec<SubjectRow>| rows.into_iter().map(|s| s.slug).collect::<Vec<_>>();
    assert!(db.shared_with(sam.id, 10).await.unwrap().is_empty());
    db.set_member(open.id, sam.id, "viewer", 4).await.unwrap();
    db.set_member(closed.id, sam.id, "editor", 5).await.unwrap();
    // Private ones too, most recently updated first; the owner's own are not shared with her.
    assert_eq!(
        slugs(db.shared_with(sam.id, 10).await.unwrap()),
        ["closed", "open"]
    );
    assert!(db.shared_with(olive.id, 10).await.unwrap().is_empty());

    // Touching a subject makes it the most recently changed, in the feed too.
    db.set_follow(sam.id, olive.id, true, 6).await.unwrap();
    assert_eq!(
        slugs(db.feed(sam.id, None, 10).await.unwrap()),
        ["unrelated", "open"]
    );
    db.touch_subject(open.id, 50).await.unwrap();
    assert!(matches!(
        db.touch_subject(1 << 50, 50).await,
        Err(DbError::NotFound)
    ));
    assert_eq!(db.subject_by_id(open.id).await.unwrap().updated_at, 50);
    assert_eq!(
        slugs(db.feed(sam.id, None, 10).await.unwrap()),
        ["open", "unrelated"]
    );
    assert_eq!(
        slugs(db.shared_with(sam.id, 10).await.unwrap()),
        ["open", "closed"]
    );
    assert_eq!(slugs(db.shared_with(sam.id, 1).await.unwrap()), ["open"]);
    db.remove_member(open.id, sam.id).await.unwrap();
    assert_eq!(slugs(db.shared_with(sam.id, 10).await.unwrap()), ["closed"]);
}

#[tokio::test]
async fn shared() {
    on_every_backend!(shared_story);
}

/// `explain_search` names the plan a search runs and gives the database's own account of it.
async fn explain_story(db: &Db) {
    let owner = db.create_user(new_user("exa", "exa", 0)).await.unwrap();
    let rust = vec!["rust".to_owned()];
    db.create_subject(new_subject("explained", owner.id, &rust, 1))
        .await
        .unwrap();
    let explain = |search: SubjectSearch| async move {
        let search = SubjectSearch {
            limit: 10,
            ..search
        };
        let lines = db.explain_search(&search).await.unwrap();
        assert!(lines.len() > 1, "{lines:?}");
        lines
    };
    let walk = explain(SubjectSearch::default()).await;
    assert_eq!(walk[0], "plan: Walk");
    let driven = explain(SubjectSearch {
        tags: rust.clone(),
        ..Default::default()
    })
    .await;
    assert_eq!(driven[0], "plan: Driven(Tag(0))");
    let ranked = explain(SubjectSearch {
        text: rust.clone(),
        ..Default::default()
    })
    .await;
    assert!(ranked[0].starts_with("plan: RankNewest"), "{ranked:?}");
    match db.backend() {
        // EXPLAIN QUERY PLAN: the walk reads the index of its order.
        Backend::Sqlite => assert!(
            walk.iter().any(|l| l.contains("subjects_by_updated")),
            "{walk:?}"
        ),
        // EXPLAIN (ANALYZE, BUFFERS): the statement ran.
        Backend::Postgres => assert!(
            walk.iter().any(|l| l.starts_with("Execution Time")),
            "{walk:?}"
        ),
    }
}

#[tokio::test]
async fn explain() {
    on_every_backend!(explain_story);
}

/// The pool: its occupancy within bounds, and closed for good by `close`.
async fn pool_story(db: &Db) {
    let mut tasks = Vec::new();
    for _ in 0..8 {
        let db = db.clone();
        tasks.push(tokio::spawn(async move { db.ping().await }));
    }
    for task in tasks {
        task.await.unwrap().unwrap();
    }
    let stats = db.pool_stats();
    let max = DbOptions::default().max_connections;
    assert!((1..=max).contains(&stats.size), "{stats:?}");
    assert!(stats.idle <= stats.size, "{stats:?}");
    db.close().await;
    assert_eq!(db.pool_stats().size, 0);
    assert!(db.ping().await.is_err());
}

#[tokio::test]
async fn pool() {
    on_every_backend!(pool_story);
}

/// The public methods of `Db` declared in `source` (rustfmt's layout assumed). The rule, kept
/// simple so it can be trusted:
/// - an inherent `impl Db` block starts at a line that is exactly `impl Db {` and ends at the
///   next line that is exactly `}`; an inherent impl of `Db` spelled any other way (say
///   `impl crate::Db {`) is an error, so no block is skipped unseen;
/// - inside a block, a line that after its indentation starts with `pub` and a space, then
///   optional `async`/`const`/`unsafe`, then `fn`, declares a method: the identifier after `fn`.
///   `pub(crate)` and private functions, trait impls and other types' impls do not count.
fn public_db_methods(file: &str, source: &str) -> Vec<String> {
    let mut methods = Vec::new();
    let mut inside = false;
    for line in source.lines() {
        if line.starts_with("impl") && !line.contains(" for ") {
            let header = line.trim_end().trim_end_matches('{').trim_end();
            let self_type = header.rsplit(' ').next().unwrap_or_default();
            if self_type == "Db" || self_type.ends_with("::Db") {
                assert_eq!(
                    line, "impl Db {",
                    "{file}: an inherent impl of Db this guard cannot read"
                );
                inside = true;
                continue;
            }
        }
        if inside && line == "}" {
            inside = false;
            continue;
        }
        let Some(rest) = line.trim_start().strip_prefix("pub ").filter(|_| inside) else {
            continue;
        };
        let mut words = rest
            .split_whitespace()
            .skip_while(|w| matches!(*w, "async" | "const" | "unsafe"));
        if words.next() == Some("fn") {
            let name = words.next().unwrap_or_default();
            let end = name
                .find(|c: char| !(c.is_alphanumeric() || c == '_'))
                .unwrap_or(name.len());
            methods.push(name[..end].to_owned());
        }
    }
    methods
}

/// Whether `code` calls `name`: `.name(` (a method) or `::name(` (an associated function,
/// such as `Db::connect`) on a line that is not a `//` comment. A method of another type with
/// the same name would count too; `Db`'s names are specific enough for that to be rare.
fn calls(code: &str, name: &str) -> bool {
    let (method, function) = (format!(".{name}("), format!("::{name}("));
    code.lines()
        .filter(|line| !line.trim_start().starts_with("//"))
        .any(|line| line.contains(&method) || line.contains(&function))
}

fn rust_files(dir: &std::path::Path, files: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, files);
        } else if path.extension().is_some_and(|e| e == "rs") {
            files.push(path);
        }
    }
}

/// The "every" of this file's first line, held: each public method of `Db` in `db/src` is
/// called by some story here, so a new repository function cannot land untested.
#[test]
fn every_public_db_method_is_called_here() {
    let sample = "impl Db {\n    pub async fn a(\n    pub fn b<T>(\n    pub(crate) fn c(\n    \
                  fn d(\n        let f = |x| x;\n    }\n}\npub fn e() {}\nimpl Other {\n    \
                  pub fn g(\n}\nimpl Clone for Db {\n    fn clone(\n}\n";
    assert_eq!(public_db_methods("sample", sample), ["a", "b"]);
    assert!(calls("    Db::connect(&url", "connect") && calls("db.ping()", "ping"));
    assert!(!calls("    // db.ping()", "ping") && !calls("db.ping_all()", "ping"));

    let src = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    files.sort();
    let stories = include_str!("conformance.rs");
    let mut found = 0;
    let mut uncalled = Vec::new();
    for file in &files {
        let source = std::fs::read_to_string(file).unwrap();
        let shown = file.strip_prefix(&src).unwrap().display().to_string();
        for name in public_db_methods(&shown, &source) {
            found += 1;
            if !calls(stories, &name) {
                uncalled.push(format!("{shown}: Db::{name}"));
            }
        }
    }
    assert!(
        found > 0,
        "no public method of Db found under {}",
        src.display()
    );
    assert!(
        uncalled.is_empty(),
        "public methods of Db that no conformance story calls (add them to a story):\n{}",
        uncalled.join("\n")
    );
}

/// Trending: the most likes and saves in the window since `since` (one each; marks made before
/// it do not count), ties to the most liked overall (saves made before the window do not
/// break them), then the newest.
async fn trending_counts_likes_and_saves_in_window_story(db: &Db) {
    let author = db.create_user(new_user("tess", "tess", 0)).await.unwrap();
    let mut readers = Vec::new();
    for name in ["r1", "r2", "r3"] {
        readers.push(db.create_user(new_user(name, name, 0)).await.unwrap().id);
    }
    let mut subjects = Vec::new();
    for slug in ["saved", "liked", "stash", "old", "quiet"] {
        let subject = db
            .create_subject(new_subject(slug, author.id, &[], 0))
            .await
            .unwrap();
        subjects.push(subject.id);
    }
    let [saved, liked, stash, old, quiet] = subjects[..] else {
        unreachable!()
    };
    let private = db
        .create_subject(NewSubject {
            visibility: "private",
            ..new_subject("hidden", author.id, &[], 0)
        })
        .await
        .unwrap();
    let marks = [
        // Two saves in the window.
        (Mark::Save, readers[0], saved, 10),
        (Mark::Save, readers[1], saved, 10),
        // One like in the window.
        (Mark::Like, readers[2], liked, 10),
        // One save in the window, two before it: more marks overall, fewer likes.
        (Mark::Save, readers[0], stash, 1),
        (Mark::Save, readers[1], stash, 1),
        (Mark::Save, readers[2], stash, 10),
        // Two likes, both before the window.
        (Mark::Like, readers[0], old, 1),
        (Mark::Like, readers[1], old, 1),
        // The most of all, but not listed.
        (Mark::Like, readers[0], private.id, 10),
        (Mark::Like, readers[1], private.id, 10),
        (Mark::Save, readers[2], private.id, 10),
    ];
    for (mark, reader, subject, at) in marks {
        assert!(db.set_mark(mark, reader, subject, true, at).await.unwrap());
    }
    let ids = |rows: Vec<SubjectRow>| rows.into_iter().map(|s| s.id).collect::<Vec<_>>();
    assert_eq!(
        ids(db.trending_subjects(5, 10).await.unwrap()),
        vec![saved, liked, stash, old, quiet],
        "two saves in the window outrank one like; a tie goes to the most liked overall"
    );
    assert_eq!(
        ids(db.trending_subjects(5, 2).await.unwrap()),
        vec![saved, liked]
    );
    // From the start, every mark is in the window.
    assert_eq!(
        ids(db.trending_subjects(0, 10).await.unwrap()),
        vec![stash, old, saved, liked, quiet]
    );
    // A mark taken back no longer counts.
    for reader in &readers[..2] {
        db.set_mark(Mark::Save, *reader, saved, false, 20)
            .await
            .unwrap();
    }
    assert_eq!(
        ids(db.trending_subjects(5, 10).await.unwrap()),
        vec![liked, stash, old, quiet, saved]
    );
}

#[tokio::test]
async fn trending_counts_likes_and_saves_in_window() {
    on_every_backend!(trending_counts_likes_and_saves_in_window_story);
}

/// A link resolves to the oldest topic of its title in the target subject: the first created,
/// then the smallest id. Writers invent ids at random, so a topic added later with the same
/// title and a smaller id must not take the link over (nor its backlinks or outgoing link).
async fn link_stays_with_oldest_story(db: &Db) {
    let owner = db.create_user(new_user("lou", "lou", 0)).await.unwrap();
    let s = db
        .create_subject(new_subject("dups", owner.id, &[], 0))
        .await
        .unwrap();
    let root = db.topic_tree(s.id).await.unwrap()[0].id;
    let refs = db
        .create_subject(new_subject("refs", owner.id, &[], 0))
        .await
        .unwrap();
    let linker = db.topic_tree(refs.id).await.unwrap()[0].id;
    let to_dups = [link("dups", "dup"), link("dups", "twin")];
    db.update_topic(
        refs.id,
        linker,
        content("refs", "[[dups/Dup]] [[dups/Twin]]", &to_dups),
        1,
    )
    .await
    .unwrap();

    let (older, newer) = ((1 << 40) + 20, (1 << 40) + 10);
    let mut nodes = vec![(root, None, "dups", ""), (older, Some(root), "Dup", "old")];
    assert_eq!(project(db, s.id, &nodes, &[], 1).await.changes, 1);
    nodes.push((newer, Some(root), "Dup", "new"));
    // Two of one title created at the same time: the smaller id.
    let (twin_small, twin_large) = ((1 << 40) + 30, (1 << 40) + 31);
    nodes.push((twin_large, Some(root), "Twin", ""));
    nodes.push((twin_small, Some(root), "twin", ""));
    assert_eq!(project(db, s.id, &nodes, &[], 2).await.changes, 3);

    assert_eq!(
        db.link_target(&link("dups", "dup"), 0).await.unwrap(),
        Some(older)
    );
    assert_eq!(
        db.link_target(&link("dups", "twin"), 0).await.unwrap(),
        Some(twin_small)
    );
    let out = db.outgoing_links(linker, 0).await.unwrap();
    let mut targets = out.iter().map(|l| l.topic_id).collect::<Vec<_>>();
    targets.sort_unstable();
    assert_eq!(targets, vec![older, twin_small]);
    let backlinks = |id: i64| async move {
        db.backlinks(s.id, id, 0, None, 50)
            .await
            .unwrap()
            .iter()
            .map(|r| r.topic.topic_id)
            .collect::<Vec<_>>()
    };
    assert_eq!(backlinks(older).await, vec![linker]);
    assert_eq!(backlinks(newer).await, Vec::<i64>::new());
    assert_eq!(backlinks(twin_small).await, vec![linker]);
    assert_eq!(backlinks(twin_large).await, Vec::<i64>::new());

    // The oldest goes to the trash: the link moves to the next oldest.
    let without_older: Vec<_> = nodes.iter().copied().filter(|n| n.0 != older).collect();
    let outcome = project(db, s.id, &without_older, &[(older, 3)], 3).await;
    assert_eq!(outcome.removed, 1, "{outcome:?}");
    assert_eq!(
        db.link_target(&link("dups", "dup"), 0).await.unwrap(),
        Some(newer)
    );
    assert_eq!(backlinks(newer).await, vec![linker]);
    let out = db.outgoing_links(linker, 0).await.unwrap();
    assert!(out.iter().any(|l| l.topic_id == newer), "{out:?}");
}

#[tokio::test]
async fn link_stays_with_oldest() {
    on_every_backend!(link_stays_with_oldest_story);
}
