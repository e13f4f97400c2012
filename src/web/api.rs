//! The JSON API (SPEC §8) under `/api/`: the same sessions as the site
//! (cookie) or `Authorization: Bearer TOKEN` for scripts. Errors are
//! `{"error":{"code","message"}}` (rendered by the error middleware).
//! Cookie-authenticated writes must come from this site's own pages
//! (Origin check); bearer-authenticated ones need no such check.

use std::time::Duration;

use actix_web::{http::StatusCode, web, HttpRequest, HttpResponse};
use serde::{Deserialize, Serialize};

use crate::auth::login;
use crate::auth::{client, csrf, CurrentUser, MaybeUser};
use crate::chat::messages::WaitForEvent;
use crate::chat::protocol::{
    MessageObject, RoomEventFrame, RoomInfo, HISTORY_DEFAULT_LIMIT, HISTORY_MAX_LIMIT,
};
use crate::chat::{self, stream, RoomRef};
use crate::db;
use crate::domain::{ClientId, MessageBody, RoomName};
use crate::error::AppError;
use crate::state::AppState;

/// Longest long-poll wait a client may ask for.
const MAX_WAIT: Duration = Duration::from_secs(30);

#[derive(Deserialize)]
pub struct LoginBody {
    username: String,
    password: String,
}

#[derive(Serialize)]
struct Me {
    name: String,
    is_admin: bool,
}

#[derive(Serialize)]
struct LoginAnswer {
    token: String,
    user: Me,
}

/// Refuse a cookie-authenticated write that does not come from this site.
pub(crate) fn check_write(
    req: &HttpRequest,
    state: &AppState,
    user: Option<&CurrentUser>,
) -> Result<(), AppError> {
    if user.is_some_and(|u| u.via_bearer) {
        return Ok(());
    }
    let has_origin = req.headers().contains_key(actix_web::http::header::ORIGIN);
    if has_origin
        && csrf::origin_allowed(
            req,
            state.config.public_origin.as_deref(),
            state.config.behind_proxy,
        )
    {
        Ok(())
    } else {
        Err(AppError::Forbidden(
            "Cookie-authenticated API writes must come from this site (Origin header), or use a bearer token.".into(),
        ))
    }
}

/// `POST /api/login {"username","password"}` → a bearer token.
pub async fn login(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: web::Json<LoginBody>,
) -> Result<HttpResponse, AppError> {
    if !csrf::origin_allowed(
        &req,
        state.config.public_origin.as_deref(),
        state.config.behind_proxy,
    ) {
        return Err(AppError::Forbidden(
            "Logins from other sites are not allowed.".into(),
        ));
    }
    let ip = client::ip(&req, state.config.behind_proxy);
    let user = login::authenticate(&state, &body.username, &body.password, ip).await?;
    let token = login::start_session(&state, &MaybeUser(None), user.id).await?;
    Ok(HttpResponse::Ok().json(LoginAnswer {
        token,
        user: Me {
            name: user.name,
            is_admin: user.is_admin,
        },
    }))
}

/// `POST /api/logout`: end this session (and close its sockets).
pub async fn logout(
    state: web::Data<AppState>,
    req: HttpRequest,
    user: CurrentUser,
) -> Result<HttpResponse, AppError> {
    check_write(&req, &state, Some(&user))?;
    login::end_session(&state, &user).await?;
    Ok(HttpResponse::NoContent().finish())
}

pub async fn me(user: CurrentUser) -> HttpResponse {
    HttpResponse::Ok().json(Me {
        name: user.name,
        is_admin: user.is_admin,
    })
}

#[derive(Serialize)]
struct RoomsAnswer {
    rooms: Vec<RoomInfo>,
}

pub async fn rooms(
    state: web::Data<AppState>,
    user: CurrentUser,
) -> Result<HttpResponse, AppError> {
    let (rooms, _) = chat::room_list(&state, user.id, chat::Counts::Stored).await?;
    Ok(HttpResponse::Ok().json(RoomsAnswer { rooms }))
}

