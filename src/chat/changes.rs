//! Changing stored messages: edit, delete, react, unreact. One function per
//! action, shared by the no-JS forms, the JSON API and the WebSocket. The
//! writer checks the rules (own message or admin, edit window, readable
//! room, not deleted) inside the transaction that makes the change.
//!
//! Each function queues its change for the writer when called, not when
//! first polled, so one socket's changes are stored in the order sent.

use std::future::Future;

use crate::auth::CurrentUser;
use crate::db::writer::{Actor, Committed, Job};
use crate::domain::{Emoji, MessageBody};
use crate::error::AppError;
use crate::state::AppState;

fn actor(user: &CurrentUser) -> Actor {
    Actor {
        id: user.id,
        name: user.name.clone(),
        is_admin: user.is_admin,
    }
}

/// A message id from a client: anything that isn't one is no message.
fn message_id(id: i64) -> Result<i32, AppError> {
    i32::try_from(id).map_err(|_| AppError::NotFound)
}

/// Replace the body of a message (own, within the edit window; admins any).
pub fn edit(
    state: &AppState,
    user: &CurrentUser,
    id: i64,
    body: MessageBody,
) -> impl Future<Output = Result<Committed, AppError>> + 'static {
    let window_ms = state.config.edit_window_ms();
    queue(state, user, move |actor| {
        Ok(Job::Edit {
            message_id: message_id(id)?,
            actor,
            body: body.into_string(),
            window_ms,
        })
    })
}

/// Delete a message (own; admins any): a tombstone stays, the text goes.
pub fn delete(
    state: &AppState,
    user: &CurrentUser,
    id: i64,
) -> impl Future<Output = Result<Committed, AppError>> + 'static {
    queue(state, user, move |actor| {
        Ok(Job::Delete {
            message_id: message_id(id)?,
            actor,
        })
    })
}

/// Add (`add`) or take back an emoji reaction. Reacting twice, or taking
/// back a reaction that isn't there, changes nothing and is no error.
pub fn react(
    state: &AppState,
    user: &CurrentUser,
    id: i64,
    emoji: Emoji,
    add: bool,
) -> impl Future<Output = Result<Committed, AppError>> + 'static {
    queue(state, user, move |actor| {
        Ok(Job::React {
            message_id: message_id(id)?,
            actor,
            emoji: emoji.into_string(),
            add,
        })
    })
}

/// Check the user's send rate, build the job and queue it now; the future
/// waits for its commit.
fn queue(
    state: &AppState,
    user: &CurrentUser,
    job: impl FnOnce(Actor) -> Result<Job, AppError>,
) -> impl Future<Output = Result<Committed, AppError>> + 'static {
    let queued = super::check_send_rate(state, user)
        .and_then(|()| job(actor(user)))
        .map(|job| super::submit(state, job));
    async move { queued?.await }
}
