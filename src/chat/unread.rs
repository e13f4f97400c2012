//! Unread counts and read markers.
//!
//! The database keeps each user's read marker per room (`db::reads`). While
//! a user is online, the `ChatServer` keeps their counts in an
//! [`UnreadBook`], loaded once on connect and then moved by every new or
//! deleted message, so a message in a busy room costs no query per reader.
//! Reading a room (any transport, any tab) stores the marker, recounts that
//! one room, and pushes an `unread` frame to every session of the user.

use std::collections::{HashMap, HashSet};

use super::messages::{LoadUnread, SetUnread, UnreadChange};
use super::RoomRef;
use crate::auth::CurrentUser;
use crate::db;
use crate::db::reads::Unread;
use crate::error::AppError;
use crate::state::AppState;

/// `user` has read `room` up to `seq` (capped at the room's last event;
/// markers never move back). Returns the room's unread state afterwards.
pub async fn mark_read(
    state: &AppState,
    user: &CurrentUser,
    room: &RoomRef,
    seq: i64,
) -> Result<Unread, AppError> {
    let (user_id, room_id) = (user.id, room.id);
    let unread = state
        .db(move |conn| {
            db::reads::mark_read(conn, user_id, room_id, seq)?;
            db::reads::for_room(conn, user_id, room_id)
        })
        .await?
        .ok_or(AppError::NotFound)?;
    state.chat.do_send(SetUnread {
        user_id,
        room_name: room.name.clone(),
        unread,
    });
    Ok(unread)
}

/// Count a user's unread messages in every room and hand them to the
/// `ChatServer`, which keeps them current while the user is online.
pub async fn load(state: &AppState, user_id: i32) -> Result<(), AppError> {
    let rooms = state
        .db(move |conn| db::reads::for_user(conn, user_id))
        .await?;
    state.chat.do_send(LoadUnread { user_id, rooms });
    Ok(())
}

/// Online users' unread counts, per room, kept by the `ChatServer`.
#[derive(Debug, Default)]
pub struct UnreadBook {
    users: HashMap<i32, HashMap<i32, Unread>>,
    /// room → users whose count there is kept.
    watchers: HashMap<i32, HashSet<i32>>,
}

impl UnreadBook {
    /// Take a user's counts as just read from the database; from now on
    /// they are kept, even for rooms where the user has none yet. A count
    /// already kept that is newer (a later read marker, or later events)
    /// stays: the database read may have raced a `read` from another tab.
    pub fn load(&mut self, user_id: i32, rooms: Vec<Unread>) {
        self.users.entry(user_id).or_default();
        for unread in rooms {
            let newer_kept = self
                .users
                .get(&user_id)
                .and_then(|kept| kept.get(&unread.room_id))
                .is_some_and(|kept| {
                    (kept.last_read_seq, kept.room_seq) > (unread.last_read_seq, unread.room_seq)
                });
            if !newer_kept {
                self.set(user_id, unread);
            }
        }
    }

    /// The counts kept for a user, by room.
    pub fn of(&self, user_id: i32) -> HashMap<i32, Unread> {
        self.users.get(&user_id).cloned().unwrap_or_default()
    }

    /// Replace one room's state of a user.
    pub fn set(&mut self, user_id: i32, unread: Unread) {
        self.watchers
            .entry(unread.room_id)
            .or_default()
            .insert(user_id);
        self.users
            .entry(user_id)
            .or_default()
            .insert(unread.room_id, unread);
    }

    /// The user went offline: stop keeping their counts.
    pub fn forget(&mut self, user_id: i32) {
        let Some(rooms) = self.users.remove(&user_id) else {
            return;
        };
        for room_id in rooms.keys() {
            if let Some(watchers) = self.watchers.get_mut(room_id) {
                watchers.remove(&user_id);
                if watchers.is_empty() {
                    self.watchers.remove(room_id);
                }
            }
        }
    }

    /// Apply a new or deleted message (event `seq`) in `room_id`; returns
    /// the users whose counts changed, with their new state.
    pub fn apply(&mut self, room_id: i32, seq: i64, change: &UnreadChange) -> Vec<(i32, Unread)> {
        let mut changed = Vec::new();
        if change.delta > 0 {
            self.first_mentions(room_id, seq, change, &mut changed);
        }
        let Some(watchers) = self.watchers.get(&room_id) else {
            return changed;
        };
        for &user_id in watchers {
            let Some(unread) = self
                .users
                .get_mut(&user_id)
                .and_then(|rooms| rooms.get_mut(&room_id))
            else {
                continue;
            };
            // Already counted when the state was read from the database.
            if seq <= unread.room_seq {
                continue;
            }
            unread.room_seq = seq;
            if user_id == change.author_id || change.message_seq <= unread.last_read_seq {
                continue;
            }
            unread.count = (unread.count + change.delta).max(0);
            if change.mentioned.contains(&user_id) {
                unread.mentions = (unread.mentions + change.delta).max(0);
            }
            changed.push((user_id, *unread));
        }
        changed
    }

