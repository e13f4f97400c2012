//! Queries on `rooms`.

use diesel::prelude::*;

use super::models::{NewRoom, Room, RoomKind};
use super::schema::{messages, rooms};
use super::{is_unique_violation, now_ms, Conn};
use crate::domain::RoomName;

#[derive(Debug, thiserror::Error)]
pub enum CreateRoomError {
    #[error("A room with that name already exists.")]
    NameTaken,
    #[error(transparent)]
    Db(#[from] diesel::result::Error),
}

/// A room as the room list shows it.
#[derive(Debug, Clone, Queryable)]
pub struct RoomSummary {
    pub id: i32,
    pub name: String,
    pub message_count: i64,
}

pub fn create(
    conn: &mut Conn,
    name: &RoomName,
    created_by: Option<i32>,
) -> Result<Room, CreateRoomError> {
    let key = name.key();
    diesel::insert_into(rooms::table)
        .values(NewRoom {
            name: name.as_str(),
            name_key: &key,
            created_by,
            created_at: now_ms(),
            kind: RoomKind::Public.as_str(),
            dm_key: None,
        })
        .returning(Room::as_returning())
        .get_result(conn)
        .map_err(|err| {
            if is_unique_violation(&err) {
                CreateRoomError::NameTaken
            } else {
                CreateRoomError::Db(err)
            }
        })
}

/// Find a room by name, ignoring case.
pub fn find_by_name(conn: &mut Conn, name: &str) -> QueryResult<Option<Room>> {
    rooms::table
        .filter(rooms::name_key.eq(name.to_lowercase()))
        .select(Room::as_select())
        .first(conn)
        .optional()
}

/// Every room with its message count, alphabetically.
pub fn list(conn: &mut Conn) -> QueryResult<Vec<RoomSummary>> {
    rooms::table
        .left_join(messages::table)
        .group_by((rooms::id, rooms::name, rooms::name_key))
        .select((
            rooms::id,
            rooms::name,
            diesel::dsl::count(messages::id.nullable()),
        ))
        .order(rooms::name_key.asc())
        .load(conn)
}

/// How many rooms exist.
pub fn count(conn: &mut Conn) -> QueryResult<i64> {
    rooms::table.count().get_result(conn)
}
