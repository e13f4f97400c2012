//! The event writer: one thread that owns one SQLite connection and stores
//! every room event — new messages, edits, deletions, reactions (group
//! commit).
//!
//! Callers send a [`Job`] and await its reply. The thread takes every job
//! waiting in its queue (up to [`MAX_BATCH`]; in a burst of sends, also
//! those still arriving, see `gather_burst`), stores them all in one
//! transaction, and only after the commit — fsynced under the default
//! durability — hands the batch, in order, to the commit hook (the chat
//! fan-out) and replies to each caller. So an event is persisted before
//! anyone is told about it, and each room's `seq` (and each message's id)
//! is handed out here alone.
//!
//! What a message costs is kept to what SQLite must do for its row: the
//! insert is one statement Diesel keeps prepared, returns nothing (the
//! writer knows the row), and doubles as the `client_id` check; the
//! batch's new messages enter the search index together at the end of the
//! transaction (see [`messages::index_new`]); the seq counters are written
//! back once.
//!
//! Permission checks that depend on stored state (is this your message, is
//! it deleted, is the edit window open, may you read its room) happen here,
//! inside the same transaction as the change, so no race can slip between
//! check and write. A refused job gets a [`Refusal`] and does not disturb
//! the rest of its batch.
//!
//! If a batch fails (locked or full disk), its jobs are retried one by one
//! so a single bad job cannot sink the others; each failing job gets an
//! error reply and nothing is acknowledged for it.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use anyhow::Context;
use crossbeam_channel::{Receiver, RecvTimeoutError, Sender, TrySendError};
use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use tokio::sync::oneshot;

use super::messages::{self, MessageView};
use super::models::{Message, NewMessage, NewRoomEvent, Room, Upload};
use super::schema::{rooms, users};
use super::{now_ms, Conn};
use crate::chat::protocol::ReactionCount;
use crate::metrics::Metrics;

/// Most jobs in one transaction: bounds a batch's latency under a flood.
pub const MAX_BATCH: usize = 512;
/// In a burst of sends, the longest pause between two jobs that the writer
/// waits out before committing what it has: far below an fsync (~0.5 ms
/// here), far above the time a sender takes to queue its next job.
const BURST_GAP: Duration = Duration::from_micros(50);
/// The longest a burst holds back its first job.
const BURST_WAIT: Duration = Duration::from_micros(500);
/// Jobs that may wait for the writer before senders are slowed down.
const QUEUE_CAPACITY: usize = 16 * 1024;

/// Who asks for a change, as the permission checks need them.
#[derive(Debug, Clone)]
pub struct Actor {
    pub id: i32,
    pub name: String,
    pub is_admin: bool,
}

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
    /// The message (in the same room) this one answers.
    pub reply_to: Option<i32>,
}

/// One change to a room's stream.
#[derive(Debug, Clone)]
pub enum Job {
    Message(NewMessageJob),
    /// Replace a message's body. `window_ms`: how long after posting its
    /// author may edit it (None: always); admins may edit any time.
    Edit {
        message_id: i32,
        actor: Actor,
        body: String,
        window_ms: Option<i64>,
    },
    /// Make a message a tombstone.
    Delete {
        message_id: i32,
        actor: Actor,
    },
    /// Add (`add`) or remove a reaction.
    React {
        message_id: i32,
        actor: Actor,
        emoji: String,
        add: bool,
    },
}

/// A stored event and what fan-out and unread counting need to know of it.
#[derive(Debug, Clone)]
pub struct Committed {
    pub room_id: i32,
    pub room_name: String,
    /// The event's own seq (for a new message, the message's seq).
    pub seq: i64,
    /// False when nothing new was stored: a resend of an earlier
    /// `client_id`, or a change that changes nothing (a second identical
    /// reaction, deleting a deleted message). Nothing is fanned out then.
    pub fresh: bool,
    /// The author of the message concerned.
    pub author_id: i32,
    /// The seq of the message concerned.
    pub message_seq: i64,
    /// Users the message mentions (for a deletion: mentioned before it).
    pub mentioned: Vec<i32>,
    pub event: Event,
}

impl Committed {
    /// The id of the message concerned.
    pub fn message_id(&self) -> i32 {
        match &self.event {
            Event::Message(view) | Event::Edited(view) => view.message.id,
            Event::Deleted { message_id } | Event::Reaction { message_id, .. } => *message_id,
        }
    }
}

