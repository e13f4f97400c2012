//! Read markers and unread counts: the last `seq` each user has read in each
//! room they opened (or DM they belong to), and how many messages from others
//! (and mentions of them) came after it.

use diesel::prelude::*;

use super::schema::{mentions, messages, read_markers, rooms};
use super::Conn;

/// A user's unread state in one room.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Unread {
    pub room_id: i32,
    pub last_read_seq: i64,
    /// Messages from others, not deleted, with `seq > last_read_seq`.
    pub count: i64,
    /// How many of those mention the user.
    pub mentions: i64,
    /// The room's last seq when this was counted.
    pub room_seq: i64,
}

/// Move the user's marker in a room forward to `seq` (never back; capped at
/// the room's last seq). Returns the marker now stored.
pub fn mark_read(conn: &mut Conn, user_id: i32, room_id: i32, seq: i64) -> QueryResult<i64> {
    let last: i64 = rooms::table
        .find(room_id)
        .select(rooms::last_seq)
        .first(conn)?;
    let seq = seq.clamp(0, last);
    diesel::insert_into(read_markers::table)
        .values((
            read_markers::user_id.eq(user_id),
            read_markers::room_id.eq(room_id),
            read_markers::last_read_seq.eq(seq),
        ))
        .on_conflict((read_markers::user_id, read_markers::room_id))
        .do_update()
        .set(
            read_markers::last_read_seq.eq(diesel::dsl::sql::<diesel::sql_types::BigInt>(
                "max(last_read_seq, excluded.last_read_seq)",
            )),
        )
        .execute(conn)?;
    read_markers::table
        .find((user_id, room_id))
        .select(read_markers::last_read_seq)
        .first(conn)
}

/// Give the user a marker just before `seq` in a room where they have
/// none, so a message there that mentions them counts as unread.
pub fn ensure_marker(conn: &mut Conn, user_id: i32, room_id: i32, seq: i64) -> QueryResult<()> {
    diesel::insert_or_ignore_into(read_markers::table)
        .values((
            read_markers::user_id.eq(user_id),
            read_markers::room_id.eq(room_id),
            read_markers::last_read_seq.eq(seq.max(0)),
        ))
        .execute(conn)
        .map(drop)
}

/// Unread state of every room the user has a marker in.
pub fn for_user(conn: &mut Conn, user_id: i32) -> QueryResult<Vec<Unread>> {
    let markers: Vec<(i32, i64, i64)> = read_markers::table
        .inner_join(rooms::table)
        .filter(read_markers::user_id.eq(user_id))
        .select((
            read_markers::room_id,
            read_markers::last_read_seq,
            rooms::last_seq,
        ))
        .load(conn)?;
    markers
        .into_iter()
        .map(|(room_id, last_read_seq, room_seq)| {
            count(conn, user_id, room_id, last_read_seq, room_seq)
        })
        .collect()
}

/// Unread state of one room, or None if the user has no marker there.
pub fn for_room(conn: &mut Conn, user_id: i32, room_id: i32) -> QueryResult<Option<Unread>> {
    let marker: Option<(i64, i64)> = read_markers::table
        .inner_join(rooms::table)
        .filter(read_markers::user_id.eq(user_id))
        .filter(read_markers::room_id.eq(room_id))
        .select((read_markers::last_read_seq, rooms::last_seq))
        .first(conn)
        .optional()?;
    marker
        .map(|(last_read_seq, room_seq)| count(conn, user_id, room_id, last_read_seq, room_seq))
        .transpose()
}

fn count(
    conn: &mut Conn,
    user_id: i32,
    room_id: i32,
    last_read_seq: i64,
    room_seq: i64,
) -> QueryResult<Unread> {
    let unread = messages::table
        .filter(messages::room_id.eq(room_id))
        .filter(messages::seq.gt(last_read_seq))
        .filter(messages::user_id.ne(user_id))
        .filter(messages::deleted_at.is_null());
    let count: i64 = unread.count().get_result(conn)?;
    let mentions: i64 = if count == 0 {
        0
    } else {
        unread
            .inner_join(mentions::table)
            .filter(mentions::user_id.eq(user_id))
            .count()
            .get_result(conn)?
    };
    Ok(Unread {
        room_id,
        last_read_seq,
        count,
        mentions,
        room_seq,
    })
}
