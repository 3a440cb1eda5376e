//! Accounts through the JSON API, against the real server on SQLite and Postgres.

mod common;

use common::{Backend, GOOD_PASSWORD, TestApp, backends};
use reqwest::StatusCode;
use serde_json::{Value, json};

async fn me(app: &TestApp, client: &reqwest::Client) -> reqwest::Response {
    client.get(app.url("/api/v1/me")).send().await.unwrap()
}

fn error_of(body: &Value) -> (&str, Option<&str>) {
    (
        body["error"]["code"].as_str().unwrap_or_default(),
        body["error"]["field"].as_str(),
    )
}

#[tokio::test]
async fn sign_up_in_and_out() {
    for backend in backends() {
        let app = TestApp::spawn(backend, &[]).await;
        let client = app.new_client();

        let created = app.signup(&client, "Ada_Lovelace", GOOD_PASSWORD).await;
        assert_eq!(created["username"], "Ada_Lovelace");
        assert_eq!(created["display_name"], "Ada_Lovelace");

        let r = me(&app, &client).await;
        assert_eq!(r.status(), StatusCode::OK, "{backend:?}");
        assert_eq!(r.json::<Value>().await.unwrap()["username"], "Ada_Lovelace");

        let r = client
            .post(app.url("/api/v1/auth/logout"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::NO_CONTENT);
        let cookie = r.headers()["set-cookie"].to_str().unwrap().to_owned();
        assert!(
            cookie.starts_with("arbor_session=;") && cookie.contains("Max-Age=0"),
            "{cookie}"
        );
        let r = me(&app, &client).await;
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
        assert_eq!(error_of(&r.json().await.unwrap()).0, "unauthenticated");

        // Sign-in is case-insensitive on the username.
        let r = app
            .post_json(
                &client,
                "/api/v1/auth/login",
                json!({"username": "ada_lovelace", "password": GOOD_PASSWORD}),
            )
            .await;
        assert_eq!(r.status(), StatusCode::OK);
        assert_eq!(me(&app, &client).await.status(), StatusCode::OK);
        app.stop().await;
    }
}

#[tokio::test]
async fn session_cookie_is_hardened_and_only_its_hash_is_stored() {
    let app = TestApp::spawn(Backend::Sqlite, &[]).await;
    let r = app
        .post_json(
            &app.new_client(),
            "/api/v1/auth/signup",
            json!({"username": "cookie", "password": GOOD_PASSWORD}),
        )
        .await;
    let set_cookie = r.headers()["set-cookie"].to_str().unwrap().to_owned();
    assert!(set_cookie.contains("HttpOnly"), "{set_cookie}");
    assert!(set_cookie.contains("SameSite=Lax"), "{set_cookie}");
    assert!(set_cookie.contains("Path=/"), "{set_cookie}");
    assert!(
        !set_cookie.contains("Secure"),
        "plain-http deployments cannot use Secure cookies"
    );
    let token = set_cookie
        .split(';')
        .next()
        .unwrap()
        .trim_start_matches("arbor_session=");
    assert_eq!(token.len(), 43, "256 random bits");

    let raw = std::fs::read(app.database_url.trim_start_matches("sqlite://")).unwrap();
    let wal = std::fs::read(format!(
        "{}-wal",
        app.database_url.trim_start_matches("sqlite://")
    ))
    .unwrap_or_default();
    let needle = token.as_bytes();
    let contains = |hay: &[u8]| hay.windows(needle.len()).any(|w| w == needle);
    assert!(
        !contains(&raw) && !contains(&wal),
        "the raw session token must not be stored"
    );
    app.stop().await;

    let app = TestApp::spawn(Backend::Sqlite, &["--public-url", "https://arbor.example"]).await;
    let r = app
        .post_json(
            &reqwest::Client::new(),
            "/api/v1/auth/signup",
            json!({"username": "secure", "password": GOOD_PASSWORD}),
        )
        .await;
    assert!(
        r.headers()["set-cookie"]
            .to_str()
            .unwrap()
            .contains("Secure")
    );
    app.stop().await;
}

#[tokio::test]
async fn sign_up_rules() {
    for backend in backends() {
        let app = TestApp::spawn(backend, &[]).await;
        let client = app.new_client();
        app.signup(&client, "taken", GOOD_PASSWORD).await;

        let cases = [
            (
                json!({"username": "TAKEN", "password": GOOD_PASSWORD}),
                409,
                "conflict",
                Some("username"),
            ),
            (
                json!({"username": "ab", "password": GOOD_PASSWORD}),
                422,
                "invalid",
                Some("username"),
            ),
            (
                json!({"username": "x".repeat(33), "password": GOOD_PASSWORD}),
                422,
                "invalid",
                Some("username"),
            ),
            (
                json!({"username": "bad name", "password": GOOD_PASSWORD}),
                422,
                "invalid",
                Some("username"),
            ),
            (
                json!({"username": "fine", "password": "short"}),
                422,
                "invalid",
                Some("password"),
            ),
            (
                json!({"username": "fine", "password": "p".repeat(129)}),
                422,
                "invalid",
                Some("password"),
            ),
            (
                json!({"username": "fine", "password": "password123"}),
                422,
                "invalid",
                Some("password"),
            ),
            (
                json!({"username": "fine", "password": "qwertyuiop"}),
                422,
                "invalid",
                Some("password"),
            ),
        ];
        for (body, status, code, field) in cases {
            let r = app
                .post_json(&app.new_client(), "/api/v1/auth/signup", body.clone())
                .await;
            assert_eq!(r.status().as_u16(), status, "{body}");
            let body: Value = r.json().await.unwrap();
            assert_eq!(error_of(&body), (code, field), "{body}");
            assert!(!body["error"]["message"].as_str().unwrap().is_empty());
        }
        // Nothing was created by the refused attempts.
        let r = app
            .client
            .get(app.url("/api/v1/users/fine"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::NOT_FOUND);
        app.stop().await;
    }
}

#[tokio::test]
async fn fifty_wrong_passwords_end_in_429_and_the_right_one_works_after_the_window() {
    for backend in backends() {
        let app = TestApp::spawn(backend, &["--login-window-secs", "3"]).await;
        app.signup(&app.new_client(), "victim", GOOD_PASSWORD).await;
        let attacker = app.new_client();
        let mut statuses = Vec::new();
        for _ in 0..50 {
            let r = app
                .post_json(
                    &attacker,
                    "/api/v1/auth/login",
                    json!({"username": "victim", "password": "wrong password!"}),
                )
                .await;
            if r.status() == StatusCode::TOO_MANY_REQUESTS {
                let retry: u64 = r.headers()["retry-after"]
                    .to_str()
                    .unwrap()
                    .parse()
                    .unwrap();
                assert!((1..=3).contains(&retry), "Retry-After {retry}");
                assert_eq!(error_of(&r.json().await.unwrap()).0, "throttled");
                statuses.push(429);
            } else {
                statuses.push(r.status().as_u16());
            }
        }
        assert!(statuses[..10].iter().all(|s| *s == 401), "{statuses:?}");
        assert!(statuses[10..].iter().all(|s| *s == 429), "{statuses:?}");

        // Even the right password is refused while the window is open…
        let owner = app.new_client();
        let good = json!({"username": "victim", "password": GOOD_PASSWORD});
        let r = app
            .post_json(&owner, "/api/v1/auth/login", good.clone())
            .await;
        assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
        // …and works once it has passed.
        tokio::time::sleep(std::time::Duration::from_millis(3_200)).await;
        let r = app.post_json(&owner, "/api/v1/auth/login", good).await;
        assert_eq!(r.status(), StatusCode::OK, "{backend:?}");
        app.stop().await;
    }
}

#[tokio::test]
async fn unknown_users_fail_like_wrong_passwords() {
    let app = TestApp::spawn(Backend::Sqlite, &[]).await;
    app.signup(&app.new_client(), "realuser", GOOD_PASSWORD)
        .await;
    let c = app.new_client();
    let a = app
        .post_json(
            &c,
            "/api/v1/auth/login",
            json!({"username": "nobody", "password": "whatever123"}),
        )
        .await;
    let b = app
        .post_json(
            &c,
            "/api/v1/auth/login",
            json!({"username": "realuser", "password": "whatever123"}),
        )
        .await;
    assert_eq!(a.status(), b.status());
    assert_eq!(
        a.json::<Value>().await.unwrap(),
        b.json::<Value>().await.unwrap()
    );
    app.stop().await;
}

#[tokio::test]
async fn changing_the_password_ends_every_other_session() {
    for backend in backends() {
        let app = TestApp::spawn(backend, &[]).await;
        let laptop = app.new_client();
        let phone = app.new_client();
        app.signup(&laptop, "multi", GOOD_PASSWORD).await;
        app.login(&phone, "multi", GOOD_PASSWORD).await;

        let wrong = laptop
            .put(app.url("/api/v1/me/password"))
            .json(&json!({"current_password": "not it at all", "new_password": "a brand new secret 9"}))
            .send()
            .await
            .unwrap();
        assert_eq!(wrong.status(), StatusCode::FORBIDDEN);
        assert_eq!(
            me(&app, &phone).await.status(),
            200,
            "a refused change ends nothing"
        );

        let r = laptop
            .put(app.url("/api/v1/me/password"))
            .json(
                &json!({"current_password": GOOD_PASSWORD, "new_password": "a brand new secret 9"}),
            )
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::NO_CONTENT);
        assert_eq!(
            me(&app, &laptop).await.status(),
            200,
            "the session that changed it stays"
        );
        assert_eq!(
            me(&app, &phone).await.status(),
            401,
            "every other session ends"
        );

        let old = json!({"username": "multi", "password": GOOD_PASSWORD});
        assert_eq!(
            app.post_json(&phone, "/api/v1/auth/login", old)
                .await
                .status(),
            401
        );
        let new = json!({"username": "multi", "password": "a brand new secret 9"});
        assert_eq!(
            app.post_json(&phone, "/api/v1/auth/login", new)
                .await
                .status(),
            200
        );
        app.stop().await;
    }
}

#[tokio::test]
async fn tokens_authenticate_until_revoked_and_deleting_the_account_ends_everything() {
    for backend in backends() {
        let app = TestApp::spawn(backend, &[]).await;
        let browser = app.new_client();
        let other = app.new_client();
        app.signup(&browser, "tokenuser", GOOD_PASSWORD).await;
        app.login(&other, "tokenuser", GOOD_PASSWORD).await;

        let r = app
            .post_json(&browser, "/api/v1/me/tokens", json!({"name": "ci"}))
            .await;
        assert_eq!(r.status(), StatusCode::CREATED);
        let created: Value = r.json().await.unwrap();
        let secret = created["token"].as_str().unwrap().to_owned();
        assert!(secret.starts_with("arbor_pat_"));

        let script = reqwest::Client::new();
        let r = script
            .get(app.url("/api/v1/me"))
            .bearer_auth(&secret)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        assert_eq!(r.json::<Value>().await.unwrap()["username"], "tokenuser");
        // Bearer clients can act without an Origin header.
        let r = script
            .patch(app.url("/api/v1/me"))
            .bearer_auth(&secret)
            .json(&json!({"bio": "Set by a script"}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        assert_eq!(r.json::<Value>().await.unwrap()["bio"], "Set by a script");

        let listed: Value = browser
            .get(app.url("/api/v1/me/tokens"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(listed.as_array().unwrap().len(), 1);
        assert!(listed[0].get("token").is_none(), "secrets are never listed");
        assert!(listed[0]["last_used_at"].is_i64());

        let id = created["id"].as_i64().unwrap();
        let r = browser
            .delete(app.url(&format!("/api/v1/me/tokens/{id}")))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::NO_CONTENT);
        let r = script
            .get(app.url("/api/v1/me"))
            .bearer_auth(&secret)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 401);
        let r = browser
            .delete(app.url(&format!("/api/v1/me/tokens/{id}")))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 404);

        // A new token, then delete the account: sessions and tokens all stop working.
        let created: Value = app
            .post_json(&browser, "/api/v1/me/tokens", json!({"name": "second"}))
            .await
            .json()
            .await
            .unwrap();
        let secret = created["token"].as_str().unwrap().to_owned();
        let r = browser
            .delete(app.url("/api/v1/me"))
            .json(&json!({"password": GOOD_PASSWORD}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::NO_CONTENT);
        assert_eq!(me(&app, &browser).await.status(), 401);
        assert_eq!(me(&app, &other).await.status(), 401);
        let r = script
            .get(app.url("/api/v1/me"))
            .bearer_auth(&secret)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 401);
        let r = app
            .client
            .get(app.url("/api/v1/users/tokenuser"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 404);
        app.stop().await;
    }
}

#[tokio::test]
async fn profiles_are_public_and_editable_by_their_owner() {
    let app = TestApp::spawn(Backend::Sqlite, &[]).await;
    let owner = app.new_client();
    app.signup(&owner, "writer", GOOD_PASSWORD).await;
    let r = owner
        .patch(app.url("/api/v1/me"))
        .json(&json!({"display_name": "  Wri Ter  ", "bio": "Maps of 🌳 and 漢字"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let p: Value = reqwest::get(app.url("/api/v1/users/WRITER"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(p["display_name"], "Wri Ter");
    assert_eq!(p["bio"], "Maps of 🌳 and 漢字");
    assert!(p.get("password_hash").is_none() && p.get("id").is_none());

    let r = owner
        .patch(app.url("/api/v1/me"))
        .json(&json!({"display_name": ""}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    let r = owner
        .patch(app.url("/api/v1/me"))
        .json(&json!({"bio": "b".repeat(501)}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    let r = reqwest::Client::new()
        .patch(app.url("/api/v1/me"))
        .json(&json!({"bio": "anonymous"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    app.stop().await;
}

#[tokio::test]
async fn throttle_state_lives_in_redis_when_configured() {
    let Some(redis_url) = common::service_url("ARBOR_TEST_REDIS_URL") else {
        return;
    };
    let prefix = format!("arbor-test-{}:", rand::random::<u64>());
    let app = TestApp::spawn(
        Backend::Sqlite,
        &[
            "--redis-url",
            &redis_url,
            "--redis-prefix",
            &prefix,
            "--login-max-per-user",
            "3",
        ],
    )
    .await;
    app.signup(&app.new_client(), "redisuser", GOOD_PASSWORD)
        .await;
    let c = app.new_client();
    let wrong = json!({"username": "redisuser", "password": "not the password"});
    for _ in 0..3 {
        assert_eq!(
            app.post_json(&c, "/api/v1/auth/login", wrong.clone())
                .await
                .status(),
            401
        );
    }
    assert_eq!(
        app.post_json(&c, "/api/v1/auth/login", wrong)
            .await
            .status(),
        429
    );

    let client = redis::Client::open(redis_url.as_str()).unwrap();
    let mut con = client.get_multiplexed_async_connection().await.unwrap();
    let key = format!("{prefix}throttle:user:redisuser");
    let count: i64 = redis::cmd("GET")
        .arg(&key)
        .query_async(&mut con)
        .await
        .unwrap();
    assert_eq!(count, 3);
    let ttl: i64 = redis::cmd("PTTL")
        .arg(&key)
        .query_async(&mut con)
        .await
        .unwrap();
    assert!(ttl > 0, "the window expires by itself");
    let ready: Value = reqwest::get(app.url("/readyz"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(ready["redis"], "ok");
    let _: () = redis::cmd("DEL")
        .arg(&key)
        .arg(format!("{prefix}throttle:client:127.0.0.1"))
        .arg(format!("{prefix}throttle:signup:127.0.0.1"))
        .query_async(&mut con)
        .await
        .unwrap();
    app.stop().await;
}

#[tokio::test]
async fn replicas_share_sessions_and_the_sign_in_throttle() {
    for backend in backends() {
        let a = TestApp::spawn(backend, &["--login-max-per-user", "4"]).await;
        let b = a.spawn_replica(&["--login-max-per-user", "4"]).await;
        let client = a.new_client();
        let created = a.signup(&client, "roamer", GOOD_PASSWORD).await;

        // The session cookie minted by replica A is honoured by replica B.
        let cookie = client
            .post(a.url("/api/v1/auth/login"))
            .json(&json!({"username": "roamer", "password": GOOD_PASSWORD}))
            .send()
            .await
            .unwrap()
            .headers()["set-cookie"]
            .to_str()
            .unwrap()
            .split(';')
            .next()
            .unwrap()
            .to_owned();
        let r = reqwest::Client::new()
            .get(b.url("/api/v1/me"))
            .header("cookie", &cookie)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "{backend:?}");
        assert_eq!(r.json::<Value>().await.unwrap()["id"], created["id"]);

        // Failures on both replicas count against one limit.
        let wrong = json!({"username": "roamer", "password": "not the password"});
        for app in [&a, &b, &a, &b] {
            let r = app
                .post_json(&app.new_client(), "/api/v1/auth/login", wrong.clone())
                .await;
            assert_eq!(r.status(), 401);
        }
        for app in [&a, &b] {
            let r = app
                .post_json(&app.new_client(), "/api/v1/auth/login", wrong.clone())
                .await;
            assert_eq!(r.status(), 429, "{backend:?}");
        }

        // Signing out on B ends the session everywhere.
        let r = reqwest::Client::new()
            .post(b.url("/api/v1/auth/logout"))
            .header("cookie", &cookie)
            .header("origin", &b.base)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 204);
        let r = reqwest::Client::new()
            .get(a.url("/api/v1/me"))
            .header("cookie", &cookie)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 401);
        b.stop().await;
        a.stop().await;
    }
}

#[tokio::test]
async fn parallel_guesses_cannot_outrun_the_limit() {
    let app = TestApp::spawn(Backend::Sqlite, &["--login-max-per-user", "5"]).await;
    app.signup(&app.new_client(), "raced", GOOD_PASSWORD).await;
    let wrong = json!({"username": "raced", "password": "not the password"});
    let guesses = (0..24).map(|_| {
        let (client, url, body) = (
            app.new_client(),
            app.url("/api/v1/auth/login"),
            wrong.clone(),
        );
        async move {
            client
                .post(url)
                .json(&body)
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }
    });
    let statuses = futures_join_all(guesses).await;
    let checked = statuses.iter().filter(|s| **s == 401).count();
    assert_eq!(
        checked, 5,
        "only the limit's worth of guesses reach the hash: {statuses:?}"
    );
    assert_eq!(statuses.iter().filter(|s| **s == 429).count(), 19);
    app.stop().await;
}

/// Runs futures concurrently on the current task (no extra dependency).
async fn futures_join_all<F: std::future::Future<Output = u16> + Send + 'static>(
    futures: impl Iterator<Item = F>,
) -> Vec<u16> {
    let handles: Vec<_> = futures.map(tokio::spawn).collect();
    let mut out = Vec::new();
    for h in handles {
        out.push(h.await.unwrap());
    }
    out
}

#[tokio::test]
async fn sign_ups_are_limited_per_client() {
    let app = TestApp::spawn(Backend::Sqlite, &["--signup-max-per-client", "3"]).await;
    for i in 0..3 {
        app.signup(&app.new_client(), &format!("bulk{i}"), GOOD_PASSWORD)
            .await;
    }
    let r = app
        .post_json(
            &app.new_client(),
            "/api/v1/auth/signup",
            json!({"username": "bulk3", "password": GOOD_PASSWORD}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(r.headers().contains_key("retry-after"));
    let r = app
        .client
        .get(app.url("/api/v1/users/bulk3"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404, "nothing was created");
    app.stop().await;
}

#[tokio::test]
async fn a_stolen_session_cannot_guess_the_password() {
    let app = TestApp::spawn(Backend::Sqlite, &["--login-max-per-user", "3"]).await;
    let thief = app.new_client();
    app.signup(&thief, "stolen", GOOD_PASSWORD).await;
    let guess = |pw: &'static str| {
        thief
            .put(app.url("/api/v1/me/password"))
            .json(&json!({"current_password": pw, "new_password": "the thief's new one 1"}))
            .send()
    };
    for _ in 0..3 {
        assert_eq!(guess("guess guess guess").await.unwrap().status(), 403);
    }
    assert_eq!(guess("guess guess guess").await.unwrap().status(), 429);
    // Even the right one is refused while the window is open.
    assert_eq!(guess(GOOD_PASSWORD).await.unwrap().status(), 429);
    let r = thief
        .delete(app.url("/api/v1/me"))
        .json(&json!({"password": GOOD_PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 429);
    app.stop().await;
}

#[tokio::test]
async fn personal_responses_are_never_cached() {
    let app = TestApp::spawn(Backend::Sqlite, &[]).await;
    let c = app.new_client();
    app.signup(&c, "private", GOOD_PASSWORD).await;
    for path in ["/api/v1/me", "/settings", "/"] {
        let r = c.get(app.url(path)).send().await.unwrap();
        assert_eq!(r.headers()["cache-control"], "private, no-store", "{path}");
    }
    let r = app
        .post_json(&c, "/api/v1/me/tokens", json!({"name": "x"}))
        .await;
    assert_eq!(r.headers()["cache-control"], "private, no-store");
    let anonymous = reqwest::get(app.url("/api/v1/users/private"))
        .await
        .unwrap();
    assert!(anonymous.headers().get("cache-control").is_none());
    app.stop().await;
}

#[tokio::test]
async fn signing_out_everywhere_else() {
    for backend in backends() {
        let app = TestApp::spawn(backend, &[]).await;
        let laptop = app.new_client();
        let phone = app.new_client();
        app.signup(&laptop, "traveller", GOOD_PASSWORD).await;
        app.login(&phone, "traveller", GOOD_PASSWORD).await;

        let listed: Value = laptop
            .get(app.url("/api/v1/me/sessions"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let listed = listed.as_array().unwrap();
        assert_eq!(listed.len(), 2, "{listed:?}");
        assert_eq!(listed.iter().filter(|s| s["current"] == true).count(), 1);
        assert!(listed.iter().all(|s| s.get("token_hash").is_none()));

        let r = laptop
            .delete(app.url("/api/v1/me/sessions"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        assert_eq!(r.json::<Value>().await.unwrap()["ended"], 1);
        assert_eq!(
            me(&app, &phone).await.status(),
            401,
            "the other session ended"
        );
        assert_eq!(me(&app, &laptop).await.status(), 200, "this one stays");
        app.stop().await;
    }
}
