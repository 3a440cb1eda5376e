//! CPU-bound work (password hashing, markdown rendering) on tokio's blocking pool, at most a
//! fixed number at once per kind, so a burst of it — or a hostile request — can neither stall
//! the async workers (health checks, every other request) nor take every core.

use std::time::Duration;

use tokio::sync::{AcquireError, Semaphore, SemaphorePermit};

use crate::ServiceError;

/// A bounded number of slots for one kind of blocking work.
pub struct Slots {
    slots: Semaphore,
    /// How long a request waits for a slot before it is told to retry (429 + `Retry-After`).
    wait: Duration,
}

impl Slots {
    /// `per_core` slots per core.
    pub fn per_core(per_core: usize, wait: Duration) -> Self {
        let cores = std::thread::available_parallelism().map_or(2, std::num::NonZero::get);
        Self {
            slots: Semaphore::new(cores * per_core),
            wait,
        }
    }

    /// Runs `work` on the blocking pool in a slot, waiting for one at most `wait`
    /// ([`ServiceError::busy`] after that).
    pub async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, ServiceError> {
        let slot = tokio::time::timeout(self.wait, self.slots.acquire())
            .await
            .map_err(|_| ServiceError::busy())?;
        in_slot(slot, work).await
    }

    /// [`Slots::run`] without a time limit on the wait, for work that must not be refused
    /// (storing an accepted edit).
    pub async fn run_patiently<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, ServiceError> {
        in_slot(self.slots.acquire().await, work).await
    }
}

/// Runs `work` on the blocking pool, holding `slot` until it is done.
async fn in_slot<T: Send + 'static>(
    slot: Result<SemaphorePermit<'_>, AcquireError>,
    work: impl FnOnce() -> T + Send + 'static,
) -> Result<T, ServiceError> {
    let _slot = slot.map_err(ServiceError::internal)?;
    tokio::task::spawn_blocking(work)
        .await
        .map_err(ServiceError::internal)
}