#[derive(Deserialize)]
pub struct NewRoom {
    name: String,
}

#[derive(Serialize)]
struct RoomAnswer {
    room: RoomInfo,
}

pub async fn create_room(
    state: web::Data<AppState>,
    req: HttpRequest,
    user: CurrentUser,
    body: web::Json<NewRoom>,
) -> Result<HttpResponse, AppError> {
    check_write(&req, &state, Some(&user))?;
    let name = RoomName::parse(&body.name).map_err(AppError::BadRequest)?;
    let room = match chat::create_room(&state, &user, name).await {
        Ok(room) => room,
        Err(taken @ chat::CreateRoomError::Taken) => {
            return Err(AppError::Conflict(taken.to_string()))
        }
        Err(reserved @ chat::CreateRoomError::Reserved) => {
            return Err(AppError::BadRequest(reserved.to_string()))
        }
        Err(chat::CreateRoomError::Other(err)) => return Err(err),
    };
    Ok(HttpResponse::Created().json(RoomAnswer {
        room: RoomInfo {
            name: room.name,
            message_count: 0,
            online: 0,
            kind: "public".into(),
            members: Vec::new(),
            unread: 0,
            mentions: 0,
        },
    }))
}

#[derive(Deserialize)]
pub struct ListQuery {
    before: Option<i64>,
    after: Option<i64>,
    limit: Option<i64>,
    /// Long-poll: with `after`, wait up to this many seconds for a message.
    wait: Option<u64>,
}

#[derive(Serialize)]
struct MessagesAnswer {
    room: String,
    messages: Vec<MessageObject>,
    /// With `after`: the other events (edits, deletions, reactions) of the
    /// same stretch of the stream, in seq order.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    events: Vec<RoomEventFrame>,
    /// With `after`: the cursor to send as the next `after`.
    #[serde(skip_serializing_if = "Option::is_none")]
    last_seq: Option<i64>,
    /// More messages exist beyond this page (older for `before`, newer for
    /// `after`).
    has_more: bool,
}

impl MessagesAnswer {
    fn is_empty(&self) -> bool {
        self.messages.is_empty() && self.events.is_empty()
    }
}

async fn page(
    state: &AppState,
    room: &RoomRef,
    query: &ListQuery,
    limit: i64,
) -> Result<MessagesAnswer, AppError> {
    let room_id = room.id;
    if let Some(after) = query.after {
        let after = after.max(0);
        let page = state
            .db(move |conn| db::messages::stream_after(conn, room_id, after, limit))
            .await?;
        return Ok(MessagesAnswer {
            room: room.name.clone(),
            messages: stream::message_objects(&room.name, &page.messages),
            events: stream::event_frames(&room.name, &page),
            last_seq: Some(page.last_seq),
            has_more: page.has_more,
        });
    }
    let before = query.before;
    let rows = state
        .db(move |conn| db::messages::before(conn, room_id, before, limit + 1))
        .await?;
    let has_more = rows.len() as i64 > limit;
    let rows: Vec<_> = rows.into_iter().skip(usize::from(has_more)).collect();
    Ok(MessagesAnswer {
        room: room.name.clone(),
        messages: stream::message_objects(&room.name, &rows),
        events: Vec::new(),
        last_seq: None,
        has_more,
    })
}

