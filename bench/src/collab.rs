//! `collab-bench`: fan-out latency, deliveries per second and server memory of live topic
//! editing, against a running `arbor` server.
//!
//! It signs up one account over the API, creates a subject with the rooms' topics and a token,
//! then opens websocket clients (yrs documents speaking the y-websocket protocol) and runs:
//!
//! - **rooms**: `--clients` clients spread over `--rooms` topics; `--rate` updates per second in
//!   all, each from a random client, each relayed to the other clients of its room;
//! - **kernel floor**: no server; `--readers` loopback TCP connections this process accepts
//!   itself, each record written to all of them by `--floor-threads` plain threads, at
//!   `--broadcast-rate`: what the machine's TCP stack alone costs the broadcast below;
//! - **broadcast**: `--readers` clients on one topic and one writer at `--broadcast-rate`.
//!
//! Every update inserts a marker `#<seq>#`; receivers find it in the update bytes (a Yjs v1
//! update carries inserted text as UTF-8). An update counts as sent when the writer's task hands
//! it to its socket (so this process's own scheduling delays are not the server's). Each
//! delivery has two latencies from the send, on one clock (`CLOCK_REALTIME`):
//!
//! - **arrived**: when the client's kernel received the frame, from the socket's receive
//!   timestamp (`SO_TIMESTAMPNS`; when one read holds several frames, all get the newest
//!   one's time). This is what a client on another machine would see of the server: it leaves
//!   out how long this process, sharing the server's cores, took to get round to reading.
//! - **read**: when the client's task had decoded it, this process's own delays included.
//!
//! "All arrived" is when an update's slowest delivery arrived. Server memory comes from
//! `/proc/<pid>/status` (`--server-pid`): resident size before connecting, with every client
//! connected and idle, and after the runs. CPU per delivery (user / system, from
//! `/proc/<pid>/stat`) is given for the server and for this load generator, which share the
//! machine. See `docs/BENCHMARKS.md` for the command and figures.

#![forbid(unsafe_code)]

use std::collections::HashMap;
use std::io::{self, IoSliceMut};
use std::os::fd::AsRawFd as _;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{self, Poll, ready};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::{Context, Result, bail};
use clap::Parser;
use futures_util::{SinkExt as _, StreamExt as _};
use nix::sys::socket::{ControlMessageOwned, MsgFlags, recvmsg, setsockopt, sockopt};
use rand::Rng as _;
use serde_json::{Value, json};
use tokio::io::{AsyncRead, AsyncWrite, Interest, ReadBuf};
use tokio::net::TcpStream;
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
    /// Worker threads of this load generator (it shares the machine's cores with the server).
    #[arg(long, default_value_t = 2)]
    threads: usize,
    /// Threads writing the kernel-floor run's frames (the server's worker threads: one per
    /// core).
    #[arg(long, default_value_t = 2)]
    floor_threads: usize,
}

/// Nanoseconds since the Unix epoch, the clock of the kernel's receive timestamps.
fn now_ns() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64)
}

/// One delivery: the update's sequence number, and its latency when it arrived and when it
/// was read.
#[derive(Clone, Copy)]
struct Delivery {
    seq: u64,
    arrived: Duration,
    read: Duration,
}

/// Latencies and deliveries, shared by every receiving client.
#[derive(Default)]
struct Recorder {
    /// When each update was sent ([`now_ns`]).
    sent: Mutex<HashMap<u64, u64>>,
    latencies: Mutex<Vec<Delivery>>,
}

impl Recorder {
    /// Notes that update `seq` is being written to a socket now (by the first of several
    /// writers).
    fn sending(&self, seq: u64) {
        if let Ok(mut sent) = self.sent.lock() {
            sent.entry(seq).or_insert_with(now_ns);
        }
    }

    /// Notes `update`, which reached the client's kernel at `arrived_ns` (0: not known, use
    /// now).
    fn received(&self, update: &[u8], arrived_ns: u64) {
        let read_ns = now_ns();
        let Some(seq) = marker(update) else { return };
        let sent = self.sent.lock().ok().and_then(|s| s.get(&seq).copied());
        if let (Some(sent), Ok(mut l)) = (sent, self.latencies.lock()) {
            let since = |ns: u64| Duration::from_nanos(ns.saturating_sub(sent));
            let arrived = if arrived_ns == 0 { read_ns } else { arrived_ns };
            l.push(Delivery {
                seq,
                arrived: since(arrived),
                read: since(read_ns),
            });
        }
    }

