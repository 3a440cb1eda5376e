//! Test harness: starts the real server on a free port with a fresh database (a SQLite file, or
//! a throwaway Postgres database when `ARBOR_TEST_POSTGRES_URL` is set) and talks to it over
//! HTTP, like any client would.
#![allow(dead_code)] // each test binary uses a different part of the harness

use std::net::SocketAddr;
use std::sync::LazyLock;

use arbor::config::Cli;
use arbor_db::{Db, DbOptions};
use clap::Parser;

/// Servers run on one multi-threaded runtime that lives as long as the test process, as they do
/// in the real binary, rather than on each test's single-threaded runtime (which ends with
/// its test while background tasks of the server may still be running).
static SERVER_RUNTIME: LazyLock<tokio::runtime::Runtime> = LazyLock::new(|| {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
});

/// Which database a test server runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Says that a test (or one leg of it) is skipped because `why`; under `CI=true` fails it
/// instead, so a CI run cannot pass without running every leg.
pub fn skipped(why: &str) {
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!("{why}: under CI=true this must run, not be skipped");
    }
    eprintln!("{why}: skipped");
}

/// The URL of a service a suite needs (`ARBOR_TEST_POSTGRES_URL`, `ARBOR_TEST_REDIS_URL`), or
/// `None` after [`skipped`] when it is unset.
pub fn service_url(var: &str) -> Option<String> {
    let url = std::env::var(var).ok();
    if url.is_none() {
        skipped(&format!("{var} not set"));
    }
    url
}

/// SQLite always; Postgres too when the environment names a server.
pub fn backends() -> Vec<Backend> {
    let mut list = vec![Backend::Sqlite];
    if service_url("ARBOR_TEST_POSTGRES_URL").is_some() {
        list.push(Backend::Postgres);
    }
    list
}

pub struct TestApp {
    pub addr: SocketAddr,
    pub base: String,
    pub backend: Backend,
    /// A client that keeps cookies and sends a same-origin `Origin`, like a browser page.
    pub client: reqwest::Client,
    pub database_url: String,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    server: Option<tokio::task::JoinHandle<anyhow::Result<()>>>,
    pg_cleanup: Option<(String, String)>,
    _dir: tempfile::TempDir,
}