/// `GET /api/rooms/{room}/messages?before=&after=&limit=&wait=`
pub async fn messages(
    state: web::Data<AppState>,
    user: CurrentUser,
    room: web::Path<String>,
    query: web::Query<ListQuery>,
) -> Result<HttpResponse, AppError> {
    if query.after.is_some() && query.before.is_some() {
        return Err(AppError::bad_request(
            "Give either `before` or `after`, not both.",
        ));
    }
    let limit = query.limit.unwrap_or(HISTORY_DEFAULT_LIMIT);
    if !(1..=HISTORY_MAX_LIMIT).contains(&limit) {
        return Err(AppError::bad_request(format!(
            "`limit` must be 1 to {HISTORY_MAX_LIMIT}."
        )));
    }
    let room = chat::find_room(&state, user.id, room.into_inner()).await?;
    let wait = Duration::from_secs(query.wait.unwrap_or(0)).min(MAX_WAIT);
    if query.after.is_none() || wait.is_zero() {
        return Ok(HttpResponse::Ok().json(page(&state, &room, &query, limit).await?));
    }
    // Register for the next event before reading, so nothing committed in
    // between can be missed.
    let woken = state
        .chat
        .send(WaitForEvent { room_id: room.id })
        .await
        .map_err(|err| AppError::Unavailable(err.into()))?;
    let first = page(&state, &room, &query, limit).await?;
    if !first.is_empty() {
        return Ok(HttpResponse::Ok().json(first));
    }
    let _ = tokio::time::timeout(wait, woken).await;
    Ok(HttpResponse::Ok().json(page(&state, &room, &query, limit).await?))
}

#[derive(Deserialize)]
pub struct NewMessage {
    body: String,
    client_id: Option<String>,
    /// The id of a message in the same room this one answers.
    reply_to: Option<i64>,
}

#[derive(Serialize)]
pub(crate) struct MessageAnswer {
    pub message: MessageObject,
}

/// `POST /api/rooms/{room}/messages {"body","client_id"}` → 201 (200 when
/// the `client_id` was already used: the original message).
pub async fn post_message(
    state: web::Data<AppState>,
    req: HttpRequest,
    user: CurrentUser,
    room: web::Path<String>,
    body: web::Json<NewMessage>,
) -> Result<HttpResponse, AppError> {
    check_write(&req, &state, Some(&user))?;
    let text = MessageBody::parse(&body.body, state.config.max_message_chars)
        .map_err(AppError::BadRequest)?;
    let client_id = body
        .client_id
        .as_deref()
        .map(ClientId::parse)
        .transpose()
        .map_err(AppError::BadRequest)?;
    let room = chat::find_room(&state, user.id, room.into_inner()).await?;
    let stored = chat::post_message(&state, &user, &room, text, client_id, body.reply_to).await?;
    let status = if stored.fresh {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok(HttpResponse::build(status).json(MessageAnswer {
        message: chat::current_message(&state, &stored).await?,
    }))
}

#[derive(Deserialize)]
pub struct ReadBody {
    seq: i64,
}

#[derive(Serialize)]
struct ReadAnswer {
    room: String,
    last_read_seq: i64,
    unread: i64,
    mentions: i64,
}

/// `POST /api/rooms/{room}/read {"seq"}`: the caller has read up to `seq`
/// (clears the room's unread count in their other tabs too).
pub async fn read(
    state: web::Data<AppState>,
    req: HttpRequest,
    user: CurrentUser,
    room: web::Path<String>,
    body: web::Json<ReadBody>,
) -> Result<HttpResponse, AppError> {
    check_write(&req, &state, Some(&user))?;
    let room = chat::find_room(&state, user.id, room.into_inner()).await?;
    let unread = chat::unread::mark_read(&state, &user, &room, body.seq).await?;
    Ok(HttpResponse::Ok().json(ReadAnswer {
        room: room.name,
        last_read_seq: unread.last_read_seq,
        unread: unread.count,
        mentions: unread.mentions,
    }))
}

#[derive(Serialize)]
struct OnlineAnswer {
    /// Distinct users with an open connection.
    count: usize,
    users: Vec<String>,
    /// Open WebSocket connections.
    connections: usize,
}

pub async fn online(state: web::Data<AppState>, _user: CurrentUser) -> HttpResponse {
    let online = chat::online(&state).await;
    HttpResponse::Ok().json(OnlineAnswer {
        count: online.user_count,
        users: online.users,
        connections: online.connections,
    })
}
