//! Content and access are separate events: a like on a subject with a thousand live readers
//! runs no access query and touches no socket, while taking the subject private re-checks
//! every reader and closes them. One test in this binary, so the process-wide metrics it
//! reads are its own.

mod common;

use std::time::{Duration, Instant};

use common::{TestApp, backends, quick_users};
use futures_util::StreamExt as _;
use reqwest::StatusCode;
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

const READERS: usize = 1_000;

async fn send(r: reqwest::RequestBuilder) -> (StatusCode, Value) {
    let r = r.send().await.unwrap();
    let status = r.status();
    (status, r.json().await.unwrap_or(Value::Null))
}

/// The value of counter `name` in the server's `/metrics` (0 when not yet recorded).
async fn counter(app: &TestApp, name: &str) -> f64 {
    app.metrics()
        .await
        .lines()
        .find_map(|line| line.strip_prefix(name)?.trim().parse().ok())
        .unwrap_or(0.0)
}

/// The close code a socket receives within `limit`, skipping other frames.
async fn close_code(socket: &mut Socket, limit: Duration) -> Option<u16> {
    let deadline = Instant::now() + limit;
    loop {
        let left = deadline.checked_duration_since(Instant::now())?;
        match tokio::time::timeout(left, socket.next()).await {
            Ok(Some(Ok(Message::Close(frame)))) => return frame.map(|f| u16::from(f.code)),
            Ok(Some(Ok(_))) => {}
            Ok(Some(Err(_)) | None) => return Some(1006),
            Err(_) => return None,
        }
    }
}

#[tokio::test]
async fn a_like_touches_no_live_socket_and_going_private_closes_them_all() {
    for backend in backends() {
        let app = TestApp::spawn(backend, &["--collab-sockets-per-client", "2000"]).await;
        let users = quick_users(&app, "liker", 2).await;
        let (owner, fan) = (&users[0].1, &users[1].1);
        let (status, v) = send(
            owner
                .post(app.url("/api/v1/subjects"))
                .json(&json!({"title": "Crowded", "visibility": "public"})),
        )
        .await;
        assert_eq!(status, StatusCode::CREATED, "{v}");
        let slug = v["slug"].as_str().unwrap().to_owned();
        let (_, v) = send(owner.get(app.url(&format!("/api/v1/subjects/{slug}")))).await;
        let url = format!(
            "ws://{}/collab/{}",
            app.addr,
            v["map_document"].as_str().unwrap()
        );

        // A thousand signed-out readers of the live map.
        let mut readers = Vec::with_capacity(READERS);
        for _ in 0..READERS {
            let (socket, _) = tokio_tungstenite::connect_async(url.as_str())
                .await
                .unwrap();
            readers.push(socket);
        }
        let queries = "arbor_live_access_queries_total";
        let before = counter(&app, queries).await;

        // A like: the page's count changes at once, no reader is re-checked or closed.
        let (status, v) = send(fan.put(app.url(&format!("/api/v1/subjects/{slug}/like")))).await;
        assert_eq!(status, StatusCode::OK, "{v}");
        assert_eq!(v["likes"], 1, "{v}");
        tokio::time::sleep(Duration::from_secs(1)).await;
        assert_eq!(
            counter(&app, queries).await,
            before,
            "{backend:?}: a like ran access queries"
        );
        for socket in readers.iter_mut().step_by(97) {
            assert_eq!(close_code(socket, Duration::from_millis(50)).await, None);
        }

        // Going private is access: every reader is re-checked (one room, a few queries,
        // however many readers) and closed, as for anyone who may not read it.
        let (status, v) = send(
            owner
                .patch(app.url(&format!("/api/v1/subjects/{slug}")))
                .json(&json!({"visibility": "private"})),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{v}");
        for socket in &mut readers {
            assert_eq!(
                close_code(socket, Duration::from_secs(5)).await,
                Some(arbor_collab::Close::FORBIDDEN),
                "{backend:?}"
            );
        }
        let after = counter(&app, queries).await;
        assert!(
            after > before && after - before <= 3.0,
            "{backend:?}: {} access queries for one room",
            after - before
        );
        app.stop().await;
    }
}
