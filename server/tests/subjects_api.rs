//! Subjects, topics, likes, saves, views, follows, the feed, the catalogue and the public page
//! cache, through the JSON API and the pages, against the real server on SQLite and Postgres
//! (and Redis for the cross-replica cache test).

mod common;

use common::{Backend, TestApp, backends, quick_users, replicas_through_redis};
use reqwest::{Client, StatusCode};
use serde_json::{Value, json};

async fn send(r: reqwest::RequestBuilder) -> (StatusCode, Value) {
    let r = r.send().await.unwrap();
    let status = r.status();
    let text = r.text().await.unwrap();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

async fn create_subject(app: &TestApp, c: &Client, title: &str, extra: Value) -> Value {
    let mut body = json!({"title": title});
    body.as_object_mut()
        .unwrap()
        .extend(extra.as_object().unwrap().clone());
    let (status, v) = send(c.post(app.url("/api/v1/subjects")).json(&body)).await;
    assert_eq!(status, StatusCode::CREATED, "{v}");
    v
}

async fn root_id(app: &TestApp, c: &Client, slug: &str) -> i64 {
    let (status, v) = send(c.get(app.url(&format!("/api/v1/subjects/{slug}")))).await;
    assert_eq!(status, StatusCode::OK, "{v}");
    v["root"]["id"].as_i64().unwrap()
}

async fn add_topic(
    app: &TestApp,
    c: &Client,
    slug: &str,
    parent: i64,
    title: &str,
    body: &str,
) -> i64 {
    let (status, v) = send(
        c.post(app.url(&format!("/api/v1/subjects/{slug}/topics")))
            .json(&json!({"title": title, "body": body, "parent_id": parent})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{v}");
    v["id"].as_i64().unwrap()
}

fn code(v: &Value) -> &str {
    v["error"]["code"].as_str().unwrap_or_default()
}

#[tokio::test]
async fn visibility_roles_and_deletion() {
    for backend in backends() {
        let app = TestApp::spawn(backend, &[]).await;
        let users = quick_users(&app, "vis", 4).await;
        let (owner, viewer, editor, stranger) =
            (&users[0].1, &users[1].1, &users[2].1, &users[3].1);
        let anon = app.new_client();

        let s = create_subject(
            &app,
            owner,
            "Secret plans",
            json!({"tags": ["Plans", "#x"]}),
        )
        .await;
        assert_eq!(
            (s["slug"].as_str(), s["visibility"].as_str()),
            (Some("secret-plans"), Some("private"))
        );
        assert_eq!(s["tags"], json!(["plans", "x"]));
        let again = create_subject(&app, owner, "Secret plans", json!({})).await;
        assert_eq!(again["slug"], "secret-plans-2", "slugs are unique");

        // Private: 404 (not 403) for everyone but the owner and collaborators, API and page.
        let path = "/api/v1/subjects/secret-plans";
        assert_eq!(send(anon.get(app.url(path))).await.0, StatusCode::NOT_FOUND);
        assert_eq!(
            send(stranger.get(app.url(path))).await.0,
            StatusCode::NOT_FOUND
        );
        assert_eq!(send(owner.get(app.url(path))).await.0, StatusCode::OK);
        assert_eq!(
            anon.get(app.url("/s/secret-plans"))
                .send()
                .await
                .unwrap()
                .status(),
            StatusCode::NOT_FOUND
        );
        assert_eq!(
            send(stranger.patch(app.url(path)).json(&json!({"title": "x"})))
                .await
                .0,
            StatusCode::NOT_FOUND
        );
        assert_eq!(
            send(stranger.put(app.url(&format!("{path}/like")))).await.0,
            StatusCode::NOT_FOUND
        );

        // Collaborators: a viewer reads, an editor edits, only the owner manages.
        let (st, _) = send(
            owner
                .put(app.url(&format!("{path}/members/vis1")))
                .json(&json!({"role": "viewer"})),
        )
        .await;
        assert_eq!(st, StatusCode::OK);
        let (st, members) = send(
            owner
                .put(app.url(&format!("{path}/members/vis2")))
                .json(&json!({"role": "editor"})),
        )
        .await;
        assert_eq!(st, StatusCode::OK);
        assert_eq!(members.as_array().unwrap().len(), 2);
        let (st, v) = send(
            owner
                .put(app.url(&format!("{path}/members/nobody")))
                .json(&json!({"role": "viewer"})),
        )
        .await;
        assert_eq!(
            (st, v["error"]["field"].as_str()),
            (StatusCode::UNPROCESSABLE_ENTITY, Some("username"))
        );
        let (st, _) = send(
            owner
                .put(app.url(&format!("{path}/members/vis1")))
                .json(&json!({"role": "owner"})),
        )
        .await;
        assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(send(viewer.get(app.url(path))).await.0, StatusCode::OK);
        let root = root_id(&app, owner, "secret-plans").await;
        let (st, v) = send(
            viewer
                .post(app.url(&format!("{path}/topics")))
                .json(&json!({"title": "No", "parent_id": root})),
        )
        .await;
        assert_eq!((st, code(&v)), (StatusCode::FORBIDDEN, "forbidden"));
        add_topic(&app, editor, "secret-plans", root, "Step one", "").await;
        let (st, _) = send(
            editor
                .patch(app.url(path))
                .json(&json!({"summary": "by the editor"})),
        )
        .await;
        assert_eq!(st, StatusCode::OK);
        let (st, _) = send(
            editor
                .patch(app.url(path))
                .json(&json!({"visibility": "public"})),
        )
        .await;
        assert_eq!(st, StatusCode::FORBIDDEN, "visibility is the owner's");
        let (st, _) = send(
            editor
                .put(app.url(&format!("{path}/members/vis3")))
                .json(&json!({"role": "viewer"})),
        )
        .await;
        assert_eq!(st, StatusCode::FORBIDDEN);
        // Removing the viewer hides the subject from them again.
        assert_eq!(
            send(owner.delete(app.url(&format!("{path}/members/vis1"))))
                .await
                .0,
            StatusCode::NO_CONTENT
        );
        assert_eq!(
            send(viewer.get(app.url(path))).await.0,
            StatusCode::NOT_FOUND
        );
        assert_eq!(
            send(owner.delete(app.url(&format!("{path}/members/vis1"))))
                .await
                .0,
            StatusCode::NOT_FOUND
        );

        // Publishing makes it readable by anyone; unlisted is readable but not listed.
        let (st, v) = send(
            owner
                .patch(app.url(path))
                .json(&json!({"visibility": "unlisted"})),
        )
        .await;
        assert_eq!(
            (st, v["visibility"].as_str()),
            (StatusCode::OK, Some("unlisted"))
        );
        assert_eq!(send(anon.get(app.url(path))).await.0, StatusCode::OK);
        let (_, listed) = send(anon.get(app.url("/api/v1/subjects?q=plans"))).await;
        assert_eq!(listed["items"].as_array().unwrap().len(), 0);
        send(
            owner
                .patch(app.url(path))
                .json(&json!({"visibility": "public"})),
        )
        .await;
        let (_, listed) = send(anon.get(app.url("/api/v1/subjects?q=plans"))).await;
        assert_eq!(listed["items"].as_array().unwrap().len(), 1);

        // Deleting needs confirmation and removes everything.
        let (st, v) = send(owner.delete(app.url(path))).await;
        assert_eq!(
            (st, v["error"]["field"].as_str()),
            (StatusCode::UNPROCESSABLE_ENTITY, Some("confirm"))
        );
        assert_eq!(
            send(editor.delete(app.url(&format!("{path}?confirm=secret-plans"))))
                .await
                .0,
            StatusCode::FORBIDDEN
        );
        assert_eq!(
            send(owner.delete(app.url(&format!("{path}?confirm=secret-plans"))))
                .await
                .0,
            StatusCode::NO_CONTENT
        );
        assert_eq!(
            send(owner.get(app.url(path))).await.0,
            StatusCode::NOT_FOUND
        );
        assert_eq!(
            send(
                anon.post(app.url("/api/v1/subjects"))
                    .json(&json!({"title": "x"}))
            )
            .await
            .0,
            StatusCode::UNAUTHORIZED
        );
        app.stop().await;
    }
}

#[tokio::test]
async fn the_tree_moves_without_cycles_and_links_resolve() {
    for backend in backends() {
        let app = TestApp::spawn(backend, &[]).await;
        let users = quick_users(&app, "tree", 2).await;
        let (owner, other) = (&users[0].1, &users[1].1);
        let anon = app.new_client();
        create_subject(&app, owner, "Systems", json!({"visibility": "public"})).await;
        let root = root_id(&app, owner, "systems").await;
        let a = add_topic(
            &app,
            owner,
            "systems",
            root,
            "Caching",
            "See [[Consensus]] and [[hidden/Vault]].",
        )
        .await;
        let b = add_topic(&app, owner, "systems", a, "Invalidation", "").await;
        let c = add_topic(&app, owner, "systems", b, "TTL", "").await;
        let d = add_topic(&app, owner, "systems", root, "Consensus", "").await;
        let t = |id: i64| format!("/api/v1/subjects/systems/topics/{id}");

        // Cycles are refused with a clear error; nothing changes.
        for (id, parent) in [(a, c), (a, a), (b, c)] {
            let (st, v) = send(
                owner
                    .post(app.url(&format!("{}/move", t(id))))
                    .json(&json!({"parent_id": parent})),
            )
            .await;
            assert_eq!(
                (st, v["error"]["field"].as_str()),
                (StatusCode::UNPROCESSABLE_ENTITY, Some("parent_id")),
                "{v}"
            );
            assert!(
                v["error"]["message"]
                    .as_str()
                    .unwrap()
                    .contains("under itself")
            );
        }
        let (st, _) = send(
            owner
                .post(app.url(&format!("{}/move", t(root))))
                .json(&json!({"parent_id": d})),
        )
        .await;
        assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);
        // Reorder: Consensus first among the root's children.
        let (st, _) = send(
            owner
                .post(app.url(&format!("{}/move", t(d))))
                .json(&json!({"parent_id": root, "index": 0})),
        )
        .await;
        assert_eq!(st, StatusCode::OK);
        let (_, s) = send(owner.get(app.url("/api/v1/subjects/systems"))).await;
        let kids: Vec<&str> = s["root"]["children"]
            .as_array()
            .unwrap()
            .iter()
            .map(|k| k["title"].as_str().unwrap())
            .collect();
        assert_eq!(kids, ["Consensus", "Caching"]);
        // Reparent TTL under Consensus; a sibling lands right after its anchor.
        send(
            owner
                .post(app.url(&format!("{}/move", t(c))))
                .json(&json!({"parent_id": d})),
        )
        .await;
        let (st, sib) = send(
            owner
                .post(app.url("/api/v1/subjects/systems/topics"))
                .json(&json!({"title": "Raft", "after_id": c})),
        )
        .await;
        assert_eq!(st, StatusCode::CREATED);
        let (_, consensus) = send(anon.get(app.url(&t(d)))).await;
        let kids: Vec<i64> = consensus["children"]
            .as_array()
            .unwrap()
            .iter()
            .map(|k| k["id"].as_i64().unwrap())
            .collect();
        assert_eq!(kids, [c, sib["id"].as_i64().unwrap()]);

        // Links: [[Consensus]] resolves; a link into a private subject is plain text for others.
        create_subject(&app, owner, "Hidden", json!({})).await;
        let hidden_root = root_id(&app, owner, "hidden").await;
        add_topic(
            &app,
            owner,
            "hidden",
            hidden_root,
            "Vault",
            "Back to [[systems/Caching]].",
        )
        .await;
        let (_, caching) = send(anon.get(app.url(&t(a)))).await;
        let html = caching["html"].as_str().unwrap();
        assert!(
            html.contains(&format!("href=\"/s/systems/t/{d}-consensus\"")),
            "{html}"
        );
        assert!(!html.contains("/s/hidden/"), "{html}");
        assert!(html.contains("Vault"), "the text stays");
        assert_eq!(caching["links"].as_array().unwrap().len(), 1);
        assert_eq!(
            caching["backlinks"].as_array().unwrap().len(),
            0,
            "the linking subject is private"
        );
        let (_, caching_owner) = send(owner.get(app.url(&t(a)))).await;
        assert!(
            caching_owner["html"]
                .as_str()
                .unwrap()
                .contains("/s/hidden/t/")
        );
        assert_eq!(caching_owner["backlinks"][0]["subject_title"], "Hidden");
        let (_, consensus) = send(anon.get(app.url(&t(d)))).await;
        assert_eq!(consensus["backlinks"][0]["id"].as_i64(), Some(a));
        assert_eq!(consensus["breadcrumbs"][0]["id"].as_i64(), Some(root));
        assert_eq!(
            consensus["previous"]["id"].as_i64(),
            Some(root),
            "reading order"
        );
        assert_eq!(consensus["next"]["id"].as_i64(), Some(c));

        // A draft's preview renders as the page would, links resolved with the caller's
        // access, and changes nothing.
        let preview = |c: &Client, id: i64, body: &str| {
            c.post(app.url(&format!("{}/preview", t(id))))
                .json(&json!({ "body": body }))
        };
        let draft = "## Draft\n\n[[Consensus]], [[hidden/Vault]], [[Nowhere]] <script>x</script>";
        let (st, p) = send(preview(&anon, a, draft)).await;
        assert_eq!(st, StatusCode::OK, "{p}");
        let html = p["html"].as_str().unwrap();
        assert!(html.contains("<h2"), "{html}");
        assert!(
            html.contains(&format!("href=\"/s/systems/t/{d}-consensus\"")),
            "{html}"
        );
        assert!(
            !html.contains("/s/hidden/") && !html.contains("<script"),
            "{html}"
        );
        let (_, p) = send(preview(owner, a, draft)).await;
        assert!(p["html"].as_str().unwrap().contains("/s/hidden/t/"));
        let (_, unchanged) = send(anon.get(app.url(&t(a)))).await;
        assert_eq!(unchanged["body"], "See [[Consensus]] and [[hidden/Vault]].");
        let (st, v) = send(preview(owner, a, &"x".repeat(100_001))).await;
        assert_eq!((st, code(&v)), (StatusCode::PAYLOAD_TOO_LARGE, "too_large"));
        let hidden_preview = format!("/api/v1/subjects/hidden/topics/{hidden_root}/preview");
        let (st, _) = send(
            anon.post(app.url(&hidden_preview))
                .json(&json!({"body": "x"})),
        )
        .await;
        assert_eq!(st, StatusCode::NOT_FOUND, "a private subject stays hidden");
        let (st, _) = send(preview(owner, hidden_root, "x")).await;
        assert_eq!(
            st,
            StatusCode::NOT_FOUND,
            "the topic is not in this subject"
        );

        // Scripts never survive rendering.
        let (st, x) = send(owner.patch(app.url(&t(b))).json(&json!({"body": "<script>alert(1)</script>[x](javascript:alert(1)) <img src=x onerror=alert(1)>"}))).await;
        assert_eq!(st, StatusCode::OK);
        let html = x["html"].as_str().unwrap();
        assert!(
            !html.contains("<script")
                && !html.contains("<img")
                && !html.contains("href=\"javascript"),
            "{html}"
        );

        // Strangers cannot change the tree; a parent from another subject is not found.
        let (st, _) = send(
            other
                .post(app.url(&format!("{}/move", t(b))))
                .json(&json!({"parent_id": root})),
        )
        .await;
        assert_eq!(st, StatusCode::FORBIDDEN);
        let (st, _) = send(
            owner
                .post(app.url(&format!("{}/move", t(b))))
                .json(&json!({"parent_id": hidden_root})),
        )
        .await;
        assert_eq!(st, StatusCode::NOT_FOUND);
        // Deleting a subtree; the root stays.
        let (st, v) = send(owner.delete(app.url(&t(a)))).await;
        assert_eq!((st, v["deleted"].as_i64()), (StatusCode::OK, Some(2)));
        assert_eq!(
            send(anon.get(app.url(&t(b)))).await.0,
            StatusCode::NOT_FOUND
        );
        assert_eq!(
            send(owner.delete(app.url(&t(root)))).await.0,
            StatusCode::UNPROCESSABLE_ENTITY
        );
        app.stop().await;
    }
}

#[tokio::test]
async fn counts_are_exact_under_concurrency() {
    for backend in backends() {
        let app = TestApp::spawn(backend, &[]).await;
        let users = quick_users(&app, "fan", 100).await;
        create_subject(
            &app,
            &users[0].1,
            "Popular",
            json!({"visibility": "public"}),
        )
        .await;
        let like = |c: Client, on: bool| {
            let url = app.url("/api/v1/subjects/popular/like");
            async move {
                let r = if on { c.put(url) } else { c.delete(url) };
                r.send().await.unwrap().status()
            }
        };
        let statuses =
            futures_util::future::join_all(users.iter().map(|(_, c)| like(c.clone(), true))).await;
        assert!(
            statuses.iter().all(|s| *s == StatusCode::OK),
            "{statuses:?}"
        );
        let (_, s) = send(app.new_client().get(app.url("/api/v1/subjects/popular"))).await;
        assert_eq!(s["subject"]["likes"], 100, "{backend:?}");
        // Liking again changes nothing; half take it back, twice each, all at once.
        let again =
            futures_util::future::join_all(users.iter().enumerate().flat_map(|(i, (_, c))| {
                let on = i >= 50;
                [like(c.clone(), on), like(c.clone(), on)]
            }))
            .await;
        assert!(again.iter().all(|s| *s == StatusCode::OK));
        let (_, s) = send(users[99].1.get(app.url("/api/v1/subjects/popular"))).await;
        assert_eq!(s["subject"]["likes"], 50);
        assert!(s["reader"]["liked"].as_bool().unwrap());
        // Saves and a user who never liked: never negative.
        let (_, v) = send(
            app.new_client()
                .delete(app.url("/api/v1/subjects/popular/like")),
        )
        .await;
        assert_eq!(code(&v), "unauthenticated");
        let (_, v) = send(users[0].1.put(app.url("/api/v1/subjects/popular/save"))).await;
        assert_eq!(v["saves"], 1);
        let (_, v) = send(users[1].1.delete(app.url("/api/v1/subjects/popular/save"))).await;
        assert_eq!(v["saves"], 1);
        let (_, saved) = send(users[0].1.get(app.url("/api/v1/me/saved"))).await;
        assert_eq!(saved["items"][0]["slug"], "popular");

        // Views: one per reader per hour.
        for _ in 0..3 {
            send(users[5].1.get(app.url("/api/v1/subjects/popular"))).await;
        }
        let (_, s) = send(users[6].1.get(app.url("/api/v1/subjects/popular"))).await;
        let views = s["subject"]["views"].as_i64().unwrap();
        // An anonymous reader, users[99] and users[5] (once) so far; users[6] counts after this read.
        assert_eq!(views, 3, "views counted once per reader: {s}");
        app.stop().await;
    }
}

#[tokio::test]
async fn follows_and_the_feed_page_stably() {
    for backend in backends() {
        let app = TestApp::spawn(backend, &[]).await;
        let users = quick_users(&app, "feed", 3).await;
        let (author, reader, other) = (&users[0].1, &users[1].1, &users[2].1);
        for i in 0..5 {
            create_subject(
                &app,
                author,
                &format!("Post {i}"),
                json!({"visibility": "public"}),
            )
            .await;
            tokio::time::sleep(std::time::Duration::from_millis(3)).await;
        }
        create_subject(&app, author, "Draft", json!({})).await;
        create_subject(&app, other, "Unrelated", json!({"visibility": "public"})).await;
        let (st, v) = send(reader.put(app.url("/api/v1/users/feed0/follow"))).await;
        assert_eq!(
            (st, v["followers"].as_i64(), v["followed"].as_bool()),
            (StatusCode::OK, Some(1), Some(true))
        );
        let (_, v) = send(reader.put(app.url("/api/v1/users/feed0/follow"))).await;
        assert_eq!(v["followers"], 1, "idempotent");
        let (st, v) = send(author.put(app.url("/api/v1/users/feed0/follow"))).await;
        assert_eq!(
            (st, code(&v)),
            (StatusCode::UNPROCESSABLE_ENTITY, "invalid")
        );
        assert_eq!(
            send(reader.put(app.url("/api/v1/users/ghost/follow")))
                .await
                .0,
            StatusCode::NOT_FOUND
        );

        let (_, page1) = send(reader.get(app.url("/api/v1/me/feed?limit=2"))).await;
        let titles = |p: &Value| {
            p["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|i| i["title"].as_str().unwrap().to_owned())
                .collect::<Vec<_>>()
        };
        assert_eq!(titles(&page1), ["Post 4", "Post 3"]);
        // A new post between pages does not shift the next page.
        create_subject(&app, author, "Post 5", json!({"visibility": "public"})).await;
        let cursor = page1["next_cursor"].as_str().unwrap();
        let (_, page2) =
            send(reader.get(app.url(&format!("/api/v1/me/feed?limit=2&cursor={cursor}")))).await;
        assert_eq!(titles(&page2), ["Post 2", "Post 1"]);
        let cursor = page2["next_cursor"].as_str().unwrap();
        let (_, page3) =
            send(reader.get(app.url(&format!("/api/v1/me/feed?limit=2&cursor={cursor}")))).await;
        assert_eq!(titles(&page3), ["Post 0"]);
        assert!(page3["next_cursor"].is_null());
        let (_, fresh) = send(reader.get(app.url("/api/v1/me/feed?limit=1"))).await;
        assert_eq!(titles(&fresh), ["Post 5"]);
        let (_, author_page) = send(
            app.new_client()
                .get(app.url("/api/v1/users/feed0/subjects")),
        )
        .await;
        assert_eq!(
            author_page["subjects"].as_array().unwrap().len(),
            6,
            "public only"
        );
        let (_, v) = send(reader.delete(app.url("/api/v1/users/feed0/follow"))).await;
        assert_eq!(v["followers"], 0);
        let (_, empty) = send(reader.get(app.url("/api/v1/me/feed"))).await;
        assert!(empty["items"].as_array().unwrap().is_empty());
        app.stop().await;
    }
}

#[tokio::test]
async fn the_catalogue_searches_and_explains_bad_queries() {
    for backend in backends() {
        let app = TestApp::spawn(backend, &[]).await;
        let users = quick_users(&app, "cat", 2).await;
        let (alice, bob) = (&users[0].1, &users[1].1);
        create_subject(
            &app,
            alice,
            "Async Rust",
            json!({"visibility": "public", "tags": ["rust", "async"]}),
        )
        .await;
        create_subject(
            &app,
            bob,
            "Rust basics",
            json!({"visibility": "public", "tags": ["rust"]}),
        )
        .await;
        create_subject(&app, bob, "Kafka", json!({"visibility": "public"})).await;
        let root = root_id(&app, bob, "kafka").await;
        add_topic(
            &app,
            bob,
            "kafka",
            root,
            "Consumers",
            "Written with tokio in mind",
        )
        .await;
        send(bob.put(app.url("/api/v1/subjects/async-rust/like"))).await;
        let anon = app.new_client();
        let q = |q: &str| {
            let url = app.url(&format!("/api/v1/subjects?q={}", urlencode(q)));
            let anon = anon.clone();
            async move { send(anon.get(url)).await }
        };
        let slugs = |v: &Value| {
            v["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|i| i["slug"].as_str().unwrap().to_owned())
                .collect::<Vec<_>>()
        };
        assert_eq!(
            slugs(&q("tokio").await.1),
            ["kafka"],
            "topic bodies are searched"
        );
        assert_eq!(slugs(&q("rust tag:async").await.1), ["async-rust"]);
        assert_eq!(slugs(&q("tag:rust -tag:async").await.1), ["rust-basics"]);
        assert_eq!(
            slugs(&q("author:cat1 sort:new").await.1),
            ["kafka", "rust-basics"]
        );
        assert_eq!(slugs(&q("likes:>=1").await.1), ["async-rust"]);
        assert_eq!(slugs(&q("rust -async sort:likes").await.1), ["rust-basics"]);
        assert_eq!(
            slugs(&q("created:>2000-01-01 sort:likes").await.1)[0],
            "async-rust"
        );
        // Paging by cursor.
        let (_, p1) = send(anon.get(app.url("/api/v1/subjects?q=sort:new&limit=2"))).await;
        let cursor = p1["next_cursor"].as_str().unwrap().to_owned();
        let (_, p2) = send(anon.get(app.url(&format!(
            "/api/v1/subjects?q=sort:new&limit=2&cursor={cursor}"
        ))))
        .await;
        assert_eq!(slugs(&p2), ["async-rust"]);
        // Malformed queries: 400 with where and what.
        let (st, v) = q("rust likes:>lots").await;
        assert_eq!(st, StatusCode::BAD_REQUEST);
        assert_eq!(v["error"]["position"], 12, "{v}");
        assert!(
            v["error"]["message"].as_str().unwrap().contains("expected"),
            "{v}"
        );
        let (st, v) = q("color:red").await;
        assert_eq!(
            (st, v["error"]["position"].as_i64()),
            (StatusCode::BAD_REQUEST, Some(0))
        );
        // A control character (schemathesis found a NUL: a 500 from SQLite's full-text
        // syntax, and Postgres refuses it in text) is a 400 at its position, on both.
        let (st, v) = q("Dt\u{0}C\u{c2}\u{8c}").await;
        assert_eq!(
            (st, v["error"]["position"].as_i64()),
            (StatusCode::BAD_REQUEST, Some(2)),
            "{v}"
        );
        let (st, v) = send(anon.get(app.url("/api/v1/subjects?q=rust&cursor=nonsense"))).await;
        assert_eq!(
            (st, v["error"]["field"].as_str()),
            (StatusCode::BAD_REQUEST, Some("cursor"))
        );
        // The page shows the error inline, with status 400.
        let r = anon
            .get(app.url("/explore?q=likes%3A%3Elots"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::BAD_REQUEST);
        let html = r.text().await.unwrap();
        assert!(
            html.contains("data-testid=\"query-error\"") && html.contains("character 8"),
            "inline error"
        );
        let html = anon
            .get(app.url("/explore?q=tag%3Aasync"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(html.contains("Async Rust"));
        app.stop().await;
    }
}

fn urlencode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[tokio::test]
async fn public_pages_are_cached_with_etags_and_invalidated() {
    for backend in backends() {
        let app = TestApp::spawn(backend, &[]).await;
        let users = quick_users(&app, "etag", 1).await;
        let owner = &users[0].1;
        create_subject(
            &app,
            owner,
            "Cached",
            json!({"visibility": "public", "summary": "first"}),
        )
        .await;
        let anon = app.new_client();
        let get = |etag: Option<String>| {
            let mut r = anon.get(app.url("/s/cached"));
            if let Some(e) = etag {
                r = r.header("if-none-match", e);
            }
            r.send()
        };
        let first = get(None).await.unwrap();
        assert_eq!(first.status(), StatusCode::OK);
        assert_eq!(first.headers()["x-arbor-cache"], "miss");
        assert_eq!(first.headers()["cache-control"], "public, no-cache");
        assert!(
            first.headers().get("x-arbor-cache-subject").is_none(),
            "the mark stays inside"
        );
        let etag = first.headers()["etag"].to_str().unwrap().to_owned();
        let nonce1 = first.headers()["content-security-policy"]
            .to_str()
            .unwrap()
            .to_owned();
        let body1 = first.text().await.unwrap();
        assert!(body1.contains("first") && body1.contains("<svg"));
        let second = get(None).await.unwrap();
        assert_eq!(second.headers()["x-arbor-cache"], "hit");
        assert_eq!(second.headers()["etag"].to_str().unwrap(), etag);
        assert_ne!(
            second.headers()["content-security-policy"]
                .to_str()
                .unwrap(),
            nonce1,
            "fresh nonce per response"
        );
        let csp = second.headers()["content-security-policy"]
            .to_str()
            .unwrap()
            .to_owned();
        let nonce = csp
            .split("'nonce-")
            .nth(1)
            .unwrap()
            .split('\'')
            .next()
            .unwrap()
            .to_owned();
        assert!(
            second
                .text()
                .await
                .unwrap()
                .contains(&format!("nonce=\"{nonce}\""))
        );
        let not_modified = get(Some(etag.clone())).await.unwrap();
        assert_eq!(not_modified.status(), StatusCode::NOT_MODIFIED);
        // A change drops the cached copy: new content, new validator.
        send(
            owner
                .patch(app.url("/api/v1/subjects/cached"))
                .json(&json!({"summary": "second"})),
        )
        .await;
        let after = get(Some(etag.clone())).await.unwrap();
        assert_eq!(after.status(), StatusCode::OK);
        assert_ne!(after.headers()["etag"].to_str().unwrap(), etag);
        assert!(after.text().await.unwrap().contains("second"));
        // Other public pages are not cached but still validate.
        let explore = anon.get(app.url("/explore?q=cached")).send().await.unwrap();
        assert_eq!(explore.headers()["x-arbor-cache"], "none");
        let tag = explore.headers()["etag"].to_str().unwrap().to_owned();
        let again = anon
            .get(app.url("/explore?q=cached"))
            .header("if-none-match", &tag)
            .send()
            .await
            .unwrap();
        assert_eq!(again.status(), StatusCode::NOT_MODIFIED);
        // Signed-in readers are never served the shared copy.
        let mine = owner.get(app.url("/s/cached")).send().await.unwrap();
        assert!(mine.headers().get("x-arbor-cache").is_none());
        assert!(
            mine.headers()["cache-control"]
                .to_str()
                .unwrap()
                .contains("no-store")
        );
        app.stop().await;
    }
}

/// A reload sends `If-None-Match`; the browser merges the 304's headers into the page it
/// stored, so a 304 must not carry a policy that contradicts that page's (its scripts carry the
/// nonce of the policy stored with them).
#[tokio::test]
async fn a_reload_keeps_the_stored_page_policy() {
    for backend in backends() {
        let app = TestApp::spawn(backend, &[]).await;
        let users = quick_users(&app, "reload", 1).await;
        create_subject(
            &app,
            &users[0].1,
            "Reloaded",
            json!({"visibility": "public"}),
        )
        .await;
        let anon = app.new_client();
        for path in ["/s/reloaded", "/explore?q=reloaded", "/", "/explore"] {
            for round in 0..2 {
                // The second round reloads what the first stored (a cache hit for subjects).
                let first = anon.get(app.url(path)).send().await.unwrap();
                assert_eq!(first.status(), StatusCode::OK, "{path}");
                let csp = first.headers()["content-security-policy"].to_str().unwrap();
                assert!(csp.contains("'nonce-"), "{path}: {csp}");
                let etag = first.headers()["etag"].to_str().unwrap().to_owned();
                let again = anon
                    .get(app.url(path))
                    .header("if-none-match", &etag)
                    .send()
                    .await
                    .unwrap();
                assert_eq!(again.status(), StatusCode::NOT_MODIFIED, "{path} #{round}");
                assert!(
                    again.headers().get("content-security-policy").is_none(),
                    "{path} #{round}: a 304 carries no policy, got {:?}",
                    again.headers().get("content-security-policy")
                );
                assert_eq!(again.headers()["etag"].to_str().unwrap(), etag);
            }
        }
        // Everything else still gets the policy that allows nothing.
        let api = anon.get(app.url("/api/v1/subjects")).send().await.unwrap();
        assert_eq!(
            api.headers()["content-security-policy"],
            "default-src 'none'; frame-ancestors 'none'"
        );
        app.stop().await;
    }
}

/// Other spellings of a page's path are redirected to the one the cache keys on, so a flood of
/// URL variants cannot fill the cache.
#[tokio::test]
async fn url_variants_of_a_page_share_one_cache_entry() {
    for backend in backends() {
        let app = TestApp::spawn(backend, &[]).await;
        let users = quick_users(&app, "variant", 1).await;
        create_subject(
            &app,
            &users[0].1,
            "Variant page",
            json!({"visibility": "public"}),
        )
        .await;
        let root = root_id(&app, &users[0].1, "variant-page").await;
        let anon = app.new_client();
        let plain = format!("/s/variant-page/t/{root}");
        let topic = format!("{plain}-variant-page");
        for (variant, canonical) in [
            ("/s/variant%2Dpage".to_owned(), "/s/variant-page".to_owned()),
            (
                "/s/%76ariant-page/".to_owned(),
                "/s/variant-page".to_owned(),
            ),
            (format!("/s/variant-page/t/000{root}"), plain.clone()),
            (format!("/s/variant-page/t/+{root}"), plain.clone()),
            (
                format!("/s/variant-page/t/%3{}", &root.to_string()),
                plain.clone(),
            ),
            (
                format!("/s/variant-page/t/{root}/edit/"),
                format!("{plain}/edit"),
            ),
        ] {
            let r = anon.get(app.url(&variant)).send().await.unwrap();
            assert_eq!(r.status(), StatusCode::PERMANENT_REDIRECT, "{variant}");
            assert_eq!(r.headers()["location"], canonical.as_str(), "{variant}");
        }
        // A topic without its title's words, or with old ones, is moved permanently to them.
        for (old, new) in [
            (plain.clone(), topic.clone()),
            (format!("{plain}-an-old-title"), topic.clone()),
            (
                format!("/s/variant-page/t/000{root}-Variant-page"),
                topic.clone(),
            ),
            (format!("{plain}/edit"), format!("{topic}/edit")),
        ] {
            let r = anon.get(app.url(&old)).send().await.unwrap();
            assert_eq!(r.status(), StatusCode::MOVED_PERMANENTLY, "{old}");
            assert_eq!(r.headers()["location"], new.as_str(), "{old}");
        }
        for (path, outcomes) in [
            ("/s/variant-page", ["miss", "hit"]),
            (topic.as_str(), ["miss", "hit"]),
        ] {
            for outcome in outcomes {
                let r = anon.get(app.url(path)).send().await.unwrap();
                assert_eq!(r.status(), StatusCode::OK, "{path}");
                assert_eq!(r.headers()["x-arbor-cache"], outcome, "{path}");
            }
        }
        // A spelling with no canonical form is rendered, never stored.
        for path in [
            "/s/Variant-page",
            "/s/variant-page/t/-1",
            "/s/variant%20page",
        ] {
            for _ in 0..2 {
                let r = anon.get(app.url(path)).send().await.unwrap();
                let outcome = r
                    .headers()
                    .get("x-arbor-cache")
                    .map(|v| v.to_str().unwrap().to_owned());
                assert!(
                    outcome.is_none() || outcome.as_deref() == Some("none"),
                    "{path}: {outcome:?}"
                );
            }
        }
        app.stop().await;
    }
}

#[tokio::test]
async fn every_replica_drops_its_copy_through_redis() {
    let Some((a, b)) = replicas_through_redis().await else {
        return;
    };
    let users = quick_users(&a, "rep", 1).await;
    create_subject(
        &a,
        &users[0].1,
        "Shared",
        json!({"visibility": "public", "summary": "old text"}),
    )
    .await;
    let anon = b.new_client();
    // Give the subscriptions a moment, then warm B's cache.
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    for expected in ["miss", "hit"] {
        let r = anon.get(b.url("/s/shared")).send().await.unwrap();
        assert_eq!(r.headers()["x-arbor-cache"], expected);
    }
    send(
        users[0]
            .1
            .patch(a.url("/api/v1/subjects/shared"))
            .json(&json!({"summary": "new text"})),
    )
    .await;
    let mut fresh = false;
    for _ in 0..40 {
        let body = anon
            .get(b.url("/s/shared"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        if body.contains("new text") {
            fresh = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    assert!(fresh, "replica B still serves the old page");
    b.stop().await;
    a.stop().await;
}

#[tokio::test]
async fn bad_input_is_never_a_server_error() {
    let app = TestApp::spawn(Backend::Sqlite, &[]).await;
    let users = quick_users(&app, "bad", 1).await;
    let c = &users[0].1;
    create_subject(&app, c, "Target", json!({"visibility": "public"})).await;
    let huge = "x".repeat(100_001);
    let cases: Vec<(reqwest::Method, &str, Option<Value>, u16)> = vec![
        (
            reqwest::Method::POST,
            "/api/v1/subjects",
            Some(json!({"title": ""})),
            422,
        ),
        (
            reqwest::Method::POST,
            "/api/v1/subjects",
            Some(json!({"title": "x", "tags": ["a b c"]})),
            422,
        ),
        (
            reqwest::Method::POST,
            "/api/v1/subjects",
            Some(json!({"title": "x", "visibility": "secret"})),
            422,
        ),
        (
            reqwest::Method::POST,
            "/api/v1/subjects",
            Some(json!({"title": 5})),
            422,
        ),
        (
            reqwest::Method::POST,
            "/api/v1/subjects",
            Some(json!({"title": "x", "extra": 1})),
            422,
        ),
        (
            reqwest::Method::PATCH,
            "/api/v1/subjects/target",
            Some(json!({"tags": (0..11).map(|i| format!("t{i}")).collect::<Vec<_>>()})),
            422,
        ),
        (
            reqwest::Method::GET,
            "/api/v1/subjects/target/topics/abc",
            None,
            400,
        ),
        (
            reqwest::Method::GET,
            "/api/v1/subjects/target/topics/99999999999999999999",
            None,
            400,
        ),
        (
            reqwest::Method::GET,
            "/api/v1/subjects/target/topics/-1",
            None,
            404,
        ),
        (
            reqwest::Method::POST,
            "/api/v1/subjects/target/topics",
            Some(json!({"title": "x"})),
            422,
        ),
        (
            reqwest::Method::POST,
            "/api/v1/subjects/target/topics",
            Some(json!({"title": "x", "parent_id": 1, "after_id": 1})),
            422,
        ),
        (
            reqwest::Method::POST,
            "/api/v1/subjects/target/topics",
            Some(json!({"title": "x", "parent_id": 424242})),
            404,
        ),
        (
            reqwest::Method::POST,
            "/api/v1/subjects/target/topics",
            Some(json!({"title": "x", "parent_id": 1, "body": huge})),
            413,
        ),
        (
            reqwest::Method::POST,
            "/api/v1/subjects/target/topics/1/move",
            Some(json!({"parent_id": "x"})),
            422,
        ),
        (reqwest::Method::GET, "/api/v1/subjects?limit=0", None, 422),
        (reqwest::Method::GET, "/api/v1/subjects?limit=x", None, 400),
        (
            reqwest::Method::GET,
            "/api/v1/subjects?q=%22unterminated",
            None,
            400,
        ),
        (reqwest::Method::GET, "/api/v1/subjects?q=%00%01", None, 400),
        (
            reqwest::Method::GET,
            "/api/v1/subjects?cursor=%FF",
            None,
            400,
        ),
        (
            reqwest::Method::GET,
            "/api/v1/me/feed?cursor=dDox",
            None,
            400,
        ),
        (
            reqwest::Method::PUT,
            "/api/v1/subjects/target/members/bad1",
            Some(json!({})),
            422,
        ),
        (
            reqwest::Method::DELETE,
            "/api/v1/subjects/no-such/like",
            None,
            404,
        ),
        (reqwest::Method::PUT, "/api/v1/users/%20/follow", None, 404),
    ];
    for (method, path, body, expected) in cases {
        let mut r = c.request(method.clone(), app.url(path));
        if let Some(b) = &body {
            r = r.json(b);
        }
        let (st, v) = send(r).await;
        assert_eq!(st.as_u16(), expected, "{method} {path}: {v}");
        if expected >= 400 {
            assert!(
                v["error"]["code"].is_string(),
                "{method} {path}: error shape {v}"
            );
        }
    }
    // Pages too.
    for path in [
        "/s/no-such",
        "/s/target/t/abc",
        "/s/target/t/999999",
        "/u/%20",
        "/explore?q=%22",
    ] {
        let r = app.new_client().get(app.url(path)).send().await.unwrap();
        assert!(r.status().is_client_error(), "{path}: {}", r.status());
    }
    app.stop().await;
}

/// A 100 KB body nested as deeply as markdown allows, previewed by a signed-out reader and by
/// the author at once, neither stalls the server (a render never runs on the async workers, and at most one
/// per core runs at once) nor comes back nested deeper than the renderer's bound; stored, it
/// renders the same way on the topic's page.
#[tokio::test]
async fn hostile_nesting_is_bounded_and_never_stalls_the_server() {
    for backend in backends() {
        let app = TestApp::spawn(backend, &[]).await;
        let users = quick_users(&app, "nest", 1).await;
        let owner = &users[0].1;
        create_subject(&app, owner, "Open", json!({"visibility": "public"})).await;
        let root = root_id(&app, owner, "open").await;
        let preview_url = app.url(&format!("/api/v1/subjects/open/topics/{root}/preview"));
        let anon = app.new_client();
        let hostile = [
            format!("{}x", "> ".repeat(49_999)),
            format!("{}x", "- ".repeat(49_999)),
        ];
        let previews: Vec<_> = hostile
            .iter()
            .zip([&anon, owner])
            .map(|(body, client)| {
                let request = client.post(&preview_url).json(&json!({ "body": body }));
                tokio::spawn(async move { send(request).await })
            })
            .collect();
        for _ in 0..3 {
            tokio::time::sleep(std::time::Duration::from_secs(1)).await;
            let health = tokio::time::timeout(
                std::time::Duration::from_secs(3),
                reqwest::get(app.url("/healthz")),
            )
            .await;
            assert!(
                matches!(&health, Ok(Ok(r)) if r.status() == StatusCode::OK),
                "{backend:?}: /healthz did not answer within 3 s while two hostile previews ran"
            );
        }
        for (preview, tag) in previews.into_iter().zip(["<blockquote>", "<li>"]) {
            let (st, v) = tokio::time::timeout(std::time::Duration::from_secs(60), preview)
                .await
                .expect("a hostile preview finishes within a minute")
                .unwrap();
            assert!(
                st == StatusCode::OK
                    || (st == StatusCode::TOO_MANY_REQUESTS && code(&v) == "throttled"),
                "{st}: {v}"
            );
            if st == StatusCode::OK {
                let depth = v["html"].as_str().unwrap().matches(tag).count();
                assert!((1..=32).contains(&depth), "{tag} nested {depth} deep");
            }
        }
        // Stored, the body renders as deep as the bound on the page and in the API.
        let (st, v) = send(
            owner
                .patch(app.url(&format!("/api/v1/subjects/open/topics/{root}")))
                .json(&json!({ "body": hostile[0] })),
        )
        .await;
        assert_eq!(st, StatusCode::OK, "{v}");
        let depth = v["html"].as_str().unwrap().matches("<blockquote>").count();
        assert!((1..=32).contains(&depth), "{depth} deep");
        let page = anon
            .get(app.url(&format!("/s/open/t/{root}-open")))
            .send()
            .await
            .unwrap();
        assert_eq!(page.status(), StatusCode::OK);
        let depth = page.text().await.unwrap().matches("<blockquote>").count();
        assert!((1..=32).contains(&depth), "{depth} deep on the page");
        app.stop().await;
    }
}

/// Backlinks list only topics of subjects the reader may see listed: never another's unlisted
/// subject (readable by its link, listed nowhere), nor a private one.
#[tokio::test]
async fn unlisted_subjects_never_show_in_backlinks() {
    for backend in backends() {
        let app = TestApp::spawn(backend, &[]).await;
        let users = quick_users(&app, "back", 3).await;
        let (author, quiet_owner, stranger) = (&users[0].1, &users[1].1, &users[2].1);
        let anon = app.new_client();
        create_subject(&app, author, "Target", json!({"visibility": "public"})).await;
        let target_root = root_id(&app, author, "target").await;
        let linked = add_topic(&app, author, "target", target_root, "Linked", "").await;
        create_subject(
            &app,
            quiet_owner,
            "Quiet place",
            json!({"visibility": "unlisted"}),
        )
        .await;
        let quiet_root = root_id(&app, quiet_owner, "quiet-place").await;
        add_topic(
            &app,
            quiet_owner,
            "quiet-place",
            quiet_root,
            "Unlisted notes",
            "See [[target/Linked]].",
        )
        .await;
        let topic_api = format!("/api/v1/subjects/target/topics/{linked}");
        let titles = |v: &Value| -> Vec<String> {
            v["backlinks"]
                .as_array()
                .unwrap()
                .iter()
                .map(|b| b["title"].as_str().unwrap().to_owned())
                .collect()
        };
        for (who, client) in [
            ("signed out", &anon),
            ("a stranger", stranger),
            ("the author", author),
        ] {
            let (st, v) = send(client.get(app.url(&topic_api))).await;
            assert_eq!(st, StatusCode::OK, "{v}");
            assert!(titles(&v).is_empty(), "{who} sees {v}");
            let html = client
                .get(app.url(&format!("/s/target/t/{linked}-linked")))
                .send()
                .await
                .unwrap()
                .text()
                .await
                .unwrap();
            for leak in ["quiet-place", "Quiet place", "Unlisted notes"] {
                assert!(!html.contains(leak), "{who} sees {leak} on the page");
            }
        }
        let (_, v) = send(quiet_owner.get(app.url(&topic_api))).await;
        assert_eq!(titles(&v), ["Unlisted notes"], "its owner sees it");
        app.stop().await;
    }
}

/// Ten thousand topics linking to someone's topic neither bloat nor break its page: backlinks
/// come 50 at a time, on the page and in the API.
#[tokio::test]
async fn ten_thousand_backlinks_come_in_pages() {
    for backend in backends() {
        let app = TestApp::spawn(backend, &[]).await;
        let users = quick_users(&app, "crowd", 2).await;
        let (author, stranger) = (&users[0].1, &users[1].1);
        let anon = app.new_client();
        create_subject(&app, author, "Target", json!({"visibility": "public"})).await;
        let target_root = root_id(&app, author, "target").await;
        let linked = add_topic(&app, author, "target", target_root, "Linked", "").await;
        let topic_api = format!("/api/v1/subjects/target/topics/{linked}");

        // Ten thousand public topics with long titles linking here, written straight into the
        // database.
        create_subject(&app, stranger, "Crowd", json!({"visibility": "public"})).await;
        let filler = "x".repeat(100);
        let db = arbor_db::Db::connect(&app.database_url, &arbor_db::DbOptions::default())
            .await
            .unwrap();
        db.execute_admin(&format!(
            "UPDATE subjects SET title = 'Crowd {filler}' WHERE slug = 'crowd';
             WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 10000)
             INSERT INTO topics (subject_id, parent_id, order_key, title, title_key, body,
                                 body_text, created_at, updated_at)
             SELECT s.id, r.id, 'b' || n.i, 'Backlink ' || n.i || ' {filler}',
                    'backlink ' || n.i || ' {filler}', '[[target/Linked]]', '', 0, 0
             FROM n, subjects s JOIN topics r ON r.subject_id = s.id AND r.parent_id IS NULL
             WHERE s.slug = 'crowd';
             INSERT INTO topic_links (from_topic_id, to_slug, to_title_key)
             SELECT t.id, 'target', 'linked' FROM topics t JOIN subjects s ON s.id = t.subject_id
             WHERE s.slug = 'crowd' AND t.parent_id IS NOT NULL;"
        ))
        .await
        .unwrap();
        db.close().await;
        let page = anon
            .get(app.url(&format!("/s/target/t/{linked}-linked")))
            .send()
            .await
            .unwrap();
        let status = page.status();
        let html = page.text().await.unwrap();
        assert_eq!(
            status,
            StatusCode::OK,
            "{backend:?}: the page of a topic with 10,000 backlinks ({} bytes)",
            html.len()
        );
        assert!(html.len() < 512 * 1024, "{} bytes", html.len());
        assert!(html.contains("data-testid=\"more-backlinks\""));
        // The API pages through all of them, 50 at a time, each once.
        let (_, v) = send(anon.get(app.url(&topic_api))).await;
        assert_eq!(v["backlinks"].as_array().unwrap().len(), 50);
        let mut cursor = v["backlinks_cursor"].as_str().map(str::to_owned);
        let mut seen: std::collections::HashSet<i64> = v["backlinks"]
            .as_array()
            .unwrap()
            .iter()
            .map(|b| b["id"].as_i64().unwrap())
            .collect();
        let mut pages = 1;
        while let Some(at) = cursor {
            let (st, v) =
                send(anon.get(app.url(&format!("{topic_api}/backlinks?cursor={at}")))).await;
            assert_eq!(st, StatusCode::OK, "{v}");
            let items = v["backlinks"].as_array().unwrap();
            assert!(items.len() <= 50);
            for b in items {
                assert!(seen.insert(b["id"].as_i64().unwrap()), "twice: {b}");
            }
            cursor = v["next_cursor"].as_str().map(str::to_owned);
            pages += 1;
        }
        assert_eq!((seen.len(), pages), (10_000, 200));
        // The HTML list pages too; a made-up cursor is refused.
        let more = anon
            .get(app.url(&format!("/s/target/t/{linked}-linked/backlinks?cursor=o0")))
            .send()
            .await
            .unwrap();
        assert_eq!(more.status(), StatusCode::OK);
        let html = more.text().await.unwrap();
        assert_eq!(
            html.matches("href=\"/s/crowd/t/").count(),
            50,
            "50 on a page"
        );
        let (st, v) = send(anon.get(app.url(&format!("{topic_api}/backlinks?cursor=zz")))).await;
        assert_eq!(
            (st, code(&v)),
            (StatusCode::UNPROCESSABLE_ENTITY, "invalid")
        );
        app.stop().await;
    }
}
