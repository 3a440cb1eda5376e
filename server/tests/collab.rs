//! Live topic editing against the real server: stock npm clients (yjs 13 + y-websocket 3 in
//! Node) and a yrs client over real websockets, on SQLite and Postgres; access checks and live
//! revocation; hostile frames; form edits reaching live editors; a second replica loading what
//! the first stored.

mod common;

use std::process::Stdio;
use std::time::{Duration, Instant};

use arbor_map::{Structure, Tree};
use common::{
    PrivateRedis, TestApp, backends, quick_sessions, quick_users, replicas_through_redis,
};
use futures_util::{SinkExt as _, StreamExt as _};
use reqwest::{Client, StatusCode};
use serde_json::{Value, json};
use tokio::io::AsyncReadExt as _;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest as _;
use yrs::sync::{Message as YMessage, SyncMessage};
use yrs::updates::decoder::Decode;
use yrs::updates::encoder::Encode;
use yrs::{Doc, GetString, Map, OffsetKind, Options, ReadTxn, Text, Transact, Update};

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn send(r: reqwest::RequestBuilder) -> (StatusCode, Value) {
    let r = r.send().await.unwrap();
    let status = r.status();
    let text = r.text().await.unwrap();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

/// A subject owned by `owner` with one topic under the root; returns (slug, topic id).
async fn subject_with_topic(
    app: &TestApp,
    owner: &Client,
    title: &str,
    body: &str,
) -> (String, i64) {
    let (status, v) = send(
        owner
            .post(app.url("/api/v1/subjects"))
            .json(&json!({"title": title, "visibility": "private"})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{v}");
    let slug = v["slug"].as_str().unwrap().to_owned();
    let (_, v) = send(owner.get(app.url(&format!("/api/v1/subjects/{slug}")))).await;
    let root = v["root"]["id"].as_i64().unwrap();
    let (status, v) = send(
        owner
            .post(app.url(&format!("/api/v1/subjects/{slug}/topics")))
            .json(&json!({"title": "Live", "body": body, "parent_id": root})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{v}");
    (slug, v["id"].as_i64().unwrap())
}

async fn token(app: &TestApp, client: &Client) -> String {
    let (status, v) = send(
        client
            .post(app.url("/api/v1/me/tokens"))
            .json(&json!({"name": "collab"})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{v}");
    v["token"].as_str().unwrap().to_owned()
}

async fn topic_body(app: &TestApp, client: &Client, slug: &str, topic: i64) -> String {
    let (status, v) =
        send(client.get(app.url(&format!("/api/v1/subjects/{slug}/topics/{topic}")))).await;
    assert_eq!(status, StatusCode::OK, "{v}");
    v["body"].as_str().unwrap().to_owned()
}

fn ws_url(app: &TestApp, path: &str) -> String {
    format!("ws://{}{path}", app.addr)
}

/// Opens a websocket with extra headers; `Err(status)` when the handshake is refused.
async fn open(url: &str, headers: &[(&str, String)]) -> Result<Socket, u16> {
    let mut request = url.into_client_request().unwrap();
    for (name, value) in headers {
        let name = http::HeaderName::from_bytes(name.as_bytes()).unwrap();
        request.headers_mut().insert(name, value.parse().unwrap());
    }
    match tokio_tungstenite::connect_async(request).await {
        Ok((socket, _)) => Ok(socket),
        Err(tokio_tungstenite::tungstenite::Error::Http(response)) => {
            Err(response.status().as_u16())
        }
        Err(e) => panic!("websocket: {e}"),
    }
}

/// A y-websocket client written with yrs.
struct YClient {
    socket: Socket,
    doc: Doc,
    denied: usize,
    /// Presence frames received.
    presence: usize,
    /// The presence states this client knows of, by client id (as JSON).
    states: std::collections::HashMap<u64, String>,
    /// Sync step 2 messages received (the server's answer to this client's step 1, sent once
    /// everything it accepted is stored).
    answers: usize,
    closed: Option<u16>,
}

fn utf16_doc() -> Doc {
    Doc::with_options(Options {
        offset_kind: OffsetKind::Utf16,
        ..Options::default()
    })
}

impl YClient {
    /// Connects to a topic's document, once its text has arrived.
    async fn connect(url: &str, headers: &[(&str, String)]) -> YClient {
        YClient::connect_until(url, headers, |c| !c.text().is_empty()).await
    }

    /// Connects to a subject's structure, once its tree has arrived.
    async fn connect_map(url: &str, headers: &[(&str, String)]) -> YClient {
        YClient::connect_until(url, headers, |c| c.tree().is_some()).await
    }

    async fn connect_until(
        url: &str,
        headers: &[(&str, String)],
        ready: impl Fn(&YClient) -> bool,
    ) -> YClient {
        let socket = open(url, headers).await.expect("handshake accepted");
        let mut client = YClient {
            socket,
            doc: utf16_doc(),
            denied: 0,
            presence: 0,
            states: Default::default(),
            answers: 0,
            closed: None,
        };
        let sv = client.doc.transact().state_vector();
        client
            .send(YMessage::Sync(SyncMessage::SyncStep1(sv)).encode_v1())
            .await;
        // Until the server's step 2 (the document) has arrived.
        let deadline = Instant::now() + Duration::from_secs(10);
        while !ready(&client) && Instant::now() < deadline {
            client.pump(Duration::from_millis(200)).await;
        }
        client
    }

    /// Connects again (to any replica) and syncs both ways: the server's sync step 1 makes
    /// this client send what the server lacks, this client's makes the server send the rest.
    async fn reconnect(&mut self, url: &str) {
        self.socket = open(url, &[]).await.expect("handshake accepted");
        self.closed = None;
        let sv = self.doc.transact().state_vector();
        self.send(YMessage::Sync(SyncMessage::SyncStep1(sv)).encode_v1())
            .await;
        self.pump(Duration::from_millis(300)).await;
    }

    async fn send(&mut self, frame: Vec<u8>) {
        let _ = self.socket.send(Message::Binary(frame.into())).await;
    }

    fn text(&self) -> String {
        let text = self.doc.get_or_insert_text("body");
        text.get_string(&self.doc.transact())
    }

    /// The subject's tree, as this client's copy of its structure resolves.
    fn tree(&self) -> Option<Tree> {
        Structure::new(&self.doc).read(&self.doc.transact())
    }

    /// Topic `id`'s title as this client's copy of the structure holds it, in the trash too.
    fn title_of(&self, id: i64) -> String {
        let txn = self.doc.transact();
        let title = txn
            .get_map(arbor_map::NODES)
            .and_then(|nodes| nodes.get(&txn, &id.to_string()))
            .and_then(|node| match node {
                yrs::Out::YMap(node) => node.get(&txn, "title"),
                _ => None,
            });
        match title {
            Some(yrs::Out::YText(text)) => text.get_string(&txn),
            _ => String::new(),
        }
    }

    /// Changes the structure and sends the update.
    async fn change_map(&mut self, f: impl FnOnce(&Structure, &mut yrs::TransactionMut)) {
        let structure = Structure::new(&self.doc);
        let before = self.doc.transact().state_vector();
        f(&structure, &mut self.doc.transact_mut());
        let update = self.doc.transact().encode_state_as_update_v1(&before);
        self.send(YMessage::Sync(SyncMessage::Update(update)).encode_v1())
            .await;
    }

    /// Handles incoming messages for `wait`; returns how many arrived.
    async fn pump(&mut self, wait: Duration) -> usize {
        let mut n = 0;
        let deadline = tokio::time::Instant::now() + wait;
        while let Ok(Some(message)) = tokio::time::timeout_at(deadline, self.socket.next()).await {
            let Ok(message) = message else {
                self.closed.get_or_insert(1006);
                break;
            };
            n += 1;
            match message {
                Message::Binary(frame) => {
                    let message =
                        YMessage::decode_v1(&frame).expect("the server speaks the protocol");
                    match message {
                        YMessage::Sync(SyncMessage::SyncStep1(sv)) => {
                            let diff = self.doc.transact().encode_state_as_update_v1(&sv);
                            self.send(YMessage::Sync(SyncMessage::SyncStep2(diff)).encode_v1())
                                .await;
                        }
                        YMessage::Sync(SyncMessage::SyncStep2(u)) => {
                            self.answers += 1;
                            self.doc
                                .transact_mut()
                                .apply_update(Update::decode_v1(&u).unwrap())
                                .unwrap();
                        }
                        YMessage::Sync(SyncMessage::Update(u)) => {
                            self.doc
                                .transact_mut()
                                .apply_update(Update::decode_v1(&u).unwrap())
                                .unwrap();
                        }
                        YMessage::Auth(Some(_)) => self.denied += 1,
                        YMessage::Awareness(update) => {
                            self.presence += 1;
                            for (client, entry) in update.clients {
                                if &*entry.json == "null" {
                                    self.states.remove(&client.get());
                                } else {
                                    self.states.insert(client.get(), entry.json.to_string());
                                }
                            }
                        }
                        _ => {}
                    }
                }
                Message::Close(frame) => {
                    self.closed = Some(frame.map_or(1005, |f| u16::from(f.code)));
                    break;
                }
                _ => {}
            }
        }
        n
    }

    /// Edits the body and sends the update.
    async fn edit(&mut self, f: impl FnOnce(&yrs::TextRef, &mut yrs::TransactionMut)) {
        let text = self.doc.get_or_insert_text("body");
        let before = self.doc.transact().state_vector();
        {
            let mut txn = self.doc.transact_mut();
            f(&text, &mut txn);
        }
        let update = self.doc.transact().encode_state_as_update_v1(&before);
        self.send(YMessage::Sync(SyncMessage::Update(update)).encode_v1())
            .await;
    }

    /// Asks whether everything this client sent is saved (a sync step 1) and waits for the
    /// answer, as the editor's "all changes saved" does.
    async fn saved(&mut self) {
        let before = self.answers;
        let sv = self.doc.transact().state_vector();
        self.send(YMessage::Sync(SyncMessage::SyncStep1(sv)).encode_v1())
            .await;
        let deadline = Instant::now() + Duration::from_secs(10);
        while self.answers == before {
            assert!(Instant::now() < deadline, "no answer to a sync step 1");
            self.pump(Duration::from_millis(50)).await;
        }
    }

    /// Pumps until nothing has arrived for `quiet`.
    async fn settle(&mut self, quiet: Duration) {
        while self.pump(quiet).await > 0 && self.closed.is_none() {}
    }
}

/// Runs the stock Node client; resolves to the text it ended with.
fn node_client(
    url: String,
    doc: String,
    token: String,
    seed: u32,
    edits: u32,
) -> tokio::process::Child {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../interop");
    assert!(
        std::path::Path::new(dir).join("node_modules/yjs").exists(),
        "interop/node_modules is missing: run scripts/setup.sh --test"
    );
    tokio::process::Command::new("node")
        .arg("edit.mjs")
        .args([
            url,
            doc,
            token,
            seed.to_string(),
            edits.to_string(),
            "2500".into(),
        ])
        .current_dir(dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("node runs")
}

async fn node_text(mut child: tokio::process::Child) -> String {
    let mut out = String::new();
    let mut err = String::new();
    child
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut out)
        .await
        .unwrap();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut err)
        .await
        .unwrap();
    let status = child.wait().await.unwrap();
    assert!(status.success(), "node client failed: {status}\n{err}");
    let v: Value = serde_json::from_str(out.trim()).unwrap_or_else(|_| panic!("{out}\n{err}"));
    v["text"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn stock_npm_clients_and_a_yrs_client_converge_and_the_page_shows_the_result() {
    for backend in backends() {
        let app = TestApp::spawn(backend, &[]).await;
        let users = quick_users(&app, "interop", 1).await;
        let owner = &users[0].1;
        let (slug, topic) = subject_with_topic(&app, owner, "Interop", "Start ✓ ").await;
        let token = token(&app, owner).await;
        let doc = format!("topic:{topic}");
        let base = ws_url(&app, "/collab");

        let mut rust = YClient::connect(&format!("{base}/{doc}?token={token}"), &[]).await;
        assert_eq!(rust.text(), "Start ✓ ", "seeded from the stored body");
        let a = node_client(base.clone(), doc.clone(), token.clone(), 7, 40);
        let b = node_client(base.clone(), doc.clone(), token.clone(), 99, 40);
        for i in 0..30u32 {
            let piece = ["ẞ", "🌲", "ção", "日本", "x\u{308}"][i as usize % 5];
            rust.edit(|t, txn| {
                let len = t.len(txn);
                // UTF-16 positions: at the start, in the middle of the ASCII prefix, or the end.
                let at = [0, len.min(3), len][i as usize % 3];
                t.insert(txn, at, piece);
            })
            .await;
            rust.pump(Duration::from_millis(5)).await;
        }
        let (text_a, text_b) = tokio::join!(node_text(a), node_text(b));
        rust.settle(Duration::from_millis(2500)).await;
        let text_rust = rust.text();
        assert_eq!(text_a, text_b, "{backend:?}: the npm clients disagree");
        assert_eq!(text_a, text_rust, "{backend:?}: npm and yrs disagree");
        // Both kinds of client left their mark (deletions by the npm clients may take a few
        // pieces, never all of 110 inserts).
        assert!(
            ["🌳", "世界", "👩‍💻", "e\u{301}"]
                .iter()
                .any(|p| text_a.contains(p))
        );
        assert!(
            ["🌲", "ẞ", "ção", "日本", "x\u{308}"]
                .iter()
                .any(|p| text_a.contains(p))
        );
        assert!(text_a.chars().count() > 100, "{text_a:?}");

        // The rendered snapshot follows within a few seconds (debounced).
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            let body = topic_body(&app, owner, &slug, topic).await;
            if body == text_a {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "{backend:?}: the page still shows {body:?}"
            );
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
        // A second replica on the same database loads the same text from the stored log.
        let replica = app.spawn_replica(&[]).await;
        let late = YClient::connect(
            &format!("{}/{doc}?token={token}", ws_url(&replica, "/collab")),
            &[],
        )
        .await;
        assert_eq!(late.text(), text_a);
        replica.stop().await;
        app.stop().await;
    }
}

/// A page asked for right after the editor heard "saved" shows the edit: the rendered row
/// lags the live document (it is refreshed once editing goes quiet), so the page, the API
/// and the cache read ahead of it.
#[tokio::test]
async fn a_page_read_after_saved_shows_the_edit_on_any_replica_and_through_the_cache() {
    for backend in backends() {
        let app = TestApp::spawn(backend, &[]).await;
        let users = quick_users(&app, "fresh", 1).await;
        let owner = &users[0].1;
        let (slug, topic) = subject_with_topic(&app, owner, "Fresh", "Old text. ").await;
        make_public(&app, owner, &slug).await;
        let token = token(&app, owner).await;
        let doc = format!("topic:{topic}");
        let page = format!("/s/{slug}/t/{topic}-live");
        let anon = app.new_client();
        let read_page = |path: String| {
            let anon = anon.clone();
            let url = app.url(&path);
            async move {
                let r = anon.get(url).send().await.unwrap();
                assert_eq!(r.status(), StatusCode::OK, "{path}");
                let cache = r
                    .headers()
                    .get("x-arbor-cache")
                    .map(|v| v.to_str().unwrap().to_owned());
                (r.text().await.unwrap(), cache)
            }
        };
        // Cached while nobody edits.
        for _ in 0..2 {
            let (html, _) = read_page(page.clone()).await;
            assert!(html.contains("Old text."), "{backend:?}");
        }
        assert_eq!(read_page(page.clone()).await.1.as_deref(), Some("hit"));

        let mut editor = YClient::connect(
            &format!("{}/{doc}?token={token}", ws_url(&app, "/collab")),
            &[],
        )
        .await;
        for (i, word) in ["New", " words", " typed", " live."].iter().enumerate() {
            editor
                .edit(|t, txn| {
                    let len = t.len(txn);
                    t.insert(txn, len, word);
                })
                .await;
            editor.saved().await;
            let so_far = ["New", " words", " typed", " live."][..=i].concat();
            // At once, well inside the row's refresh delay: the API, the page (not from the
            // cache), and a second replica that has no room for the document.
            assert!(
                topic_body(&app, owner, &slug, topic)
                    .await
                    .ends_with(&so_far),
                "{backend:?}: the API is behind after {so_far:?}"
            );
            let (html, cache) = read_page(page.clone()).await;
            assert!(
                html.contains(&so_far),
                "{backend:?}: the page is behind after {so_far:?}"
            );
            assert_ne!(cache.as_deref(), Some("hit"), "{backend:?}");
        }
        let replica = app.spawn_replica(&[]).await;
        let r = app
            .new_client()
            .get(replica.url(&page))
            .send()
            .await
            .unwrap();
        assert!(
            r.text().await.unwrap().contains("New words typed live."),
            "{backend:?}: another replica is behind"
        );
        replica.stop().await;
        // Once the row is refreshed, the page is cached again.
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            let (html, cache) = read_page(page.clone()).await;
            if cache.as_deref() == Some("hit") {
                assert!(
                    html.contains("New words typed live."),
                    "{backend:?}: a stale page was cached"
                );
                break;
            }
            assert!(Instant::now() < deadline, "{backend:?}: never cached again");
            tokio::time::sleep(Duration::from_millis(300)).await;
        }
        app.stop().await;
    }
}

#[tokio::test]
async fn handshakes_are_authenticated_and_roles_apply_live() {
    for backend in backends() {
        let app = TestApp::spawn(backend, &[]).await;
        let users = quick_sessions(&app, "roles", 3).await;
        let owner = &users[0].1;
        let (slug, topic) = subject_with_topic(&app, owner, "Roles", "private text").await;
        let url = ws_url(&app, &format!("/collab/topic:{topic}"));
        let session_of = |i: usize| users[i].2.clone();
        let origin = ("origin", app.base.clone());

        // Strangers, signed-out readers and made-up documents get 404; a bad token 401; a
        // session cookie from another site 403.
        assert_eq!(open(&url, &[]).await.err(), Some(404));
        assert_eq!(
            open(&ws_url(&app, "/collab/topic:999999"), &[]).await.err(),
            Some(404)
        );
        assert_eq!(
            open(&ws_url(&app, "/collab/nonsense"), &[]).await.err(),
            Some(404)
        );
        assert_eq!(
            open(&format!("{url}?token=nope"), &[]).await.err(),
            Some(401)
        );
        assert_eq!(
            open(
                &url,
                &[
                    ("cookie", session_of(0)),
                    ("origin", "https://evil.example".into())
                ]
            )
            .await
            .err(),
            Some(403)
        );

        for (user, role) in [("roles1", "viewer"), ("roles2", "editor")] {
            let (status, v) = send(
                owner
                    .put(app.url(&format!("/api/v1/subjects/{slug}/members/{user}")))
                    .json(&json!({"role": role})),
            )
            .await;
            assert_eq!(status, StatusCode::OK, "{v}");
        }

        // A viewer syncs and reads but cannot write.
        let mut v = YClient::connect(&url, &[("cookie", session_of(1)), origin.clone()]).await;
        assert_eq!(v.text(), "private text");
        v.edit(|t, txn| t.insert(txn, 0, "vandal ")).await;
        v.pump(Duration::from_millis(300)).await;
        assert_eq!(v.denied, 1, "refused with the auth message");
        let mut e = YClient::connect(&url, &[("cookie", session_of(2)), origin.clone()]).await;
        assert_eq!(
            e.text(),
            "private text",
            "the refused edit never reached the room"
        );
        e.edit(|t, txn| t.insert(txn, 0, "edited ")).await;
        e.pump(Duration::from_millis(300)).await;
        v.pump(Duration::from_millis(300)).await;
        assert_eq!(e.text(), "edited private text");
        // The viewer sees the edit (beside its own refused one, which only it holds).
        assert!(v.text().contains("edited "), "{}", v.text());

        // Demoting the editor makes its socket read-only at once; removing the viewer closes
        // its socket with 4403, within a second.
        let started = Instant::now();
        send(
            owner
                .put(app.url(&format!("/api/v1/subjects/{slug}/members/roles2")))
                .json(&json!({"role": "viewer"})),
        )
        .await;
        send(owner.delete(app.url(&format!("/api/v1/subjects/{slug}/members/roles1")))).await;
        while v.closed.is_none() && started.elapsed() < Duration::from_secs(3) {
            v.pump(Duration::from_millis(50)).await;
        }
        assert_eq!(v.closed, Some(4403));
        assert!(
            started.elapsed() < Duration::from_secs(1),
            "{:?}",
            started.elapsed()
        );
        e.pump(Duration::from_millis(200)).await;
        assert_eq!(e.denied, 1, "the demoted editor is told at once");
        e.edit(|t, txn| t.insert(txn, 0, "late ")).await;
        e.pump(Duration::from_millis(300)).await;
        assert_eq!(e.denied, 2, "and its next edit is refused");
        assert_eq!(e.closed, None);

        // Promoted back, its read-only socket is closed with "reconnect", within a second,
        // and the new connection may write.
        let started = Instant::now();
        send(
            owner
                .put(app.url(&format!("/api/v1/subjects/{slug}/members/roles2")))
                .json(&json!({"role": "editor"})),
        )
        .await;
        while e.closed.is_none() && started.elapsed() < Duration::from_secs(3) {
            e.pump(Duration::from_millis(50)).await;
        }
        assert_eq!(e.closed, Some(arbor_collab::Close::PROMOTED));
        assert!(started.elapsed() < Duration::from_secs(1));
        let mut again = YClient::connect(&url, &[("cookie", session_of(2)), origin.clone()]).await;
        again.edit(|t, txn| t.insert(txn, 0, "promoted ")).await;
        again.pump(Duration::from_millis(300)).await;
        assert_eq!(again.denied, 0);
        assert!(
            again.text().starts_with("promoted edited "),
            "{}",
            again.text()
        );
        app.stop().await;
    }
}

#[tokio::test]
async fn hostile_frames_close_only_their_sender_and_form_edits_reach_live_editors() {
    for backend in backends() {
        let app = TestApp::spawn(backend, &[]).await;
        let users = quick_users(&app, "hostile", 1).await;
        let owner = &users[0].1;
        let (slug, topic) = subject_with_topic(&app, owner, "Hostile", "safe").await;
        let token = token(&app, owner).await;
        let url = ws_url(&app, &format!("/collab/topic:{topic}?token={token}"));
        let mut good = YClient::connect(&url, &[]).await;

        // Each bad frame closes its own connection with the protocol's code.
        let mut update = vec![1, 1, 42, 0, 8, 1, 1, b'a', 1];
        update.extend(std::iter::repeat_n([117u8, 1], 100_000).flatten());
        update.extend([126, 0]);
        let deep = arbor_collab::update_message(&update);
        let cases: Vec<(Message, u16)> = vec![
            (Message::Binary(vec![0, 2, 9, 1].into()), 4400),
            (Message::Binary(vec![7].into()), 4400),
            (
                Message::Binary(vec![0, 0, 4, 0xff, 0xff, 0xff, 0x7f].into()),
                4400,
            ),
            (Message::Binary(deep.into()), 4400),
            (Message::Text("hello".into()), 4400),
            (Message::Binary(vec![0u8; 3 << 20].into()), 4413),
        ];
        for (frame, code) in cases {
            let mut bad = YClient::connect(&url, &[]).await;
            bad.socket.send(frame).await.ok();
            bad.pump(Duration::from_secs(2)).await;
            assert_eq!(bad.closed, Some(code));
        }
        good.edit(|t, txn| t.insert(txn, 4, " and sound")).await;
        good.pump(Duration::from_millis(200)).await;
        assert_eq!(good.closed, None);
        assert_eq!(good.text(), "safe and sound");

        // A plain-form edit goes through the document: the live editor sees it.
        let (status, v) = send(
            owner
                .patch(app.url(&format!("/api/v1/subjects/{slug}/topics/{topic}")))
                .json(&json!({"body": "safe and sound, 🌳 edited by form"})),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{v}");
        good.pump(Duration::from_millis(500)).await;
        assert_eq!(good.text(), "safe and sound, 🌳 edited by form");
        assert_eq!(
            topic_body(&app, owner, &slug, topic).await,
            "safe and sound, 🌳 edited by form"
        );
        app.stop().await;
    }
}

#[tokio::test]
async fn edits_and_presence_cross_replicas_through_redis() {
    let Some((a, b)) = replicas_through_redis().await else {
        return;
    };
    let users = quick_users(&a, "relay", 1).await;
    let owner = &users[0].1;
    let (_, topic) = subject_with_topic(&a, owner, "Relay", "shared ").await;
    let token = token(&a, owner).await;
    let path = format!("/collab/topic:{topic}?token={token}");
    let mut x = YClient::connect(&ws_url(&a, &path), &[]).await;
    let mut y = YClient::connect(&ws_url(&b, &path), &[]).await;

    // An edit on A reaches the client on B live, without a reconnect, and back.
    x.edit(|t, txn| t.insert(txn, 0, "🌳A ")).await;
    let deadline = Instant::now() + Duration::from_secs(3);
    while !y.text().contains("🌳A") && Instant::now() < deadline {
        y.pump(Duration::from_millis(50)).await;
    }
    assert_eq!(y.text(), "🌳A shared ");
    y.edit(|t, txn| {
        let len = t.len(txn);
        t.insert(txn, len, "B世界");
    })
    .await;
    let deadline = Instant::now() + Duration::from_secs(3);
    while !x.text().ends_with("B世界") && Instant::now() < deadline {
        x.pump(Duration::from_millis(50)).await;
    }
    assert_eq!(x.text(), "🌳A shared B世界");

    // Presence crosses too.
    let state = br#"{"user":{"name":"x"}}"#;
    let mut awareness = vec![1u8, 7, 1, state.len() as u8];
    awareness.extend_from_slice(state);
    let mut frame = vec![1u8, awareness.len() as u8];
    frame.extend(awareness);
    let before = y.presence;
    x.send(frame).await;
    let deadline = Instant::now() + Duration::from_secs(3);
    while y.presence == before && Instant::now() < deadline {
        y.pump(Duration::from_millis(50)).await;
    }
    assert!(y.presence > before, "presence relayed");

    // Concurrent edits on both replicas converge.
    for i in 0..20u32 {
        x.edit(|t, txn| t.insert(txn, 0, "x")).await;
        y.edit(|t, txn| {
            let len = t.len(txn);
            t.insert(txn, len.min(i + 2), "y");
        })
        .await;
        x.pump(Duration::from_millis(2)).await;
        y.pump(Duration::from_millis(2)).await;
    }
    x.settle(Duration::from_millis(800)).await;
    y.settle(Duration::from_millis(800)).await;
    assert_eq!(x.text(), y.text());
    assert_eq!(x.text().matches('x').count(), 20);
    assert_eq!(y.text().matches('y').count(), 20);
    b.stop().await;
    a.stop().await;
}

/// An `arbor` process (the real binary), for tests that kill one.
struct Process {
    child: tokio::process::Child,
    base: String,
}

impl Process {
    async fn start(database_url: &str, redis_url: &str, prefix: &str) -> Process {
        let port = PrivateRedis::free_port().unwrap();
        let child = tokio::process::Command::new(env!("CARGO_BIN_EXE_arbor"))
            .args(["--addr", &format!("127.0.0.1:{port}")])
            .args(["--database-url", database_url])
            .args(["--redis-url", redis_url, "--redis-prefix", prefix])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .unwrap();
        let base = format!("127.0.0.1:{port}");
        for _ in 0..200 {
            if reqwest::get(format!("http://{base}/healthz")).await.is_ok() {
                return Process { child, base };
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("arbor did not come up");
    }

    fn ws(&self, path: &str) -> String {
        format!("ws://{}{path}", self.base)
    }
}

/// Inserts `token` at the start or the end of the text (by `i`), so no token is ever split by
/// another and each can be found whole at the end.
async fn mark(client: &mut YClient, token: &str, i: usize) {
    client
        .edit(|t, txn| {
            let at = if i.is_multiple_of(2) { 0 } else { t.len(txn) };
            t.insert(txn, at, token);
        })
        .await;
    client.pump(Duration::from_millis(3)).await;
}

#[tokio::test]
async fn a_killed_replica_and_a_restarted_redis_lose_nothing() {
    if common::service_url("ARBOR_TEST_REDIS_URL").is_none() {
        return;
    }
    // Postgres when available (the deployment this is about), else SQLite.
    let backend = *backends().last().unwrap();
    let app = TestApp::spawn(backend, &[]).await;
    let users = quick_users(&app, "kill", 1).await;
    let owner = &users[0].1;
    let (_, topic) = subject_with_topic(&app, owner, "Kill", "start ").await;
    let token = token(&app, owner).await;
    let path = format!("/collab/topic:{topic}?token={token}");
    let redis_port = PrivateRedis::free_port().unwrap();
    let mut redis = PrivateRedis::start_on(redis_port).expect("redis-server runs");
    let prefix = format!("arbor-kill-{}:", rand::random::<u64>());
    let mut p1 = Process::start(&app.database_url, &redis.url, &prefix).await;
    let p2 = Process::start(&app.database_url, &redis.url, &prefix).await;
    let mut x = YClient::connect(&p1.ws(&path), &[]).await;
    let mut y = YClient::connect(&p2.ws(&path), &[]).await;
    let mut tokens = Vec::new();

    // Both edit through their own replica.
    for i in 0..10 {
        let (tx, ty) = (format!("x{i};"), format!("y{i};"));
        mark(&mut x, &tx, i).await;
        mark(&mut y, &ty, i).await;
        tokens.extend([tx, ty]);
    }
    // Redis stops mid-edit: each replica keeps serving its own client…
    redis.kill();
    for i in 10..20 {
        let (tx, ty) = (format!("x{i};"), format!("y{i};"));
        mark(&mut x, &tx, i).await;
        mark(&mut y, &ty, i).await;
        tokens.extend([tx, ty]);
    }
    assert_eq!(x.closed, None);
    assert_eq!(y.closed, None);
    // …and when it is back, the replicas repair from the log and the clients converge
    // without reconnecting.
    let _redis = PrivateRedis::start_on(redis_port).expect("redis-server restarts");
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        x.pump(Duration::from_millis(100)).await;
        y.pump(Duration::from_millis(100)).await;
        if x.text() == y.text() && tokens.iter().all(|t| x.text().contains(t.as_str())) {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "no convergence after Redis returned:\n{}\n{}",
            x.text(),
            y.text()
        );
    }

    // Replica 1 is killed mid-edit; its client goes on offline, then reconnects to replica 2.
    for i in 20..25 {
        let (tx, ty) = (format!("x{i};"), format!("y{i};"));
        mark(&mut x, &tx, i).await;
        mark(&mut y, &ty, i).await;
        tokens.extend([tx, ty]);
    }
    p1.child.start_kill().unwrap();
    let _ = p1.child.wait().await;
    for i in 25..30 {
        let (tx, ty) = (format!("x{i};"), format!("y{i};"));
        mark(&mut x, &tx, i).await;
        mark(&mut y, &ty, i).await;
        tokens.extend([tx, ty]);
    }
    x.reconnect(&p2.ws(&path)).await;
    x.settle(Duration::from_millis(800)).await;
    y.settle(Duration::from_millis(800)).await;
    assert_eq!(x.text(), y.text());
    for t in &tokens {
        assert!(x.text().contains(t.as_str()), "{t} lost: {}", x.text());
    }
    // Everything is in the database: a server that never saw the room loads it all.
    let fresh = YClient::connect(&ws_url(&app, &path), &[]).await;
    assert_eq!(fresh.text(), x.text());
    drop(p2);
    app.stop().await;
}

/// The tree the API serves: id → (parent, title, children in order).
type Shape = std::collections::BTreeMap<i64, (Option<i64>, String, Vec<i64>)>;

async fn api_shape(app: &TestApp, client: &Client, slug: &str) -> Shape {
    fn walk(node: &Value, parent: Option<i64>, out: &mut Shape) {
        let id = node["id"].as_i64().unwrap();
        let children: Vec<&Value> = node["children"].as_array().unwrap().iter().collect();
        let ids = children.iter().map(|c| c["id"].as_i64().unwrap()).collect();
        out.insert(
            id,
            (parent, node["title"].as_str().unwrap().to_owned(), ids),
        );
        for child in children {
            walk(child, Some(id), out);
        }
    }
    let (status, v) = send(client.get(app.url(&format!("/api/v1/subjects/{slug}")))).await;
    assert_eq!(status, StatusCode::OK, "{v}");
    let mut shape = Shape::new();
    walk(&v["root"], None, &mut shape);
    shape
}

fn shape_of(tree: &Tree) -> Shape {
    tree.nodes
        .iter()
        .map(|(id, n)| (*id, (n.parent, n.title.clone(), n.children.clone())))
        .collect()
}

/// Waits until the API serves `want` (the rows follow live changes shortly).
async fn until_projected(app: &TestApp, client: &Client, slug: &str, want: &Shape) {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let shape = api_shape(app, client, slug).await;
        if &shape == want {
            return;
        }
        assert!(Instant::now() < deadline, "rows {shape:?}\nmap {want:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn new_topic(app: &TestApp, client: &Client, slug: &str, body: Value) -> i64 {
    let (status, v) = send(
        client
            .post(app.url(&format!("/api/v1/subjects/{slug}/topics")))
            .json(&body),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{v}");
    v["id"].as_i64().unwrap()
}

#[tokio::test]
async fn the_map_is_one_live_document_that_the_api_and_live_editors_share() {
    for backend in backends() {
        let app = TestApp::spawn(backend, &[]).await;
        let users = quick_sessions(&app, "mapper", 3).await;
        let owner = &users[0].1;
        let origin = ("origin", app.base.clone());
        let cookie = |i: usize| ("cookie", users[i].2.clone());
        let (status, v) = send(
            owner
                .post(app.url("/api/v1/subjects"))
                .json(&json!({"title": "Live map", "visibility": "private"})),
        )
        .await;
        assert_eq!(status, StatusCode::CREATED, "{v}");
        let slug = v["slug"].as_str().unwrap().to_owned();
        for (user, role) in [("mapper1", "editor"), ("mapper2", "viewer")] {
            let path = format!("/api/v1/subjects/{slug}/members/{user}");
            let (status, v) = send(owner.put(app.url(&path)).json(&json!({"role": role}))).await;
            assert_eq!(status, StatusCode::OK, "{v}");
        }
        let (_, v) = send(owner.get(app.url(&format!("/api/v1/subjects/{slug}")))).await;
        let root = v["root"]["id"].as_i64().unwrap();
        let url = ws_url(
            &app,
            &format!("/collab/{}", v["map_document"].as_str().unwrap()),
        );

        // Topics made through the API are in the live document.
        let a = new_topic(&app, owner, &slug, json!({"title": "A", "parent_id": root})).await;
        let b = new_topic(&app, owner, &slug, json!({"title": "B", "parent_id": root})).await;
        let c = new_topic(
            &app,
            owner,
            &slug,
            json!({"title": "C", "parent_id": a, "body": "gamma body"}),
        )
        .await;
        let mut one = YClient::connect_map(&url, &[cookie(0), origin.clone()]).await;
        let tree = one.tree().unwrap();
        assert_eq!(tree.root, root);
        assert_eq!(tree.nodes[&root].children, vec![a, b]);
        assert_eq!(tree.nodes[&c].parent, Some(a));
        assert_eq!(
            shape_of(&tree),
            api_shape(&app, owner, &slug).await,
            "the rows are the document's projection"
        );

        // Live changes (a new topic with an id the client made up, a rename) reach the rows.
        let live = (1_i64 << 40) + 17;
        one.change_map(|s, txn| {
            s.add(txn, live, b, 0, "Made live").unwrap();
            s.rename(txn, a, "Alpha").unwrap();
        })
        .await;
        // Its body can be opened at once: the handshake projects a topic it finds in a live
        // map but not yet in the rows.
        one.pump(Duration::from_millis(100)).await;
        let body_url = ws_url(&app, &format!("/collab/topic:{live}"));
        assert!(open(&body_url, &[cookie(0), origin.clone()]).await.is_ok());
        until_projected(&app, owner, &slug, &shape_of(&one.tree().unwrap())).await;
        let path = format!("/api/v1/subjects/{slug}/topics/{live}");
        let (status, v) = send(owner.get(app.url(&path))).await;
        assert_eq!(
            (status, v["title"].as_str()),
            (StatusCode::OK, Some("Made live"))
        );

        // Concurrent moves that close a cycle (A under B here, B under A there) resolve to
        // one valid tree, the same for both editors and in the rows.
        let mut two = YClient::connect_map(&url, &[cookie(1), origin.clone()]).await;
        assert_eq!(two.tree(), one.tree());
        one.change_map(|s, txn| s.move_to(txn, a, b, 0).unwrap())
            .await;
        two.change_map(|s, txn| s.move_to(txn, b, a, 0).unwrap())
            .await;
        one.settle(Duration::from_millis(400)).await;
        two.settle(Duration::from_millis(400)).await;
        let merged = one.tree().unwrap();
        assert_eq!(Some(&merged), two.tree().as_ref());
        assert!(merged.is_within(a, root) && merged.is_within(b, root));
        assert!(
            merged.is_within(a, b) != merged.is_within(b, a),
            "exactly one of the two moves stands"
        );
        until_projected(&app, owner, &slug, &shape_of(&merged)).await;

        // A viewer follows live but its changes are refused, and the map is untouched.
        let mut viewer = YClient::connect_map(&url, &[cookie(2), origin.clone()]).await;
        assert_eq!(viewer.tree().as_ref(), Some(&merged));
        viewer
            .change_map(|s, txn| s.rename(txn, root, "Vandalised").unwrap())
            .await;
        viewer.pump(Duration::from_millis(300)).await;
        assert_eq!(viewer.denied, 1);
        one.pump(Duration::from_millis(200)).await;
        assert_eq!(one.tree().as_ref(), Some(&merged));

        // Deleting through the API sends the subtree to the trash; the live editors see it
        // there, its topics leave the pages, and restoring brings back the text too.
        let path = format!("/api/v1/subjects/{slug}/topics/{a}");
        let (status, v) = send(owner.delete(app.url(&path))).await;
        assert_eq!(status, StatusCode::OK, "{v}");
        one.pump(Duration::from_millis(300)).await;
        let tree = one.tree().unwrap();
        assert!(tree.trash.contains_key(&a), "{:?}", tree.trash);
        assert!(!tree.nodes.contains_key(&c));
        let path = format!("/api/v1/subjects/{slug}/topics/{c}");
        assert_eq!(
            send(owner.get(app.url(&path))).await.0,
            StatusCode::NOT_FOUND
        );
        let (status, v) = send(owner.get(app.url(&format!("/api/v1/subjects/{slug}/trash")))).await;
        assert_eq!(status, StatusCode::OK, "{v}");
        assert_eq!(v["items"][0]["id"].as_i64(), Some(a));
        assert_eq!(v["items"][0]["title"], "Alpha");
        assert!(v["items"][0]["topics"].as_u64().unwrap() >= 2, "{v}");
        let viewer_trash = format!("/api/v1/subjects/{slug}/trash");
        assert_eq!(
            send(users[2].1.get(app.url(&viewer_trash))).await.0,
            StatusCode::FORBIDDEN
        );
        let restore = format!("/api/v1/subjects/{slug}/trash/{a}/restore");
        let (status, v) = send(owner.post(app.url(&restore))).await;
        assert_eq!(status, StatusCode::OK, "{v}");
        assert_eq!(topic_body(&app, owner, &slug, c).await, "gamma body");
        assert_eq!(
            send(owner.post(app.url(&restore))).await.0,
            StatusCode::NOT_FOUND
        );
        one.pump(Duration::from_millis(300)).await;
        let tree = one.tree().unwrap();
        assert!(tree.trash.is_empty() && tree.nodes.contains_key(&c));
        until_projected(&app, owner, &slug, &shape_of(&tree)).await;
        app.stop().await;
    }
}

/// Creates a subject through the API; returns (slug, root id, map document url path).
async fn new_subject(
    app: &TestApp,
    owner: &Client,
    title: &str,
    visibility: &str,
) -> (String, i64, String) {
    let (status, v) = send(
        owner
            .post(app.url("/api/v1/subjects"))
            .json(&json!({"title": title, "visibility": visibility})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{v}");
    let slug = v["slug"].as_str().unwrap().to_owned();
    let (_, v) = send(owner.get(app.url(&format!("/api/v1/subjects/{slug}")))).await;
    let root = v["root"]["id"].as_i64().unwrap();
    let doc = format!("/collab/{}", v["map_document"].as_str().unwrap());
    (slug, root, doc)
}

/// Waits until the rows of `slug` stop changing (the live projection runs within 2 s).
async fn projected(app: &TestApp, client: &Client, slug: &str) -> Shape {
    let mut last = api_shape(app, client, slug).await;
    loop {
        tokio::time::sleep(Duration::from_millis(1_200)).await;
        let now = api_shape(app, client, slug).await;
        if now == last {
            return now;
        }
        last = now;
    }
}

#[tokio::test]
async fn ids_a_client_writes_stay_in_their_own_space_and_the_limits_hold_live() {
    for backend in backends() {
        let app = TestApp::spawn(backend, &[]).await;
        let users = quick_sessions(&app, "squatter", 1).await;
        let owner = &users[0].1;
        let headers = [("cookie", users[0].2.clone()), ("origin", app.base.clone())];
        let (slug, root, doc) = new_subject(&app, owner, "Squatted", "private").await;
        let url = ws_url(&app, &doc);
        let mut client = YClient::connect_map(&url, &headers).await;

        // Ids no writer may invent: the largest integer, and the small ids the database's
        // own sequences hand out. Only the invented one gets a row.
        let invented = (1_i64 << 40) + 5;
        client
            .change_map(|s, txn| {
                s.add(txn, i64::MAX, root, 0, "Max").unwrap();
                for id in (1..=60).filter(|id| *id != root) {
                    s.add(txn, id, root, 0, "Small").unwrap();
                }
                s.add(txn, invented, root, 0, "Fine").unwrap();
            })
            .await;
        client.pump(Duration::from_millis(300)).await;
        assert_eq!(client.closed, None);
        let rows = projected(&app, owner, &slug).await;
        assert_eq!(
            rows.keys()
                .copied()
                .collect::<std::collections::BTreeSet<_>>(),
            [root, invented].into(),
            "{rows:?}"
        );
        // Creating subjects still works, and their roots are invented ids too.
        for title in ["After one", "After two"] {
            let (_, new_root, _) = new_subject(&app, owner, title, "private").await;
            assert!(((1 << 32)..(1 << 52)).contains(&new_root), "{new_root}");
        }

        // A structure update past 1,000 topics, or past 32 levels, is refused: 4413, and
        // nothing of it is applied, stored or relayed.
        let watcher = YClient::connect_map(&url, &headers).await;
        let before = watcher.tree().unwrap();
        // (id, parent) of the topics each update adds.
        let many: Vec<(i64, i64)> = (0..1_000).map(|i| ((1 << 41) + i, root)).collect();
        let deep: Vec<(i64, i64)> = (0..40)
            .map(|i| ((1 << 42) + i, if i == 0 { root } else { (1 << 42) + i - 1 }))
            .collect();
        for (what, added) in [("many", many), ("deep", deep)] {
            let mut bad = YClient::connect_map(&url, &headers).await;
            bad.change_map(|s, txn| {
                for (id, parent) in added {
                    s.add(txn, id, parent, usize::MAX, "t").unwrap();
                }
            })
            .await;
            bad.pump(Duration::from_secs(2)).await;
            assert_eq!(bad.closed, Some(4413), "{what}");
            let fresh = YClient::connect_map(&url, &headers).await;
            assert_eq!(fresh.tree().as_ref(), Some(&before), "{what}");
        }
        // Within the limits, the same client's work goes on.
        client
            .change_map(|s, txn| s.add(txn, (1 << 43) + 1, invented, 0, "Child").unwrap())
            .await;
        client.pump(Duration::from_millis(300)).await;
        assert_eq!(client.closed, None);
        let rows = projected(&app, owner, &slug).await;
        assert_eq!(rows.len(), 3, "{rows:?}");
        app.stop().await;
    }
}

#[tokio::test]
async fn the_trash_stays_with_its_subject_and_keeps_its_titles_from_readers() {
    for backend in backends() {
        let app = TestApp::spawn(backend, &[]).await;
        let users = quick_sessions(&app, "trasher", 2).await;
        let (victim, thief) = (&users[0].1, &users[1].1);
        let origin = ("origin", app.base.clone());

        // A private topic goes to its owner's trash.
        let (diary, diary_root, _) = new_subject(&app, victim, "Diary", "private").await;
        let secret = new_topic(
            &app,
            victim,
            &diary,
            json!({"title": "Secret", "parent_id": diary_root, "body": "my private body"}),
        )
        .await;
        let path = format!("/api/v1/subjects/{diary}/topics/{secret}");
        assert_eq!(send(victim.delete(app.url(&path))).await.0, StatusCode::OK);

        // Someone names its id in their own map: it stays out of their rows, its body unread.
        let (mine, mine_root, doc) = new_subject(&app, thief, "Mine", "private").await;
        let mut client = YClient::connect_map(
            &ws_url(&app, &doc),
            &[("cookie", users[1].2.clone()), origin.clone()],
        )
        .await;
        client
            .change_map(|s, txn| s.add(txn, secret, mine_root, 0, "Claimed").unwrap())
            .await;
        client.pump(Duration::from_millis(300)).await;
        let rows = projected(&app, thief, &mine).await;
        assert!(!rows.contains_key(&secret), "{rows:?}");
        let stolen = format!("/api/v1/subjects/{mine}/topics/{secret}");
        assert_eq!(
            send(thief.get(app.url(&stolen))).await.0,
            StatusCode::NOT_FOUND
        );
        // The owner's restore still works, body and all.
        let restore = format!("/api/v1/subjects/{diary}/trash/{secret}/restore");
        let (status, v) = send(victim.post(app.url(&restore))).await;
        assert_eq!(status, StatusCode::OK, "{v}");
        assert_eq!(
            topic_body(&app, victim, &diary, secret).await,
            "my private body"
        );

        // On a public subject, a signed-out reader syncing the map does not get the titles
        // of what is in the trash; restoring brings the title back, live and in the rows.
        let (public, public_root, doc) = new_subject(&app, victim, "Open", "public").await;
        let hidden = new_topic(
            &app,
            victim,
            &public,
            json!({"title": "Hidden title", "parent_id": public_root}),
        )
        .await;
        let path = format!("/api/v1/subjects/{public}/topics/{hidden}");
        assert_eq!(send(victim.delete(app.url(&path))).await.0, StatusCode::OK);
        let url = ws_url(&app, &doc);
        let reader = YClient::connect_map(&url, &[]).await;
        assert!(reader.tree().unwrap().trash.contains_key(&hidden));
        assert_eq!(reader.title_of(hidden), "");
        let (status, v) =
            send(victim.get(app.url(&format!("/api/v1/subjects/{public}/trash")))).await;
        assert_eq!(
            (status, v["items"][0]["title"].as_str()),
            (StatusCode::OK, Some("Hidden title"))
        );
        // Restored live (as the map editor's undo does): the server fills the title in.
        let mut editor =
            YClient::connect_map(&url, &[("cookie", users[0].2.clone()), origin.clone()]).await;
        editor
            .change_map(|s, txn| s.restore(txn, hidden).unwrap())
            .await;
        let rows = projected(&app, victim, &public).await;
        assert_eq!(rows[&hidden].1, "Hidden title", "{rows:?}");
        editor.pump(Duration::from_millis(300)).await;
        assert_eq!(editor.tree().unwrap().nodes[&hidden].title, "Hidden title");
        app.stop().await;
    }
}

/// `[1, awareness]` with one client's state (`"null"` removes it).
fn presence_frame(client: u64, clock: u32, json: &str) -> Vec<u8> {
    use yrs::sync::awareness::{AwarenessUpdate, AwarenessUpdateEntry};
    YMessage::Awareness(AwarenessUpdate {
        clients: [(
            yrs::block::ClientID::new(client),
            AwarenessUpdateEntry {
                clock,
                json: json.into(),
            },
        )]
        .into(),
    })
    .encode_v1()
}

/// Pumps `client` until it is closed or `limit` has passed; its close code.
async fn closed_within(client: &mut YClient, limit: Duration) -> Option<u16> {
    let started = Instant::now();
    while client.closed.is_none() && started.elapsed() < limit {
        client.pump(Duration::from_millis(25)).await;
    }
    client.closed
}

/// Pumps `client` until `done` holds or three seconds have passed.
async fn pump_until(client: &mut YClient, done: impl Fn(&YClient) -> bool) {
    let deadline = Instant::now() + Duration::from_secs(3);
    while !done(client) && Instant::now() < deadline {
        client.pump(Duration::from_millis(25)).await;
    }
}

async fn make_public(app: &TestApp, owner: &Client, slug: &str) {
    let (status, v) = send(
        owner
            .patch(app.url(&format!("/api/v1/subjects/{slug}")))
            .json(&json!({"visibility": "public"})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{v}");
}

#[tokio::test]
async fn presence_belongs_to_its_connection_and_floods_are_throttled() {
    for backend in backends() {
        let app = TestApp::spawn(backend, &[]).await;
        let users = quick_users(&app, "presence", 1).await;
        let owner = &users[0].1;
        let (slug, topic) = subject_with_topic(&app, owner, "Presence", "text").await;
        make_public(&app, owner, &slug).await;
        let token = token(&app, owner).await;
        let editor_url = ws_url(&app, &format!("/collab/topic:{topic}?token={token}"));
        let reader_url = ws_url(&app, &format!("/collab/topic:{topic}"));

        // The owner's caret, client id 7.
        let mut editor = YClient::connect(&editor_url, &[]).await;
        editor
            .send(presence_frame(7, 1, r#"{"cursor":"owner"}"#))
            .await;
        pump_until(&mut editor, |c| c.states.contains_key(&7)).await;

        // A signed-out reader claims client id 7: a removal at a later clock, then a state.
        let mut forger = YClient::connect(&reader_url, &[]).await;
        forger.send(presence_frame(7, 1_000, "null")).await;
        forger
            .send(presence_frame(7, 1_001, r#"{"cursor":"forged"}"#))
            .await;
        forger.pump(Duration::from_millis(300)).await;
        editor.pump(Duration::from_millis(300)).await;
        let observer = YClient::connect(&reader_url, &[]).await;
        for who in [&editor, &observer] {
            let state = who.states.get(&7).map(String::as_str).unwrap_or("gone");
            assert!(state.contains("owner"), "client 7 was taken over: {state}");
        }
        assert_eq!(forger.closed, None, "a foreign id is ignored, not fatal");

        // A signed-out reader floods presence (its own id, 4 KB states) while an editor is
        // not reading for a moment: the flood is cut at the door, the editor stays.
        let slow = open(&editor_url, &[]).await.expect("handshake accepted");
        let flooder = open(&reader_url, &[]).await.expect("handshake accepted");
        let (mut flood_tx, mut flood_rx) = flooder.split();
        let drain = tokio::spawn(async move { while let Some(Ok(_)) = flood_rx.next().await {} });
        let padding = "x".repeat(4_000);
        for clock in 1..=5_000u32 {
            let frame = presence_frame(99, clock, &format!(r#"{{"pad":"{padding}"}}"#));
            if flood_tx.send(Message::Binary(frame.into())).await.is_err() {
                break;
            }
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
        let mut slow = YClient {
            socket: slow,
            doc: utf16_doc(),
            denied: 0,
            presence: 0,
            states: Default::default(),
            answers: 0,
            closed: None,
        };
        slow.settle(Duration::from_millis(500)).await;
        assert_eq!(slow.closed, None, "the slow editor was dropped");
        assert!(
            slow.presence < 200,
            "{} presence frames relayed from a flood",
            slow.presence
        );
        drain.abort();
        app.stop().await;
    }
}

/// Signs `username` in with a client of its own; the client and its cookie
/// (`arbor_session=…`).
async fn signed_in(app: &TestApp, username: &str, password: &str) -> (Client, String) {
    let r = reqwest::Client::new()
        .post(app.url("/api/v1/auth/login"))
        .header("origin", &app.base)
        .json(&json!({"username": username, "password": password}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let cookie = r
        .headers()
        .get_all(reqwest::header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("arbor_session="))
        .and_then(|v| v.split(';').next())
        .unwrap()
        .to_owned();
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert(reqwest::header::COOKIE, cookie.parse().unwrap());
    headers.insert(reqwest::header::ORIGIN, app.base.parse().unwrap());
    let client = Client::builder().default_headers(headers).build().unwrap();
    (client, cookie)
}

#[tokio::test]
async fn revoking_a_sign_in_closes_its_live_sockets_within_a_second() {
    use common::GOOD_PASSWORD;
    for backend in backends() {
        let app = TestApp::spawn(backend, &[]).await;
        app.signup(&app.new_client(), "revoked", GOOD_PASSWORD)
            .await;
        let (owner, owner_cookie) = signed_in(&app, "revoked", GOOD_PASSWORD).await;
        let (_, topic) = subject_with_topic(&app, &owner, "Revoked", "text").await;
        let path = format!("/collab/topic:{topic}");
        let origin = ("origin", app.base.clone());
        let by_cookie = |cookie: &str| vec![("cookie", cookie.to_owned()), origin.clone()];
        let signed_out = Some(arbor_collab::Close::UNAUTHENTICATED);

        // Revoking the token of `?token=`.
        let (status, v) = send(
            owner
                .post(app.url("/api/v1/me/tokens"))
                .json(&json!({"name": "socket"})),
        )
        .await;
        assert_eq!(status, StatusCode::CREATED, "{v}");
        let url = ws_url(
            &app,
            &format!("{path}?token={}", v["token"].as_str().unwrap()),
        );
        let mut socket = YClient::connect(&url, &[]).await;
        let mut bystander = YClient::connect(&ws_url(&app, &path), &by_cookie(&owner_cookie)).await;
        let started = Instant::now();
        let revoke = app.url(&format!("/api/v1/me/tokens/{}", v["id"]));
        assert_eq!(send(owner.delete(revoke)).await.0, StatusCode::NO_CONTENT);
        assert_eq!(
            closed_within(&mut socket, Duration::from_secs(1)).await,
            signed_out
        );
        assert!(started.elapsed() < Duration::from_secs(1));
        assert!(
            open(&url, &[]).await.is_err(),
            "the token no longer opens one"
        );

        // Signing out.
        let (second, cookie) = signed_in(&app, "revoked", GOOD_PASSWORD).await;
        let mut socket = YClient::connect(&ws_url(&app, &path), &by_cookie(&cookie)).await;
        let (status, _) = send(second.post(app.url("/api/v1/auth/logout"))).await;
        assert!(status.is_success(), "{status}");
        assert_eq!(
            closed_within(&mut socket, Duration::from_secs(1)).await,
            signed_out
        );

        // Changing the password ends the other sessions' sockets, not the one that asked.
        let (_, cookie) = signed_in(&app, "revoked", GOOD_PASSWORD).await;
        let mut socket = YClient::connect(&ws_url(&app, &path), &by_cookie(&cookie)).await;
        let new_password = "quiet willow harbour 77";
        let (status, v) = send(
            owner
                .put(app.url("/api/v1/me/password"))
                .json(&json!({"current_password": GOOD_PASSWORD, "new_password": new_password})),
        )
        .await;
        assert!(status.is_success(), "{status} {v}");
        assert_eq!(
            closed_within(&mut socket, Duration::from_secs(1)).await,
            signed_out
        );
        bystander.pump(Duration::from_millis(200)).await;
        assert_eq!(
            bystander.closed, None,
            "the session that asked keeps its socket"
        );

        // Deleting the account ends them all.
        let (status, v) = send(
            owner
                .delete(app.url("/api/v1/me"))
                .json(&json!({"password": new_password})),
        )
        .await;
        assert!(status.is_success(), "{status} {v}");
        assert_eq!(
            closed_within(&mut bystander, Duration::from_secs(1)).await,
            signed_out
        );
        app.stop().await;
    }
}

#[tokio::test]
async fn revocation_and_presence_ownership_hold_across_replicas() {
    let Some((a, b)) = replicas_through_redis().await else {
        return;
    };
    let users = quick_users(&a, "across", 1).await;
    let owner = &users[0].1;
    let (slug, topic) = subject_with_topic(&a, owner, "Across", "text").await;
    make_public(&a, owner, &slug).await;
    let (status, v) = send(
        owner
            .post(a.url("/api/v1/me/tokens"))
            .json(&json!({"name": "socket"})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{v}");
    let path = format!(
        "/collab/topic:{topic}?token={}",
        v["token"].as_str().unwrap()
    );

    // The owner's caret on A cannot be taken from B.
    let mut x = YClient::connect(&ws_url(&a, &path), &[]).await;
    let mut y = YClient::connect(&ws_url(&b, &path), &[]).await;
    x.send(presence_frame(7, 1, r#"{"cursor":"owner"}"#)).await;
    pump_until(&mut y, |c| c.states.contains_key(&7)).await;
    let reader = format!("/collab/topic:{topic}");
    let mut forger = YClient::connect(&ws_url(&b, &reader), &[]).await;
    forger.send(presence_frame(7, 1_000, "null")).await;
    forger.pump(Duration::from_millis(500)).await;
    for replica in [&a, &b] {
        let observer = YClient::connect(&ws_url(replica, &reader), &[]).await;
        let state = observer
            .states
            .get(&7)
            .map(String::as_str)
            .unwrap_or("gone");
        assert!(state.contains("owner"), "client 7 was taken over: {state}");
    }

    // Revoking the token on A closes its socket on B within a second.
    let started = Instant::now();
    let revoke = a.url(&format!("/api/v1/me/tokens/{}", v["id"]));
    assert_eq!(send(owner.delete(revoke)).await.0, StatusCode::NO_CONTENT);
    assert_eq!(
        closed_within(&mut y, Duration::from_secs(1)).await,
        Some(arbor_collab::Close::UNAUTHENTICATED)
    );
    assert!(started.elapsed() < Duration::from_secs(1));
    b.stop().await;
    a.stop().await;
}

#[tokio::test]
async fn an_event_lost_while_one_replica_cannot_reach_redis_is_delivered_later() {
    let Ok(redis_url) = std::env::var("ARBOR_TEST_REDIS_URL") else {
        eprintln!("ARBOR_TEST_REDIS_URL not set: Redis leg skipped");
        return;
    };
    // Replica A reaches Redis through a proxy the test cuts; B reaches it directly.
    let proxy = common::CutProxy::start(&redis_url).await;
    let prefix = format!("arbor-test-{}:", rand::random::<u64>());
    let a = TestApp::spawn(
        common::Backend::Sqlite,
        &["--redis-url", &proxy.url, "--redis-prefix", &prefix],
    )
    .await;
    let b = a
        .spawn_replica(&["--redis-url", &redis_url, "--redis-prefix", &prefix])
        .await;
    let users = quick_sessions(&a, "lost", 2).await;
    let (owner, member_cookie) = (&users[0].1, users[1].2.clone());
    let (slug, topic) = subject_with_topic(&a, owner, "Lost", "text").await;
    make_public(&a, owner, &slug).await;
    let (status, _) = send(
        owner
            .put(a.url(&format!("/api/v1/subjects/{slug}/members/lost1")))
            .json(&json!({"role": "editor"})),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    // B caches the public page and holds the member's socket.
    let anon = b.new_client();
    let page = b.url(&format!("/s/{slug}"));
    for _ in 0..2 {
        assert_eq!(anon.get(&page).send().await.unwrap().status(), 200);
    }
    let mut member = YClient::connect(
        &ws_url(&b, &format!("/collab/topic:{topic}")),
        &[("cookie", member_cookie), ("origin", b.base.clone())],
    )
    .await;

    // While A cannot reach Redis, the subject turns private and the member is removed.
    proxy.cut();
    let (status, v) = send(
        owner
            .patch(a.url(&format!("/api/v1/subjects/{slug}")))
            .json(&json!({"visibility": "private"})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{v}");
    let (status, _) =
        send(owner.delete(a.url(&format!("/api/v1/subjects/{slug}/members/lost1")))).await;
    assert!(status.is_success(), "{status}");
    tokio::time::sleep(Duration::from_secs(1)).await;
    proxy.restore();

    // Once A reaches Redis again, B hears of it: the page is gone and the socket closed.
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let status = anon.get(&page).send().await.unwrap().status();
        member.pump(Duration::from_millis(200)).await;
        if status == StatusCode::NOT_FOUND && member.closed.is_some() {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "B still serves the page ({status}) and the member's socket is open: {:?}",
            member.closed
        );
    }
    assert_eq!(member.closed, Some(arbor_collab::Close::FORBIDDEN));
    b.stop().await;
    a.stop().await;
}

#[tokio::test]
async fn sockets_are_capped_per_client_address_and_per_user() {
    for backend in backends() {
        let app = TestApp::spawn(
            backend,
            &[
                "--collab-sockets-per-client",
                "4",
                "--collab-sockets-per-user",
                "2",
            ],
        )
        .await;
        let users = quick_users(&app, "capped", 1).await;
        let owner = &users[0].1;
        let (slug, topic) = subject_with_topic(&app, owner, "Capped", "text").await;
        make_public(&app, owner, &slug).await;
        let token = token(&app, owner).await;
        let reader = ws_url(&app, &format!("/collab/topic:{topic}"));
        let editor = ws_url(&app, &format!("/collab/topic:{topic}?token={token}"));

        // Two per user…
        let mut held = vec![
            open(&editor, &[]).await.unwrap(),
            open(&editor, &[]).await.unwrap(),
        ];
        let refused = tokio_tungstenite::connect_async(editor.as_str()).await;
        let Err(tokio_tungstenite::tungstenite::Error::Http(response)) = refused else {
            panic!("a third socket of one user was accepted");
        };
        assert_eq!(response.status().as_u16(), 429);
        assert!(response.headers().contains_key("retry-after"));
        // …and four per address, signed in or not.
        held.push(open(&reader, &[]).await.unwrap());
        held.push(open(&reader, &[]).await.unwrap());
        assert_eq!(open(&reader, &[]).await.err(), Some(429));
        // A closed socket frees its place.
        let mut first = held.remove(0);
        first.close(None).await.unwrap();
        while first.next().await.is_some() {}
        let deadline = Instant::now() + Duration::from_secs(2);
        let reopened = loop {
            match open(&reader, &[]).await {
                Ok(socket) => break socket,
                Err(429) if Instant::now() < deadline => {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
                Err(status) => panic!("{status}"),
            }
        };
        drop((held, reopened));
        app.stop().await;
    }
}
