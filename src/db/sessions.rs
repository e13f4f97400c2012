//! Queries on `sessions`. Only the SHA-256 of a token is ever stored or
//! looked up; see `auth::session` for the tokens themselves.

use diesel::prelude::*;

use super::models::{NewSession, Session, User};
use super::schema::{sessions, users};
use super::{now_ms, Conn};

pub fn create(
    conn: &mut Conn,
    user_id: i32,
    token_hash: &str,
    ttl_ms: i64,
) -> QueryResult<Session> {
    let now = now_ms();
    diesel::insert_into(sessions::table)
        .values(NewSession {
            user_id,
            token_hash,
            created_at: now,
            expires_at: now.saturating_add(ttl_ms),
        })
        .returning(Session::as_returning())
        .get_result(conn)
}

/// The live session with this token hash and its user, if the session has
/// not expired and the user is not disabled.
pub fn find_active(conn: &mut Conn, token_hash: &str) -> QueryResult<Option<(Session, User)>> {
    sessions::table
        .inner_join(users::table)
        .filter(sessions::token_hash.eq(token_hash))
        .filter(sessions::expires_at.gt(now_ms()))
        .filter(users::disabled.eq(false))
        .select((Session::as_select(), User::as_select()))
        .first(conn)
        .optional()
}

pub fn delete_by_hash(conn: &mut Conn, token_hash: &str) -> QueryResult<usize> {
    diesel::delete(sessions::table.filter(sessions::token_hash.eq(token_hash))).execute(conn)
}

/// Remove sessions that have expired; returns how many went.
pub fn delete_expired(conn: &mut Conn) -> QueryResult<usize> {
    diesel::delete(sessions::table.filter(sessions::expires_at.le(now_ms()))).execute(conn)
}

/// Of these token hashes, the ones whose session is still live (not
/// expired, not deleted, user not disabled).
pub fn active_hashes(
    conn: &mut Conn,
    hashes: &[String],
) -> QueryResult<std::collections::HashSet<String>> {
    let mut active = std::collections::HashSet::new();
    // SQLite limits bound parameters per statement; ask in chunks.
    for chunk in hashes.chunks(500) {
        let found: Vec<String> = sessions::table
            .inner_join(users::table)
            .filter(sessions::token_hash.eq_any(chunk))
            .filter(sessions::expires_at.gt(now_ms()))
            .filter(users::disabled.eq(false))
            .select(sessions::token_hash)
            .load(conn)?;
        active.extend(found);
    }
    Ok(active)
}

/// End every session of one user (password change, disabled account);
/// returns how many went. Their open sockets close at the chat server's next
/// session check.
pub fn delete_for_user(conn: &mut Conn, user_id: i32) -> QueryResult<usize> {
    diesel::delete(sessions::table.filter(sessions::user_id.eq(user_id))).execute(conn)
}
