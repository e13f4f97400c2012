//! The message writer: one thread that owns one SQLite connection and stores
//! every room event (group commit).
//!
//! Callers send a [`WriteJob`] and await its reply. The thread takes every
//! job waiting in its queue (up to [`MAX_BATCH`]), stores them all in one
//! transaction, and only after the commit — fsynced under the default
//! durability — replies to each caller and hands the batch, in order, to the
//! commit hook (the chat fan-out). So an event is persisted before anyone is
//! told about it, and each room's `seq` is handed out here alone.
//!
//! If a batch fails (locked or full disk), its jobs are retried one by one
//! so a single bad job cannot sink the others; each failing job gets an
//! error reply and nothing is acknowledged for it.

use std::thread::JoinHandle;
use std::time::Instant;

use anyhow::Context;
use tokio::sync::{mpsc, oneshot};

use super::messages;
use super::models::{Message, NewMessage, Upload};
use super::{now_ms, Conn};
use crate::metrics::Metrics;

/// Most jobs in one transaction: bounds a batch's latency under a flood.
pub const MAX_BATCH: usize = 512;
/// Jobs that may wait for the writer before senders are slowed down.
const QUEUE_CAPACITY: usize = 16 * 1024;

/// A message to store. The names travel along so the committed event can
/// be serialized without another query.
#[derive(Debug, Clone)]
pub struct NewMessageJob {
    pub room_id: i32,
    pub room_name: String,
    pub user_id: i32,
    pub user_name: String,
    pub body: String,
    pub client_id: Option<String>,
    /// The uploaded file this message carries, already stored.
    pub upload: Option<Upload>,
}

/// The stored message, and whether it was stored by an earlier job with the
/// same `client_id` (then nothing new was written and nothing is fanned out).
#[derive(Debug, Clone)]
pub struct Stored {
    pub message: Message,
    pub room_name: String,
    pub user_name: String,
    pub upload: Option<Upload>,
    pub duplicate: bool,
}

#[derive(Debug, Clone, thiserror::Error)]
pub enum WriteError {
    #[error("the database could not store the event: {0}")]
    Failed(String),
    #[error("the writer has stopped")]
    Stopped,
}

impl NewMessageJob {
    fn stored(&self, message: Message, duplicate: bool) -> Stored {
        Stored {
            message,
            room_name: self.room_name.clone(),
            user_name: self.user_name.clone(),
            upload: self.upload.clone(),
            duplicate,
        }
    }
}

type Reply = oneshot::Sender<Result<Stored, WriteError>>;

struct WriteJob {
    job: NewMessageJob,
    reply: Reply,
}

/// Called on the writer thread after each commit with the newly stored
/// (non-duplicate) events, in commit order.
pub type CommitHook = Box<dyn FnMut(&[Stored]) + Send>;

/// Cheap to clone; every clone feeds the same writer thread.
#[derive(Clone)]
pub struct WriterHandle {
    tx: mpsc::Sender<WriteJob>,
}

impl WriterHandle {
    /// Start the writer thread on `conn`. The thread ends once every handle
    /// has been dropped and the queue is drained.
    pub fn spawn(
        conn: Conn,
        on_commit: CommitHook,
        metrics: Metrics,
    ) -> anyhow::Result<(Self, JoinHandle<()>)> {
        let (tx, rx) = mpsc::channel(QUEUE_CAPACITY);
        let thread = std::thread::Builder::new()
            .name("palaver-writer".into())
            .spawn(move || {
                Writer {
                    conn,
                    on_commit,
                    metrics,
                }
                .run(rx)
            })
            .context("Failed to start the writer thread")?;
        Ok((WriterHandle { tx }, thread))
    }

    /// Is the writer thread still taking jobs? (`/readyz`)
    pub fn is_running(&self) -> bool {
        !self.tx.is_closed()
    }

    /// Store a message; resolves after its batch has been committed.
    pub async fn post_message(&self, job: NewMessageJob) -> Result<Stored, WriteError> {
        let (reply, answer) = oneshot::channel();
        self.tx
            .send(WriteJob { job, reply })
            .await
            .map_err(|_| WriteError::Stopped)?;
        answer.await.map_err(|_| WriteError::Stopped)?
    }
}

struct Writer {
    conn: Conn,
    on_commit: CommitHook,
    metrics: Metrics,
}

impl Writer {
    fn run(mut self, mut rx: mpsc::Receiver<WriteJob>) {
        let mut batch = Vec::with_capacity(MAX_BATCH);
        while let Some(first) = rx.blocking_recv() {
            batch.push(first);
            while batch.len() < MAX_BATCH {
                match rx.try_recv() {
                    Ok(job) => batch.push(job),
                    Err(_) => break,
                }
            }
            self.process(&mut batch);
        }
        tracing::debug!("writer stopped: every handle was dropped");
    }

    fn process(&mut self, batch: &mut Vec<WriteJob>) {
        let jobs: Vec<&NewMessageJob> = batch.iter().map(|w| &w.job).collect();
        let started = Instant::now();
        let results = match store_all(&mut self.conn, &jobs) {
            Ok(stored) => stored.into_iter().map(Ok).collect(),
            Err(err) if batch.len() == 1 => vec![Err(WriteError::Failed(err.to_string()))],
            Err(err) => {
                tracing::warn!(error = %err, size = batch.len(), "batch failed; retrying jobs one by one");
                jobs.iter()
                    .map(|job| {
                        store_all(&mut self.conn, &[job])
                            .map(|mut one| one.remove(0))
                            .map_err(|err| WriteError::Failed(err.to_string()))
                    })
                    .collect::<Vec<_>>()
            }
        };
        let fresh: Vec<Stored> = results
            .iter()
            .filter_map(|r| r.as_ref().ok())
            .filter(|s| !s.duplicate)
            .cloned()
            .collect();
        self.metrics
            .db_batch_seconds
            .observe(started.elapsed().as_secs_f64());
        self.metrics.db_batch_size.observe(batch.len() as f64);
        if !fresh.is_empty() {
            self.metrics.messages_stored.inc_by(fresh.len() as u64);
            (self.on_commit)(&fresh);
        }
        for (job, result) in batch.drain(..).zip(results) {
            if let Err(err) = &result {
                tracing::error!(error = %err, room_id = job.job.room_id, "message not stored");
            }
            // The caller may have gone away; the message is stored regardless.
            let _ = job.reply.send(result);
        }
    }
}

/// Store `jobs` in one transaction, in order. Fails as a whole.
fn store_all(conn: &mut Conn, jobs: &[&NewMessageJob]) -> diesel::QueryResult<Vec<Stored>> {
    conn.immediate_transaction(|conn| {
        let mut out: Vec<Stored> = Vec::with_capacity(jobs.len());
        for job in jobs {
            // Earlier inserts of this transaction are visible here, so a
            // repeat inside the same batch is caught too.
            if let Some(client_id) = job.client_id.as_deref() {
                if let Some(message) = messages::find_by_client_id(conn, job.user_id, client_id)? {
                    out.push(job.stored(message, true));
                    continue;
                }
            }
            let seq = messages::next_seq(conn, job.room_id)?;
            let message = messages::insert(
                conn,
                &NewMessage {
                    room_id: job.room_id,
                    seq,
                    user_id: job.user_id,
                    body: &job.body,
                    created_at: now_ms(),
                    client_id: job.client_id.as_deref(),
                    upload_id: job.upload.as_ref().map(|u| u.id),
                    reply_to: None,
                },
            )?;
            out.push(job.stored(message, false));
        }
        Ok(out)
    })
}
