//! `collab-bench`: fan-out latency, deliveries per second and server memory of live topic
//! editing, against a running `arbor` server.
//!
//! It signs up one account over the API, creates a subject with the rooms' topics and a token,
//! then opens websocket clients (yrs documents speaking the y-websocket protocol) and runs:
//!
//! - **rooms**: `--clients` clients spread over `--rooms` topics; `--rate` updates per second in
//!   all, each from a random client, each relayed to the other clients of its room;
//! - **broadcast**: `--readers` clients on one topic and one writer at `--broadcast-rate`.
//!
//! Every update inserts a marker `#<seq>#`; receivers find it in the update bytes (a Yjs v1
//! update carries inserted text as UTF-8), so the latency is send → receipt at each other
//! client of the room, measured on one clock; "all reached" is when an update's slowest
//! delivery arrived. Server memory comes from `/proc/<pid>/status` (`--server-pid`): resident
//! size before connecting, with every client connected and idle, and after the runs. CPU per
//! delivery (user / system, from `/proc/<pid>/stat`) is given for the server and for this load
//! generator, which share the machine. See `docs/BENCHMARKS.md` for the command and figures.

#![forbid(unsafe_code)]

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use clap::Parser;
use futures_util::{SinkExt as _, StreamExt as _};
use rand::Rng as _;
use serde_json::{Value, json};
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use yrs::{Doc, ReadTxn, Text, Transact};

#[derive(Debug, Parser)]
#[command(name = "collab-bench")]
struct Args {
    /// The server's base URL.
    #[arg(long, default_value = "http://127.0.0.1:3000")]
    server: String,
    /// The server's process id, to read its memory (`/proc/<pid>/status`).
    #[arg(long)]
    server_pid: Option<u32>,
    #[arg(long, default_value_t = 1_500)]
    clients: usize,
    #[arg(long, default_value_t = 500)]
    rooms: usize,
    /// Updates per second across all rooms.
    #[arg(long, default_value_t = 350)]
    rate: u32,
    #[arg(long, default_value_t = 1_000)]
    readers: usize,
    /// Updates per second from the one writer of the broadcast run.
    #[arg(long, default_value_t = 20)]
    broadcast_rate: u32,
    /// Seconds each run sends for.
    #[arg(long, default_value_t = 20)]
    seconds: u64,
}

/// Latencies and deliveries, shared by every receiving client.
#[derive(Default)]
struct Recorder {
    sent: Mutex<HashMap<u64, Instant>>,
    /// Each delivery: the update's sequence number and its latency.
    latencies: Mutex<Vec<(u64, Duration)>>,
}

impl Recorder {
    fn received(&self, update: &[u8]) {
        let now = Instant::now();
        let Some(seq) = marker(update) else { return };
        let sent = self.sent.lock().ok().and_then(|s| s.get(&seq).copied());
        if let (Some(sent), Ok(mut l)) = (sent, self.latencies.lock()) {
            l.push((seq, now - sent));
        }
    }

    fn take(&self) -> Vec<(u64, Duration)> {
        self.sent.lock().map(|mut s| s.clear()).ok();
        self.latencies
            .lock()
            .map(|mut l| std::mem::take(&mut *l))
            .unwrap_or_default()
    }
}

/// CPU time a process has used, user and system, in clock ticks (`/proc/<pid>/stat`).
fn cpu_ticks(pid: &str) -> Option<(u64, u64)> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name may hold spaces; the fields after it are space-separated.
    let mut fields = stat.rsplit_once(')')?.1.split_whitespace().skip(11);
    Some((fields.next()?.parse().ok()?, fields.next()?.parse().ok()?))
}