    /// Online users mentioned in a room they have no count in: the writer
    /// gave them a marker just before the message, so it is their first
    /// unread there.
    fn first_mentions(
        &mut self,
        room_id: i32,
        seq: i64,
        change: &UnreadChange,
        changed: &mut Vec<(i32, Unread)>,
    ) {
        for &user_id in &change.mentioned {
            let Some(rooms) = self.users.get(&user_id) else {
                continue;
            };
            if user_id == change.author_id || rooms.contains_key(&room_id) {
                continue;
            }
            let unread = Unread {
                room_id,
                last_read_seq: change.message_seq - 1,
                count: 1,
                mentions: 1,
                room_seq: seq,
            };
            self.set(user_id, unread);
            changed.push((user_id, unread));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn state(room_id: i32, last_read_seq: i64, count: i64, room_seq: i64) -> Unread {
        Unread {
            room_id,
            last_read_seq,
            count,
            mentions: 0,
            room_seq,
        }
    }

    fn message(delta: i64, author_id: i32, message_seq: i64, mentioned: Vec<i32>) -> UnreadChange {
        UnreadChange {
            room_name: "r".into(),
            delta,
            author_id,
            message_seq,
            mentioned,
        }
    }

    #[test]
    fn a_new_message_counts_for_other_readers_only() {
        let mut book = UnreadBook::default();
        book.set(1, state(10, 5, 0, 5));
        book.set(2, state(10, 5, 0, 5));
        let changed = book.apply(10, 6, &message(1, 1, 6, vec![2]));
        assert_eq!(changed.len(), 1);
        let (user, unread) = changed[0];
        assert_eq!((user, unread.count, unread.mentions), (2, 1, 1));
    }

    #[test]
    fn events_already_counted_or_already_read_change_nothing() {
        let mut book = UnreadBook::default();
        book.set(2, state(10, 8, 0, 9));
        assert!(book.apply(10, 9, &message(1, 1, 9, vec![])).is_empty());
        // A deletion of a message the reader had already read.
        assert!(book.apply(10, 11, &message(-1, 1, 7, vec![])).is_empty());
        // Other rooms are not watched.
        assert!(book.apply(11, 20, &message(1, 1, 20, vec![])).is_empty());
    }

    #[test]
    fn deleting_an_unread_message_takes_it_back() {
        let mut book = UnreadBook::default();
        book.set(2, state(10, 0, 0, 0));
        book.apply(10, 1, &message(1, 1, 1, vec![2]));
        let changed = book.apply(10, 2, &message(-1, 1, 1, vec![2]));
        assert_eq!((changed[0].1.count, changed[0].1.mentions), (0, 0));
    }

    #[test]
    fn a_mention_in_a_room_never_opened_starts_its_count() {
        let mut book = UnreadBook::default();
        book.load(2, Vec::new());
        let changed = book.apply(10, 7, &message(1, 1, 7, vec![2, 3]));
        assert_eq!(changed.len(), 1, "user 3 is offline");
        let (user, unread) = changed[0];
        assert_eq!(
            (user, unread.count, unread.mentions, unread.last_read_seq),
            (2, 1, 1, 6)
        );
        // From then on the room is counted like any other.
        let changed = book.apply(10, 8, &message(1, 1, 8, vec![]));
        assert_eq!((changed[0].1.count, changed[0].1.mentions), (2, 1));
    }

    #[test]
    fn a_stale_load_does_not_undo_a_newer_read() {
        let mut book = UnreadBook::default();
        // Another tab read the room up to 9 ...
        book.set(2, state(10, 9, 0, 9));
        // ... while this tab's database read still saw the marker at 7.
        book.load(2, vec![state(10, 7, 2, 9), state(11, 0, 4, 4)]);
        assert_eq!(book.of(2)[&10].count, 0);
        assert_eq!(book.of(2)[&11].count, 4);
    }

    #[test]
    fn forgetting_a_user_stops_their_counts() {
        let mut book = UnreadBook::default();
        book.load(2, vec![state(10, 0, 0, 0)]);
        book.forget(2);
        assert!(book.apply(10, 1, &message(1, 1, 1, vec![])).is_empty());
        assert!(book.watchers.is_empty());
    }
}
