//! Real-time chat: the `ChatServer` actor (`server.rs`), one `WsSession`
//! actor per WebSocket (`session.rs`), the protocol types (`protocol.rs`),
//! and the chat actions every transport shares. Posting a message or
//! creating a room is one function here, whether it comes from the HTML
//! form, the JSON API or a WebSocket frame.

pub mod changes;
pub mod dms;
pub mod messages;
pub mod presence;
pub mod protocol;
pub mod server;
pub mod session;
pub mod stream;
pub mod unread;

use std::future::Future;
use std::num::NonZeroU32;

use actix::Addr;
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

use std::collections::HashMap;

use self::messages::{
    GetOnline, GetUnread, Online, Publish, RefreshRooms, RoomEvent, UnreadChange,
};
use self::protocol::{MessageObject, RoomInfo, ServerFrame};
use self::server::ChatServer;
use crate::auth::CurrentUser;
use crate::db;
use crate::db::models::{NewUpload, RoomKind, Upload};
use crate::db::reads::Unread;
use crate::db::writer::{CommitHook, Committed, Event, Job, NewMessageJob, Refusal, WriteError};
use crate::domain::{ClientId, MessageBody, RoomName};
use crate::error::AppError;
use crate::state::AppState;
use crate::uploads::{self, StoredFile};

/// A room as chat actions need it: one the acting user may read.
#[derive(Debug, Clone)]
pub struct RoomRef {
    pub id: i32,
    pub name: String,
    pub is_dm: bool,
}

impl From<db::models::Room> for RoomRef {
    fn from(room: db::models::Room) -> Self {
        RoomRef {
            id: room.id,
            is_dm: room.is_dm(),
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

/// The writer's commit hook: serialize each new event once and hand the
/// batch, in commit order, to the `ChatServer` for fan-out.
pub fn publish_hook(chat: Addr<ChatServer>) -> CommitHook {
    Box::new(move |committed: &[&Committed]| {
        let events = committed.iter().map(|c| room_event(c)).collect();
        chat.do_send(Publish {
            events,
            committed_at: std::time::Instant::now(),
        });
    })
}

/// A committed event as the `ChatServer` fans it out.
fn room_event(c: &Committed) -> RoomEvent {
    let room = c.room_name.clone();
    let (frame, unread) = match &c.event {
        Event::Message(view) => (
            ServerFrame::Message(Box::new(MessageObject::from_view(&c.room_name, view))),
            Some(1),
        ),
        Event::Edited(view) => (
            ServerFrame::MessageEdited(Box::new(protocol::EditedEvent {
                seq: c.seq,
                id: i64::from(view.message.id),
                message: MessageObject::from_view(&c.room_name, view),
                room,
            })),
            None,
        ),
        Event::Deleted { message_id } => (
            ServerFrame::MessageDeleted(protocol::DeletedEvent {
                room,
                seq: c.seq,
                id: i64::from(*message_id),
            }),
            Some(-1),
        ),
        Event::Reaction {
            message_id,
            emoji,
            user,
            added,
            reactions,
        } => (
            ServerFrame::Reaction(protocol::ReactionEvent {
                room,
                seq: c.seq,
                id: i64::from(*message_id),
                emoji: emoji.clone(),
                user: user.clone(),
                added: *added,
                reactions: reactions.clone(),
            }),
            None,
        ),
    };
    RoomEvent {
        room_id: c.room_id,
        seq: c.seq,
        frame: frame.to_text(),
        unread: unread.map(|delta| UnreadChange {
            room_name: c.room_name.clone(),
            delta,
            author_id: c.author_id,
            message_seq: c.message_seq,
            mentioned: c.mentioned.clone(),
        }),
    }
}

/// The message a committed event is about, as it stands now.
pub async fn current_message(state: &AppState, c: &Committed) -> Result<MessageObject, AppError> {
    if let Event::Message(view) | Event::Edited(view) = &c.event {
        return Ok(MessageObject::from_view(&c.room_name, view));
    }
    let id = c.message_id();
    let view = state
        .db(move |conn| db::messages::find(conn, id))
        .await?
        .ok_or(AppError::NotFound)?;
    Ok(MessageObject::from_view(&c.room_name, &view))
}

/// Store a message in `room` from `user`. Queued for the writer when
/// called (so one caller's messages keep their order); the future resolves
/// once it is durably stored and handed to fan-out. A repeated `client_id`
/// returns the original message and stores nothing.
pub fn post_message(
    state: &AppState,
    user: &CurrentUser,
    room: &RoomRef,
    body: MessageBody,
    client_id: Option<ClientId>,
    reply_to: Option<i64>,
) -> impl Future<Output = Result<Committed, AppError>> + 'static {
    let queued = match reply_to.map(i32::try_from).transpose() {
        Ok(reply_to) => store_message(
            state,
            user,
            room,
            body.into_string(),
            client_id,
            None,
            reply_to,
        ),
        Err(_) => Err(refusal(Refusal::BadReply)),
    };
    async move { queued?.await }
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
) -> Result<Committed, AppError> {
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
    store_message(state, user, room, caption, None, Some(upload), None)?.await
}

fn store_message(
    state: &AppState,
    user: &CurrentUser,
    room: &RoomRef,
    body: String,
    client_id: Option<ClientId>,
    upload: Option<Upload>,
    reply_to: Option<i32>,
) -> Result<impl Future<Output = Result<Committed, AppError>> + 'static, AppError> {
    check_send_rate(state, user)?;
    let job = NewMessageJob {
        room_id: room.id,
        room_name: room.name.clone(),
        user_id: user.id,
        user_name: user.name.clone(),
        body,
        client_id: client_id.map(ClientId::into_string),
        upload,
        reply_to,
    };
    Ok(submit(state, Job::Message(job)))
}

/// The per-user token bucket every room change goes through.
fn check_send_rate(state: &AppState, user: &CurrentUser) -> Result<(), AppError> {
    if let Err(not_until) = state.send_limiter.check_key(&user.id) {
        let wait = not_until.wait_time_from(governor::clock::Clock::now(
            &governor::clock::DefaultClock::default(),
        ));
        return Err(AppError::TooManyRequests {
            retry_after: wait.as_secs().max(1),
        });
    }
    Ok(())
}

/// Hand a job to the writer now (so one caller's jobs keep their order);
/// the future waits for its commit.
fn submit(
    state: &AppState,
    job: Job,
) -> impl Future<Output = Result<Committed, AppError>> + 'static {
    let committed = state.writer.submit(job);
    async move {
        committed.await.map_err(|err| match err {
            WriteError::Refused(why) => refusal(why),
            WriteError::Failed(_) | WriteError::Stopped | WriteError::Busy => {
                AppError::Unavailable(err.into())
            }
        })
    }
}

