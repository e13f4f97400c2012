//! Real-time chat: the `ChatServer` actor (`server.rs`), one `WsSession`
//! actor per WebSocket (`session.rs`), the protocol types (`protocol.rs`),
//! and the chat actions every transport shares. Posting a message or
//! creating a room is one function here, whether it comes from the HTML
//! form, the JSON API or a WebSocket frame.

pub mod messages;
pub mod presence;
pub mod protocol;
pub mod server;
pub mod session;

use std::num::NonZeroU32;

use actix::Addr;
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

use self::messages::{BroadcastAll, GetOnline, Online, Publish, RoomEvent};
use self::protocol::{MessageObject, RoomInfo, ServerFrame};
use self::server::ChatServer;
use crate::auth::CurrentUser;
use crate::db;
use crate::db::models::{NewUpload, Upload};
use crate::db::writer::{CommitHook, NewMessageJob, Stored, WriteError};
use crate::domain::{ClientId, MessageBody, RoomName};
use crate::error::AppError;
use crate::state::AppState;
use crate::uploads::{self, StoredFile};

/// A room as chat actions need it.
#[derive(Debug, Clone)]
pub struct RoomRef {
    pub id: i32,
    pub name: String,
}

impl From<db::models::Room> for RoomRef {
    fn from(room: db::models::Room) -> Self {
        RoomRef {
            id: room.id,
            name: room.name,
        }
    }
}

/// Per-user token bucket on sends, shared by every transport.
pub type SendLimiter = DefaultKeyedRateLimiter<i32>;

pub fn send_limiter(per_second: u32, burst: u32) -> SendLimiter {
    let rate = NonZeroU32::new(per_second.max(1)).unwrap_or(NonZeroU32::MIN);
    let burst = NonZeroU32::new(burst.max(1)).unwrap_or(NonZeroU32::MIN);
    RateLimiter::keyed(Quota::per_second(rate).allow_burst(burst))
}

/// The writer's commit hook: serialize each new message once and hand the
/// batch, in commit order, to the `ChatServer` for fan-out.
pub fn publish_hook(chat: Addr<ChatServer>) -> CommitHook {
    Box::new(move |stored: &[Stored]| {
        let events = stored
            .iter()
            .map(|s| RoomEvent {
                room_id: s.message.room_id,
                seq: s.message.seq,
                frame: ServerFrame::Message(Box::new(message_object(s))).to_text(),
            })
            .collect();
        chat.do_send(Publish {
            events,
            committed_at: std::time::Instant::now(),
        });
    })
}

/// The wire form of a stored message.
pub fn message_object(stored: &Stored) -> MessageObject {
    let m = &stored.message;
    MessageObject {
        id: i64::from(m.id),
        room: stored.room_name.clone(),
        seq: m.seq,
        user: stored.user_name.clone(),
        body: m.body.clone(),
        ts: protocol::rfc3339(m.created_at),
        client_id: m.client_id.clone(),
        attachment: stored.upload.as_ref().map(protocol::Attachment::from),
        html: String::new(),
        edited: None,
        deleted: false,
        reactions: Vec::new(),
        reply_to: None,
        reply: None,
        mentions: Vec::new(),
    }
}

/// Store a message in `room` from `user`. Resolves once it is durably
/// stored (and handed to fan-out); a repeated `client_id` returns the
/// original message and stores nothing.
pub async fn post_message(
    state: &AppState,
    user: &CurrentUser,
    room: &RoomRef,
    body: MessageBody,
    client_id: Option<ClientId>,
) -> Result<Stored, AppError> {
    store_message(state, user, room, body.into_string(), client_id, None).await
}

