//! Group commit: one task per replica appends the rooms' updates to their stored logs, every
//! update queued at the moment in one transaction, then answers each.

use std::time::Instant;

use tokio::sync::{mpsc, oneshot};

use crate::clock::now_ms;

/// Updates written in one transaction at most.
const BATCH: usize = 256;

enum Write {
    Append {
        doc: i64,
        data: Vec<u8>,
        done: oneshot::Sender<bool>,
    },
    /// Answered once everything queued before it is written (or failed).
    Flush(oneshot::Sender<()>),
}

/// A handle on the writer task; cheap to clone.
#[derive(Clone)]
pub(crate) struct Writer {
    requests: mpsc::Sender<Write>,
}

impl Writer {
    /// Starts the writer task over `db`.
    pub fn spawn(db: arbor_db::Db) -> Writer {
        let (requests, queue) = mpsc::channel(4 * BATCH);
        tokio::spawn(write_loop(db, queue));
        Writer { requests }
    }

    /// Makes `data` durable in the log of document `doc`; `false` when the write failed.
    pub async fn append(&self, doc: i64, data: Vec<u8>) -> bool {
        let (done, wait) = oneshot::channel();
        if self
            .requests
            .send(Write::Append { doc, data, done })
            .await
            .is_err()
        {
            return false;
        }
        wait.await.unwrap_or(false)
    }

    /// Waits until every append queued so far is written (or failed).
    pub async fn flush(&self) {
        let (done, wait) = oneshot::channel();
        if self.requests.send(Write::Flush(done)).await.is_ok() {
            let _ = wait.await;
        }
    }
}

/// Takes every request queued at the moment, writes the appends in one transaction, then
/// answers each; a flush is answered once the appends before it are answered.
async fn write_loop(db: arbor_db::Db, mut requests: mpsc::Receiver<Write>) {
    while let Some(first) = requests.recv().await {
        let mut batch = vec![first];
        while batch.len() < BATCH {
            match requests.try_recv() {
                Ok(next) => batch.push(next),
                Err(_) => break,
            }
        }
        let appends: Vec<(i64, &[u8])> = batch
            .iter()
            .filter_map(|w| match w {
                Write::Append { doc, data, .. } => Some((*doc, data.as_slice())),
                Write::Flush(_) => None,
            })
            .collect();
        let ok = if appends.is_empty() {
            true
        } else {
            let started = Instant::now();
            let written = db.append_updates(&appends, now_ms()).await;
            metrics::histogram!("arbor_collab_batch_updates").record(appends.len() as f64);
            metrics::histogram!("arbor_collab_commit_seconds")
                .record(started.elapsed().as_secs_f64());
            if let Err(e) = &written {
                tracing::error!(error = %e, updates = appends.len(), "appending updates failed");
            }
            written.is_ok()
        };
        for write in batch {
            match write {
                Write::Append { done, .. } => {
                    let _ = done.send(ok);
                }
                Write::Flush(done) => {
                    let _ = done.send(());
                }
            }
        }
    }
}