#[derive(Debug, Clone)]
pub enum Event {
    Message(Box<MessageView>),
    Edited(Box<MessageView>),
    Deleted {
        message_id: i32,
    },
    Reaction {
        message_id: i32,
        emoji: String,
        user: String,
        added: bool,
        reactions: Vec<ReactionCount>,
    },
}

/// Why a job was refused (nothing was stored).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error("There is no such message.")]
    NoSuchMessage,
    #[error("You may only change your own messages.")]
    NotYours,
    #[error("This message can no longer be edited.")]
    EditWindowPassed,
    #[error("This message was deleted.")]
    Deleted,
    #[error("The message replied to is not in this room.")]
    BadReply,
}

#[derive(Debug, Clone, thiserror::Error)]
pub enum WriteError {
    #[error("{0}")]
    Refused(Refusal),
    #[error("the database could not store the event: {0}")]
    Failed(String),
    #[error("the writer has stopped")]
    Stopped,
    #[error("the server is busy storing other messages; try again")]
    Busy,
}

/// A job's outcome inside a transaction: refusals don't roll it back.
type Outcome = Result<Committed, Refusal>;

type Reply = oneshot::Sender<Result<Committed, WriteError>>;

struct WriteJob {
    job: Job,
    reply: Reply,
}

/// Jobs travel boxed: a bounded queue sets aside (and touches) a slot of
/// its item's size for each of its [`QUEUE_CAPACITY`] places up front, and
/// a pointer's slot keeps that to a quarter of a MiB instead of 4 MiB.
type Queued = Box<WriteJob>;

/// Called on the writer thread after each commit with the newly stored
/// (fresh) events, in commit order.
pub type CommitHook = Box<dyn FnMut(&[&Committed]) + Send>;

/// Cheap to clone; every clone feeds the same writer thread.
#[derive(Clone)]
pub struct WriterHandle {
    tx: Sender<Queued>,
    /// Cleared when the writer thread ends, however it ends.
    running: Arc<AtomicBool>,
}

impl WriterHandle {
    /// Start the writer thread on `conn`. The thread ends once every handle
    /// has been dropped and the queue is drained.
    pub fn spawn(
        conn: Conn,
        on_commit: CommitHook,
        metrics: Metrics,
    ) -> anyhow::Result<(Self, JoinHandle<()>)> {
        Self::spawn_with_queue(conn, on_commit, metrics, QUEUE_CAPACITY)
    }

    /// [`WriterHandle::spawn`] with a queue of `capacity` jobs.
    fn spawn_with_queue(
        conn: Conn,
        on_commit: CommitHook,
        metrics: Metrics,
        capacity: usize,
    ) -> anyhow::Result<(Self, JoinHandle<()>)> {
        let (tx, rx) = crossbeam_channel::bounded(capacity);
        let running = Arc::new(AtomicBool::new(true));
        let stopped = StoppedOnDrop(running.clone());
        let thread = std::thread::Builder::new()
            .name("palaver-writer".into())
            .spawn(move || {
                let _stopped = stopped;
                Writer {
                    conn,
                    on_commit,
                    metrics,
                }
                .run(rx)
            })
            .context("Failed to start the writer thread")?;
        Ok((WriterHandle { tx, running }, thread))
    }

    /// Jobs waiting for the writer thread right now.
    pub fn queued(&self) -> usize {
        self.tx.len()
    }

    /// Is the writer thread still taking jobs? (`/readyz`)
    pub fn is_running(&self) -> bool {
        self.running.load(Ordering::Relaxed)
    }

    /// Queue an event now, at the call, so events one caller submits one
    /// after another are stored in that order (a socket's messages keep the
    /// order they were sent in); the future resolves after the event's batch
    /// has been committed. A full queue means the writer is far behind: the
    /// job is refused at once (`Busy`) and the caller may retry.
    pub fn submit(
        &self,
        job: Job,
    ) -> impl std::future::Future<Output = Result<Committed, WriteError>> + 'static {
        let (reply, answer) = oneshot::channel();
        let queued = self
            .tx
            .try_send(Box::new(WriteJob { job, reply }))
            .map_err(|err| match err {
                TrySendError::Full(_) => WriteError::Busy,
                TrySendError::Disconnected(_) => WriteError::Stopped,
            });
        async move {
            queued?;
            answer.await.map_err(|_| WriteError::Stopped)?
        }
    }
}

