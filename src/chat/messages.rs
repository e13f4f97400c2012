//! Messages between the actors: sessions → `ChatServer`, the writer →
//! `ChatServer`, and `ChatServer` → sessions. Named-field structs, one doc
//! line each.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use actix::prelude::*;
use bytestring::ByteString;
use tokio::sync::oneshot;

/// A connected session's id, handed out by the `ChatServer`.
pub type SessionId = u64;

/// What the `ChatServer` sends a session.
#[derive(Debug, Clone, Message)]
#[rtype(result = "()")]
pub enum ToSession {
    /// A room's stored events from one commit, in `seq` order, serialized
    /// once and shared by every member: one mailbox message per member and
    /// commit, however many events the commit holds.
    Events {
        room_id: i32,
        events: Arc<[LiveEvent]>,
    },
    /// Any other frame (presence, typing, unread).
    Frame(ByteString),
    /// The room list changed: fetch this user's list and send it.
    RefreshRooms,
    /// Close the socket with this code and reason, then stop.
    Close { code: u16, reason: &'static str },
}

/// Live events handed to a session and not yet taken from its mailbox. The
/// `ChatServer` adds, the session subtracts; past `limit` the session has
/// stopped draining its socket and is dropped as a slow consumer. Counting
/// events, not mailbox messages, keeps the bound in frames whatever the
/// size of the batches.
#[derive(Debug)]
pub struct Backlog {
    pending: AtomicUsize,
    limit: usize,
}

impl Backlog {
    pub fn new(limit: usize) -> Self {
        Backlog {
            pending: AtomicUsize::new(0),
            limit,
        }
    }

    /// Count `n` more waiting events; false if that passes the limit.
    pub fn push(&self, n: usize) -> bool {
        self.pending.fetch_add(n, Ordering::Relaxed) + n <= self.limit
    }

    /// `n` events were taken from the mailbox.
    pub fn pop(&self, n: usize) {
        self.pending.fetch_sub(n, Ordering::Relaxed);
    }
}

/// A new WebSocket session wants to be counted and reachable.
#[derive(Message)]
#[rtype(result = "Result<SessionId, &'static str>")]
pub struct Connect {
    pub session: Recipient<ToSession>,
    /// The session's count of waiting live events.
    pub backlog: Arc<Backlog>,
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
