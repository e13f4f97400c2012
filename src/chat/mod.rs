//! Chat actions shared by every transport. Posting a message is one
//! function whether it comes from the HTML form, the JSON API or (later)
//! a WebSocket frame.

use crate::auth::CurrentUser;
use crate::db::models::Room;
use crate::db::writer::{NewMessageJob, Stored, WriteError};
use crate::domain::{ClientId, MessageBody};
use crate::error::AppError;
use crate::state::AppState;

/// Store a message in `room` from `user`. Resolves once it is durably
/// stored; a repeated `client_id` returns the original message.
pub async fn post_message(
    state: &AppState,
    user: &CurrentUser,
    room: &Room,
    body: MessageBody,
    client_id: Option<ClientId>,
) -> Result<Stored, AppError> {
    let job = NewMessageJob {
        room_id: room.id,
        user_id: user.id,
        body: body.into_string(),
        client_id: client_id.map(ClientId::into_string),
        upload_id: None,
    };
    state
        .writer
        .post_message(job)
        .await
        .map_err(|err| match err {
            WriteError::Failed(_) | WriteError::Stopped => AppError::Unavailable(err.into()),
        })
}
