//! `ChatServer`: the one actor per process that owns who is connected,
//! which rooms they are in, and fan-out. Nothing else mutates this state;
//! sessions and the writer only send it messages.
//!
//! Fan-out serializes each event once and queues each member one shared,
//! reference-counted batch per room and commit in the member's `Inbox`,
//! never a per-recipient copy; a member is woken by one mailbox message
//! however many batches wait. Inboxes and mailboxes are bounded: a session
//! past either bound has stopped draining its socket, so it is dropped
//! from every room at once and told to close (1008); the others never wait
//! for it, and it can `resume`.
//!
//! This file holds the state and the handlers for connections, rooms,
//! presence and unread counts; `delivery.rs` hands frames and commits to
//! the sessions; `tests.rs` drives the actor with stand-in members.

mod delivery;
#[cfg(test)]
mod tests;

use std::collections::{HashMap, HashSet};
use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use actix::prelude::*;
use tokio::sync::oneshot;

use super::messages::*;
use super::presence::RoomMembers;
use super::protocol::ServerFrame;
use super::unread::UnreadBook;
use crate::db::reads::Unread;
use crate::db::{self, DbPool};
use crate::metrics::Metrics;
use delivery::Handoff;

/// Requests that may queue for the `ChatServer` (joins, sends of
/// presence...) before senders wait; events from the writer use `do_send`
/// and are never refused.
const CHAT_SERVER_MAILBOX: usize = 1 << 20;

/// Presence changes in a room are sent at most this often: a room of a
/// thousand people joining at once gets a few presence frames, not a
/// thousand each.
const PRESENCE_EVERY: Duration = Duration::from_millis(250);

/// Caps on connections, from the configuration.
#[derive(Debug, Clone, Copy)]
pub struct ConnectionLimits {
    pub per_user: usize,
    pub per_ip: usize,
    /// How often open sockets are checked against the database, so sessions
    /// ended elsewhere (the admin CLI, expiry, a disabled account) close.
    pub session_check: Duration,
}

struct SessionEntry {
    recipient: Recipient<ToSession>,
    inbox: Arc<Inbox>,
    user_id: i32,
    user_name: String,
    token_hash: String,
    ip: Option<IpAddr>,
    rooms: HashSet<i32>,
}

pub struct ChatServer {
    sessions: HashMap<SessionId, SessionEntry>,
    /// Each online user's sessions.
    by_user: HashMap<i32, HashSet<SessionId>>,
    unread: UnreadBook,
    rooms: HashMap<i32, RoomMembers>,
    per_user: HashMap<i32, usize>,
    per_ip: HashMap<IpAddr, usize>,
    waiters: HashMap<i32, Vec<oneshot::Sender<()>>>,
    /// Rooms whose presence changed since the last presence frames.
    presence_dirty: HashSet<i32>,
    next_id: SessionId,
    limits: ConnectionLimits,
    pool: DbPool,
    metrics: Metrics,
}

impl ChatServer {
    pub fn new(limits: ConnectionLimits, pool: DbPool, metrics: Metrics) -> Self {
        ChatServer {
            sessions: HashMap::new(),
            by_user: HashMap::new(),
            unread: UnreadBook::default(),
            rooms: HashMap::new(),
            per_user: HashMap::new(),
            per_ip: HashMap::new(),
            waiters: HashMap::new(),
            presence_dirty: HashSet::new(),
            next_id: 1,
            limits,
            pool,
            metrics,
        }
    }

    /// Send a frame to every session of a user.
    fn send_to_user(&mut self, user_id: i32, message: ToSession) {
        let Some(ids) = self.by_user.get(&user_id) else {
            return;
        };
        let overflowed = self.deliver_each(ids, &message);
        self.drop_overflowed(overflowed);
    }

    fn send_unread(&mut self, user_id: i32, room: &str, unread: Unread) {
        let frame = ServerFrame::Unread {
            room: room.to_string(),
            count: unread.count,
            mentions: unread.mentions,
        }
        .to_text();
        self.send_to_user(user_id, ToSession::Frame(frame));
    }

    /// Note that a room's presence changed; frames go out on the next tick.
    fn presence_changed(&mut self, room_id: i32) {
        self.presence_dirty.insert(room_id);
    }

    fn flush_presence(&mut self) {
        for room_id in std::mem::take(&mut self.presence_dirty) {
            self.send_presence(room_id);
        }
    }

    fn send_presence(&mut self, room_id: i32) {
        let Some(room) = self.rooms.get(&room_id) else {
            return;
        };
        let frame = room.presence().to_text();
        let overflowed = self.deliver_each(&room.sessions, &ToSession::Frame(frame));
        self.drop_overflowed(overflowed);
    }

    fn leave_room(&mut self, id: SessionId, room_id: i32) {
        let Some(entry) = self.sessions.get_mut(&id) else {
            return;
        };
        entry.rooms.remove(&room_id);
        let user = entry.user_name.clone();
        let Some(room) = self.rooms.get_mut(&room_id) else {
            return;
        };
        let changed = room.remove(id, &user);
        if room.is_empty() {
            self.rooms.remove(&room_id);
        } else if changed {
            self.presence_changed(room_id);
        }
    }

