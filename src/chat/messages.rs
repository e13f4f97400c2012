//! Messages between the actors: sessions → `ChatServer`, the writer →
//! `ChatServer`, and `ChatServer` → sessions. Named-field structs, one doc
//! line each. Also each session's [`Inbox`], where the `ChatServer` queues
//! its live events between wakes.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex, PoisonError};

use actix::prelude::*;
use bytestring::ByteString;
use tokio::sync::oneshot;

/// A connected session's id, handed out by the `ChatServer`.
pub type SessionId = u64;

/// What the `ChatServer` sends a session.
#[derive(Debug, Clone, Message)]
#[rtype(result = "()")]
pub enum ToSession {
    /// Live events are waiting in the session's [`Inbox`].
    Events,
    /// Any other frame (presence, typing, unread).
    Frame(ByteString),
    /// The room list changed: fetch this user's list and send it.
    RefreshRooms,
    /// Close the socket with this code and reason, then stop.
    Close { code: u16, reason: &'static str },
}

/// Live events the `ChatServer` has handed a session and the session has
/// not taken yet: one shared batch per room and commit, oldest first.
///
/// The server tells the session with one [`ToSession::Events`] only when
/// the inbox goes from empty to not empty, so a session that is behind takes
/// every waiting batch in one wake (one mailbox message, one socket write)
/// rather than one mailbox message per commit. Past `limit` waiting events
/// the session has stopped draining its socket and is dropped as a slow
/// consumer; counting events keeps that bound in frames whatever the batch
/// sizes. Whenever the inbox is not empty, exactly one `Events` message for
/// it is in the session's mailbox, and only that message's handler takes.
#[derive(Debug)]
pub struct Inbox {
    queue: Mutex<Waiting>,
    limit: usize,
}

#[derive(Debug, Default)]
struct Waiting {
    batches: Vec<RoomBatch>,
    events: usize,
}

/// A room's events from one commit, in `seq` order, serialized once and
/// shared by every member.
#[derive(Debug)]
pub struct RoomBatch {
    pub room_id: i32,
    pub events: Arc<[LiveEvent]>,
}

/// The session is too far behind: nothing was queued.
#[derive(Debug, PartialEq, Eq)]
pub struct Overflow;

impl Inbox {
    pub fn new(limit: usize) -> Self {
        Inbox {
            queue: Mutex::new(Waiting::default()),
            limit,
        }
    }

    fn waiting(&self) -> std::sync::MutexGuard<'_, Waiting> {
        // Nothing panics while holding the lock; a poisoned queue is intact.
        self.queue.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Queue a batch; `Ok(true)` if the inbox was empty, so the session must
    /// be sent [`ToSession::Events`].
    pub fn push(&self, batch: RoomBatch) -> Result<bool, Overflow> {
        let mut waiting = self.waiting();
        if waiting.events.saturating_add(batch.events.len()) > self.limit {
            return Err(Overflow);
        }
        waiting.events += batch.events.len();
        waiting.batches.push(batch);
        Ok(waiting.batches.len() == 1)
    }

