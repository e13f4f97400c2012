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

/// What became of a frame handed to a session.
#[derive(Debug, PartialEq, Eq)]
enum Handoff {
    Queued,
    /// Its queue is full: a slow consumer, to be dropped.
    Overflow,
    /// It has stopped (or was never here): not a slow consumer, and its
    /// `Disconnect` is on the way. When many clients leave at once, frames
    /// for the ones already stopped land here.
    Gone,
}

fn handoff<M>(sent: Result<(), SendError<M>>) -> Handoff {
    match sent {
        Ok(()) => Handoff::Queued,
        Err(SendError::Full(_)) => Handoff::Overflow,
        Err(SendError::Closed(_)) => Handoff::Gone,
    }
}

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

    /// Send a frame to a session.
    fn deliver(&self, id: SessionId, message: ToSession) -> Handoff {
        match self.sessions.get(&id) {
            Some(entry) => handoff(entry.recipient.try_send(message)),
            None => Handoff::Gone,
        }
    }

    /// Queue a room's batch of live events for a member, waking it if it
    /// was not already woken.
    fn deliver_events(&self, id: SessionId, room_id: i32, events: &Arc<[LiveEvent]>) -> Handoff {
        let Some(entry) = self.sessions.get(&id) else {
            return Handoff::Gone;
        };
        let batch = RoomBatch {
            room_id,
            events: events.clone(),
        };
        match entry.inbox.push(batch) {
            Ok(true) => handoff(entry.recipient.try_send(ToSession::Events)),
            Ok(false) => Handoff::Queued,
            Err(Overflow) => Handoff::Overflow,
        }
    }

    /// Drop sessions that could not take a frame, and ask them to close.
    fn drop_overflowed(&mut self, overflowed: Vec<SessionId>) {
        for id in overflowed {
            if let Some(entry) = self.sessions.get(&id) {
                tracing::warn!(session = id, user = %entry.user_name, "outbound queue overflow; disconnecting");
                entry.recipient.do_send(ToSession::Close {
                    code: 1008,
                    reason: "outbound queue overflow: reconnect and resume",
                });
                self.metrics.slow_consumers_dropped.inc();
            }
            self.remove_session(id);
        }
    }

    /// Send a frame to every session of a user.
    fn send_to_user(&mut self, user_id: i32, message: ToSession) {
        let Some(ids) = self.by_user.get(&user_id) else {
            return;
        };
        let overflowed: Vec<SessionId> = ids
            .iter()
            .copied()
            .filter(|&id| self.deliver(id, message.clone()) == Handoff::Overflow)
            .collect();
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
        let overflowed: Vec<SessionId> = room
            .sessions
            .iter()
            .copied()
            .filter(|&id| self.deliver(id, ToSession::Frame(frame.clone())) == Handoff::Overflow)
            .collect();
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
        let overflowed: Vec<SessionId> = room
            .sessions
            .iter()
            .copied()
            .filter(|id| self.sessions.get(id).is_some_and(|e| e.user_id != user_id))
            .filter(|&id| self.deliver(id, ToSession::Frame(frame.clone())) == Handoff::Overflow)
            .collect();
        self.drop_overflowed(overflowed);
    }
}

impl Handler<Publish> for ChatServer {
    type Result = ();