struct Writer {
    conn: Conn,
    on_commit: CommitHook,
    metrics: Metrics,
}

impl Writer {
    fn run(mut self, rx: Receiver<Queued>) {
        let mut batch = Vec::with_capacity(MAX_BATCH);
        let mut last_size = 0;
        while let Ok(first) = rx.recv() {
            batch.push(*first);
            take_waiting(&rx, &mut batch);
            if batch.len() > 1 || last_size > 1 {
                gather_burst(&rx, &mut batch);
            }
            last_size = batch.len();
            self.process(&mut batch);
        }
        tracing::debug!("writer stopped: every handle was dropped");
    }

    fn process(&mut self, batch: &mut Vec<WriteJob>) {
        let jobs: Vec<&Job> = batch.iter().map(|w| &w.job).collect();
        let started = Instant::now();
        let results: Vec<Result<Committed, WriteError>> = match store_all(&mut self.conn, &jobs) {
            Ok(outcomes) => outcomes.into_iter().map(refused).collect(),
            Err(err) if batch.len() == 1 => vec![Err(WriteError::Failed(err.to_string()))],
            Err(err) => {
                tracing::warn!(error = %err, size = batch.len(), "batch failed; retrying jobs one by one");
                jobs.iter()
                    .map(|job| match store_all(&mut self.conn, &[job]) {
                        Ok(mut one) => refused(one.remove(0)),
                        Err(err) => Err(WriteError::Failed(err.to_string())),
                    })
                    .collect()
            }
        };
        let fresh: Vec<&Committed> = results
            .iter()
            .filter_map(|r| r.as_ref().ok())
            .filter(|c| c.fresh)
            .collect();
        self.metrics
            .db_batch_seconds
            .observe(started.elapsed().as_secs_f64());
        self.metrics.db_batch_size.observe(batch.len() as f64);
        if fresh
            .iter()
            .any(|c| matches!(c.event, Event::Deleted { .. }))
        {
            self.purge_wal();
        }
        if !fresh.is_empty() {
            self.metrics.messages_stored.inc_by(fresh.len() as u64);
            (self.on_commit)(&fresh);
        }
        for (job, result) in batch.drain(..).zip(results) {
            if let Err(WriteError::Failed(err)) = &result {
                tracing::error!(error = %err, "event not stored");
            }
            // The caller may have gone away; the event is stored regardless.
            let _ = job.reply.send(result);
        }
    }

    /// A deleted message's text must not linger on disk: `secure_delete`
    /// zeroes it in the database pages and FTS5 secure-delete drops it from
    /// the search index, but the write-ahead log still holds the pages as
    /// they were before. Copy the log into the database and empty it.
    fn purge_wal(&mut self) {
        if let Err(err) = self.conn.batch_execute("PRAGMA wal_checkpoint(TRUNCATE);") {
            tracing::warn!(error = %err, "could not truncate the WAL after a deletion");
        }
    }
}

/// Move the jobs waiting now into `batch` (up to [`MAX_BATCH`]).
fn take_waiting(rx: &Receiver<Queued>, batch: &mut Vec<WriteJob>) {
    while batch.len() < MAX_BATCH {
        match rx.try_recv() {
            Ok(job) => batch.push(*job),
            Err(_) => break,
        }
    }
}

/// Senders are sending together (this batch or the last one had more than
/// one job): keep taking jobs while they keep coming, each within
/// [`BURST_GAP`] of the one before, for at most [`BURST_WAIT`]. A burst
/// that the writer woke up in the middle of then shares one commit, and one
/// fsync, instead of being split in two. A lone sender is never held up.
///
/// The thread sleeps between arrivals (a timed wait on the queue), so a
/// job wakes it at once. It must not spin with `yield_now`: on a machine
/// busy with the fan-out, a yielding thread can lose the CPU for whole
/// scheduler slices, which measured as ~4 ms more per commit.
fn gather_burst(rx: &Receiver<Queued>, batch: &mut Vec<WriteJob>) {
    let deadline = Instant::now() + BURST_WAIT;
    while batch.len() < MAX_BATCH {
        let now = Instant::now();
        if now >= deadline {
            return;
        }
        match rx.recv_timeout(BURST_GAP.min(deadline - now)) {
            Ok(job) => {
                batch.push(*job);
                take_waiting(rx, batch);
            }
            Err(RecvTimeoutError::Timeout | RecvTimeoutError::Disconnected) => return,
        }
    }
}