/// Microseconds of CPU (user, system) per delivery between two readings, at 100 ticks/s.
fn per_delivery(before: Option<(u64, u64)>, after: Option<(u64, u64)>, n: usize) -> String {
    match (before, after) {
        // Ticks are 10 ms: too coarse for a few deliveries.
        (Some(b), Some(a)) if n >= 10_000 => {
            let us = |ticks: u64| ticks as f64 * 10_000.0 / n as f64;
            format!("{:.1} / {:.1}", us(a.0 - b.0), us(a.1 - b.1))
        }
        _ => "–".to_owned(),
    }
}

/// The sequence number in the first `#<digits>#` of `bytes` (other bytes of an update may be
/// `#` too).
fn marker(bytes: &[u8]) -> Option<u64> {
    (0..bytes.len()).find_map(|start| {
        let rest = bytes[start..].strip_prefix(b"#")?;
        let len = rest.iter().position(|b| !b.is_ascii_digit())?;
        if len == 0 || rest.get(len) != Some(&b'#') {
            return None;
        }
        std::str::from_utf8(&rest[..len]).ok()?.parse().ok()
    })
}

/// Reads `[0, kind, len, payload]` (the server's sync frames).
fn sync_frame(frame: &[u8]) -> Option<(u8, &[u8])> {
    if frame.first() != Some(&0) {
        return None;
    }
    let kind = *frame.get(1)?;
    let mut at = 2;
    let mut shift = 0;
    loop {
        let b = *frame.get(at)?;
        at += 1;
        if b & 0x80 == 0 {
            break;
        }
        shift += 7;
        if shift > 28 {
            return None;
        }
    }
    Some((kind, &frame[at..]))
}

/// One connected client: its outgoing queue (the socket task sends what arrives here).
struct Client {
    outgoing: mpsc::UnboundedSender<Vec<u8>>,
    doc: Doc,
}

impl Client {
    /// Inserts `#seq#` at the start of its own text and sends the update.
    fn send_marker(&self, seq: u64) {
        let text = self.doc.get_or_insert_text("body");
        let before = self.doc.transact().state_vector();
        {
            let mut txn = self.doc.transact_mut();
            text.insert(&mut txn, 0, &format!("#{seq}#"));
        }
        let update = self.doc.transact().encode_state_as_update_v1(&before);
        let _ = self.outgoing.send(arbor_collab::update_message(&update));
    }
}

async fn connect(url: String, recorder: Arc<Recorder>, synced: Arc<AtomicU64>) -> Result<Client> {
    // tungstenite's default 128 KiB read buffer is zeroed on every read: with a thousand
    // readers that memset was two thirds of this load generator's CPU (perf), and its queue
    // of unread frames, not the server, set the measured latency.
    let config = WebSocketConfig::default().read_buffer_size(4096);
    let (socket, _) = tokio_tungstenite::connect_async_with_config(&url, Some(config), false)
        .await
        .with_context(|| format!("connecting {url}"))?;
    let (mut sink, mut stream) = socket.split();
    let (outgoing, mut queue) = mpsc::unbounded_channel::<Vec<u8>>();
    let reply = outgoing.clone();
    tokio::spawn(async move {
        while let Some(frame) = queue.recv().await {
            if sink.send(Message::Binary(frame.into())).await.is_err() {
                break;
            }
        }
    });
    tokio::spawn(async move {
        while let Some(Ok(message)) = stream.next().await {
            let Message::Binary(bytes) = message else {
                continue;
            };
            match sync_frame(&bytes) {
                // The server's step 1: answer with what this client has (nothing).
                Some((0, _)) => {
                    let _ = reply.send(arbor_collab::step2_message(&[0, 0]));
                    synced.fetch_add(1, Ordering::Relaxed);
                }
                Some((2, update)) => recorder.received(update),
                _ => {}
            }
        }
    });
    Ok(Client {
        outgoing,
        doc: Doc::new(),
    })
}

