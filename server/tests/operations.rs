//! Operator-facing behaviour: health, readiness, metrics, the OpenAPI document, start-up
//! configuration errors, graceful shutdown, and errors that must not leak detail.

mod common;

use std::process::Stdio;
use std::time::Duration;

use common::{Backend, GOOD_PASSWORD, PrivateRedis, TestApp, backends};
use serde_json::{Value, json};

#[tokio::test]
async fn health_readiness_and_metrics() {
    let app = TestApp::spawn(Backend::Sqlite, &[]).await;
    let r = reqwest::get(app.url("/healthz")).await.unwrap();
    assert_eq!(r.status(), 200);
    let ready: Value = reqwest::get(app.url("/readyz"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        ready,
        json!({"status": "ready", "database": "ok", "redis": "not configured"})
    );

    reqwest::get(app.url("/api/v1/users/nobody")).await.unwrap();
    let text = app.metrics().await;
    assert!(
        text.lines().any(|l| l.starts_with("http_requests_total{")
            && l.contains(r#"route="/api/v1/users/{username}""#)
            && l.contains(r#"status="404""#)),
        "{text}"
    );
    assert!(text.contains("http_request_duration_seconds_bucket{"));
    assert!(text.contains(r#"db_pool_connections{state="idle"}"#));
    app.stop().await;
}

#[tokio::test]
async fn readiness_reports_redis_when_configured() {
    let Some(redis_url) = common::service_url("ARBOR_TEST_REDIS_URL") else {
        return;
    };
    let prefix = format!("arbor-test-{}:", rand::random::<u64>());
    let app = TestApp::spawn(
        Backend::Sqlite,
        &["--redis-url", &redis_url, "--redis-prefix", &prefix],
    )
    .await;
    let r = reqwest::get(app.url("/readyz")).await.unwrap();
    assert_eq!(r.status(), 200);
    app.stop().await;
}

#[tokio::test]
async fn openapi_document_covers_every_route() {
    let app = TestApp::spawn(Backend::Sqlite, &[]).await;
    let doc: Value = reqwest::get(app.url("/api/v1/openapi.json"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    let paths = doc["paths"].as_object().unwrap();
    let expected = [
        ("/auth/signup", "post"),
        ("/auth/login", "post"),
        ("/auth/logout", "post"),
        ("/me", "get"),
        ("/me", "patch"),
        ("/me", "delete"),
        ("/me/password", "put"),
        ("/me/sessions", "get"),
        ("/me/sessions", "delete"),
        ("/me/tokens", "get"),
        ("/me/tokens", "post"),
        ("/me/tokens/{id}", "delete"),
        ("/users/{username}", "get"),
        ("/users/{username}/subjects", "get"),
        ("/users/{username}/follow", "put"),
        ("/users/{username}/follow", "delete"),
        ("/subjects", "get"),
        ("/subjects", "post"),
        ("/subjects/{slug}", "get"),
        ("/subjects/{slug}", "patch"),
        ("/subjects/{slug}", "delete"),
        ("/subjects/{slug}/members", "get"),
        ("/subjects/{slug}/members/{username}", "put"),
        ("/subjects/{slug}/members/{username}", "delete"),
        ("/subjects/{slug}/like", "put"),
        ("/subjects/{slug}/like", "delete"),
        ("/subjects/{slug}/save", "put"),
        ("/subjects/{slug}/save", "delete"),
        ("/me/feed", "get"),
        ("/me/saved", "get"),
        ("/subjects/{slug}/topics", "post"),
        ("/subjects/{slug}/topics/{id}", "get"),
        ("/subjects/{slug}/topics/{id}", "patch"),
        ("/subjects/{slug}/topics/{id}", "delete"),
        ("/subjects/{slug}/topics/{id}/move", "post"),
        ("/subjects/{slug}/topics/{id}/preview", "post"),
        ("/subjects/{slug}/topics/{id}/backlinks", "get"),
        ("/subjects/{slug}/trash", "get"),
        ("/subjects/{slug}/trash/{id}/restore", "post"),
        ("/subjects/{slug}/imports", "post"),
        ("/subjects/{slug}/imports", "get"),
        ("/subjects/{slug}/imports/{id}/source", "get"),
        ("/subjects/{slug}/imports/{id}/rollback", "post"),
        ("/subjects/{slug}/export", "get"),
    ];
    for (path, method) in expected {
        let op = &paths[path][method];
        assert!(op.is_object(), "{method} {path} missing");
        assert!(op["responses"].is_object());
    }
    let documented: usize = paths.values().map(|p| p.as_object().unwrap().len()).sum();
    assert_eq!(
        documented,
        expected.len(),
        "every documented route is one we expect"
    );
    assert!(doc["components"]["schemas"]["ErrorResponse"].is_object());
    // Any change to the public API shows up as a reviewed change of this snapshot.
    insta::assert_json_snapshot!("openapi", doc);
    assert!(doc["components"]["securitySchemes"]["bearer"].is_object());

    // Each documented route answers (not the 404 fallback) — so the document and router agree.
    for (path, method) in expected {
        let url = app.url(&format!(
            "/api/v1{}",
            path.replace("{id}", "1").replace("{username}", "someone")
        ));
        let r = reqwest::Client::new()
            .request(method.to_uppercase().parse().unwrap(), url)
            .json(&json!({}))
            .send()
            .await
            .unwrap();
        let body: Value = r.json().await.unwrap_or(Value::Null);
        assert!(
            !(r_is_fallback(&body)),
            "{method} {path} is documented but not routed"
        );
    }
    app.stop().await;
}

fn r_is_fallback(body: &Value) -> bool {
    body["error"]["message"] == "No such API endpoint."
}

#[tokio::test]
async fn bad_input_never_yields_a_500() {
    let app = TestApp::spawn(Backend::Sqlite, &[]).await;
    let c = app.new_client();
    app.signup(&c, "inputs", GOOD_PASSWORD).await;
    let huge = "x".repeat(2 * 1024 * 1024);
    let bodies: Vec<(&str, String, &str)> = vec![
        (
            "/api/v1/auth/signup",
            "{not json".into(),
            "application/json",
        ),
        ("/api/v1/auth/signup", String::new(), "application/json"),
        (
            "/api/v1/auth/signup",
            r#"{"username": 5, "password": []}"#.into(),
            "application/json",
        ),
        (
            "/api/v1/auth/signup",
            r#"{"username": "a", "password": "b", "admin": true}"#.into(),
            "application/json",
        ),
        (
            "/api/v1/auth/signup",
            r#"{"username": "abc"}"#.into(),
            "application/json",
        ),
        (
            "/api/v1/auth/signup",
            "username=a".into(),
            "application/x-www-form-urlencoded",
        ),
        (
            "/api/v1/auth/signup",
            format!(
                r#"{{"username": "{}", "password": "{}"}}"#,
                "u".repeat(10_000),
                "p".repeat(10_000)
            ),
            "application/json",
        ),
        (
            "/api/v1/auth/login",
            format!(
                r#"{{"username": "inputs", "password": "{}"}}"#,
                "p".repeat(100_000)
            ),
            "application/json",
        ),
        ("/api/v1/auth/login", "null".into(), "application/json"),
        ("/api/v1/auth/login", "[]".into(), "application/json"),
        (
            "/api/v1/me/tokens",
            r#"{"name": ""}"#.into(),
            "application/json",
        ),
        (
            "/api/v1/me/tokens",
            format!(r#"{{"name": "{}"}}"#, "n".repeat(65)),
            "application/json",
        ),
        ("/api/v1/me/tokens", "\u{0}\u{1}".into(), "application/json"),
        (
            "/fn/login",
            "username=%ZZ&password".into(),
            "application/x-www-form-urlencoded",
        ),
        (
            "/fn/tokens/revoke",
            "id=notanumber".into(),
            "application/x-www-form-urlencoded",
        ),
    ];
    for (path, body, content_type) in bodies {
        let r = c
            .post(app.url(path))
            .header("content-type", content_type)
            .body(body.clone())
            .send()
            .await
            .unwrap();
        let status = r.status();
        assert!(
            status.is_client_error(),
            "{path} with {:.60} gave {status}",
            body
        );
        if path.starts_with("/api/") {
            let json: Value = r.json().await.unwrap();
            assert!(json["error"]["code"].is_string(), "{path}: {json}");
            assert!(json["error"]["message"].is_string(), "{path}: {json}");
        }
    }
    // Over-large bodies: the server answers 413 before reading them and closes the connection,
    // so a client still writing may see the connection close instead of the answer. Either way
    // nothing is done, and never a 500.
    for (path, content_type) in [
        ("/api/v1/auth/login", "application/json"),
        ("/fn/signup", "application/x-www-form-urlencoded"),
    ] {
        let fresh = app.new_client();
        match fresh
            .post(app.url(path))
            .header("content-type", content_type)
            .body(huge.clone())
            .send()
            .await
        {
            Ok(r) => {
                assert_eq!(r.status(), 413, "{path}");
                let json: Value = r.json().await.unwrap();
                assert_eq!(json["error"]["code"], "too_large");
            }
            Err(e) => assert!(e.is_request(), "{path}: {e}"),
        }
    }
    for (method, path, status) in [
        ("DELETE", "/api/v1/me/tokens/abc", 400),
        ("DELETE", "/api/v1/me/tokens/99999999999999999999", 400),
        ("GET", "/api/v1/users/%FF%FE", 400),
        ("GET", "/api/v1/nope", 404),
        ("PUT", "/api/v1/auth/login", 405),
        ("POST", "/api/v1/users/someone", 405),
    ] {
        let r = c
            .request(method.parse().unwrap(), app.url(path))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), status, "{method} {path}");
        let json: Value = r.json().await.unwrap();
        assert!(json["error"]["code"].is_string(), "{method} {path}: {json}");
    }
    // The account is intact after all that.
    assert_eq!(
        c.get(app.url("/api/v1/me")).send().await.unwrap().status(),
        200
    );
    app.stop().await;
}

#[tokio::test]
async fn internal_errors_do_not_leak_detail() {
    let app = TestApp::spawn(Backend::Sqlite, &[]).await;
    // Break the database underneath the running server.
    let db = arbor_db::Db::connect(&app.database_url, &arbor_db::DbOptions::default())
        .await
        .unwrap();
    db.execute_admin("DROP TABLE sessions").await.unwrap();
    db.close().await;
    let r = app
        .post_json(
            &app.new_client(),
            "/api/v1/auth/signup",
            json!({"username": "unlucky", "password": GOOD_PASSWORD}),
        )
        .await;
    assert_eq!(r.status(), 500);
    let body = r.text().await.unwrap();
    assert!(body.contains(r#""code":"internal""#), "{body}");
    assert!(
        !body.to_lowercase().contains("sessions")
            && !body.contains("sqlite")
            && !body.contains("table"),
        "{body}"
    );
    app.stop().await;
}

fn arbor_bin() -> std::process::Command {
    std::process::Command::new(env!("CARGO_BIN_EXE_arbor"))
}

#[test]
fn bad_configuration_stops_start_up_with_one_line_and_exit_code_2() {
    type Case<'a> = (&'a [&'a str], &'a [(&'a str, &'a str)], &'a str);
    let cases: [Case; 5] = [
        (
            &["--addr", "not-an-address"],
            &[],
            "--addr <ADDR> / ARBOR_ADDR",
        ),
        (
            &[],
            &[("ARBOR_ADDR", "nowhere:xx")],
            "--addr <ADDR> / ARBOR_ADDR",
        ),
        (&[], &[("DATABASE_URL", "mysql://x")], "DATABASE_URL"),
        (&["--public-url", "ftp://x"], &[], "ARBOR_PUBLIC_URL"),
        (&[], &[("REDIS_URL", "http://localhost")], "REDIS_URL"),
    ];
    for (args, env, names) in cases {
        let out = arbor_bin()
            .args(args)
            .envs(env.iter().copied())
            .env_remove("RUST_LOG")
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?} {env:?}");
        let stderr = String::from_utf8(out.stderr).unwrap();
        assert_eq!(stderr.trim_end().lines().count(), 1, "one line: {stderr}");
        assert!(stderr.contains(names), "{stderr} should name {names}");
    }
}

#[tokio::test]
async fn sigterm_finishes_in_flight_requests_and_exits_cleanly() {
    let dir = tempfile::tempdir().unwrap();
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_arbor"))
        .args(["--addr", &format!("127.0.0.1:{port}")])
        .args([
            "--database-url",
            &format!("sqlite://{}/a.db", dir.path().display()),
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let base = format!("http://127.0.0.1:{port}");
    let mut up = false;
    for _ in 0..200 {
        if reqwest::get(format!("{base}/healthz")).await.is_ok() {
            up = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(up, "the server came up");
    // A sign-up in flight (argon2 takes a moment) when the signal arrives still completes.
    let request = tokio::spawn({
        let base = base.clone();
        async move {
            reqwest::Client::new()
                .post(format!("{base}/api/v1/auth/signup"))
                .json(&json!({"username": "inflight", "password": GOOD_PASSWORD}))
                .send()
                .await
                .map(|r| r.status().as_u16())
        }
    });
    // Long enough for the request to be accepted, shorter than its password hash.
    tokio::time::sleep(Duration::from_millis(20)).await;
    let pid = child.id().unwrap().to_string();
    let killed = std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap();
    assert!(killed.success());
    let status = tokio::time::timeout(Duration::from_secs(20), child.wait())
        .await
        .unwrap()
        .unwrap();
    assert!(status.success(), "exit status {status:?}");
    assert_eq!(request.await.unwrap().unwrap(), 201);
}

#[tokio::test]
async fn when_redis_dies_readiness_says_so_and_the_throttle_falls_back_to_the_database() {
    let Some(mut redis) = PrivateRedis::start() else {
        common::skipped("redis-server not available");
        return;
    };
    let app = TestApp::spawn(
        Backend::Sqlite,
        &["--redis-url", &redis.url, "--login-max-per-user", "3"],
    )
    .await;
    app.signup(&app.new_client(), "outage", GOOD_PASSWORD).await;
    let ready = reqwest::get(app.url("/readyz")).await.unwrap();
    assert_eq!(ready.status(), 200);

    redis.kill();
    let ready = reqwest::get(app.url("/readyz")).await.unwrap();
    assert_eq!(ready.status(), 503);
    let body: Value = ready.json().await.unwrap();
    assert_eq!(body["database"], "ok");
    assert_ne!(body["redis"], "ok");

    // Guesses are still counted (in the database) and still stopped.
    let wrong = json!({"username": "outage", "password": "not the password"});
    for _ in 0..3 {
        let r = app
            .post_json(&app.new_client(), "/api/v1/auth/login", wrong.clone())
            .await;
        assert_eq!(r.status(), 401);
    }
    let r = app
        .post_json(&app.new_client(), "/api/v1/auth/login", wrong)
        .await;
    assert_eq!(r.status(), 429);
    app.stop().await;
}

#[tokio::test]
async fn a_replica_starts_while_redis_is_down_and_connects_when_it_comes_up() {
    if std::process::Command::new("redis-server")
        .arg("--version")
        .output()
        .is_err()
    {
        common::skipped("redis-server not available");
        return;
    }
    let port = PrivateRedis::free_port().unwrap();
    let url = format!("redis://127.0.0.1:{port}");
    let app = TestApp::spawn(Backend::Sqlite, &["--redis-url", &url]).await;
    let ready = reqwest::get(app.url("/readyz")).await.unwrap();
    assert_eq!(ready.status(), 503, "serving, but not ready without Redis");
    app.signup(&app.new_client(), "early", GOOD_PASSWORD).await;

    let _redis = PrivateRedis::start_on(port).unwrap();
    let mut status = 0;
    for _ in 0..50 {
        tokio::time::sleep(Duration::from_millis(200)).await;
        status = reqwest::get(app.url("/readyz"))
            .await
            .unwrap()
            .status()
            .as_u16();
        if status == 200 {
            break;
        }
    }
    assert_eq!(status, 200, "ready once Redis is up");
    app.stop().await;
}

#[tokio::test]
async fn seed_demo_loads_a_real_map_once() {
    for backend in backends() {
        let app = TestApp::spawn(backend, &["--seed-demo"]).await;
        let anon = app.new_client();
        let subject: Value = anon
            .get(app.url("/api/v1/subjects/distributed-systems"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(subject["subject"]["author"]["username"], "arbor-demo");
        assert_eq!(subject["subject"]["visibility"], "public");
        let main: Vec<&str> = subject["root"]["children"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["title"].as_str().unwrap())
            .collect();
        assert_eq!(
            main,
            [
                "Caching",
                "Load balancing",
                "Message queues",
                "CRDTs",
                "Consensus"
            ]
        );
        // Cross links resolve: Raft links to Quorums, so Quorums has a backlink from Raft.
        let consensus = &subject["root"]["children"][4];
        let quorums = consensus["children"]
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["title"] == "Quorums")
            .unwrap()["id"]
            .as_i64()
            .unwrap();
        let topic: Value = anon
            .get(app.url(&format!(
                "/api/v1/subjects/distributed-systems/topics/{quorums}"
            )))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert!(
            topic["backlinks"]
                .as_array()
                .unwrap()
                .iter()
                .any(|b| b["title"] == "Raft"),
            "{topic}"
        );
        // Seeding again (another start, or the command) changes nothing.
        let again = app.spawn_replica(&["--seed-demo"]).await;
        let found: Value = anon
            .get(again.url("/api/v1/subjects?q=author:arbor-demo"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(found["items"].as_array().unwrap().len(), 1);
        again.stop().await;
        app.stop().await;
    }
}