/// Marks the writer stopped when its thread ends, by return or by panic.
struct StoppedOnDrop(Arc<AtomicBool>);

impl Drop for StoppedOnDrop {
    fn drop(&mut self) {
        self.0.store(false, Ordering::Relaxed);
    }
}

fn refused(outcome: Outcome) -> Result<Committed, WriteError> {
    outcome.map_err(WriteError::Refused)
}

/// Numbers handed out in one transaction: each room's `last_seq` is read
/// once, counted up in memory, and written back once at the end, instead
/// of an `UPDATE … RETURNING` per event (Diesel does not cache UPDATE
/// statements, so each one was parsed anew); and message ids, counted up
/// from the highest one stored, so an insert need not return its row.
#[derive(Default)]
struct Seqs {
    last: HashMap<i32, i64>,
    last_message_id: Option<i32>,
}

impl Seqs {
    fn next(&mut self, conn: &mut Conn, room_id: i32) -> QueryResult<i64> {
        let last = match self.last.get(&room_id) {
            Some(&last) => last,
            None => messages::last_seq(conn, room_id)?,
        };
        self.last.insert(room_id, last + 1);
        Ok(last + 1)
    }

    fn next_message_id(&mut self, conn: &mut Conn) -> QueryResult<i32> {
        let last = match self.last_message_id {
            Some(last) => last,
            None => messages::last_id(conn)?,
        };
        self.last_message_id = Some(last + 1);
        Ok(last + 1)
    }

    /// Undo the last [`Seqs::next`] for `room_id` and the last message id:
    /// that message was not stored, and seqs have no gaps.
    fn give_back(&mut self, room_id: i32) {
        if let Some(last) = self.last.get_mut(&room_id) {
            *last -= 1;
        }
        if let Some(last) = self.last_message_id.as_mut() {
            *last -= 1;
        }
    }

    fn write_back(self, conn: &mut Conn) -> QueryResult<()> {
        for (room_id, last) in self.last {
            messages::set_last_seq(conn, room_id, last)?;
        }
        Ok(())
    }
}

/// Store `jobs` in one transaction, in order. Fails as a whole on a
/// database error; refusals are per job.
fn store_all(conn: &mut Conn, jobs: &[&Job]) -> QueryResult<Vec<Outcome>> {
    conn.immediate_transaction(|conn| {
        let mut seqs = Seqs::default();
        let mut unindexed = Unindexed::default();
        let mut out = Vec::with_capacity(jobs.len());
        for job in jobs {
            if !matches!(job, Job::Message(_)) {
                // An edit or deletion tells the search index what to forget.
                unindexed.index(conn)?;
            }
            // Earlier changes of this transaction are visible here, so a
            // repeat inside the same batch is caught too.
            out.push(match job {
                Job::Message(job) => {
                    let outcome = store_message(conn, &mut seqs, job)?;
                    if let Ok(stored) = &outcome {
                        unindexed.stored(stored);
                    }
                    outcome
                }
                Job::Edit {
                    message_id,
                    actor,
                    body,
                    window_ms,
                } => edit(conn, &mut seqs, *message_id, actor, body, *window_ms)?,
                Job::Delete { message_id, actor } => delete(conn, &mut seqs, *message_id, actor)?,
                Job::React {
                    message_id,
                    actor,
                    emoji,
                    add,
                } => react(conn, &mut seqs, *message_id, actor, emoji, *add)?,
            });
        }
        seqs.write_back(conn)?;
        unindexed.index(conn)?;
        Ok(out)
    })
}

/// New messages of this transaction not yet in the search index: they are
/// indexed together, in one statement, at the end of a run of new messages
/// (see [`messages::index_new`] for why).
#[derive(Default)]
struct Unindexed {
    first_id: Option<i32>,
}

impl Unindexed {
    fn stored(&mut self, committed: &Committed) {
        if committed.fresh {
            self.first_id.get_or_insert(committed.message_id());
        }
    }

    fn index(&mut self, conn: &mut Conn) -> QueryResult<()> {
        match self.first_id.take() {
            Some(first_id) => messages::index_new(conn, first_id),
            None => Ok(()),
        }
    }
}

