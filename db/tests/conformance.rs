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