    fn handle(&mut self, msg: Publish, _: &mut Context<Self>) {
        let mut unread_changed = Vec::new();
        // Each room's events of this commit, in commit order, so a member
        // gets one batch per commit (with N events) instead of N: under load
        // that divides the hand-offs by the batch size, and the session
        // writes everything waiting in its inbox with one syscall.
        let mut by_room: Vec<(i32, Vec<LiveEvent>)> = Vec::new();
        let mut slot_of: HashMap<i32, usize> = HashMap::new();
        for event in msg.events {
            if let Some(waiters) = self.waiters.remove(&event.room_id) {
                for waiter in waiters {
                    let _ = waiter.send(());
                }
            }
            if let Some(change) = &event.unread {
                for (user_id, unread) in self.unread.apply(event.room_id, event.seq, change) {
                    unread_changed.push((user_id, change.room_name.clone(), unread));
                }
            }
            if !self.rooms.contains_key(&event.room_id) {
                continue;
            }
            let live = LiveEvent {
                seq: event.seq,
                frame: event.frame,
            };
            let slot = *slot_of.entry(event.room_id).or_insert_with(|| {
                by_room.push((event.room_id, Vec::new()));
                by_room.len() - 1
            });
            by_room[slot].1.push(live);
        }
        let mut overflowed = Vec::new();
        let mut delivered = 0u64;
        for (room_id, events) in by_room {
            let Some(room) = self.rooms.get(&room_id) else {
                continue;
            };
            let events: Arc<[LiveEvent]> = events.into();
            for &id in &room.sessions {
                match self.deliver_events(id, room_id, &events) {
                    Handoff::Queued => delivered += events.len() as u64,
                    Handoff::Overflow => overflowed.push(id),
                    Handoff::Gone => {}
                }
            }
        }
        self.metrics.messages_delivered.inc_by(delivered);
        self.metrics
            .fanout_seconds
            .observe(msg.committed_at.elapsed().as_secs_f64());
        overflowed.sort_unstable();
        overflowed.dedup();
        self.drop_overflowed(overflowed);
        for (user_id, room, unread) in unread_changed {
            self.send_unread(user_id, &room, unread);
        }
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
        let overflowed: Vec<SessionId> = ids
            .into_iter()
            .filter(|&id| self.deliver(id, ToSession::RefreshRooms) == Handoff::Overflow)
            .collect();
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

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Instant;

    use super::*;
    use crate::config::Config;

    /// Stands in for a `WsSession`: counts the room events it takes.
    struct Member {
        inbox: Arc<Inbox>,
        taken: Arc<AtomicUsize>,
    }

    impl Actor for Member {
        type Context = Context<Self>;
    }

    impl Handler<ToSession> for Member {
        type Result = ();

        fn handle(&mut self, msg: ToSession, _: &mut Self::Context) {
            if let ToSession::Events = msg {
                let mut batches = Vec::new();
                self.inbox.take_into(&mut batches);
                let events: usize = batches.iter().map(|b| b.events.len()).sum();
                self.taken.fetch_add(events, Ordering::SeqCst);
            }
        }
    }

    #[derive(Message)]
    #[rtype(result = "()")]
    struct Quit;

    impl Handler<Quit> for Member {
        type Result = ();

        fn handle(&mut self, _: Quit, ctx: &mut Self::Context) {
            ctx.stop();
        }
    }

    async fn member(server: &Addr<ChatServer>, n: i32) -> (Addr<Member>, Arc<AtomicUsize>) {
        let inbox = Arc::new(Inbox::new(4096));
        let taken = Arc::new(AtomicUsize::new(0));
        let addr = Member {
            inbox: inbox.clone(),
            taken: taken.clone(),
        }
        .start();
        let session_id = server
            .send(Connect {
                session: addr.clone().recipient(),
                inbox,
                user_id: n,
                user_name: format!("member{n}"),
                token_hash: format!("token{n}"),
                ip: None,
            })
            .await
            .unwrap()
            .unwrap();
        server
            .send(Join {
                session_id,
                room_id: 1,
                room_name: "general".into(),
            })
            .await
            .unwrap();
        (addr, taken)
    }

    #[actix_web::test]
    async fn a_member_that_has_stopped_is_not_dropped_as_a_slow_consumer() {
        let dir = tempfile::tempdir().unwrap();
        let config = Config::for_tests(dir.path().to_path_buf());
        db::prepare(&config).unwrap();
        let metrics = Metrics::new();
        let limits = ConnectionLimits {
            per_user: usize::MAX,
            per_ip: usize::MAX,
            session_check: Duration::from_secs(3600),
        };
        let server =
            ChatServer::new(limits, db::build_pool(&config).unwrap(), metrics.clone()).start();
        let (_alive, alive_taken) = member(&server, 1).await;
        let (gone, _) = member(&server, 2).await;
        // Stopped, and its Disconnect not sent yet: as when many clients
        // leave at once and the ChatServer is behind.
        gone.send(Quit).await.unwrap();
        while gone.connected() {
            actix::clock::sleep(Duration::from_millis(5)).await;
        }
        server
            .send(Publish {
                events: vec![RoomEvent {
                    room_id: 1,
                    seq: 1,
                    frame: "{}".into(),
                    unread: None,
                }],
                committed_at: Instant::now(),
            })
            .await
            .unwrap();
        while alive_taken.load(Ordering::SeqCst) == 0 {
            actix::clock::sleep(Duration::from_millis(5)).await;
        }
        assert_eq!(metrics.slow_consumers_dropped.get(), 0);
        assert_eq!(
            metrics.messages_delivered.get(),
            1,
            "counted for the live member only"
        );
    }
}
