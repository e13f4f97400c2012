//! Per-room membership: which sessions receive a room's events, and which
//! distinct users are present (a user with two tabs counts once).
//!
//! A `presence` frame names at most [`PRESENCE_LIST_MAX`] users plus the
//! total count: every change in a room is sent to every member, so a full
//! list would cost members × members bytes per change (a 10,000-socket room
//! peaked at 1.3 GB while it filled).

use std::collections::{BTreeMap, HashSet};

use super::messages::SessionId;
use super::protocol::ServerFrame;

/// The most names a `presence` frame lists (the first, by name).
pub const PRESENCE_LIST_MAX: usize = 100;

#[derive(Debug, Default)]
pub struct RoomMembers {
    pub name: String,
    pub sessions: HashSet<SessionId>,
    /// User name → how many of their sessions are in the room.
    users: BTreeMap<String, usize>,
}

impl RoomMembers {
    pub fn new(name: String) -> Self {
        RoomMembers {
            name,
            ..Default::default()
        }
    }

    /// Add a session; true when the set of present users changed.
    pub fn add(&mut self, session: SessionId, user: &str) -> bool {
        if !self.sessions.insert(session) {
            return false;
        }
        let count = self.users.entry(user.to_string()).or_insert(0);
        *count += 1;
        *count == 1
    }

    /// Remove a session; true when the set of present users changed.
    pub fn remove(&mut self, session: SessionId, user: &str) -> bool {
        if !self.sessions.remove(&session) {
            return false;
        }
        match self.users.get_mut(user) {
            Some(count) if *count > 1 => {
                *count -= 1;
                false
            }
            Some(_) => {
                self.users.remove(user);
                true
            }
            None => false,
        }
    }

    /// The room's `presence` frame: the first [`PRESENCE_LIST_MAX`] present
    /// users by name, and how many there are.
    pub fn presence(&self) -> ServerFrame {
        ServerFrame::Presence {
            room: self.name.clone(),
            users: self.users.keys().take(PRESENCE_LIST_MAX).cloned().collect(),
            count: self.users.len(),
        }
    }

    pub fn user_count(&self) -> usize {
        self.users.len()
    }

    pub fn is_empty(&self) -> bool {
        self.sessions.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    impl RoomMembers {
        /// Present users, sorted, each once.
        fn users(&self) -> Vec<String> {
            self.users.keys().cloned().collect()
        }
    }

    #[test]
    fn a_user_with_two_sessions_is_present_once() {
        let mut room = RoomMembers::new("r".into());
        assert!(room.add(1, "alice"));
        assert!(!room.add(2, "alice"));
        assert!(!room.add(2, "alice"), "adding twice changes nothing");
        assert!(room.add(3, "bob"));
        assert_eq!(room.users(), ["alice", "bob"]);
        assert!(!room.remove(1, "alice"));
        assert!(room.remove(2, "alice"));
        assert!(!room.remove(2, "alice"), "removing twice changes nothing");
        assert_eq!(room.users(), ["bob"]);
        assert!(room.remove(3, "bob"));
        assert!(room.is_empty());
    }

    #[test]
    fn presence_lists_the_first_names_and_counts_everyone() {
        let mut room = RoomMembers::new("big".into());
        for n in 0..PRESENCE_LIST_MAX + 50 {
            room.add(n as SessionId, &format!("user{n:04}"));
        }
        let ServerFrame::Presence { users, count, .. } = room.presence() else {
            unreachable!("a presence frame");
        };
        assert_eq!(count, PRESENCE_LIST_MAX + 50);
        assert_eq!(users.len(), PRESENCE_LIST_MAX);
        assert_eq!(users[0], "user0000");
        assert!(users.windows(2).all(|w| w[0] < w[1]), "sorted");
    }
}
