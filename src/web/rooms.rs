//! Room pages: `POST /rooms` (create), `GET /rooms/{name}` (latest
//! messages and the send form), `POST /rooms/{name}/messages` (send).
//! All of them work without JavaScript.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::{Deserialize, Serialize};

use super::page::{login_redirect, render, room_path, see_other};
use super::pages::home_page;
use crate::auth::{session, CurrentUser, MaybeUser};
use crate::chat::protocol::{Attachment, MessageObject, ReactionCount, ReplyPreview};
use crate::chat::{self, RoomRef};
use crate::db::{self, messages::MessageView};
use crate::domain::{ClientId, MessageBody, RoomName};
use crate::error::AppError;
use crate::state::AppState;

/// Messages shown on a room page (SPEC §4.4).
const ROOM_PAGE_MESSAGES: i64 = 100;

#[derive(Deserialize)]
pub struct CreateRoomForm {
    #[serde(default)]
    name: String,
    csrf: Option<String>,
}

#[derive(Deserialize)]
pub struct MessageForm {
    #[serde(default)]
    body: String,
    client_id: Option<String>,
    /// The id of the message answered, if any (empty: none).
    reply_to: Option<String>,
    csrf: Option<String>,
}

/// A message as the room template shows it.
#[derive(Serialize)]
struct MessageItem {
    id: i32,
    seq: i64,
    user: String,
    body: String,
    /// Sanitised markdown-lite HTML (`crate::markdown`).
    html: String,
    /// RFC 3339, for `<time datetime>`.
    ts: String,
    /// Short UTC time for display.
    time: String,
    edited: Option<String>,
    edited_time: Option<String>,
    deleted: bool,
    attachment: Option<AttachmentItem>,
    reactions: Vec<ReactionItem>,
    reply: Option<ReplyPreview>,
    mentions_me: bool,
    can_edit: bool,
    can_delete: bool,
}

#[derive(Serialize)]
struct ReactionItem {
    #[serde(flatten)]
    reaction: ReactionCount,
    /// The viewer is among those who reacted.
    mine: bool,
}

/// An attachment as the room template shows it.
#[derive(Serialize)]
struct AttachmentItem {
    #[serde(flatten)]
    attachment: Attachment,
    /// "1.2 MB"
    size_text: String,
}

/// "2026-11-23 14:05" (UTC)
fn display_time(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .unwrap_or_default()
        .format("%Y-%m-%d %H:%M")
        .to_string()
}

impl MessageItem {
    fn new(view: &MessageView, room: &str, viewer: &CurrentUser, edit_window: Option<i64>) -> Self {
        let object = MessageObject::from_view(room, view);
        let m = &view.message;
        let own = m.user_id == viewer.id;
        let alive = m.deleted_at.is_none();
        let in_window = edit_window.is_none_or(|w| db::now_ms() - m.created_at <= w);
        MessageItem {
            id: m.id,
            seq: m.seq,
            mentions_me: object
                .mentions
                .iter()
                .any(|n| n.eq_ignore_ascii_case(&viewer.name)),
            reactions: object
                .reactions
                .into_iter()
                .map(|reaction| ReactionItem {
                    mine: reaction.users.contains(&viewer.name),
                    reaction,
                })
                .collect(),
            attachment: object.attachment.map(|attachment| AttachmentItem {
                size_text: human_size(attachment.size),
                attachment,
            }),
            user: object.user,
            body: object.body,
            html: object.html,
            ts: object.ts,
            time: display_time(m.created_at),
            edited: object.edited,
            edited_time: m.edited_at.map(display_time),
            deleted: object.deleted,
            reply: object.reply,
            can_edit: alive && (viewer.is_admin || (own && in_window)),
            can_delete: alive && (own || viewer.is_admin),
        }
    }
}

/// Bytes for people: "812 B", "4.1 KB", "2.3 MB".
fn human_size(bytes: i64) -> String {
    const KB: f64 = 1024.0;
    let b = bytes as f64;
    if b < KB {
        format!("{bytes} B")
    } else if b < KB * KB {
        format!("{:.1} KB", b / KB)
    } else {
        format!("{:.1} MB", b / (KB * KB))
    }
}

