//! Import and export of a subject's tree through the JSON API, against the real server on
//! SQLite and Postgres: each format in and out, round trips, located errors that change
//! nothing, the import history with its files, and rollback.

mod common;

use common::{TestApp, backends, quick_users, send};
use reqwest::{Client, StatusCode};
use serde_json::{Value, json};

async fn new_subject(app: &TestApp, c: &Client, title: &str) -> String {
    let (status, v) = send(
        c.post(app.url("/api/v1/subjects"))
            .json(&json!({"title": title, "visibility": "private"})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{v}");
    v["slug"].as_str().unwrap().to_owned()
}

/// The tree as nested `[title, [children…]]`, ids left out.
async fn shape(app: &TestApp, c: &Client, slug: &str) -> Value {
    fn walk(node: &Value) -> Value {
        let children: Vec<Value> = node["children"]
            .as_array()
            .unwrap()
            .iter()
            .map(walk)
            .collect();
        json!([node["title"], children])
    }
    let (status, v) = send(c.get(app.url(&format!("/api/v1/subjects/{slug}")))).await;
    assert_eq!(status, StatusCode::OK, "{v}");
    walk(&v["root"])
}

async fn import(
    app: &TestApp,
    c: &Client,
    slug: &str,
    filename: &str,
    content: &str,
) -> (StatusCode, Value) {
    send(
        c.post(app.url(&format!("/api/v1/subjects/{slug}/imports")))
            .json(&json!({"filename": filename, "content": content})),
    )
    .await
}

async fn export(app: &TestApp, c: &Client, slug: &str, format: &str) -> (String, Vec<u8>) {
    let r = c
        .get(app.url(&format!("/api/v1/subjects/{slug}/export?format={format}")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK, "{format}");
    let disposition = r.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        disposition.starts_with("attachment; filename=\""),
        "{disposition}"
    );
    let content_type = r.headers()["content-type"].to_str().unwrap().to_owned();
    (content_type, r.bytes().await.unwrap().to_vec())
}

const OUTLINE: &str = "# Distributed systems

Start at [[Caching]].

## Caching

Keep hot data close.

- a list in a body

### CDN

Edge caches, see [[Consensus]].

### Write-through

## Consensus

```
# not a heading
```

### Raft 🌳

## Queues
";

#[tokio::test]
async fn every_format_imports_exports_and_round_trips() {
    for backend in backends() {
        let app = TestApp::spawn(backend, &[]).await;
        let users = quick_users(&app, "porter", 1).await;
        let owner = &users[0].1;
        let slug = new_subject(&app, owner, "Import target").await;
        let (status, v) = import(&app, owner, &slug, "systems.md", OUTLINE).await;
        assert_eq!(status, StatusCode::CREATED, "{v}");
        assert_eq!(
            (v["format"].as_str(), v["topics"].as_i64()),
            (Some("markdown"), Some(6))
        );
        let want = json!([
            "Distributed systems",
            [
                ["Caching", [["CDN", []], ["Write-through", []]]],
                ["Consensus", [["Raft 🌳", []]]],
                ["Queues", []],
            ]
        ]);
        assert_eq!(shape(&app, owner, &slug).await, want);
        // Bodies (and their links) arrive with the topics.
        let (_, detail) = send(owner.get(app.url(&format!("/api/v1/subjects/{slug}")))).await;
        let caching = detail["root"]["children"][0]["id"].as_i64().unwrap();
        let cdn = detail["root"]["children"][0]["children"][0]["id"]
            .as_i64()
            .unwrap();
        let (_, topic) =
            send(owner.get(app.url(&format!("/api/v1/subjects/{slug}/topics/{cdn}")))).await;
        assert_eq!(topic["body"], "Edge caches, see [[Consensus]].");
        let (_, topic) =
            send(owner.get(app.url(&format!("/api/v1/subjects/{slug}/topics/{caching}")))).await;
        assert_eq!(topic["body"], "Keep hot data close.\n\n- a list in a body");
        assert_eq!(
            topic["backlinks"][0]["title"], "Distributed systems",
            "{topic}"
        );

        // Each outline format exported and imported into a new subject gives the same tree
        // and bodies (compared through the lossless JSON export).
        let (_, reference) = export(&app, owner, &slug, "json").await;
        for (format, content_type, name) in [
            ("markdown", "text/markdown", "again.md"),
            ("opml", "text/x-opml", "again.opml"),
            ("freemind", "application/x-freemind", "again.mm"),
            ("json", "application/json", "again.json"),
        ] {
            let (ty, file) = export(&app, owner, &slug, format).await;
            assert!(ty.starts_with(content_type), "{format}: {ty}");
            let copy = new_subject(&app, owner, &format!("Copy {format}")).await;
            let (status, v) = import(
                &app,
                owner,
                &copy,
                name,
                std::str::from_utf8(&file).unwrap(),
            )
            .await;
            assert_eq!(status, StatusCode::CREATED, "{format}: {v}");
            let (_, again) = export(&app, owner, &copy, "json").await;
            assert_eq!(
                String::from_utf8(again).unwrap(),
                String::from_utf8(reference.clone()).unwrap(),
                "{format} round trip"
            );
        }

        // The zip, the SVG and the PNG are drawn on the server.
        let (ty, zip) = export(&app, owner, &slug, "markdown-zip").await;
        assert_eq!((ty.as_str(), &zip[..2]), ("application/zip", &b"PK"[..]));
        let (ty, svg) = export(&app, owner, &slug, "svg").await;
        let svg = String::from_utf8(svg).unwrap();
        assert!(
            ty.starts_with("image/svg+xml") && svg.starts_with("<svg"),
            "{ty}"
        );
        assert!(
            svg.contains("Write-through") && !svg.contains("href"),
            "standalone, no links"
        );
        let (ty, png) = export(&app, owner, &slug, "png").await;
        assert_eq!(
            (ty.as_str(), &png[..8]),
            ("image/png", &b"\x89PNG\r\n\x1a\n"[..])
        );
        let width = u32::from_be_bytes(png[16..20].try_into().unwrap());
        let height = u32::from_be_bytes(png[20..24].try_into().unwrap());
        assert!(width > 300 && height > 200, "{width}×{height}");
        // Nobody else may export a private subject; a bad format is a clear error.
        let stranger = app.new_client();
        let url = app.url(&format!("/api/v1/subjects/{slug}/export?format=json"));
        assert_eq!(
            stranger.get(url).send().await.unwrap().status(),
            StatusCode::NOT_FOUND
        );
        let url = app.url(&format!("/api/v1/subjects/{slug}/export?format=docx"));
        let (status, v) = send(owner.get(url)).await;
        assert_eq!(
            (status, v["error"]["field"].as_str()),
            (StatusCode::UNPROCESSABLE_ENTITY, Some("format"))
        );
        app.stop().await;
    }
}

#[tokio::test]
async fn bad_files_are_refused_with_where_and_change_nothing() {
    for backend in backends() {
        let app = TestApp::spawn(backend, &[]).await;
        let users = quick_users(&app, "strict", 2).await;
        let owner = &users[0].1;
        let slug = new_subject(&app, owner, "Kept as it is").await;
        let (status, _) = import(
            &app,
            owner,
            &slug,
            "start.md",
            "# Kept as it is\n\n## One\n",
        )
        .await;
        assert_eq!(status, StatusCode::CREATED);
        let before = shape(&app, owner, &slug).await;
        let cases = [
            ("bad.md", "Just a paragraph, no outline.\n", "line 1"),
            ("bad.md", "# Root\n\n## Fine\n\n##\n", "line 5"),
            // A title and nothing under it would empty the map: refused, not "0 topics".
            (
                "title-only.md",
                "# Only a title\n\nSome words.\n",
                "holds no topics",
            ),
            (
                "bad.opml",
                "<opml version=\"2.0\"><body>\n<outline text=\"a\">\n<outline/>\n</outline></body></opml>",
                "line 3, <outline>",
            ),
            (
                "bad.opml",
                "<opml><body>\n<outline text=\"a\">\n</body></opml>",
                "line 3",
            ),
            (
                "bad.mm",
                "<map>\n<node TEXT=\"r\">\n<node/>\n</node>\n</map>",
                "line 3, <node>",
            ),
            (
                "bad.json",
                "{\"format\": \"arbor-subject\", \"version\": 1,\n\"children\": [{\"title\": 5}]}",
                "line 2",
            ),
            (
                "bad.json",
                "{\"format\": \"arbor-subject\", \"version\": 1, \"children\": [{\"title\": \"\"}]}",
                "children[0]",
            ),
        ];
        for (filename, content, place) in cases {
            let (status, v) = import(&app, owner, &slug, filename, content).await;
            assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{filename}: {v}");
            let message = v["error"]["message"].as_str().unwrap();
            assert!(message.contains(place), "{filename}: {message}");
        }
        let (status, v) = import(&app, owner, &slug, "notes.docx", "- a").await;
        assert_eq!(
            (status, v["error"]["field"].as_str()),
            (StatusCode::UNPROCESSABLE_ENTITY, Some("format"))
        );
        let too_many: String = (0..1000).map(|i| format!("- topic {i}\n")).collect();
        let (status, v) = import(&app, owner, &slug, "big.md", &too_many).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
        assert!(
            v["error"]["message"]
                .as_str()
                .unwrap()
                .contains("more than 1000 topics"),
            "{v}"
        );
        // A reader cannot import.
        let path = format!("/api/v1/subjects/{slug}/members/strict1");
        send(owner.put(app.url(&path)).json(&json!({"role": "viewer"}))).await;
        let (status, _) = import(&app, &users[1].1, &slug, "a.md", "- a").await;
        assert_eq!(status, StatusCode::FORBIDDEN);

        assert_eq!(shape(&app, owner, &slug).await, before, "nothing changed");
        let (_, history) =
            send(owner.get(app.url(&format!("/api/v1/subjects/{slug}/imports")))).await;
        assert_eq!(history["items"].as_array().unwrap().len(), 1, "{history}");
        app.stop().await;
    }
}

#[tokio::test]
async fn the_history_keeps_each_file_and_the_owner_rolls_back() {
    for backend in backends() {
        let app = TestApp::spawn(backend, &[]).await;
        let users = quick_users(&app, "roller", 2).await;
        let (owner, editor) = (&users[0].1, &users[1].1);
        let slug = new_subject(&app, owner, "Before").await;
        let path = format!("/api/v1/subjects/{slug}/members/roller1");
        send(owner.put(app.url(&path)).json(&json!({"role": "editor"}))).await;
        // A hand-made tree, with a body on the root and on a topic.
        let (_, v) = send(owner.get(app.url(&format!("/api/v1/subjects/{slug}")))).await;
        let root = v["root"]["id"].as_i64().unwrap();
        let topics = format!("/api/v1/subjects/{slug}/topics");
        let (_, a) = send(
            owner
                .post(app.url(&topics))
                .json(&json!({"title": "Hand made", "body": "kept text", "parent_id": root})),
        )
        .await;
        let a = a["id"].as_i64().unwrap();
        send(
            owner
                .post(app.url(&topics))
                .json(&json!({"title": "Child", "parent_id": a})),
        )
        .await;
        send(
            owner
                .patch(app.url(&format!("{topics}/{root}")))
                .json(&json!({"body": "root text"})),
        )
        .await;
        let before = shape(&app, owner, &slug).await;

        let opml = "<opml version=\"2.0\"><head><title>Imported</title></head><body>\n<outline text=\"New root\" _note=\"new root text\"><outline text=\"X\"/><outline text=\"Y\"><outline text=\"Y1\"/></outline></outline>\n</body></opml>";
        let (status, first) = import(&app, editor, &slug, "plan.opml", opml).await;
        assert_eq!(status, StatusCode::CREATED, "{first}");
        assert_eq!(first["username"], "roller1");
        assert_eq!(
            shape(&app, owner, &slug).await,
            json!(["New root", [["X", []], ["Y", [["Y1", []]]]]])
        );
        let (_, v) = send(owner.get(app.url(&format!("{topics}/{root}")))).await;
        assert_eq!(v["body"], "new root text");
        // The replaced topics wait in the trash.
        let (_, trash) = send(owner.get(app.url(&format!("/api/v1/subjects/{slug}/trash")))).await;
        assert_eq!(trash["items"][0]["id"].as_i64(), Some(a), "{trash}");
        let (_, second) = import(
            &app,
            owner,
            &slug,
            "more.json",
            "{\"format\":\"arbor-subject\",\"version\":1,\"children\":[{\"title\":\"Z\"}]}",
        )
        .await;
        assert_eq!(
            shape(&app, owner, &slug).await,
            json!(["New root", [["Z", []]]]),
            "no root named: kept"
        );

        // History, newest first, with each file as uploaded.
        let (_, history) =
            send(owner.get(app.url(&format!("/api/v1/subjects/{slug}/imports")))).await;
        let ids: Vec<i64> = history["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["id"].as_i64().unwrap())
            .collect();
        assert_eq!(
            ids,
            vec![
                second["id"].as_i64().unwrap(),
                first["id"].as_i64().unwrap()
            ]
        );
        let id = first["id"].as_i64().unwrap();
        let r = editor
            .get(app.url(&format!("/api/v1/subjects/{slug}/imports/{id}/source")))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK);
        assert!(
            r.headers()["content-disposition"]
                .to_str()
                .unwrap()
                .contains("plan.opml")
        );
        assert_eq!(r.text().await.unwrap(), opml);

        // Only the owner rolls back; rolling back the later import, then the first, gives
        // back the hand-made tree with the same topics and texts.
        let rollback = |id: i64| app.url(&format!("/api/v1/subjects/{slug}/imports/{id}/rollback"));
        assert_eq!(
            send(editor.post(rollback(id))).await.0,
            StatusCode::FORBIDDEN
        );
        assert_eq!(
            send(owner.post(rollback(second["id"].as_i64().unwrap())))
                .await
                .0,
            StatusCode::NO_CONTENT
        );
        assert_eq!(
            shape(&app, owner, &slug).await,
            json!(["New root", [["X", []], ["Y", [["Y1", []]]]]])
        );
        assert_eq!(
            send(owner.post(rollback(id))).await.0,
            StatusCode::NO_CONTENT
        );
        assert_eq!(shape(&app, owner, &slug).await, before);
        let (status, v) = send(owner.get(app.url(&format!("{topics}/{a}")))).await;
        assert_eq!(
            (status, v["body"].as_str()),
            (StatusCode::OK, Some("kept text")),
            "the same topic"
        );
        let (_, v) = send(owner.get(app.url(&format!("{topics}/{root}")))).await;
        assert_eq!(v["body"], "root text");
        let (status, v) = send(owner.post(rollback(id))).await;
        assert_eq!(
            (status, v["error"]["code"].as_str()),
            (StatusCode::CONFLICT, Some("conflict")),
            "{v}"
        );
        assert_eq!(
            send(owner.post(rollback(999_999))).await.0,
            StatusCode::NOT_FOUND
        );
        let (_, history) =
            send(owner.get(app.url(&format!("/api/v1/subjects/{slug}/imports")))).await;
        assert!(
            history["items"]
                .as_array()
                .unwrap()
                .iter()
                .all(|i| i["rolled_back_at"].is_i64())
        );
        app.stop().await;
    }
}

/// A one-line list nested 50,000 deep overflowed the stack while the rejected tree was dropped,
/// killing the server. It is refused while parsing, with where; nothing changes and the server
/// carries on.
#[tokio::test]
async fn a_nested_list_bomb_is_refused_and_the_server_lives() {
    for backend in backends() {
        let app = TestApp::spawn(backend, &[]).await;
        let users = quick_users(&app, "bomber", 1).await;
        let owner = &users[0].1;
        let slug = new_subject(&app, owner, "Still standing").await;
        let before = shape(&app, owner, &slug).await;
        let bomb = format!("{}x\n", "- ".repeat(50_000));
        let (status, v) = import(&app, owner, &slug, "bomb.md", &bomb).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
        let message = v["error"]["message"].as_str().unwrap();
        assert!(
            message.contains("line 1") && message.contains("nest more than 256"),
            "{message}"
        );
        assert_eq!(shape(&app, owner, &slug).await, before, "nothing changed");
        let (_, history) =
            send(owner.get(app.url(&format!("/api/v1/subjects/{slug}/imports")))).await;
        assert_eq!(history["items"], json!([]));
        let health = reqwest::get(app.url("/healthz")).await.unwrap();
        assert_eq!(health.status(), StatusCode::OK);
        app.stop().await;
    }
}

/// Arbor JSON of a chain as deep as the tree allows is as long as that of as many topics
/// side by side (pretty-printing made it grow with the square of the depth).
#[tokio::test]
async fn json_exports_grow_with_topics_not_with_depth() {
    for backend in backends() {
        let app = TestApp::spawn(backend, &[]).await;
        let users = quick_users(&app, "shaper", 1).await;
        let owner = &users[0].1;
        let topic =
            |i: usize, children: Value| json!({"title": format!("T{i:02}"), "children": children});
        let chain = (0..32)
            .rev()
            .fold(json!([]), |inner, i| json!([topic(i, inner)]));
        let flat: Vec<Value> = (0..32).map(|i| topic(i, json!([]))).collect();
        let mut sizes = Vec::new();
        for children in [chain, json!(flat)] {
            let slug = new_subject(&app, owner, "Shape").await;
            let file = json!({"format": "arbor-subject", "version": 1, "children": children});
            let (status, v) = import(&app, owner, &slug, "shape.json", &file.to_string()).await;
            assert_eq!(status, StatusCode::CREATED, "{v}");
            sizes.push(export(&app, owner, &slug, "json").await.1.len());
        }
        // The same objects; the fan has 31 more commas between siblings.
        assert!(
            sizes[0] <= sizes[1] + 64,
            "a chain of 33 topics: {} bytes; a fan of 33: {} bytes",
            sizes[0],
            sizes[1]
        );
        app.stop().await;
    }
}

/// `arbor_exports_cancelled_total` on the server's `/metrics` (0 when absent).
async fn cancelled_exports(app: &TestApp) -> u64 {
    let text = app.metrics().await;
    text.lines()
        .find_map(|l| l.strip_prefix("arbor_exports_cancelled_total "))
        .map_or(0, |n| n.trim().parse().unwrap())
}

/// PNG exports take memory: a few are drawn at once, a few more wait, the rest are told when
/// to come back (429 with Retry-After); one map drawn for many readers at once is drawn once
/// and every reader gets the same file; and a drawing whose client left stops.
#[tokio::test]
async fn png_exports_are_bounded_shared_and_stop_when_the_client_leaves() {
    for backend in backends() {
        let app = TestApp::spawn(backend, &[]).await;
        let users = quick_users(&app, "painter", 1).await;
        let owner = &users[0].1;
        let slug = new_subject(&app, owner, "A map").await;
        // Small enough to draw well within the request timeout in a debug build.
        let list: String = (1..40)
            .map(|i| format!("- Topic {i}: caching and consistency\n"))
            .collect();
        let (status, v) = import(&app, owner, &slug, "map.md", &list).await;
        assert_eq!(status, StatusCode::CREATED, "{v}");
        let url = app.url(&format!("/api/v1/subjects/{slug}/export?format=png"));
        let responses =
            futures_util::future::join_all((0..30).map(|_| owner.get(&url).send())).await;
        let (mut drawn, mut busy) = (Vec::new(), 0);
        for r in responses {
            let r = r.unwrap();
            match r.status() {
                StatusCode::OK => drawn.push(r.bytes().await.unwrap()),
                StatusCode::TOO_MANY_REQUESTS => {
                    assert_eq!(r.headers()["retry-after"], "5");
                    busy += 1;
                }
                other => panic!("{other}: {}", r.text().await.unwrap()),
            }
        }
        assert!(busy >= 1, "30 at once, none told to retry");
        assert!(!drawn.is_empty());
        assert!(drawn.iter().all(|png| *png == drawn[0]), "one drawing");

        // A client that gives up: the drawing stops at its next strip.
        let (status, v) = send(
            owner
                .patch(app.url(&format!("/api/v1/subjects/{slug}")))
                .json(&json!({"title": "A renamed map"})),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{v}");
        let before = cancelled_exports(&app).await;
        let started = std::time::Instant::now();
        let gone = owner
            .get(&url)
            .timeout(std::time::Duration::from_millis(300))
            .send()
            .await;
        assert!(gone.is_err(), "drawn in {:?}", started.elapsed());
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        while cancelled_exports(&app).await == before {
            assert!(std::time::Instant::now() < deadline, "the drawing went on");
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        app.stop().await;
    }
}