fn store_message(conn: &mut Conn, seqs: &mut Seqs, job: &NewMessageJob) -> QueryResult<Outcome> {
    let reply = match job.reply_to {
        Some(id) => match messages::find(conn, id)? {
            Some(original) if original.message.room_id == job.room_id => {
                Some(original.reply_preview())
            }
            // A resend is answered with what was stored the first time.
            _ => return Ok(resent(conn, job)?.ok_or(Refusal::BadReply)),
        },
        None => None,
    };
    let message = Message {
        id: seqs.next_message_id(conn)?,
        room_id: job.room_id,
        seq: seqs.next(conn, job.room_id)?,
        user_id: job.user_id,
        body: job.body.clone(),
        created_at: now_ms(),
        client_id: job.client_id.clone(),
        upload_id: job.upload.as_ref().map(|u| u.id),
        edited_at: None,
        deleted_at: None,
        reply_to: job.reply_to,
    };
    let stored = messages::insert(
        conn,
        &NewMessage {
            id: message.id,
            room_id: message.room_id,
            seq: message.seq,
            user_id: message.user_id,
            body: &message.body,
            created_at: message.created_at,
            client_id: message.client_id.as_deref(),
            upload_id: message.upload_id,
            reply_to: message.reply_to,
        },
    )?;
    if !stored {
        // Its `client_id` is taken (checked by the UNIQUE key, which a
        // lookup before the insert would only repeat).
        seqs.give_back(job.room_id);
        return match resent(conn, job)? {
            Some(done) => Ok(Ok(done)),
            None => Err(diesel::result::Error::DatabaseError(
                diesel::result::DatabaseErrorKind::UniqueViolation,
                Box::new(format!(
                    "message {} (seq {}) not stored: its id or seq is taken",
                    message.id, message.seq
                )),
            )),
        };
    }
    let seq = message.seq;
    let mentioned = resolve_mentions(conn, job.room_id, &job.body)?;
    let ids: Vec<i32> = mentioned.iter().map(|(id, _)| *id).collect();
    if !ids.is_empty() {
        messages::set_mentions(conn, message.id, &ids)?;
        // A mention counts even in a room its user never opened.
        for &user_id in ids.iter().filter(|&&id| id != job.user_id) {
            super::reads::ensure_marker(conn, user_id, job.room_id, seq - 1)?;
        }
    }
    let view = MessageView {
        user_name: job.user_name.clone(),
        upload: job.upload.clone(),
        reactions: Vec::new(),
        reply,
        mentions: mentioned.into_iter().map(|(_, name)| name).collect(),
        message,
    };
    Ok(Ok(committed_message(job, view, true, ids)))
}

/// A resend: the message this sender already stored with the job's
/// `client_id`, as it is now (not fresh: nothing is fanned out again).
fn resent(conn: &mut Conn, job: &NewMessageJob) -> QueryResult<Option<Committed>> {
    let Some(client_id) = job.client_id.as_deref() else {
        return Ok(None);
    };
    let Some(message) = messages::find_by_client_id(conn, job.user_id, client_id)? else {
        return Ok(None);
    };
    let view = messages::find(conn, message.id)?.unwrap_or_else(|| MessageView {
        message,
        user_name: job.user_name.clone(),
        upload: job.upload.clone(),
        reactions: Vec::new(),
        reply: None,
        mentions: Vec::new(),
    });
    Ok(Some(committed_message(job, view, false, Vec::new())))
}

fn committed_message(
    job: &NewMessageJob,
    view: MessageView,
    fresh: bool,
    mentioned: Vec<i32>,
) -> Committed {
    Committed {
        room_id: view.message.room_id,
        room_name: job.room_name.clone(),
        seq: view.message.seq,
        fresh,
        author_id: view.message.user_id,
        message_seq: view.message.seq,
        mentioned,
        event: Event::Message(Box::new(view)),
    }
}

/// The users a body mentions who may read the room: (id, name).
fn resolve_mentions(conn: &mut Conn, room_id: i32, body: &str) -> QueryResult<Vec<(i32, String)>> {
    let keys = crate::markdown::mention_candidates(body);
    if keys.is_empty() {
        return Ok(Vec::new());
    }
    let found: Vec<(i32, String)> = users::table
        .filter(users::name_key.eq_any(&keys))
        .filter(users::disabled.eq(false))
        .order(users::name_key.asc())
        .select((users::id, users::name))
        .load(conn)?;
    let room = room_of(conn, room_id)?;
    let mut readers = Vec::with_capacity(found.len());
    for (id, name) in found {
        if super::rooms::can_read(conn, &room, id)? {
            readers.push((id, name));
        }
    }
    Ok(readers)
}

