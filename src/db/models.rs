//! Rows as Diesel reads them, and the `New*` forms it inserts.

use diesel::prelude::*;

use super::schema::{messages, room_events, rooms, sessions, uploads, users};

#[derive(Debug, Clone, Queryable, Selectable, Identifiable)]
#[diesel(table_name = users)]
pub struct User {
    pub id: i32,
    pub name: String,
    pub name_key: String,
    pub password_hash: String,
    pub is_admin: bool,
    pub disabled: bool,
    pub created_at: i64,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = users)]
pub struct NewUser<'a> {
    pub name: &'a str,
    pub name_key: &'a str,
    pub password_hash: &'a str,
    pub is_admin: bool,
    pub created_at: i64,
}

#[derive(Debug, Clone, Queryable, Selectable, Identifiable)]
#[diesel(table_name = sessions)]
pub struct Session {
    pub id: i32,
    pub user_id: i32,
    pub token_hash: String,
    pub created_at: i64,
    pub expires_at: i64,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = sessions)]
pub struct NewSession<'a> {
    pub user_id: i32,
    pub token_hash: &'a str,
    pub created_at: i64,
    pub expires_at: i64,
}

#[derive(Debug, Clone, Queryable, Selectable, Identifiable)]
#[diesel(table_name = rooms)]
pub struct Room {
    pub id: i32,
    pub name: String,
    pub name_key: String,
    pub created_by: Option<i32>,
    pub created_at: i64,
    pub last_seq: i64,
    /// `public` or `dm` (see [`RoomKind`]).
    pub kind: String,
    /// For DMs: the sorted member ids, `"3,7,9"`.
    pub dm_key: Option<String>,
}

/// Who may see a room: everyone, or only the members of a direct
/// conversation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RoomKind {
    Public,
    Dm,
}

impl RoomKind {
    pub const fn as_str(self) -> &'static str {
        match self {
            RoomKind::Public => "public",
            RoomKind::Dm => "dm",
        }
    }
}

impl Room {
    pub fn is_dm(&self) -> bool {
        self.kind == RoomKind::Dm.as_str()
    }
}

#[derive(Debug, Insertable)]
#[diesel(table_name = rooms)]
pub struct NewRoom<'a> {
    pub name: &'a str,
    pub name_key: &'a str,
    pub created_by: Option<i32>,
    pub created_at: i64,
    pub kind: &'a str,
    pub dm_key: Option<&'a str>,
}

#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Identifiable)]
#[diesel(table_name = messages)]
pub struct Message {
    pub id: i32,
    pub room_id: i32,
    pub seq: i64,
    pub user_id: i32,
    pub body: String,
    pub created_at: i64,
    pub client_id: Option<String>,
    pub upload_id: Option<i32>,
    pub edited_at: Option<i64>,
    pub deleted_at: Option<i64>,
    pub reply_to: Option<i32>,
}

/// A message to store (`messages::insert`). The writer hands out its id,
/// as it does its seq.
#[derive(Debug)]
pub struct NewMessage<'a> {
    pub id: i32,
    pub room_id: i32,
    pub seq: i64,
    pub user_id: i32,
    pub body: &'a str,
    pub created_at: i64,
    pub client_id: Option<&'a str>,
    pub upload_id: Option<i32>,
    pub reply_to: Option<i32>,
}

/// A room event other than a new message.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable)]
#[diesel(table_name = room_events)]
pub struct RoomEventRow {
    pub id: i32,
    pub room_id: i32,
    pub seq: i64,
    pub kind: String,
    pub message_id: i32,
    pub user_id: i32,
    pub emoji: Option<String>,
    pub created_at: i64,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = room_events)]
pub struct NewRoomEvent<'a> {
    pub room_id: i32,
    pub seq: i64,
    pub kind: &'a str,
    pub message_id: i32,
    pub user_id: i32,
    pub emoji: Option<&'a str>,
    pub created_at: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Identifiable)]
#[diesel(table_name = uploads)]
pub struct Upload {
    pub id: i32,
    pub user_id: i32,
    pub sha256: String,
    pub kind: String,
    pub mime: String,
    pub size: i64,
    pub original_name: String,
    pub width: Option<i32>,
    pub height: Option<i32>,
    pub created_at: i64,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = uploads)]
pub struct NewUpload<'a> {
    pub user_id: i32,
    pub sha256: &'a str,
    pub kind: &'a str,
    pub mime: &'a str,
    pub size: i64,
    pub original_name: &'a str,
    pub width: Option<i32>,
    pub height: Option<i32>,
    pub created_at: i64,
}
