//! `GET /collab/{doc}`: the y-websocket endpoint. Authenticates the handshake (session cookie
//! from one of our pages, bearer token, or `?token=`), decides read-only or read-write from the
//! subject's roles, takes a place under the per-address and per-account socket caps (429 with
//! `Retry-After` before upgrading when there is none), and then pumps frames between the
//! socket and the room in `arbor_live`, which owns everything the messages do.

use std::time::{Duration, Instant};

use arbor_app::ssr::AppState;
use arbor_collab::{Access, Close};
use arbor_live::{DocKey, Joined, Out, SignIn, SocketPermit};
use arbor_services::auth::Caller;
use arbor_services::auth::{self, ClientAddr, session_secret};
use arbor_services::live::{self, access_for};
use arbor_services::{access, secrets};
use arbor_types::error::AppError;
use axum::Extension;
use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade};
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::Response;
use futures_util::{SinkExt as _, StreamExt as _};
use serde::Deserialize;

use arbor_services::ServiceError;

use crate::http::csrf::{PublicOrigin, websocket_refusal};
use crate::http::error::ApiError;

/// The server pings every connection this often…
const PING_EVERY: Duration = Duration::from_secs(30);
/// …and drops one it has not heard from (a frame or a pong) for this long.
const SILENT_FOR: Duration = Duration::from_secs(75);
/// A socket that takes longer than this to accept one frame is dropped.
const SEND_TIMEOUT: Duration = Duration::from_secs(10);
/// Read buffer per socket: tungstenite's 128 KiB default would cost ~1.3 GB per 10,000 idle
/// connections; frames larger than this still arrive, in several reads. Writes are flushed
/// frame by frame (write buffer 0). See docs/BENCHMARKS.md for the memory per connection.
const READ_BUFFER: usize = 2 << 10;

#[derive(Debug, Deserialize)]
pub struct CollabQuery {
    /// A personal access token, for clients that cannot set headers (browsers' WebSocket).
    token: Option<String>,
}

fn no_such_document() -> AppError {
    AppError::not_found("No such document.")
}

/// Who is asking, and with what: `?token=`, then `Authorization: Bearer`, then the session
/// cookie (only from one of our own pages).
async fn caller(
    state: &AppState,
    headers: &HeaderMap,
    query: &CollabQuery,
    public: &PublicOrigin,
) -> Result<Option<(Caller, SignIn)>, ApiError> {
    if let Some(token) = query.token.as_deref().filter(|t| !t.is_empty()) {
        let caller = auth::token_caller(state, token).await?;
        return Ok(Some((caller, SignIn::Token(secrets::hash(token)))));
    }
    if auth::bearer_token(headers).is_none()
        && session_secret(headers).is_some()
        && let Some(why) = websocket_refusal(headers, public)
    {
        return Err(AppError::forbidden(why).into());
    }
    let bearer = auth::bearer_token(headers).map(secrets::hash);
    Ok(auth::caller(state, headers).await?.map(|caller| {
        let sign_in = match (bearer, &caller.session) {
            (Some(hash), _) => SignIn::Token(hash),
            (None, Some(session)) => SignIn::Session(session.clone()),
            (None, None) => SignIn::SignedOut,
        };
        (caller, sign_in)
    }))
}

/// Opens a live-editing connection to `doc`.
pub async fn connect(
    ws: WebSocketUpgrade,
    Path(doc): Path<String>,
    Query(query): Query<CollabQuery>,
    headers: HeaderMap,
    client: Option<Extension<ClientAddr>>,
    Extension(public): Extension<PublicOrigin>,
    State(state): State<AppState>,
) -> Result<Response, ApiError> {
    let caller = caller(&state, &headers, &query, &public).await?;
    let user_id = caller.as_ref().map_or(0, |(c, _)| c.user.id);
    let client = client.map(|Extension(ClientAddr(addr))| addr);
    let permit = state
        .collab()
        .admit_socket(client.as_deref(), user_id)
        .map_err(ServiceError::from)?;
    let (key, subject) = live::document(&state, &doc)
        .await?
        .ok_or_else(no_such_document)?;
    // Someone who may not read the subject learns nothing about it, as on its pages.
    let level = access::user_level(&state, user_id, &subject)
        .await?
        .ok_or_else(no_such_document)?;
    let max_frame = state.collab().limits().max_frame;
    Ok(ws
        .read_buffer_size(READ_BUFFER)
        .write_buffer_size(0)
        .max_write_buffer_size(4 * max_frame)
        .max_message_size(max_frame)
        .max_frame_size(max_frame)
        .on_upgrade(move |socket| {
            let (who, sign_in) = match caller {
                Some((c, sign_in)) => (Some((c.user.username, c.user.display_name)), sign_in),
                None => (None, SignIn::SignedOut),
            };
            let peer = Peer {
                subject_id: subject.id,
                access: access_for(level),
                user_id,
                sign_in,
                who,
                _permit: permit,
            };
            run(socket, state, key, peer)
        }))
}