fn room_of(conn: &mut Conn, room_id: i32) -> QueryResult<Room> {
    rooms::table
        .find(room_id)
        .select(Room::as_select())
        .first(conn)
}

/// The message a change is about, and its room, if the actor may see it.
fn subject(
    conn: &mut Conn,
    message_id: i32,
    actor: &Actor,
) -> QueryResult<Option<(Message, Room)>> {
    let Some(message) = messages::find_row(conn, message_id)? else {
        return Ok(None);
    };
    let room = room_of(conn, message.room_id)?;
    if !super::rooms::can_read(conn, &room, actor.id)? {
        return Ok(None);
    }
    Ok(Some((message, room)))
}

fn change(
    room: &Room,
    message: &Message,
    seq: i64,
    mentioned: Vec<i32>,
    event: Event,
) -> Committed {
    Committed {
        room_id: room.id,
        room_name: room.name.clone(),
        seq,
        fresh: true,
        author_id: message.user_id,
        message_seq: message.seq,
        mentioned,
        event,
    }
}

fn record_event(
    conn: &mut Conn,
    seqs: &mut Seqs,
    room: &Room,
    kind: &str,
    message_id: i32,
    actor: &Actor,
    emoji: Option<&str>,
) -> QueryResult<i64> {
    let seq = seqs.next(conn, room.id)?;
    messages::insert_event(
        conn,
        &NewRoomEvent {
            room_id: room.id,
            seq,
            kind,
            message_id,
            user_id: actor.id,
            emoji,
            created_at: now_ms(),
        },
    )?;
    Ok(seq)
}

fn edit(
    conn: &mut Conn,
    seqs: &mut Seqs,
    message_id: i32,
    actor: &Actor,
    body: &str,
    window_ms: Option<i64>,
) -> QueryResult<Outcome> {
    let Some((message, room)) = subject(conn, message_id, actor)? else {
        return Ok(Err(Refusal::NoSuchMessage));
    };
    if message.deleted_at.is_some() {
        return Ok(Err(Refusal::Deleted));
    }
    let own = message.user_id == actor.id;
    if !own && !actor.is_admin {
        return Ok(Err(Refusal::NotYours));
    }
    let now = now_ms();
    if own && !actor.is_admin && window_ms.is_some_and(|w| now - message.created_at > w) {
        return Ok(Err(Refusal::EditWindowPassed));
    }
    let seq = record_event(conn, seqs, &room, "edit", message.id, actor, None)?;
    messages::set_body(conn, message.id, body, now)?;
    let mentioned = resolve_mentions(conn, room.id, body)?;
    let ids: Vec<i32> = mentioned.iter().map(|(id, _)| *id).collect();
    messages::set_mentions(conn, message.id, &ids)?;
    let Some(view) = messages::find(conn, message.id)? else {
        return Ok(Err(Refusal::NoSuchMessage));
    };
    Ok(Ok(change(
        &room,
        &message,
        seq,
        ids,
        Event::Edited(Box::new(view)),
    )))
}

fn delete(
    conn: &mut Conn,
    seqs: &mut Seqs,
    message_id: i32,
    actor: &Actor,
) -> QueryResult<Outcome> {
    let Some((message, room)) = subject(conn, message_id, actor)? else {
        return Ok(Err(Refusal::NoSuchMessage));
    };
    if message.user_id != actor.id && !actor.is_admin {
        return Ok(Err(Refusal::NotYours));
    }
    if message.deleted_at.is_some() {
        let mut done = change(
            &room,
            &message,
            room.last_seq,
            Vec::new(),
            Event::Deleted { message_id },
        );
        done.fresh = false;
        return Ok(Ok(done));
    }
    let mentioned = messages::mentioned_ids(conn, message.id)?;
    let seq = record_event(conn, seqs, &room, "delete", message.id, actor, None)?;
    messages::tombstone(conn, message.id, now_ms())?;
    Ok(Ok(change(
        &room,
        &message,
        seq,
        mentioned,
        Event::Deleted { message_id },
    )))
}