/// Store an uploaded file (already saved by `uploads::Store`) as a message
/// in `room` with `caption` (may be empty), fanned out like any other.
pub async fn post_upload(
    state: &AppState,
    user: &CurrentUser,
    room: &RoomRef,
    caption: String,
    file: StoredFile,
    original_name: &str,
) -> Result<Stored, AppError> {
    let name = uploads::sanitize_filename(original_name);
    let user_id = user.id;
    let upload = state
        .db(move |conn| {
            db::uploads::insert(
                conn,
                &NewUpload {
                    user_id,
                    sha256: &file.sha256,
                    kind: file.kind.as_str(),
                    mime: file.mime,
                    size: i64::try_from(file.size).unwrap_or(i64::MAX),
                    original_name: &name,
                    width: file.width.and_then(|w| i32::try_from(w).ok()),
                    height: file.height.and_then(|h| i32::try_from(h).ok()),
                    created_at: db::now_ms(),
                },
            )
        })
        .await?;
    tracing::info!(upload = upload.id, kind = %upload.kind, size = upload.size, "upload stored");
    state
        .metrics
        .upload_bytes
        .inc_by(u64::try_from(upload.size).unwrap_or(0));
    store_message(state, user, room, caption, None, Some(upload)).await
}

async fn store_message(
    state: &AppState,
    user: &CurrentUser,
    room: &RoomRef,
    body: String,
    client_id: Option<ClientId>,
    upload: Option<Upload>,
) -> Result<Stored, AppError> {
    if let Err(not_until) = state.send_limiter.check_key(&user.id) {
        let wait = not_until.wait_time_from(governor::clock::Clock::now(
            &governor::clock::DefaultClock::default(),
        ));
        return Err(AppError::TooManyRequests {
            retry_after: wait.as_secs().max(1),
        });
    }
    let job = NewMessageJob {
        room_id: room.id,
        room_name: room.name.clone(),
        user_id: user.id,
        user_name: user.name.clone(),
        body,
        client_id: client_id.map(ClientId::into_string),
        upload,
    };
    state
        .writer
        .post_message(job)
        .await
        .map_err(|err| match err {
            WriteError::Failed(_) | WriteError::Stopped => AppError::Unavailable(err.into()),
        })
}

/// Find a room by name (any case); `NotFound` if there is none.
pub async fn find_room(state: &AppState, name: String) -> Result<RoomRef, AppError> {
    state
        .db(move |conn| db::rooms::find_by_name(conn, &name))
        .await?
        .map(RoomRef::from)
        .ok_or(AppError::NotFound)
}

/// Who is online right now (empty if the chat server is not answering).
pub async fn online(state: &AppState) -> Online {
    state.chat.send(GetOnline).await.unwrap_or_default()
}

/// Every room with its message count and online users, alphabetically,
/// and the current online snapshot.
pub async fn room_list(state: &AppState) -> Result<(Vec<RoomInfo>, Online), AppError> {
    let rooms = state.db(db::rooms::list).await?;
    let online = online(state).await;
    let rooms = rooms
        .into_iter()
        .map(|r| RoomInfo {
            online: online.rooms.get(&r.id).copied().unwrap_or(0),
            name: r.name,
            message_count: r.message_count,
            kind: "public".into(),
            members: Vec::new(),
            unread: 0,
            mentions: 0,
        })
        .collect();
    Ok((rooms, online))
}

#[derive(Debug, thiserror::Error)]
pub enum CreateRoomError {
    #[error("A room with that name already exists.")]
    Taken,
    #[error(transparent)]
    Other(#[from] AppError),
}

/// Create a room and tell every connected client about the new room list.
pub async fn create_room(
    state: &AppState,
    user: &CurrentUser,
    name: RoomName,
) -> Result<RoomRef, CreateRoomError> {
    let creator = user.id;
    let created = state
        .db(move |conn| Ok::<_, AppError>(db::rooms::create(conn, &name, Some(creator))))
        .await?;
    let room = match created {
        Ok(room) => RoomRef::from(room),
        Err(db::rooms::CreateRoomError::NameTaken) => return Err(CreateRoomError::Taken),
        Err(db::rooms::CreateRoomError::Db(err)) => return Err(AppError::from(err).into()),
    };
    tracing::info!(room = %room.name, user = %user.name, "room created");
    let (rooms, _) = room_list(state).await?;
    state.chat.do_send(BroadcastAll {
        frame: ServerFrame::Rooms { rooms }.to_text(),
    });
    Ok(room)
}