    /// Forget a session everywhere: rooms, counters. Every exit path of a
    /// session ends here.
    fn remove_session(&mut self, id: SessionId) {
        let Some(entry) = self.sessions.get(&id) else {
            return;
        };
        let rooms: Vec<i32> = entry.rooms.iter().copied().collect();
        for room_id in rooms {
            self.leave_room(id, room_id);
        }
        if let Some(entry) = self.sessions.remove(&id) {
            self.metrics.ws_connections.dec();
            self.metrics.active_rooms.set(self.rooms.len() as i64);
            decrement(&mut self.per_user, entry.user_id);
            if let Some(ids) = self.by_user.get_mut(&entry.user_id) {
                ids.remove(&id);
                if ids.is_empty() {
                    self.by_user.remove(&entry.user_id);
                    self.unread.forget(entry.user_id);
                }
            }
            if let Some(ip) = entry.ip {
                decrement(&mut self.per_ip, ip);
            }
        }
    }

    /// Close sockets whose login session no longer exists in the database.
    fn revalidate(&mut self, ctx: &mut Context<Self>) {
        let hashes: Vec<String> = self
            .sessions
            .values()
            .map(|e| e.token_hash.clone())
            .collect::<HashSet<_>>()
            .into_iter()
            .collect();
        if hashes.is_empty() {
            return;
        }
        let pool = self.pool.clone();
        // The answer names the hashes found dead, not the live ones: sockets
        // that connect while the query runs were not asked about and must
        // not be closed (during a login storm that was hundreds of them).
        let check = actix_web::rt::task::spawn_blocking(move || {
            let mut conn = pool.get().map_err(|e| e.to_string())?;
            let active =
                db::sessions::active_hashes(&mut conn, &hashes).map_err(|e| e.to_string())?;
            Ok::<HashSet<String>, String>(
                hashes.into_iter().filter(|h| !active.contains(h)).collect(),
            )
        });
        ctx.spawn(check.into_actor(self).map(|result, server, _| {
            let ended = match result {
                Ok(Ok(ended)) => ended,
                Ok(Err(err)) => {
                    tracing::warn!(error = %err, "session check failed");
                    return;
                }
                Err(err) => {
                    tracing::warn!(error = %err, "session check failed");
                    return;
                }
            };
            for entry in server.sessions.values() {
                if ended.contains(&entry.token_hash) {
                    entry.recipient.do_send(ToSession::Close {
                        code: 1008,
                        reason: "session ended",
                    });
                }
            }
        }));
    }
}

fn decrement<K: std::hash::Hash + Eq>(map: &mut HashMap<K, usize>, key: K) {
    if let Some(count) = map.get_mut(&key) {
        *count -= 1;
        if *count == 0 {
            map.remove(&key);
        }
    }
}

impl Actor for ChatServer {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Self::Context) {
        ctx.set_mailbox_capacity(CHAT_SERVER_MAILBOX);
        ctx.run_interval(self.limits.session_check, |server, ctx| {
            server.revalidate(ctx)
        });
        ctx.run_interval(PRESENCE_EVERY, |server, _| server.flush_presence());
    }
}

impl Handler<Connect> for ChatServer {
    type Result = Result<SessionId, &'static str>;

    fn handle(&mut self, msg: Connect, _: &mut Context<Self>) -> Self::Result {
        if self.per_user.get(&msg.user_id).copied().unwrap_or(0) >= self.limits.per_user {
            return Err("too many connections for this user");
        }
        if let Some(ip) = msg.ip {
            if self.per_ip.get(&ip).copied().unwrap_or(0) >= self.limits.per_ip {
                return Err("too many connections from this address");
            }
            *self.per_ip.entry(ip).or_insert(0) += 1;
        }
        *self.per_user.entry(msg.user_id).or_insert(0) += 1;
        let id = self.next_id;
        self.next_id += 1;
        self.metrics.ws_connections.inc();
        self.by_user.entry(msg.user_id).or_default().insert(id);
        self.sessions.insert(
            id,
            SessionEntry {
                recipient: msg.session,
                inbox: msg.inbox,
                user_id: msg.user_id,
                user_name: msg.user_name,
                token_hash: msg.token_hash,
                ip: msg.ip,
                rooms: HashSet::new(),
            },
        );
        Ok(id)
    }
}

impl Handler<Disconnect> for ChatServer {
    type Result = ();

    fn handle(&mut self, msg: Disconnect, _: &mut Context<Self>) {
        self.remove_session(msg.session_id);
    }
}

impl Handler<Join> for ChatServer {
    type Result = ();

    fn handle(&mut self, msg: Join, _: &mut Context<Self>) {
        let Some(entry) = self.sessions.get_mut(&msg.session_id) else {
            return;
        };
        entry.rooms.insert(msg.room_id);
        let user = entry.user_name.clone();
        let room = self
            .rooms
            .entry(msg.room_id)
            .or_insert_with(|| RoomMembers::new(msg.room_name));
        let changed = room.add(msg.session_id, &user);
        self.metrics.active_rooms.set(self.rooms.len() as i64);
        if changed {
            self.presence_changed(msg.room_id);
        } else if let Some(room) = self.rooms.get(&msg.room_id) {
            // Already present (another tab): only the joiner needs the list.
            let frame = room.presence().to_text();
            if self.deliver(msg.session_id, ToSession::Frame(frame)) == Handoff::Overflow {
                self.drop_overflowed(vec![msg.session_id]);
            }
        }
    }
}