fn react(
    conn: &mut Conn,
    seqs: &mut Seqs,
    message_id: i32,
    actor: &Actor,
    emoji: &str,
    add: bool,
) -> QueryResult<Outcome> {
    let Some((message, room)) = subject(conn, message_id, actor)? else {
        return Ok(Err(Refusal::NoSuchMessage));
    };
    if message.deleted_at.is_some() {
        return Ok(Err(Refusal::Deleted));
    }
    let changed = if add {
        messages::add_reaction(conn, message.id, actor.id, emoji, now_ms())?
    } else {
        messages::remove_reaction(conn, message.id, actor.id, emoji)?
    };
    let (seq, fresh) = if changed {
        let kind = if add { "react" } else { "unreact" };
        (
            record_event(conn, seqs, &room, kind, message.id, actor, Some(emoji))?,
            true,
        )
    } else {
        (room.last_seq, false)
    };
    let reactions = messages::reaction_counts(conn, &[message.id])?
        .remove(&message.id)
        .unwrap_or_default();
    let mut done = change(
        &room,
        &message,
        seq,
        Vec::new(),
        Event::Reaction {
            message_id,
            emoji: emoji.to_string(),
            user: actor.name.clone(),
            added: add,
            reactions,
        },
    );
    done.fresh = fresh;
    Ok(Ok(done))
}

#[cfg(test)]
mod tests {
    use std::sync::{mpsc as std_mpsc, Arc, Mutex};
    use std::time::Duration;

    use diesel::connection::SimpleConnection;

    use super::*;
    use crate::config::Durability;
    use crate::db::SqliteSetup;

    /// Jobs queued while the writer is busy.
    const PENDING: usize = 50;

    /// Each commit's events as (seq, body).
    type Commits = Arc<Mutex<Vec<Vec<(i64, String)>>>>;

    fn job(room_id: i32, user_id: i32, body: String) -> Job {
        Job::Message(NewMessageJob {
            room_id,
            room_name: "general".into(),
            user_id,
            user_name: "alice".into(),
            client_id: Some(body.clone()),
            body,
            upload: None,
            reply_to: None,
        })
    }

    /// A migrated database in `dir` with user 1 (alice) and room 1.
    fn database(dir: &tempfile::TempDir) -> Conn {
        let path = dir.path().join("w.db");
        let setup = SqliteSetup {
            durability: Durability::Full,
        };
        let mut conn = setup.open(path.to_str().unwrap()).unwrap();
        crate::db::run_migrations(&mut conn).unwrap();
        conn.batch_execute(
            "INSERT INTO users (id, name, name_key, password_hash, created_at) VALUES (1, 'alice', 'alice', 'x', 0);
             INSERT INTO rooms (id, name, name_key, created_at) VALUES (1, 'general', 'general', 0);",
        )
        .unwrap();
        conn
    }

    fn search(conn: &mut Conn, words: &str) -> Vec<i32> {
        crate::db::search::hit_ids(conn, 1, words, None)
    }

    #[test]
    fn a_resend_and_an_edit_in_the_same_batch_as_their_message_keep_seqs_and_search_right() {
        let dir = tempfile::tempdir().unwrap();
        let mut conn = database(&dir);
        let alice = Actor {
            id: 1,
            name: "alice".into(),
            is_admin: false,
        };
        let first = job(1, 1, "c1".into());
        let resend = first.clone();
        let second = job(1, 1, "c2".into());
        let outcomes = store_all(&mut conn, &[&first, &resend, &second]).unwrap();
        let stored: Vec<(i32, i64, bool)> = outcomes
            .iter()
            .map(|o| {
                let c = o.as_ref().unwrap();
                (c.message_id(), c.seq, c.fresh)
            })
            .collect();
        assert_eq!(
            stored,
            vec![(1, 1, true), (1, 1, false), (2, 2, true)],
            "the resend is answered with the stored message and takes no seq"
        );

        let third = job(1, 1, "the meeting is on monday".into());
        let edit = Job::Edit {
            message_id: 3,
            actor: alice,
            body: "the meeting is on tuesday".into(),
            window_ms: None,
        };
        let outcomes = store_all(&mut conn, &[&third, &edit]).unwrap();
        assert_eq!(outcomes[1].as_ref().unwrap().seq, 4);
        assert_eq!(search(&mut conn, "monday"), Vec::<i32>::new());
        assert_eq!(search(&mut conn, "tuesday"), vec![3]);
        assert_eq!(search(&mut conn, "c2"), vec![2]);
        conn.batch_execute("INSERT INTO messages_fts(messages_fts) VALUES ('integrity-check')")
            .unwrap();
    }

