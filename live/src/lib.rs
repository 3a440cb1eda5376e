//! The live side of one Arbor replica: the documents people edit together and everything that
//! keeps them — the rooms ([`Hub`]), the group-commit writer that makes their updates durable,
//! the relay that carries room traffic to the other replicas, the bus that carries events
//! between replicas ([`bus`]), and the upkeep that compacts logs, unloads idle rooms and
//! re-checks who may stay connected.
//!
//! **What it owns and what it must not touch.** The protocol itself (what a message does,
//! limits, permissions per connection) is `arbor_collab`'s, which does no I/O; this crate
//! supplies storage (`arbor_db`), fan-out and time. It knows nothing of HTTP or pages: the
//! server's websocket handler hands it frames, and the services stand behind two small
//! traits ([`Permissions`]: who may stay; [`Rows`]: bring the rows up to a document that went
//! quiet), so the arrows point down only.
//!
//! **Acknowledged means durable.** An accepted update is relayed to this replica's other
//! connections at once and appended to the log by the group-commit writer; other replicas hear
//! of it only once it is committed. The y-websocket protocol's one question and answer is the
//! sync step: the server answers a client's sync step 1 only once everything it has accepted
//! so far is committed, so a stock client's `synced` state means "all I sent before is on
//! disk" (the protocol core tells an acknowledgement from other replies:
//! `arbor_collab::Effects::acks`). Until then the client holds its edits, and every
//! (re)connect makes it send whatever the server lacks, so an update lost to a crash between
//! relay and commit comes back from a client that has it. If a write fails, the room is
//! reloaded from storage and every connection to it is closed to reconnect and sync.
#![forbid(unsafe_code)]

pub mod bus;
mod clock;
mod error;
mod host;
mod hub;
mod redis_handle;
mod relay;
mod room;
mod seed;
mod sockets;
mod upkeep;
mod writer;

pub use clock::{millis, now_ms};
pub use error::LiveError;
pub use host::{HostError, Levels, Permissions, Rows, Settled};
pub use hub::{Hub, Joined, Seat};
pub use redis_handle::RedisHandle;
pub use room::{DocKey, Out, SignIn};
pub use sockets::{SocketCaps, SocketPermit};