/// What the user is told when the writer refuses a change.
fn refusal(why: Refusal) -> AppError {
    let message = why.to_string();
    match why {
        Refusal::NoSuchMessage => AppError::NotFound,
        Refusal::NotYours => AppError::NotAllowed {
            code: "not_yours",
            message,
        },
        Refusal::EditWindowPassed => AppError::NotAllowed {
            code: "edit_window_passed",
            message,
        },
        Refusal::Deleted => AppError::Conflict(message),
        Refusal::BadReply => AppError::BadRequest(message),
    }
}

/// Find a room by name (any case) that `user_id` may read; `NotFound` if
/// there is none — a DM the user is not in does not exist for them.
pub async fn find_room(state: &AppState, user_id: i32, name: String) -> Result<RoomRef, AppError> {
    state
        .db(move |conn| {
            let Some(room) = db::rooms::find_by_name(conn, &name)? else {
                return Ok(None);
            };
            let readable = db::rooms::can_read(conn, &room, user_id)?;
            Ok::<_, AppError>(readable.then(|| RoomRef::from(room)))
        })
        .await?
        .ok_or(AppError::NotFound)
}

/// Who is online right now, with their names (empty if the chat server is
/// not answering).
pub async fn online(state: &AppState) -> Online {
    state
        .chat
        .send(GetOnline { with_names: true })
        .await
        .unwrap_or_default()
}

/// Where a room list's unread counts come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Counts {
    /// Counted from the database now (pages, the API).
    Stored,
    /// The counts the `ChatServer` keeps for an online user, so a socket's
    /// `rooms` frame agrees with the `unread` frames around it.
    Live,
}

/// The rooms `user_id` sees — every public room alphabetically, then their
/// DMs — with message counts, online counts and their unread counts; and
/// the current online snapshot.
pub async fn room_list(
    state: &AppState,
    user_id: i32,
    counts: Counts,
) -> Result<(Vec<RoomInfo>, Online), AppError> {
    let stored = counts == Counts::Stored;
    let (public, dms, members, stored_unread) = state
        .db(move |conn| {
            let public = db::rooms::list(conn)?;
            let dms = db::rooms::list_dms(conn, user_id)?;
            let ids: Vec<i32> = dms.iter().map(|r| r.id).collect();
            let members = db::rooms::member_names(conn, &ids)?;
            let unread = if stored {
                db::reads::for_user(conn, user_id)?
            } else {
                Vec::new()
            };
            Ok::<_, AppError>((public, dms, members, unread))
        })
        .await?;
    let unread: HashMap<i32, Unread> = match counts {
        Counts::Stored => stored_unread.into_iter().map(|u| (u.room_id, u)).collect(),
        Counts::Live => state
            .chat
            .send(GetUnread { user_id })
            .await
            .unwrap_or_default(),
    };
    let online = state
        .chat
        .send(GetOnline { with_names: false })
        .await
        .unwrap_or_default();
    let mut members = members;
    let rooms = public
        .into_iter()
        .map(|r| (r, RoomKind::Public))
        .chain(dms.into_iter().map(|r| (r, RoomKind::Dm)))
        .map(|(r, kind)| {
            let counts = unread.get(&r.id);
            RoomInfo {
                online: online.rooms.get(&r.id).copied().unwrap_or(0),
                kind: kind.as_str().to_string(),
                members: members.remove(&r.id).unwrap_or_default(),
                unread: counts.map_or(0, |u| u.count),
                mentions: counts.map_or(0, |u| u.mentions),
                name: r.name,
                message_count: r.message_count,
            }
        })
        .collect();
    Ok((rooms, online))
}

#[derive(Debug, thiserror::Error)]
pub enum CreateRoomError {
    #[error("A room with that name already exists.")]
    Taken,
    #[error("Room names starting with \"dm-\" are kept for direct messages.")]
    Reserved,
    #[error(transparent)]
    Other(#[from] AppError),
}

/// Create a room and tell every connected client about the new room list.
pub async fn create_room(
    state: &AppState,
    user: &CurrentUser,
    name: RoomName,
) -> Result<RoomRef, CreateRoomError> {
    if dms::is_reserved(&name) {
        return Err(CreateRoomError::Reserved);
    }
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
    state.chat.do_send(RefreshRooms { user_ids: None });
    Ok(room)
}