    fn take(&self) -> Vec<Delivery> {
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

/// A client's TCP stream that keeps the kernel's receive time of the newest bytes read
/// (`SO_TIMESTAMPNS`, read with `recvmsg`).
struct Stamped {
    tcp: TcpStream,
    /// [`now_ns`] time of the last read's newest data; 0 before the first.
    arrived: Arc<AtomicU64>,
}

impl Stamped {
    fn new(tcp: TcpStream) -> Result<Stamped> {
        setsockopt(&tcp, sockopt::ReceiveTimestampns, &true).context("SO_TIMESTAMPNS")?;
        tcp.set_nodelay(true)?;
        Ok(Stamped {
            tcp,
            arrived: Arc::default(),
        })
    }
}

impl AsyncRead for Stamped {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut task::Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        loop {
            ready!(this.tcp.poll_read_ready(cx))?;
            let fd = this.tcp.as_raw_fd();
            let unfilled = buf.initialize_unfilled();
            let mut control = [0u8; 64];
            let read = this.tcp.try_io(Interest::READABLE, || {
                let mut iov = [IoSliceMut::new(unfilled)];
                let message = recvmsg::<()>(fd, &mut iov, Some(&mut control), MsgFlags::empty())
                    .map_err(io::Error::from)?;
                let stamp = message
                    .cmsgs()
                    .ok()
                    .into_iter()
                    .flatten()
                    .find_map(|c| match c {
                        ControlMessageOwned::ScmTimestampns(ts) => {
                            Some(ts.tv_sec() as u64 * 1_000_000_000 + ts.tv_nsec() as u64)
                        }
                        _ => None,
                    });
                Ok((message.bytes, stamp))
            });
            match read {
                Ok((n, stamp)) => {
                    if let Some(stamp) = stamp {
                        this.arrived.store(stamp, Ordering::Relaxed);
                    }
                    buf.advance(n);
                    return Poll::Ready(Ok(()));
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => continue,
                Err(e) => return Poll::Ready(Err(e)),
            }
        }
    }
}

impl AsyncWrite for Stamped {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut task::Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().tcp).poll_write(cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut task::Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().tcp).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut task::Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().tcp).poll_shutdown(cx)
    }
}

/// Width of a kernel-floor record: `#`, the zero-padded sequence number, `#`.
const RECORD: usize = 22;

/// The kernel's share of a broadcast, with no server: `readers` loopback TCP connections this
/// process accepts itself, every record written to all of them by plain blocking threads (as
/// many as the server has workers), and read by the same kind of task as the clients. Its
/// latency is what any server on this machine would pay before its own work.
struct Floor {
    threads: Vec<std::sync::mpsc::Sender<u64>>,
}

impl Floor {
    async fn open(readers: usize, threads: usize, recorder: Arc<Recorder>) -> Result<Floor> {
        let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
        let addr = listener.local_addr()?;
        let mut accepted = Vec::with_capacity(readers);
        for _ in 0..readers {
            let client = Stamped::new(TcpStream::connect(addr).await?)?;
            // The connection is established: it is waiting in the backlog.
            let (server, _) = listener.accept()?;
            server.set_nodelay(true)?;
            accepted.push(server);
            tokio::spawn(read_records(client, recorder.clone()));
        }
        let per_thread = readers.div_ceil(threads.max(1)).max(1);
        let mut senders = Vec::new();
        while !accepted.is_empty() {
            let mut sockets: Vec<std::net::TcpStream> =
                accepted.drain(..per_thread.min(accepted.len())).collect();
            let (tx, rx) = std::sync::mpsc::channel::<u64>();
            let recorder = recorder.clone();
            std::thread::spawn(move || {
                use std::io::Write as _;
                for seq in rx {
                    recorder.sending(seq);
                    let record = format!("#{seq:020}#");
                    for socket in &mut sockets {
                        if socket.write_all(record.as_bytes()).is_err() {
                            return;
                        }
                    }
                }
            });
            senders.push(tx);
        }
        Ok(Floor { threads: senders })
    }

    fn send(&self, seq: u64) {
        for thread in &self.threads {
            let _ = thread.send(seq);
        }
    }
}

/// Reads a kernel-floor connection's records until it closes.
async fn read_records(mut tcp: Stamped, recorder: Arc<Recorder>) {
    use tokio::io::AsyncReadExt as _;
    let mut pending = Vec::new();
    let mut chunk = [0u8; 4096];
    while let Ok(n @ 1..) = tcp.read(&mut chunk).await {
        pending.extend_from_slice(&chunk[..n]);
        let arrived = tcp.arrived.load(Ordering::Relaxed);
        let whole = pending.len() / RECORD * RECORD;
        for record in pending[..whole].chunks(RECORD) {
            recorder.received(record, arrived);
        }
        pending.drain(..whole);
    }
}

/// One connected client: its outgoing queue (the socket task sends what arrives here, noting
/// the send time of a marked update just before writing it, so that this process's own
/// scheduling delays are not counted against the server).
struct Client {
    outgoing: mpsc::UnboundedSender<(Option<u64>, Vec<u8>)>,
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
        let _ = self
            .outgoing
            .send((Some(seq), arbor_collab::update_message(&update)));
    }
}

