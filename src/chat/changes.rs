//! Changing stored messages: edit, delete, react, unreact. One function per
//! action, shared by the no-JS forms, the JSON API and the WebSocket. The
//! writer checks the rules (own message or admin, edit window, readable
//! room, not deleted) inside the transaction that makes the change.

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
pub async fn edit(
    state: &AppState,
    user: &CurrentUser,
    id: i64,
    body: MessageBody,
) -> Result<Committed, AppError> {
    super::check_send_rate(state, user)?;
    let window_ms = state.config.edit_window_ms();
    let job = Job::Edit {
        message_id: message_id(id)?,
        actor: actor(user),
        body: body.into_string(),
        window_ms,
    };
    super::submit(state, job).await
}

/// Delete a message (own; admins any): a tombstone stays, the text goes.
pub async fn delete(state: &AppState, user: &CurrentUser, id: i64) -> Result<Committed, AppError> {
    super::check_send_rate(state, user)?;
    let job = Job::Delete {
        message_id: message_id(id)?,
        actor: actor(user),
    };
    super::submit(state, job).await
}

/// Add (`add`) or take back an emoji reaction. Reacting twice, or taking
/// back a reaction that isn't there, changes nothing and is no error.
pub async fn react(
    state: &AppState,
    user: &CurrentUser,
    id: i64,
    emoji: Emoji,
    add: bool,
) -> Result<Committed, AppError> {
    super::check_send_rate(state, user)?;
    let job = Job::React {
        message_id: message_id(id)?,
        actor: actor(user),
        emoji: emoji.into_string(),
        add,
    };
    super::submit(state, job).await
}