impl Handler<Leave> for ChatServer {
    type Result = ();

    fn handle(&mut self, msg: Leave, _: &mut Context<Self>) {
        self.leave_room(msg.session_id, msg.room_id);
    }
}

impl Handler<Typing> for ChatServer {
    type Result = ();

    fn handle(&mut self, msg: Typing, _: &mut Context<Self>) {
        let Some(entry) = self.sessions.get(&msg.session_id) else {
            return;
        };
        let Some(room) = self.rooms.get(&msg.room_id) else {
            return;
        };
        if !room.sessions.contains(&msg.session_id) {
            return;
        }
        let frame = ServerFrame::Typing {
            room: room.name.clone(),
            user: entry.user_name.clone(),
        }
        .to_text();
        let user_id = entry.user_id;
        let others = room
            .sessions
            .iter()
            .filter(|id| self.sessions.get(id).is_some_and(|e| e.user_id != user_id));
        let overflowed = self.deliver_each(others, &ToSession::Frame(frame));
        self.drop_overflowed(overflowed);
    }
}

impl Handler<RefreshRooms> for ChatServer {
    type Result = ();

    fn handle(&mut self, msg: RefreshRooms, _: &mut Context<Self>) {
        let ids: Vec<SessionId> = match &msg.user_ids {
            None => self.sessions.keys().copied().collect(),
            Some(users) => users
                .iter()
                .filter_map(|u| self.by_user.get(u))
                .flatten()
                .copied()
                .collect(),
        };
        let overflowed = self.deliver_each(&ids, &ToSession::RefreshRooms);
        self.drop_overflowed(overflowed);
    }
}

impl Handler<LoadUnread> for ChatServer {
    type Result = ();

    fn handle(&mut self, msg: LoadUnread, _: &mut Context<Self>) {
        if self.by_user.contains_key(&msg.user_id) {
            self.unread.load(msg.user_id, msg.rooms);
        }
    }
}

impl Handler<GetUnread> for ChatServer {
    type Result = MessageResult<GetUnread>;

    fn handle(&mut self, msg: GetUnread, _: &mut Context<Self>) -> Self::Result {
        MessageResult(self.unread.of(msg.user_id))
    }
}

impl Handler<SetUnread> for ChatServer {
    type Result = ();

    fn handle(&mut self, msg: SetUnread, _: &mut Context<Self>) {
        if self.by_user.contains_key(&msg.user_id) {
            self.unread.set(msg.user_id, msg.unread);
        }
        self.send_unread(msg.user_id, &msg.room_name, msg.unread);
    }
}

impl Handler<CloseSessions> for ChatServer {
    type Result = ();

    fn handle(&mut self, msg: CloseSessions, _: &mut Context<Self>) {
        for entry in self.sessions.values() {
            let matches = match &msg.filter {
                SessionFilter::Token { token_hash } => &entry.token_hash == token_hash,
                SessionFilter::User { user_id } => entry.user_id == *user_id,
            };
            if matches {
                entry.recipient.do_send(ToSession::Close {
                    code: 1008,
                    reason: msg.reason,
                });
            }
        }
    }
}

impl Handler<Shutdown> for ChatServer {
    type Result = ();

    fn handle(&mut self, _: Shutdown, _: &mut Context<Self>) {
        for entry in self.sessions.values() {
            entry.recipient.do_send(ToSession::Close {
                code: 1001,
                reason: "server shutting down",
            });
        }
    }
}

impl Handler<WaitForEvent> for ChatServer {
    type Result = MessageResult<WaitForEvent>;

    fn handle(&mut self, msg: WaitForEvent, _: &mut Context<Self>) -> Self::Result {
        let (tx, rx) = oneshot::channel();
        let waiters = self.waiters.entry(msg.room_id).or_default();
        // Forget waiters whose request has gone away.
        waiters.retain(|w| !w.is_closed());
        waiters.push(tx);
        MessageResult(rx)
    }
}

impl Handler<GetOnline> for ChatServer {
    type Result = MessageResult<GetOnline>;

    fn handle(&mut self, msg: GetOnline, _: &mut Context<Self>) -> Self::Result {
        let mut users: Vec<String> = if msg.with_names {
            self.by_user
                .values()
                .filter_map(|ids| ids.iter().next())
                .filter_map(|id| self.sessions.get(id))
                .map(|e| e.user_name.clone())
                .collect()
        } else {
            Vec::new()
        };
        users.sort();
        MessageResult(Online {
            connections: self.sessions.len(),
            user_count: self.by_user.len(),
            users,
            rooms: self
                .rooms
                .iter()
                .map(|(id, room)| (*id, room.user_count()))
                .collect(),
        })
    }
}
