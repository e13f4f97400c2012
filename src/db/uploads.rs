//! Queries on `uploads`.

use diesel::prelude::*;

use super::models::{NewUpload, Upload};
use super::schema::{messages, rooms, uploads};
use super::Conn;

pub fn insert(conn: &mut Conn, new: &NewUpload<'_>) -> QueryResult<Upload> {
    diesel::insert_into(uploads::table)
        .values(new)
        .returning(Upload::as_returning())
        .get_result(conn)
}

pub fn find(conn: &mut Conn, id: i32) -> QueryResult<Option<Upload>> {
    uploads::table
        .find(id)
        .select(Upload::as_select())
        .first(conn)
        .optional()
}

/// An image posted in a room, for the gallery.
#[derive(Debug, Clone, Queryable)]
pub struct GalleryItem {
    pub upload: Upload,
    pub caption: String,
    pub seq: i64,
}

/// Every image posted in a room, newest first.
pub fn images_in_room(conn: &mut Conn, room_id: i32) -> QueryResult<Vec<GalleryItem>> {
    messages::table
        .inner_join(uploads::table)
        .inner_join(rooms::table)
        .filter(messages::room_id.eq(room_id))
        .filter(messages::deleted_at.is_null())
        .filter(uploads::kind.eq("image"))
        .order(messages::seq.desc())
        .select((Upload::as_select(), messages::body, messages::seq))
        .load(conn)
}

/// The upload if `user_id` may fetch it: it is attached to a message that
/// is not deleted, in a room the user may read (public, or a DM they are
/// in). Otherwise it does not exist for them.
pub fn find_readable(conn: &mut Conn, id: i32, user_id: i32) -> QueryResult<Option<Upload>> {
    uploads::table
        .filter(uploads::id.eq(id))
        .filter(diesel::dsl::exists(
            messages::table
                .inner_join(rooms::table)
                .filter(messages::upload_id.eq(id))
                .filter(messages::deleted_at.is_null())
                .filter(super::rooms::readable_by(user_id)),
        ))
        .select(Upload::as_select())
        .first(conn)
        .optional()
}
