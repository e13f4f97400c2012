//! Queries on `messages`. Inserts happen only in the writer
//! (`db::writer`), which owns sequence numbers.

use diesel::prelude::*;

use super::models::{Message, NewMessage, Upload};
use super::schema::{messages, rooms, uploads, users};
use super::Conn;

/// A message with its sender's name and attachment, as pages and frames
/// show it.
#[derive(Debug, Clone, Queryable)]
pub struct MessageView {
    pub message: Message,
    pub user_name: String,
    pub upload: Option<Upload>,
}

/// The newest `limit` messages of a room, oldest first.
pub fn latest(conn: &mut Conn, room_id: i32, limit: i64) -> QueryResult<Vec<MessageView>> {
    before(conn, room_id, None, limit)
}

/// Messages with `seq > after`, oldest first, at most `limit`.
pub fn after(
    conn: &mut Conn,
    room_id: i32,
    after: i64,
    limit: i64,
) -> QueryResult<Vec<MessageView>> {
    messages::table
        .inner_join(users::table)
        .left_join(uploads::table)
        .filter(messages::room_id.eq(room_id))
        .filter(messages::seq.gt(after))
        .order(messages::seq.asc())
        .limit(limit)
        .select((
            Message::as_select(),
            users::name,
            uploads::all_columns.nullable(),
        ))
        .load(conn)
}

/// The newest `limit` messages with `seq < before` (all, without
/// `before`), oldest first.
pub fn before(
    conn: &mut Conn,
    room_id: i32,
    before: Option<i64>,
    limit: i64,
) -> QueryResult<Vec<MessageView>> {
    let mut query = messages::table
        .inner_join(users::table)
        .left_join(uploads::table)
        .filter(messages::room_id.eq(room_id))
        .into_boxed();
    if let Some(before) = before {
        query = query.filter(messages::seq.lt(before));
    }
    let mut rows: Vec<MessageView> = query
        .order(messages::seq.desc())
        .limit(limit)
        .select((
            Message::as_select(),
            users::name,
            uploads::all_columns.nullable(),
        ))
        .load(conn)?;
    rows.reverse();
    Ok(rows)
}

/// The message a user already sent with this idempotency key, if any.
///
/// `(user_id, client_id)` is UNIQUE, so no `LIMIT`: `.first()` would bind
/// `LIMIT ?`, and SQLite marks a statement with a bound LIMIT for
/// re-preparation whenever that parameter is rebound, so the writer parsed
/// and planned this query again for every message it stored.
pub fn find_by_client_id(
    conn: &mut Conn,
    user_id: i32,
    client_id: &str,
) -> QueryResult<Option<Message>> {
    messages::table
        .filter(messages::user_id.eq(user_id))
        .filter(messages::client_id.eq(client_id))
        .select(Message::as_select())
        .get_result(conn)
        .optional()
}

/// Take the room's next sequence number. Only the writer calls this, inside
/// the transaction that stores the event, so numbers never have gaps.
pub fn next_seq(conn: &mut Conn, room_id: i32) -> QueryResult<i64> {
    diesel::update(rooms::table.find(room_id))
        .set(rooms::last_seq.eq(rooms::last_seq + 1))
        .returning(rooms::last_seq)
        .get_result(conn)
}

pub fn insert(conn: &mut Conn, new: &NewMessage<'_>) -> QueryResult<Message> {
    diesel::insert_into(messages::table)
        .values(new)
        .returning(Message::as_returning())
        .get_result(conn)
}
