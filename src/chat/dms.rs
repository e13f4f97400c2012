//! Direct messages: a private room of 2 to [`MAX_MEMBERS`] people. It is an
//! ordinary room in every other way (history, resume, uploads, typing,
//! unread), but only its members can see, read, search or be told about
//! it; for everyone else it does not exist (404, never 403). There is one
//! DM per set of people: asking again returns the same room.

use super::messages::RefreshRooms;
use super::RoomRef;
use crate::auth::{session, CurrentUser};
use crate::db;
use crate::domain::RoomName;
use crate::error::AppError;
use crate::state::AppState;

/// Room names of DMs start with this; public room names may not.
pub const NAME_PREFIX: &str = "dm-";

/// A name kept for DMs: no public room (web, API or CLI) may take it.
pub fn is_reserved(name: &RoomName) -> bool {
    name.key().starts_with(NAME_PREFIX)
}
/// The most people in one DM, the creator included.
pub const MAX_MEMBERS: usize = 8;
/// Hex characters of randomness in a DM's room name.
const NAME_RANDOM_CHARS: usize = 16;

/// A DM room and its members' names (sorted, the creator included).
#[derive(Debug, Clone)]
pub struct Dm {
    pub room: RoomRef,
    pub members: Vec<String>,
    pub created: bool,
}

/// Find or create the DM of `user` with the users named in `names`
/// (any case, duplicates and `user` themself ignored).
pub async fn open_dm(
    state: &AppState,
    user: &CurrentUser,
    names: Vec<String>,
) -> Result<Dm, AppError> {
    let mut keys: Vec<String> = names
        .iter()
        .map(|n| n.trim().to_lowercase())
        .filter(|n| !n.is_empty() && *n != user.name.to_lowercase())
        .collect();
    keys.sort();
    keys.dedup();
    if keys.is_empty() {
        return Err(AppError::bad_request(
            "Name at least one other person to message.",
        ));
    }
    if keys.len() >= MAX_MEMBERS {
        return Err(AppError::BadRequest(format!(
            "A direct conversation has at most {MAX_MEMBERS} people."
        )));
    }
    let name = RoomName::parse(&format!(
        "{NAME_PREFIX}{}",
        &session::new_token()[..NAME_RANDOM_CHARS]
    ))
    .map_err(|e| AppError::Internal(anyhow::anyhow!("DM room name: {e}")))?;
    let creator = user.id;
    let (room, created, members, member_ids) = state
        .db(move |conn| {
            let mut ids = vec![creator];
            let mut members = Vec::with_capacity(keys.len() + 1);
            for key in &keys {
                match db::users::find_by_name(conn, key)? {
                    Some(found) if !found.disabled => {
                        ids.push(found.id);
                        members.push(found.name);
                    }
                    _ => return Ok(Err(format!("There is no user named {key}."))),
                }
            }
            ids.sort_unstable();
            let (room, created) = db::rooms::find_or_create_dm(conn, &ids, &name, creator)?;
            let mut names = db::rooms::member_names(conn, &[room.id])?
                .remove(&room.id)
                .unwrap_or_default();
            names.sort_by_key(|n| n.to_lowercase());
            Ok::<_, AppError>(Ok((room, created, names, ids)))
        })
        .await?
        .map_err(AppError::BadRequest)?;
    if created {
        tracing::info!(room = %room.name, members = ?members, "direct conversation created");
        for &member in &member_ids {
            super::unread::load(state, member).await?;
        }
        state.chat.do_send(RefreshRooms {
            user_ids: Some(member_ids),
        });
    }
    Ok(Dm {
        room: RoomRef::from(room),
        members,
        created,
    })
}
