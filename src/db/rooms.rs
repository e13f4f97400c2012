//! Queries on `rooms` and `room_members`: public rooms, direct-message
//! rooms, and who may read which.

use diesel::prelude::*;

use super::models::{NewRoom, Room, RoomKind};
use super::schema::{messages, room_members, rooms, users};
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

/// Every public room with its message count, alphabetically.
pub fn list(conn: &mut Conn) -> QueryResult<Vec<RoomSummary>> {
    rooms::table
        .left_join(messages::table)
        .filter(rooms::kind.eq(RoomKind::Public.as_str()))
        .group_by((rooms::id, rooms::name, rooms::name_key))
        .select((
            rooms::id,
            rooms::name,
            diesel::dsl::count(messages::id.nullable()),
        ))
        .order(rooms::name_key.asc())
        .load(conn)
}

/// A user's direct-message rooms with their message counts.
pub fn list_dms(conn: &mut Conn, user_id: i32) -> QueryResult<Vec<RoomSummary>> {
    rooms::table
        .inner_join(room_members::table)
        .left_join(messages::table)
        .filter(room_members::user_id.eq(user_id))
        .group_by((rooms::id, rooms::name, rooms::name_key))
        .select((
            rooms::id,
            rooms::name,
            diesel::dsl::count(messages::id.nullable()),
        ))
        .order(rooms::id.asc())
        .load(conn)
}

/// The SQL form of [`can_read`], for queries over many rooms (search,
/// uploads): public rooms, and private ones `user_id` belongs to.
#[diesel::dsl::auto_type]
pub fn readable_by(user_id: i32) -> _ {
    let public: &'static str = "public";
    rooms::kind.eq(public).or(diesel::dsl::exists(
        room_members::table
            .filter(room_members::room_id.eq(rooms::id))
            .filter(room_members::user_id.eq(user_id)),
    ))
}

/// May this user read (and so write in) this room? Public rooms: anyone
/// logged in; DMs: their members only.
pub fn can_read(conn: &mut Conn, room: &Room, user_id: i32) -> QueryResult<bool> {
    if !room.is_dm() {
        return Ok(true);
    }
    is_member(conn, room.id, user_id)
}

pub fn is_member(conn: &mut Conn, room_id: i32, user_id: i32) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(
        room_members::table
            .filter(room_members::room_id.eq(room_id))
            .filter(room_members::user_id.eq(user_id)),
    ))
    .get_result(conn)
}

/// The members' names of each of these rooms, sorted case-insensitively.
pub fn member_names(
    conn: &mut Conn,
    room_ids: &[i32],
) -> QueryResult<std::collections::HashMap<i32, Vec<String>>> {
    let found: Vec<(i32, String)> = room_members::table
        .inner_join(users::table)
        .filter(room_members::room_id.eq_any(room_ids))
        .order(users::name_key.asc())
        .select((room_members::room_id, users::name))
        .load(conn)?;
    let mut out: std::collections::HashMap<i32, Vec<String>> = Default::default();
    for (room_id, name) in found {
        out.entry(room_id).or_default().push(name);
    }
    Ok(out)
}

/// The DM room of exactly these users (ids sorted, deduplicated, the
/// creator included): found if it exists, else created with `name`, its
/// members and a read marker for each. Returns the room and whether it was
/// created now.
pub fn find_or_create_dm(
    conn: &mut Conn,
    member_ids: &[i32],
    name: &RoomName,
    created_by: i32,
) -> QueryResult<(Room, bool)> {
    let key = member_ids
        .iter()
        .map(i32::to_string)
        .collect::<Vec<_>>()
        .join(",");
    conn.immediate_transaction(|conn| {
        let existing = rooms::table
            .filter(rooms::dm_key.eq(&key))
            .select(Room::as_select())
            .first(conn)
            .optional()?;
        if let Some(room) = existing {
            return Ok((room, false));
        }
        let now = now_ms();
        let room: Room = diesel::insert_into(rooms::table)
            .values(NewRoom {
                name: name.as_str(),
                name_key: &name.key(),
                created_by: Some(created_by),
                created_at: now,
                kind: RoomKind::Dm.as_str(),
                dm_key: Some(&key),
            })
            .returning(Room::as_returning())
            .get_result(conn)?;
        for &user_id in member_ids {
            diesel::insert_into(room_members::table)
                .values((
                    room_members::room_id.eq(room.id),
                    room_members::user_id.eq(user_id),
                ))
                .execute(conn)?;
            super::reads::mark_read(conn, user_id, room.id, 0)?;
        }
        Ok((room, true))
    })
}

/// How many rooms exist.
pub fn count(conn: &mut Conn) -> QueryResult<i64> {
    rooms::table.count().get_result(conn)
}