/// Whether a read failed because a frame or message was over the limit (rather than the
/// connection breaking).
fn too_large(e: axum::Error) -> bool {
    use tungstenite::error::{CapacityError, Error};
    matches!(
        e.into_inner().downcast_ref::<Error>(),
        Some(Error::Capacity(CapacityError::MessageTooLong { .. }))
    )
}

fn close_frame(code: u16, reason: &str) -> Message {
    // A close reason is at most 123 bytes.
    let mut end = reason.len().min(123);
    while !reason.is_char_boundary(end) {
        end -= 1;
    }
    Message::Close(Some(CloseFrame {
        code,
        reason: reason[..end].into(),
    }))
}

/// Who is on the other end of a socket, and what it may do.
struct Peer {
    subject_id: i64,
    access: Access,
    user_id: i64,
    sign_in: SignIn,
    /// (username, display name), for presence.
    who: Option<(String, String)>,
    /// Its place under the socket caps, held as long as the socket.
    _permit: SocketPermit,
}

async fn run(socket: WebSocket, state: AppState, key: DocKey, peer: Peer) {
    let hub = state.collab().clone();
    let (mut sink, mut stream) = socket.split();
    // The calls into the room are boxed: their futures (database reads, reloads) are large,
    // and an idle connection's task would otherwise carry room for them all its life
    // (measured with massif: 11 KiB of the 16 KiB an idle connection cost).
    let who = peer.who.as_ref().map(|(u, d)| (u.as_str(), d.as_str()));
    let joined = Box::pin(hub.join(
        key,
        peer.subject_id,
        peer.access,
        peer.user_id,
        peer.sign_in.clone(),
        who,
    ))
    .await;
    let Joined { seat, mut rx } = match joined {
        Ok(joined) => joined,
        Err(e) => {
            tracing::warn!(error = %e, doc = %key.name(), "could not open a document");
            let _ = sink
                .send(close_frame(1011, "the document could not be opened"))
                .await;
            return;
        }
    };
    let mut ping = tokio::time::interval(PING_EVERY);
    ping.reset();
    let mut heard = Instant::now();
    let close: Option<Message> = loop {
        tokio::select! {
            incoming = stream.next() => match incoming {
                Some(Ok(Message::Binary(frame))) => {
                    heard = Instant::now();
                    if let Some(close) = Box::pin(hub.receive(&seat, &frame)).await {
                        break Some(close_frame(close.code, &close.reason));
                    }
                }
                Some(Ok(Message::Ping(_) | Message::Pong(_))) => heard = Instant::now(),
                Some(Ok(Message::Text(_))) => {
                    break Some(close_frame(Close::MALFORMED, "the protocol is binary"));
                }
                Some(Ok(Message::Close(_))) | None => break None,
                Some(Err(e)) => {
                    tracing::debug!(error = %e, "websocket read failed");
                    break too_large(e).then(|| close_frame(Close::TOO_LARGE, "the message is too large"));
                }
            },
            out = rx.recv() => {
                let message = match out {
                    Some(Out::Frame(frame)) => Message::Binary(frame),
                    Some(Out::Close(close)) => break Some(close_frame(close.code, &close.reason)),
                    // The room dropped this connection: it could not keep up.
                    None => break Some(close_frame(1013, "too slow to keep up; reconnect")),
                };
                match tokio::time::timeout(SEND_TIMEOUT, sink.send(message)).await {
                    Ok(Ok(())) => {}
                    _ => break None,
                }
            },
            _ = ping.tick() => {
                if heard.elapsed() > SILENT_FOR {
                    break None;
                }
                if tokio::time::timeout(SEND_TIMEOUT, sink.send(Message::Ping(Default::default())))
                    .await
                    .map_or(true, |sent| sent.is_err())
                {
                    break None;
                }
            }
        }
    };
    Box::pin(hub.leave(&seat)).await;
    if let Some(close) = close {
        let _ = tokio::time::timeout(SEND_TIMEOUT, sink.send(close)).await;
    }
}
