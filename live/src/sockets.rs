//! The socket caps of one replica: open sockets per client address and per account, counted
//! before a websocket is upgraded, so a stranger cannot hold thousands of rooms open.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use crate::error::LiveError;

/// Most open sockets per replica from one client address, and of one account.
#[derive(Debug, Clone, Copy)]
pub struct SocketCaps {
    pub per_client: usize,
    pub per_user: usize,
}

impl Default for SocketCaps {
    fn default() -> Self {
        SocketCaps {
            per_client: 256,
            per_user: 32,
        }
    }
}

/// How long a client refused for too many sockets is told to wait.
const RETRY_AFTER_SECS: u64 = 30;

/// Open sockets of this replica, by client address and by account.
#[derive(Default)]
struct Counts {
    per_client: HashMap<String, usize>,
    per_user: HashMap<i64, usize>,
}

/// The caps and the counts under them.
pub(crate) struct Sockets {
    caps: SocketCaps,
    counts: Arc<Mutex<Counts>>,
}

/// A socket's place under the caps, given back when dropped.
pub struct SocketPermit {
    counts: Arc<Mutex<Counts>>,
    client: Option<String>,
    user_id: i64,
}

fn lock(counts: &Mutex<Counts>) -> std::sync::MutexGuard<'_, Counts> {
    counts
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl Sockets {
    pub fn new(caps: SocketCaps) -> Self {
        Sockets {
            caps,
            counts: Arc::default(),
        }
    }

    /// A place for one more socket from `client` (its address) for `user_id` (0 signed out),
    /// unless either is at its cap.
    pub fn admit(&self, client: Option<&str>, user_id: i64) -> Result<SocketPermit, LiveError> {
        let mut counts = lock(&self.counts);
        let by_client = client.map_or(0, |c| counts.per_client.get(c).copied().unwrap_or(0));
        let by_user = counts.per_user.get(&user_id).copied().unwrap_or(0);
        if by_client >= self.caps.per_client || (user_id != 0 && by_user >= self.caps.per_user) {
            metrics::counter!("arbor_collab_sockets_refused_total").increment(1);
            return Err(LiveError::TooManySockets {
                retry_after_secs: RETRY_AFTER_SECS,
            });
        }
        if let Some(client) = client {
            *counts.per_client.entry(client.to_owned()).or_default() += 1;
        }
        if user_id != 0 {
            *counts.per_user.entry(user_id).or_default() += 1;
        }
        Ok(SocketPermit {
            counts: Arc::clone(&self.counts),
            client: client.map(str::to_owned),
            user_id,
        })
    }
}

impl Drop for SocketPermit {
    fn drop(&mut self) {
        let mut counts = lock(&self.counts);
        fn release<K: std::hash::Hash + Eq>(map: &mut HashMap<K, usize>, key: K) {
            if let std::collections::hash_map::Entry::Occupied(mut n) = map.entry(key) {
                *n.get_mut() -= 1;
                if *n.get() == 0 {
                    n.remove();
                }
            }
        }
        if let Some(client) = self.client.take() {
            release(&mut counts.per_client, client);
        }
        if self.user_id != 0 {
            release(&mut counts.per_user, self.user_id);
        }
    }
}
