//! Per-room membership: which sessions receive a room's events, and which
//! distinct users are present (a user with two tabs counts once).

use std::collections::{BTreeMap, HashSet};

use super::messages::SessionId;

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

    /// Present users, sorted, each once.
    pub fn users(&self) -> Vec<String> {
        self.users.keys().cloned().collect()
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
}
