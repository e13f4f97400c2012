//! Room pages: `POST /rooms` (create), `GET /rooms/{name}` (latest
//! messages and the send form), `POST /rooms/{name}/messages` (send).
//! All of them work without JavaScript.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::{Deserialize, Serialize};

use super::page::{login_redirect, render, room_path, see_other};
use super::pages::home_page;
use crate::auth::{session, CurrentUser, MaybeUser};
use crate::chat::protocol::Attachment;
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
    csrf: Option<String>,
}

/// A message as the room template shows it.
#[derive(Serialize)]
struct MessageItem {
    id: i32,
    seq: i64,
    user: String,
    body: String,
    /// RFC 3339, for `<time datetime>`.
    ts: String,
    /// Short UTC time for display.
    time: String,
    attachment: Option<AttachmentItem>,
}

/// An attachment as the room template shows it.
#[derive(Serialize)]
struct AttachmentItem {
    #[serde(flatten)]
    attachment: Attachment,
    /// "1.2 MB"
    size_text: String,
}

impl From<MessageView> for MessageItem {
    fn from(view: MessageView) -> Self {
        let at =
            chrono::DateTime::from_timestamp_millis(view.message.created_at).unwrap_or_default();
        MessageItem {
            id: view.message.id,
            seq: view.message.seq,
            user: view.user_name,
            body: view.message.body,
            ts: at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
            time: at.format("%Y-%m-%d %H:%M").to_string(),
            attachment: view.upload.as_ref().map(|u| AttachmentItem {
                attachment: Attachment::from(u),
                size_text: human_size(u.size),
            }),
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
            Err(taken @ chat::CreateRoomError::Taken) => taken.to_string(),
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
pub(crate) async fn show_room(
    state: &AppState,
    req: &HttpRequest,
    user: &CurrentUser,
    room: RoomRef,
    draft: Option<(&str, &str)>,
    status: StatusCode,
) -> Result<HttpResponse, AppError> {
    let room_id = room.id;
    let messages: Vec<MessageItem> = state
        .db(move |conn| db::messages::latest(conn, room_id, ROOM_PAGE_MESSAGES))
        .await?
        .into_iter()
        .map(MessageItem::from)
        .collect();
    let mut context = tera::Context::new();
    context.insert("room", &room.name);
    context.insert("room_path", &room_path(&room.name));
    context.insert("messages", &messages);
    context.insert("last_seq", &messages.last().map_or(0, |m| m.seq));
    // A fresh idempotency key per rendered form: submitting the same form
    // twice (double click, resend after a network error) stores one message.
    context.insert("client_id", &session::new_token()[..32]);
    if let Some((body, error)) = draft {
        context.insert("draft", body);
        context.insert("error", error);
    }
    render(state, req, Some(user), "room.html", context, status)
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
    let room = chat::find_room(&state, name.into_inner()).await?;
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
    let room = chat::find_room(&state, name.into_inner()).await?;
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
    chat::post_message(&state, &user, &room, body, client_id).await?;
    Ok(see_other(&path))
}