    /// Move every waiting batch, oldest first, to the end of `into` (whose
    /// capacity is reused from one wake to the next).
    pub fn take_into(&self, into: &mut Vec<RoomBatch>) {
        let mut waiting = self.waiting();
        waiting.events = 0;
        into.append(&mut waiting.batches);
    }
}

/// A new WebSocket session wants to be counted and reachable.
#[derive(Message)]
#[rtype(result = "Result<SessionId, &'static str>")]
pub struct Connect {
    pub session: Recipient<ToSession>,
    /// Where the `ChatServer` queues the session's live events.
    pub inbox: Arc<Inbox>,
    pub user_id: i32,
    pub user_name: String,
    /// SHA-256 of the session token, to close this socket on logout.
    pub token_hash: String,
    pub ip: Option<IpAddr>,
}

/// A session has stopped, whatever the reason.
#[derive(Message)]
#[rtype(result = "()")]
pub struct Disconnect {
    pub session_id: SessionId,
}

/// Add a session to a room's members; answered once it is a member.
#[derive(Message)]
#[rtype(result = "()")]
pub struct Join {
    pub session_id: SessionId,
    pub room_id: i32,
    pub room_name: String,
}

/// Remove a session from a room's members.
#[derive(Message)]
#[rtype(result = "()")]
pub struct Leave {
    pub session_id: SessionId,
    pub room_id: i32,
}

/// Tell a room's other members that this session's user is typing.
#[derive(Message)]
#[rtype(result = "()")]
pub struct Typing {
    pub session_id: SessionId,
    pub room_id: i32,
}

/// One stored room event as a session sends it; `seq` lets the session
/// order it against `history` pages.
#[derive(Debug, Clone)]
pub struct LiveEvent {
    pub seq: i64,
    pub frame: ByteString,
}

/// One stored room event, serialized once for every recipient.
#[derive(Debug, Clone)]
pub struct RoomEvent {
    pub room_id: i32,
    pub seq: i64,
    pub frame: ByteString,
    /// How the event changes unread counts, if it does.
    pub unread: Option<UnreadChange>,
}

/// A new message (+1) or a deleted one (-1), for the unread counts of the
/// room's other readers.
#[derive(Debug, Clone)]
pub struct UnreadChange {
    pub room_name: String,
    pub delta: i64,
    pub author_id: i32,
    /// The seq of the message: it counts only for readers whose marker is
    /// before it.
    pub message_seq: i64,
    /// Users it mentions: their mention counts change too.
    pub mentioned: Vec<i32>,
}

/// Events just committed by the writer, in commit order: fan them out.
#[derive(Message)]
#[rtype(result = "()")]
pub struct Publish {
    pub events: Vec<RoomEvent>,
    /// When the batch was committed, for the fan-out latency metric.
    pub committed_at: std::time::Instant,
}

/// The server is stopping: close every socket with 1001 (going away).
#[derive(Message)]
#[rtype(result = "()")]
pub struct Shutdown;

/// The room list changed: every session of these users (all users: None)
/// fetches and sends its own list.
#[derive(Message)]
#[rtype(result = "()")]
pub struct RefreshRooms {
    pub user_ids: Option<Vec<i32>>,
}

/// A user's unread state, freshly counted from the database (on connect):
/// the `ChatServer` keeps it up to date from then on while they are online.
#[derive(Message)]
#[rtype(result = "()")]
pub struct LoadUnread {
    pub user_id: i32,
    pub rooms: Vec<crate::db::reads::Unread>,
}

/// The unread counts kept for an online user, by room id (empty if none).
#[derive(Message)]
#[rtype(result = "HashMap<i32, crate::db::reads::Unread>")]
pub struct GetUnread {
    pub user_id: i32,
}

/// A user read a room (or opened it for the first time): store their new
/// state and tell every one of their sessions (`unread` frame).
#[derive(Message)]
#[rtype(result = "()")]
pub struct SetUnread {
    pub user_id: i32,
    pub room_name: String,
    pub unread: crate::db::reads::Unread,
}

/// Which sessions a [`CloseSessions`] ends.
#[derive(Debug, Clone)]
pub enum SessionFilter {
    /// Every socket of one login session (logout).
    Token { token_hash: String },
    /// Every socket of one user (password change, disabled account).
    User { user_id: i32 },
}

/// Close the matching sockets with 1008 and this reason.
#[derive(Message)]
#[rtype(result = "()")]
pub struct CloseSessions {
    pub filter: SessionFilter,
    pub reason: &'static str,
}

/// Resolve when the next event is published in this room (long-poll).
#[derive(Message)]
#[rtype(result = "oneshot::Receiver<()>")]
pub struct WaitForEvent {
    pub room_id: i32,
}

/// Who is online: for the home page, the room list and `/api/online`.
/// Counts cost O(rooms); the names cost O(connections), so only
/// `/api/online` asks for them (room lists are built on every connect).
#[derive(Message)]
#[rtype(result = "Online")]
pub struct GetOnline {
    pub with_names: bool,
}

#[derive(Debug, Clone, Default)]
pub struct Online {
    /// Open WebSocket connections.
    pub connections: usize,
    /// Distinct users with at least one connection.
    pub user_count: usize,
    /// Their names, sorted (only when asked `with_names`).
    pub users: Vec<String>,
    /// Distinct online users per room.
    pub rooms: HashMap<i32, usize>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn batch(room_id: i32, seqs: &[i64]) -> RoomBatch {
        let events: Vec<LiveEvent> = seqs
            .iter()
            .map(|&seq| LiveEvent {
                seq,
                frame: ByteString::from(format!("frame {seq}")),
            })
            .collect();
        RoomBatch {
            room_id,
            events: events.into(),
        }
    }

    fn seqs(batches: &[RoomBatch]) -> Vec<(i32, i64)> {
        batches
            .iter()
            .flat_map(|b| b.events.iter().map(move |e| (b.room_id, e.seq)))
            .collect()
    }

    #[test]
    fn only_the_first_batch_into_an_empty_inbox_asks_for_a_wake() {
        let inbox = Inbox::new(100);
        assert_eq!(inbox.push(batch(1, &[1, 2])), Ok(true));
        assert_eq!(inbox.push(batch(2, &[7])), Ok(false));
        assert_eq!(inbox.push(batch(1, &[3])), Ok(false));
        let mut taken = Vec::new();
        inbox.take_into(&mut taken);
        assert_eq!(seqs(&taken), [(1, 1), (1, 2), (2, 7), (1, 3)]);
        // Taken: the next batch needs a wake of its own.
        assert_eq!(inbox.push(batch(1, &[4])), Ok(true));
    }

    #[test]
    fn an_inbox_refuses_what_would_pass_its_limit_in_events_and_frees_room_when_taken() {
        let inbox = Inbox::new(3);
        assert_eq!(inbox.push(batch(1, &[1, 2])), Ok(true));
        assert_eq!(inbox.push(batch(1, &[3, 4])), Err(Overflow));
        assert_eq!(inbox.push(batch(1, &[3])), Ok(false));
        assert_eq!(inbox.push(batch(1, &[4])), Err(Overflow));
        let mut taken = Vec::new();
        inbox.take_into(&mut taken);
        assert_eq!(seqs(&taken), [(1, 1), (1, 2), (1, 3)]);
        assert_eq!(inbox.push(batch(1, &[4, 5, 6])), Ok(true));
    }
}
