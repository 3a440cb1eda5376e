//! The storage conformance story: every repository function, run against SQLite always and
//! against Postgres whenever `ARBOR_TEST_POSTGRES_URL` names a server (a throwaway database is
//! created for the run and dropped after). One story, two backends, one behaviour.

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

    db.delete_user(u.id).await.unwrap();
    assert!(matches!(
        db.token_user(&[7u8; 32], 8_000).await,
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
use arbor_db::projection::{FreshText, InTrash, PlacedTopic, Projected, TreeProjection};
use arbor_db::social::{Mark, TimeCursor};
use arbor_db::subjects::{NewSubject, SubjectUpdate};
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
    let id = db
        .open_doc(&name, DocOwner::Topic(root), b"seed", 2)
        .await
        .unwrap();
    // A second opener (another replica) gets the same document; the first seed stays.
    let again = db
        .open_doc(&name, DocOwner::Topic(root), b"other seed", 3)
        .await
        .unwrap();
    assert_eq!(again, id);
    db.append_updates(&[(id, b"u1"), (id, b"u2")], 4)
        .await
        .unwrap();
    let loaded = db.load_doc(id).await.unwrap();
    assert_eq!(loaded.snapshot, b"seed");
    let log: Vec<&[u8]> = loaded.log.iter().map(|(_, u)| u.as_slice()).collect();
    assert_eq!(log, [b"u1", b"u2"]);
    assert_eq!(loaded.log_bytes(), 4);
    // An update written while a compaction works from `loaded` survives it.
    db.append_updates(&[(id, b"u3")], 5).await.unwrap();
    assert!(db.compact_doc(&loaded, b"seed+u1+u2", 6).await.unwrap());
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