pub async fn create_room(
    state: web::Data<AppState>,
    req: HttpRequest,
    user: MaybeUser,
    form: web::Form<CreateRoomForm>,
) -> Result<HttpResponse, AppError> {
    let Some(current) = user.0.clone() else {
        return Err(AppError::Unauthorized);
    };
    state.check_form(&req, Some(&current), form.csrf.as_deref())?;
    let refused = match RoomName::parse(&form.name) {
        Ok(name) => match chat::create_room(&state, &current, name).await {
            Ok(room) => return Ok(see_other(&room_path(&room.name))),
            Err(chat::CreateRoomError::Other(err)) => return Err(err),
            Err(refused @ (chat::CreateRoomError::Taken | chat::CreateRoomError::Reserved)) => {
                refused.to_string()
            }
        },
        Err(message) => message,
    };
    home_page(
        &state,
        &req,
        &user,
        Some((&refused, &form.name)),
        StatusCode::BAD_REQUEST,
    )
    .await
}

/// Render a room page; `draft` and `error` come back from a failed send.
/// Showing the page counts as reading the room up to its latest event.
pub(crate) async fn show_room(
    state: &AppState,
    req: &HttpRequest,
    user: &CurrentUser,
    room: RoomRef,
    draft: Option<(&str, &str)>,
    status: StatusCode,
) -> Result<HttpResponse, AppError> {
    let room_id = room.id;
    let page = state
        .db(move |conn| db::messages::latest_page(conn, room_id, ROOM_PAGE_MESSAGES))
        .await?;
    chat::unread::mark_read(state, user, &room, page.last_seq).await?;
    let edit_window = state.config.edit_window_ms();
    let messages: Vec<MessageItem> = page
        .messages
        .iter()
        .map(|view| MessageItem::new(view, &room.name, user, edit_window))
        .collect();
    let (sidebar_rooms, _) = chat::room_list(state, user.id, chat::Counts::Stored).await?;
    let members = sidebar_rooms
        .iter()
        .find(|r| r.name == room.name)
        .map(|r| r.members.clone())
        .unwrap_or_default();
    let mut context = tera::Context::new();
    context.insert("room", &room.name);
    context.insert("room_kind", if room.is_dm { "dm" } else { "public" });
    context.insert("room_title", &room_title(&room.name, &members, &user.name));
    context.insert("members", &members);
    context.insert("sidebar_rooms", &sidebar_rooms);
    context.insert("is_admin", &user.is_admin);
    context.insert("room_path", &room_path(&room.name));
    context.insert("messages", &messages);
    context.insert("last_seq", &page.last_seq);
    // A fresh idempotency key per rendered form: submitting the same form
    // twice (double click, resend after a network error) stores one message.
    context.insert("client_id", &session::new_token()[..32]);
    if let Some((body, error)) = draft {
        context.insert("draft", body);
        context.insert("error", error);
    }
    render(state, req, Some(user), "room.html", context, status)
}

/// What a room is called on screen: its name, or for a DM the other
/// members' names.
pub fn room_title(name: &str, members: &[String], me: &str) -> String {
    if members.is_empty() {
        return name.to_string();
    }
    let others: Vec<&str> = members
        .iter()
        .map(String::as_str)
        .filter(|m| !m.eq_ignore_ascii_case(me))
        .collect();
    if others.is_empty() {
        me.to_string()
    } else {
        others.join(", ")
    }
}

pub async fn room_page(
    state: web::Data<AppState>,
    req: HttpRequest,
    user: MaybeUser,
    name: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let Some(current) = user.0 else {
        return Ok(login_redirect(&req));
    };
    let room = chat::find_room(&state, current.id, name.into_inner()).await?;
    show_room(&state, &req, &current, room, None, StatusCode::OK).await
}

pub async fn post_message(
    state: web::Data<AppState>,
    req: HttpRequest,
    user: CurrentUser,
    name: web::Path<String>,
    form: web::Form<MessageForm>,
) -> Result<HttpResponse, AppError> {
    state.check_form(&req, Some(&user), form.csrf.as_deref())?;
    let room = chat::find_room(&state, user.id, name.into_inner()).await?;
    let body = match MessageBody::parse(&form.body, state.config.max_message_chars) {
        Ok(body) => body,
        Err(message) => {
            return show_room(
                &state,
                &req,
                &user,
                room,
                Some((&form.body, &message)),
                StatusCode::BAD_REQUEST,
            )
            .await
        }
    };
    let client_id = match form
        .client_id
        .as_deref()
        .filter(|c| !c.is_empty())
        .map(ClientId::parse)
    {
        None => None,
        Some(Ok(id)) => Some(id),
        Some(Err(message)) => return Err(AppError::BadRequest(message)),
    };
    let path = room_path(&room.name);
    let reply_to = form.reply_to.as_deref().and_then(|r| r.parse::<i64>().ok());
    let stored = chat::post_message(&state, &user, &room, body, client_id, reply_to).await?;
    Ok(see_other(&format!("{path}#m{}", stored.message_seq)))
}
