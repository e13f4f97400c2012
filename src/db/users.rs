//! Queries on `users`.

use diesel::prelude::*;

use super::models::{NewUser, User};
use super::schema::users;
use super::{is_unique_violation, now_ms, Conn};
use crate::domain::Username;

#[derive(Debug, thiserror::Error)]
pub enum CreateUserError {
    #[error("That username is taken.")]
    NameTaken,
    #[error(transparent)]
    Db(#[from] diesel::result::Error),
}

pub fn create(
    conn: &mut Conn,
    name: &Username,
    password_hash: &str,
    is_admin: bool,
) -> Result<User, CreateUserError> {
    let key = name.key();
    diesel::insert_into(users::table)
        .values(NewUser {
            name: name.as_str(),
            name_key: &key,
            password_hash,
            is_admin,
            created_at: now_ms(),
        })
        .returning(User::as_returning())
        .get_result(conn)
        .map_err(|err| {
            if is_unique_violation(&err) {
                CreateUserError::NameTaken
            } else {
                CreateUserError::Db(err)
            }
        })
}

/// Find a user by name, ignoring case.
pub fn find_by_name(conn: &mut Conn, name: &str) -> QueryResult<Option<User>> {
    users::table
        .filter(users::name_key.eq(name.to_lowercase()))
        .select(User::as_select())
        .first(conn)
        .optional()
}

pub fn find(conn: &mut Conn, id: i32) -> QueryResult<Option<User>> {
    users::table
        .find(id)
        .select(User::as_select())
        .first(conn)
        .optional()
}

/// Every account, by name (case-insensitively).
pub fn list(conn: &mut Conn) -> QueryResult<Vec<User>> {
    users::table
        .order(users::name_key.asc())
        .select(User::as_select())
        .load(conn)
}

pub fn set_password_hash(conn: &mut Conn, id: i32, password_hash: &str) -> QueryResult<usize> {
    diesel::update(users::table.find(id))
        .set(users::password_hash.eq(password_hash))
        .execute(conn)
}

pub fn set_admin(conn: &mut Conn, id: i32, is_admin: bool) -> QueryResult<usize> {
    diesel::update(users::table.find(id))
        .set(users::is_admin.eq(is_admin))
        .execute(conn)
}

pub fn set_disabled(conn: &mut Conn, id: i32, disabled: bool) -> QueryResult<usize> {
    diesel::update(users::table.find(id))
        .set(users::disabled.eq(disabled))
        .execute(conn)
}