fn rss_kib(pid: Option<u32>) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{}/status", pid?)).ok()?;
    status
        .lines()
        .find(|l| l.starts_with("VmRSS:"))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = ((p * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    sorted[rank - 1].as_secs_f64() * 1000.0
}

/// Sends `rate` markers per second for `seconds` from `senders`' pick of client, waits for
/// stragglers, and returns the table row.
#[allow(clippy::too_many_arguments)]
async fn run(
    name: &str,
    clients: &[Client],
    senders: impl Fn(&mut rand::rngs::ThreadRng) -> usize,
    rate: u32,
    seconds: u64,
    recorder: &Recorder,
    seq: &AtomicU64,
    server_pid: Option<u32>,
) -> String {
    let total = u64::from(rate) * seconds;
    let server = server_pid.map(|p| p.to_string());
    let cpu = || (server.as_deref().and_then(cpu_ticks), cpu_ticks("self"));
    let (server_before, bench_before) = cpu();
    let started = Instant::now();
    let mut rng = rand::rng();
    let mut tick = tokio::time::interval(Duration::from_secs_f64(1.0 / f64::from(rate)));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
    for _ in 0..total {
        tick.tick().await;
        let n = seq.fetch_add(1, Ordering::Relaxed);
        if let Ok(mut sent) = recorder.sent.lock() {
            sent.insert(n, Instant::now());
        }
        clients[senders(&mut rng)].send_marker(n);
    }
    let sending = started.elapsed();
    tokio::time::sleep(Duration::from_secs(2)).await;
    let (server_after, bench_after) = cpu();
    let deliveries = recorder.take();
    // When each update had reached every client of its room: its slowest delivery.
    let mut everyone: HashMap<u64, Duration> = HashMap::new();
    for (seq, latency) in &deliveries {
        let slowest = everyone.entry(*seq).or_default();
        *slowest = (*slowest).max(*latency);
    }
    let mut everyone: Vec<Duration> = everyone.into_values().collect();
    everyone.sort();
    let mut latencies: Vec<Duration> = deliveries.iter().map(|(_, l)| *l).collect();
    latencies.sort();
    let n = latencies.len();
    format!(
        "| {name} | {total} | {:.0} | {n} | {:.0} | {:.2} | {:.2} | {:.2} | {:.2} | {:.2} / {:.2} | {} | {} |",
        total as f64 / sending.as_secs_f64(),
        n as f64 / sending.as_secs_f64(),
        percentile(&latencies, 0.5),
        percentile(&latencies, 0.9),
        percentile(&latencies, 0.99),
        latencies.last().map_or(0.0, |d| d.as_secs_f64() * 1000.0),
        percentile(&everyone, 0.5),
        percentile(&everyone, 0.99),
        per_delivery(server_before, server_after, n),
        per_delivery(bench_before, bench_after, n),
    )
}

#[tokio::main]
async fn main() -> Result<()> {
    let args = Args::parse();
    let http = reqwest::Client::builder().cookie_store(true).build()?;
    let api = |path: &str| format!("{}/api/v1{path}", args.server);
    let username = format!("bench{}", rand::random::<u32>());
    let signed_up = http
        .post(api("/auth/signup"))
        .header("origin", &args.server)
        .json(&json!({"username": username, "password": "mossy granite lantern 42"}))
        .send()
        .await?;
    if !signed_up.status().is_success() {
        bail!("sign-up failed: {}", signed_up.text().await?);
    }
    let post = |path: &str, body: Value| {
        http.post(api(path))
            .header("origin", &args.server)
            .json(&body)
            .send()
    };
    let token: Value = post("/me/tokens", json!({"name": "bench"}))
        .await?
        .json()
        .await?;
    let token = token["token"].as_str().context("no token")?.to_owned();
    let subject: Value = post("/subjects", json!({"title": "Collaboration bench"}))
        .await?
        .json()
        .await?;
    let slug = subject["slug"].as_str().context("no slug")?.to_owned();
    let detail: Value = http
        .get(api(&format!("/subjects/{slug}")))
        .send()
        .await?
        .json()
        .await?;
    let root = detail["root"]["id"].as_i64().context("no root")?;
    let mut topics = Vec::with_capacity(args.rooms + 1);
    for i in 0..=args.rooms {
        let created: Value = post(
            &format!("/subjects/{slug}/topics"),
            json!({"title": format!("Room {i}"), "body": "", "parent_id": root}),
        )
        .await?
        .json()
        .await?;
        topics.push(created["id"].as_i64().context("no topic id")?);
    }
    let ws = args.server.replacen("http", "ws", 1);
    let url = |topic: i64| format!("{ws}/collab/topic:{topic}?token={token}");

    let recorder = Arc::new(Recorder::default());
    let synced = Arc::new(AtomicU64::new(0));
    let seq = AtomicU64::new(0);
    let rss_before = rss_kib(args.server_pid);
    println!("server RSS before connecting: {rss_before:?} KiB");
    let mut rows = Vec::new();

    // Broadcast run: one room, many readers, one writer.
    let broadcast = topics[args.rooms];
    let mut readers = Vec::with_capacity(args.readers + 1);
    for _ in 0..=args.readers {
        readers.push(connect(url(broadcast), recorder.clone(), synced.clone()).await?);
    }
    while synced.load(Ordering::Relaxed) < args.readers as u64 + 1 {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    if let (Some(before), Some(idle)) = (rss_before, rss_kib(args.server_pid)) {
        println!(
            "server RSS with {} idle clients on one room: {idle} KiB ({:.1} KiB per connection)",
            args.readers + 1,
            (idle.saturating_sub(before)) as f64 / (args.readers + 1) as f64
        );
    }
    rows.push(
        run(
            &format!("{} readers, 1 room", args.readers),
            &readers,
            |_| 0,
            args.broadcast_rate,
            args.seconds,
            &recorder,
            &seq,
            args.server_pid,
        )
        .await,
    );
    drop(readers);
    tokio::time::sleep(Duration::from_secs(1)).await;

    // Rooms run: client i is in room i % rooms.
    synced.store(0, Ordering::Relaxed);
    let rss_rooms = rss_kib(args.server_pid);
    let started = Instant::now();
    let mut clients = Vec::with_capacity(args.clients);
    for i in 0..args.clients {
        clients.push(
            connect(
                url(topics[i % args.rooms]),
                recorder.clone(),
                synced.clone(),
            )
            .await?,
        );
    }
    while synced.load(Ordering::Relaxed) < args.clients as u64 {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    println!(
        "{} clients connected and synced in {:.1} s",
        args.clients,
        started.elapsed().as_secs_f64()
    );
    tokio::time::sleep(Duration::from_secs(2)).await;
    let rss_idle = rss_kib(args.server_pid);
    if let (Some(before), Some(idle)) = (rss_rooms, rss_idle) {
        println!(
            "server RSS with {} idle clients in {} rooms: {idle} KiB (+{:.1} KiB per connection, rooms included)",
            args.clients,
            args.rooms,
            (idle.saturating_sub(before)) as f64 / args.clients as f64
        );
    }
    let n = args.clients;
    rows.push(
        run(
            &format!("{} clients, {} rooms", args.clients, args.rooms),
            &clients,
            |rng| rng.random_range(0..n),
            args.rate,
            args.seconds,
            &recorder,
            &seq,
            args.server_pid,
        )
        .await,
    );
    drop(clients);
    println!(
        "server RSS after the runs: {:?} KiB",
        rss_kib(args.server_pid)
    );
    println!();
    println!(
        "| run | updates | sent/s | deliveries | deliveries/s | p50 ms | p90 ms | p99 ms | max ms \
         | all reached p50 / p99 ms | server CPU µs/delivery user / sys | bench CPU µs/delivery |"
    );
    println!(
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
    );
    for row in rows {
        println!("{row}");
    }
    Ok(())
}