impl TestApp {
    /// Starts a server with extra command-line flags.
    pub async fn spawn(backend: Backend, flags: &[&str]) -> TestApp {
        // Server warnings and errors go to the test's output, shown when a test fails.
        let _ = tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::new("warn"))
            .with_test_writer()
            .try_init();
        let dir = tempfile::tempdir().unwrap();
        let (database_url, pg_cleanup) = match backend {
            Backend::Sqlite => (format!("sqlite://{}/arbor.db", dir.path().display()), None),
            Backend::Postgres => {
                let admin_url = std::env::var("ARBOR_TEST_POSTGRES_URL").unwrap();
                let prefix =
                    std::env::var("ARBOR_TEST_DB_PREFIX").unwrap_or_else(|_| "arbor_test_".into());
                let name = format!("{prefix}srv_{}", rand::random::<u64>());
                let admin = Db::connect(&admin_url, &DbOptions::default())
                    .await
                    .unwrap();
                admin
                    .execute_admin(&format!("CREATE DATABASE {name}"))
                    .await
                    .unwrap();
                admin.close().await;
                (url_with_db(&admin_url, &name), Some((admin_url, name)))
            }
        };
        Self::start(backend, database_url, pg_cleanup, dir, flags).await
    }

    /// Starts a second server (a replica) on this one's database.
    pub async fn spawn_replica(&self, flags: &[&str]) -> TestApp {
        let dir = tempfile::tempdir().unwrap();
        Self::start(self.backend, self.database_url.clone(), None, dir, flags).await
    }

    async fn start(
        backend: Backend,
        database_url: String,
        pg_cleanup: Option<(String, String)>,
        dir: tempfile::TempDir,
        flags: &[&str],
    ) -> TestApp {
        let mut args = vec![
            "arbor",
            "--database-url",
            &database_url,
            "--addr",
            "127.0.0.1:0",
        ];
        args.extend_from_slice(flags);
        let settings = Cli::try_parse_from(args).unwrap().settings;
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let addr = listener.local_addr().unwrap();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let server = SERVER_RUNTIME.spawn(async move {
            let listener = tokio::net::TcpListener::from_std(listener)?;
            arbor::serve(settings, listener, async {
                let _ = stopped.await;
            })
            .await
        });
        let base = format!("http://{addr}");
        let client = browser_like_client(&base);
        // Wait until it answers.
        for _ in 0..200 {
            if let Ok(r) = client.get(format!("{base}/healthz")).send().await
                && r.status().is_success()
            {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(25)).await;
        }
        TestApp {
            addr,
            base,
            backend,
            client,
            database_url,
            stop: Some(stop),
            server: Some(server),
            pg_cleanup,
            _dir: dir,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// A fresh browser-like client (its own cookie jar).
    /// The server's `/metrics` text.
    pub async fn metrics(&self) -> String {
        reqwest::get(self.url("/metrics"))
            .await
            .unwrap()
            .text()
            .await
            .unwrap()
    }

    pub fn new_client(&self) -> reqwest::Client {
        browser_like_client(&self.base)
    }

    /// POSTs JSON with `client`.
    pub async fn post_json(
        &self,
        client: &reqwest::Client,
        path: &str,
        body: serde_json::Value,
    ) -> reqwest::Response {
        client
            .post(self.url(path))
            .json(&body)
            .send()
            .await
            .unwrap()
    }

    /// Signs up `username` through the API with `client` (which then holds the session).
    pub async fn signup(
        &self,
        client: &reqwest::Client,
        username: &str,
        password: &str,
    ) -> serde_json::Value {
        let r = self
            .post_json(
                client,
                "/api/v1/auth/signup",
                serde_json::json!({"username": username, "password": password}),
            )
            .await;
        assert_eq!(r.status(), 201, "signup of {username}");
        r.json().await.unwrap()
    }

    /// Signs `username` in through the API with `client` (which then holds a second session).
    pub async fn login(&self, client: &reqwest::Client, username: &str, password: &str) {
        let r = self
            .post_json(
                client,
                "/api/v1/auth/login",
                serde_json::json!({"username": username, "password": password}),
            )
            .await;
        assert_eq!(r.status(), 200, "login of {username}");
    }

    /// Stops the server gracefully and removes its database.
    pub async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(server) = self.server.take() {
            server.await.unwrap().unwrap();
        }
        if let Some((admin_url, name)) = self.pg_cleanup.take() {
            let admin = Db::connect(&admin_url, &DbOptions::default())
                .await
                .unwrap();
            admin
                .execute_admin(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                .await
                .unwrap();
            admin.close().await;
        }
    }
}

/// `admin_url` with its database name replaced by `name` (query options kept).
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

pub fn browser_like_client(base: &str) -> reqwest::Client {
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert(reqwest::header::ORIGIN, base.parse().unwrap());
    reqwest::Client::builder()
        .cookie_store(true)
        .default_headers(headers)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// Two replicas on one SQLite database, joined through the Redis of `ARBOR_TEST_REDIS_URL`
/// under a fresh key prefix; `None` (after saying so) when no Redis is configured.
pub async fn replicas_through_redis() -> Option<(TestApp, TestApp)> {
    let redis_url = service_url("ARBOR_TEST_REDIS_URL")?;
    let prefix = format!("arbor-test-{}:", rand::random::<u64>());
    let flags = [
        "--redis-url",
        redis_url.as_str(),
        "--redis-prefix",
        prefix.as_str(),
    ];
    let a = TestApp::spawn(Backend::Sqlite, &flags).await;
    let b = a.spawn_replica(&flags).await;
    Some((a, b))
}

/// A password that passes every rule.
pub const GOOD_PASSWORD: &str = "mossy granite lantern 42";

/// Creates `n` accounts straight in the database (no password hashing, no sign-up throttle)
/// with a signed-in session each, and returns a client per account carrying its cookie.
pub async fn quick_users(app: &TestApp, prefix: &str, n: usize) -> Vec<(i64, reqwest::Client)> {
    quick_sessions(app, prefix, n)
        .await
        .into_iter()
        .map(|(id, client, _)| (id, client))
        .collect()
}

/// [`quick_users`], also returning each session's cookie value (`arbor_session=…`).
pub async fn quick_sessions(
    app: &TestApp,
    prefix: &str,
    n: usize,
) -> Vec<(i64, reqwest::Client, String)> {
    let db = Db::connect(&app.database_url, &DbOptions::default())
        .await
        .unwrap();
    let now = arbor_services::now_ms();
    let mut out = Vec::with_capacity(n);
    for i in 0..n {
        let name = format!("{prefix}{i}");
        let user = db
            .create_user(arbor_db::users::NewUser {
                username: &name,
                username_key: &name.to_lowercase(),
                display_name: &name,
                password_hash: "$argon2id$unused",
                now,
            })
            .await
            .unwrap();
        let secret = format!("quick-session-{name}-{}", rand::random::<u64>());
        db.create_session(
            &arbor_services::secrets::hash(&secret),
            user.id,
            now,
            now + 3_600_000,
        )
        .await
        .unwrap();
        let cookie = format!("arbor_session={secret}");
        let mut headers = reqwest::header::HeaderMap::new();
        headers.insert(reqwest::header::COOKIE, cookie.parse().unwrap());
        headers.insert(reqwest::header::ORIGIN, app.base.parse().unwrap());
        let client = reqwest::Client::builder()
            .default_headers(headers)
            .build()
            .unwrap();
        out.push((user.id, client, cookie));
    }
    db.close().await;
    out
}

/// A private Redis on a free port, killed when dropped.
pub struct PrivateRedis {
    child: std::process::Child,
    pub url: String,
}

impl PrivateRedis {
    pub fn free_port() -> Option<u16> {
        Some(
            std::net::TcpListener::bind("127.0.0.1:0")
                .ok()?
                .local_addr()
                .ok()?
                .port(),
        )
    }

    pub fn start() -> Option<PrivateRedis> {
        Self::start_on(Self::free_port()?)
    }

    pub fn start_on(port: u16) -> Option<PrivateRedis> {
        let child = std::process::Command::new("redis-server")
            .args([
                "--port",
                &port.to_string(),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .ok()?;
        let url = format!("redis://127.0.0.1:{port}");
        for _ in 0..100 {
            if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                return Some(PrivateRedis { child, url });
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        None
    }

    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for PrivateRedis {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Sends a request; the status and the JSON body (`Null` when there is none).
pub async fn send(r: reqwest::RequestBuilder) -> (reqwest::StatusCode, serde_json::Value) {
    let r = r.send().await.unwrap();
    let status = r.status();
    let text = r.text().await.unwrap();
    (status, serde_json::from_str(&text).unwrap_or_default())
}

/// A TCP proxy to the Redis at a URL, which a test can cut (every connection through it is
/// closed and new ones are refused) and restore: one replica loses Redis while the others
/// keep it.
pub struct CutProxy {
    /// `redis://` URL of the proxy.
    pub url: String,
    cut: std::sync::Arc<std::sync::atomic::AtomicBool>,
    generation: tokio::sync::watch::Sender<u64>,
}

impl CutProxy {
    pub async fn start(redis_url: &str) -> CutProxy {
        use std::sync::atomic::Ordering;
        let parsed = reqwest::Url::parse(redis_url).unwrap();
        let upstream = format!(
            "{}:{}",
            parsed.host_str().unwrap(),
            parsed.port().unwrap_or(6379)
        );
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let url = format!("redis://{}", listener.local_addr().unwrap());
        let cut = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let (generation, watch) = tokio::sync::watch::channel(0u64);
        let is_cut = cut.clone();
        SERVER_RUNTIME.spawn(async move {
            let listener = tokio::net::TcpListener::from_std(listener).unwrap();
            loop {
                let Ok((mut inbound, _)) = listener.accept().await else {
                    continue;
                };
                if is_cut.load(Ordering::SeqCst) {
                    continue; // dropped: refused
                }
                let upstream = upstream.clone();
                let mut watch = watch.clone();
                watch.mark_unchanged(); // only cuts from now on
                tokio::spawn(async move {
                    let Ok(mut outbound) = tokio::net::TcpStream::connect(upstream).await else {
                        return;
                    };
                    tokio::select! {
                        _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound) => {}
                        _ = watch.changed() => {}
                    }
                });
            }
        });
        CutProxy {
            url,
            cut,
            generation,
        }
    }

    /// Closes every connection through the proxy and refuses new ones.
    pub fn cut(&self) {
        self.cut.store(true, std::sync::atomic::Ordering::SeqCst);
        self.generation.send_modify(|g| *g += 1);
    }

    /// Lets connections through again.
    pub fn restore(&self) {
        self.cut.store(false, std::sync::atomic::Ordering::SeqCst);
    }
}