    #[test]
    fn jobs_waiting_together_are_stored_in_one_transaction_in_order() {
        let dir = tempfile::tempdir().unwrap();
        let conn = database(&dir);

        // The commit hook records each commit's events; the first commit
        // holds the writer until the test has queued the rest.
        let commits: Commits = Arc::default();
        let (hold_tx, hold_rx) = std_mpsc::channel::<()>();
        let seen = commits.clone();
        let hook: CommitHook = Box::new(move |batch: &[&Committed]| {
            let events = batch
                .iter()
                .map(|c| match &c.event {
                    Event::Message(view) => (c.seq, view.message.body.clone()),
                    other => panic!("unexpected event {other:?}"),
                })
                .collect();
            let first = seen.lock().unwrap().is_empty();
            seen.lock().unwrap().push(events);
            if first {
                let _ = hold_rx.recv_timeout(Duration::from_secs(10));
            }
        });
        let (writer, thread) = WriterHandle::spawn(conn, hook, Metrics::new()).unwrap();

        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .unwrap();
        runtime.block_on(async {
            let first = tokio::spawn({
                let writer = writer.clone();
                async move { writer.submit(job(1, 1, "first".into())).await }
            });
            while commits.lock().unwrap().is_empty() {
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
            // Queue the rest, in order, while the writer is held.
            let rest: Vec<_> = (0..PENDING)
                .map(|i| {
                    let writer = writer.clone();
                    let job = job(1, 1, format!("m{i}"));
                    tokio::spawn(async move { writer.submit(job).await })
                })
                .collect();
            while writer.queued() < PENDING {
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
            hold_tx.send(()).unwrap();
            first.await.unwrap().unwrap();
            for (i, done) in rest.into_iter().enumerate() {
                let committed = done.await.unwrap().unwrap();
                assert_eq!(committed.seq, i as i64 + 2, "acked with its own seq");
            }
        });
        drop(writer);
        thread.join().unwrap();

        let commits = commits.lock().unwrap();
        assert_eq!(
            commits.len(),
            2,
            "one commit for the first job, one for the rest"
        );
        let expected: Vec<(i64, String)> = (0..PENDING)
            .map(|i| (i as i64 + 2, format!("m{i}")))
            .collect();
        assert_eq!(commits[1], expected, "queue order is seq order");
    }

    #[test]
    fn a_full_queue_refuses_at_once_loses_nothing_queued_and_takes_jobs_again_once_drained() {
        const QUEUE: usize = 4;
        let dir = tempfile::tempdir().unwrap();
        let conn = database(&dir);
        // The first commit holds the writer until the queue has been filled.
        let (held_tx, held_rx) = std_mpsc::channel::<()>();
        let (release_tx, release_rx) = std_mpsc::channel::<()>();
        let mut first = true;
        let hook: CommitHook = Box::new(move |_: &[&Committed]| {
            if std::mem::take(&mut first) {
                let _ = held_tx.send(());
                let _ = release_rx.recv_timeout(Duration::from_secs(10));
            }
        });
        let (writer, thread) =
            WriterHandle::spawn_with_queue(conn, hook, Metrics::new(), QUEUE).unwrap();

        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .unwrap();
        runtime.block_on(async {
            let held = writer.submit(job(1, 1, "held".into()));
            held_rx.recv_timeout(Duration::from_secs(10)).unwrap();
            let queued: Vec<_> = (0..QUEUE)
                .map(|i| writer.submit(job(1, 1, format!("q{i}"))))
                .collect();
            let refused = writer.submit(job(1, 1, "one too many".into())).await;
            assert!(matches!(refused, Err(WriteError::Busy)), "{refused:?}");

            release_tx.send(()).unwrap();
            assert_eq!(held.await.unwrap().seq, 1);
            for (i, done) in queued.into_iter().enumerate() {
                assert_eq!(done.await.unwrap().seq, i as i64 + 2, "queued job {i}");
            }
            let again = writer.submit(job(1, 1, "again".into())).await.unwrap();
            assert_eq!(again.seq, QUEUE as i64 + 2, "the refused job took no seq");
        });
        drop(writer);
        thread.join().unwrap();
    }
}