async fn connect(url: String, recorder: Arc<Recorder>, synced: Arc<AtomicU64>) -> Result<Client> {
    // tungstenite's default 128 KiB read buffer is zeroed on every read: with a thousand
    // readers that memset was two thirds of this load generator's CPU (perf), and its queue
    // of unread frames, not the server, set the measured latency.
    let config = WebSocketConfig::default().read_buffer_size(4096);
    let parsed = reqwest::Url::parse(&url)?;
    let host = parsed.host_str().context("no host")?;
    let port = parsed.port_or_known_default().context("no port")?;
    let tcp = Stamped::new(TcpStream::connect((host, port)).await?)?;
    let arrived = tcp.arrived.clone();
    let (socket, _) = tokio_tungstenite::client_async_with_config(&url, tcp, Some(config))
        .await
        .with_context(|| format!("connecting {url}"))?;
    let (mut sink, mut stream) = socket.split();
    let (outgoing, mut queue) = mpsc::unbounded_channel::<(Option<u64>, Vec<u8>)>();
    let reply = outgoing.clone();
    let sender = recorder.clone();
    tokio::spawn(async move {
        while let Some((seq, frame)) = queue.recv().await {
            if let Some(seq) = seq {
                sender.sending(seq);
            }
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
                    let _ = reply.send((None, arbor_collab::step2_message(&[0, 0])));
                    synced.fetch_add(1, Ordering::Relaxed);
                }
                Some((2, update)) => recorder.received(update, arrived.load(Ordering::Relaxed)),
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

/// Sends `rate` markers per second for `seconds` through `send`, waits for stragglers, and
/// returns the table row.
async fn run(
    name: &str,
    mut send: impl FnMut(u64),
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
    let mut tick = tokio::time::interval(Duration::from_secs_f64(1.0 / f64::from(rate)));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
    for _ in 0..total {
        tick.tick().await;
        send(seq.fetch_add(1, Ordering::Relaxed));
    }
    let sending = started.elapsed();
    tokio::time::sleep(Duration::from_secs(2)).await;
    let (server_after, bench_after) = cpu();
    let deliveries = recorder.take();
    // When each update had reached every client of its room: its slowest arrival.
    let mut everyone: HashMap<u64, Duration> = HashMap::new();
    for d in &deliveries {
        let slowest = everyone.entry(d.seq).or_default();
        *slowest = (*slowest).max(d.arrived);
    }
    let mut everyone: Vec<Duration> = everyone.into_values().collect();
    everyone.sort();
    let sorted = |pick: fn(&Delivery) -> Duration| {
        let mut all: Vec<Duration> = deliveries.iter().map(pick).collect();
        all.sort();
        all
    };
    let arrived = sorted(|d| d.arrived);
    let read = sorted(|d| d.read);
    let max = |all: &[Duration]| all.last().map_or(0.0, |d| d.as_secs_f64() * 1000.0);
    let n = deliveries.len();
    format!(
        "| {name} | {total} | {:.0} | {n} | {:.0} | {:.2} / {:.2} / {:.2} / {:.2} | {:.2} / {:.2} / {:.2} | {:.2} / {:.2} | {} | {} |",
        total as f64 / sending.as_secs_f64(),
        n as f64 / sending.as_secs_f64(),
        percentile(&arrived, 0.5),
        percentile(&arrived, 0.9),
        percentile(&arrived, 0.99),
        max(&arrived),
        percentile(&read, 0.5),
        percentile(&read, 0.99),
        max(&read),
        percentile(&everyone, 0.5),
        percentile(&everyone, 0.99),
        per_delivery(server_before, server_after, n),
        per_delivery(bench_before, bench_after, n),
    )
}

fn main() -> Result<()> {
    let args = Args::parse();
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(args.threads.max(1))
        .enable_all()
        .build()?
        .block_on(bench(args))
}

async fn bench(args: Args) -> Result<()> {
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

    // The kernel alone: the broadcast's sockets and reads without a server.
    let floor = Floor::open(args.readers, args.floor_threads, recorder.clone()).await?;
    rows.push(
        run(
            &format!(
                "kernel floor: {} sockets, {} sending threads",
                args.readers, args.floor_threads
            ),
            |n| floor.send(n),
            args.broadcast_rate,
            args.seconds,
            &recorder,
            &seq,
            None,
        )
        .await,
    );
    drop(floor);
    tokio::time::sleep(Duration::from_secs(1)).await;

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
            |n| readers[0].send_marker(n),
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
    let mut rng = rand::rng();
    rows.push(
        run(
            &format!("{} clients, {} rooms", args.clients, args.rooms),
            |n| clients[rng.random_range(0..clients.len())].send_marker(n),
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
        "| run | updates | sent/s | deliveries | deliveries/s | arrived p50 / p90 / p99 / max ms \
         | read p50 / p99 / max ms | all arrived p50 / p99 ms | server CPU µs/delivery user / sys \
         | bench CPU µs/delivery |"
    );
    println!("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
    for row in rows {
        println!("{row}");
    }
    Ok(())
}
