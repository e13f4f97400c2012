//! Handing frames to sessions: one frame, or a room's batch of a commit
//! (the fan-out of `Publish`), and what happens to a session that cannot
//! take them. A full queue makes a slow consumer, which is dropped from
//! every room and told to close (1008); a session that has already stopped
//! is not one, its `Disconnect` is on the way.

use std::collections::HashMap;
use std::sync::Arc;

use actix::prelude::*;

use super::ChatServer;
use crate::chat::messages::{LiveEvent, Overflow, Publish, RoomBatch, SessionId, ToSession};

/// What became of a frame handed to a session.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Handoff {
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

impl ChatServer {
    /// Send a frame to a session.
    pub(super) fn deliver(&self, id: SessionId, message: ToSession) -> Handoff {
        match self.sessions.get(&id) {
            Some(entry) => handoff(entry.recipient.try_send(message)),
            None => Handoff::Gone,
        }
    }

    /// Send a frame to each of `ids`; the ones whose queue was full, for
    /// [`ChatServer::drop_overflowed`].
    pub(super) fn deliver_each<'a>(
        &self,
        ids: impl IntoIterator<Item = &'a SessionId>,
        message: &ToSession,
    ) -> Vec<SessionId> {
        ids.into_iter()
            .copied()
            .filter(|&id| self.deliver(id, message.clone()) == Handoff::Overflow)
            .collect()
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
    pub(super) fn drop_overflowed(&mut self, overflowed: Vec<SessionId>) {
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
