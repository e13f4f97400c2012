//! `WsSession`: one actor per WebSocket connection at `/ws`, and the route
//! that starts it. This file and the `/ws` route are the only users of the
//! deprecated `actix-web-actors` crate, so moving to `actix-ws` touches one
//! file.
//!
//! The session reassembles fragmented frames up to the size cap, answers
//! protocol errors with the right close code (1002, 1007, 1009), pings every
//! heartbeat and drops a silent peer, decodes text frames into
//! [`ClientFrame`]s and forwards them: room membership to the `ChatServer`,
//! sends to [`chat::post_message`](super::post_message), reads to the
//! database.
//!
//! Joining or resuming a room is gap- and duplicate-free: the session first
//! becomes a member (so live events start to arrive and are buffered), then
//! reads the stored events from the database, sends them, and finally
//! releases the buffered live events with a larger `seq`. After that, an
//! event whose `seq` is not above the last one sent is dropped.

use std::collections::HashMap;
use std::net::IpAddr;
use std::time::{Duration, Instant};

use actix::prelude::*;
use actix_web::{web, HttpRequest, HttpResponse};
use actix_web_actors::ws;
use bytestring::ByteString;

use super::messages::{Connect, Disconnect, Join, Leave, SessionId, ToSession, Typing};
use super::protocol::{
    decode, ClientFrame, MessageObject, ServerFrame, HISTORY_DEFAULT_LIMIT, HISTORY_MAX_LIMIT,
};
use super::server::ChatServer;
use super::RoomRef;
use crate::auth::{csrf, session, CurrentUser, MaybeUser};
use crate::db;
use crate::domain::{ClientId, MessageBody};
use crate::error::AppError;
use crate::state::AppState;

/// Events sent per `history` page while resuming.
pub const RESUME_PAGE: i64 = 500;
/// Messages sent on `join`.
const JOIN_BACKLOG: i64 = HISTORY_DEFAULT_LIMIT;
/// At most one `typing` per room per this interval is relayed.
const TYPING_EVERY: Duration = Duration::from_secs(2);
/// Live events buffered while a join/resume reads the database; more means
/// the database is far behind the room, and the client should come back.
const SYNC_BUFFER_MAX: usize = 50_000;

/// Settings a session needs, from the configuration.
#[derive(Debug, Clone, Copy)]
pub struct WsLimits {
    pub heartbeat: Duration,
    pub timeout: Duration,
    pub max_message_bytes: usize,
    /// Frames that may wait in a session's mailbox before it counts as a
    /// slow consumer and is disconnected.
    pub queue: usize,
}

/// Where a room stands for this session.
enum RoomSync {
    /// Reading stored events; live ones wait here in `seq` order.
    Syncing(Vec<(i64, ByteString)>),
    /// Up to date; the last `seq` sent.
    Live(i64),
}

/// What a complete incoming message turned out to be.
enum Inbound {
    Text(String),
    Binary(web::Bytes),
    /// Control frame or a fragment: nothing for the application.
    Nothing,
}

/// Reassembles fragmented messages and maps protocol errors to close codes.
struct Assembler {
    partial: Option<(bool, web::BytesMut)>,
    max_bytes: usize,
}

impl Assembler {
    fn new(max_bytes: usize) -> Self {
        Assembler {
            partial: None,
            max_bytes,
        }
    }

    fn append(&mut self, bytes: &[u8]) -> Result<(), ws::CloseReason> {
        let Some((_, buf)) = self.partial.as_mut() else {
            return Err(close(
                ws::CloseCode::Protocol,
                "continuation without a start",
            ));
        };
        if buf.len() + bytes.len() > self.max_bytes {
            self.partial = None;
            return Err(close(ws::CloseCode::Size, "message too big"));
        }
        buf.extend_from_slice(bytes);
        Ok(())
    }

    fn start(&mut self, text: bool, bytes: &[u8]) -> Result<(), ws::CloseReason> {
        if self.partial.is_some() {
            return Err(close(
                ws::CloseCode::Protocol,
                "new message inside a fragmented one",
            ));
        }
        self.partial = Some((text, web::BytesMut::new()));
        self.append(bytes)
    }

    fn finish(&mut self) -> Result<Inbound, ws::CloseReason> {
        match self.partial.take() {
            Some((true, buf)) => String::from_utf8(buf.to_vec())
                .map(Inbound::Text)
                .map_err(|_| close(ws::CloseCode::Invalid, "text is not UTF-8")),
            Some((false, buf)) => Ok(Inbound::Binary(buf.freeze())),
            None => Err(close(
                ws::CloseCode::Protocol,
                "continuation without a start",
            )),
        }
    }

    /// Handle one frame: control frames are answered here; complete data
    /// messages are returned. `Err` means: close with this reason and stop.
    fn frame<A>(
        &mut self,
        item: Result<ws::Message, ws::ProtocolError>,
        ctx: &mut ws::WebsocketContext<A>,
    ) -> Result<Inbound, Option<ws::CloseReason>>
    where
        A: Actor<Context = ws::WebsocketContext<A>>,
    {
        let message = item.map_err(protocol_close)?;
        let in_fragment = self.partial.is_some();
        match message {
            ws::Message::Ping(payload) => {
                ctx.pong(&payload);
                Ok(Inbound::Nothing)
            }
            ws::Message::Pong(_) | ws::Message::Nop => Ok(Inbound::Nothing),
            ws::Message::Close(reason) => {
                // Echo the peer's code (RFC 6455 §5.5.1), then stop.
                Err(Some(reason.map_or_else(
                    || ws::CloseCode::Normal.into(),
                    |r| r.code.into(),
                )))
            }
            ws::Message::Text(_) | ws::Message::Binary(_) if in_fragment => Err(Some(close(
                ws::CloseCode::Protocol,
                "new message inside a fragmented one",
            ))),
            ws::Message::Text(text) => Ok(Inbound::Text(text.to_string())),
            ws::Message::Binary(bytes) => Ok(Inbound::Binary(bytes)),
            ws::Message::Continuation(item) => {
                let step = match item {
                    actix_http::ws::Item::FirstText(b) => {
                        self.start(true, &b).map(|_| Inbound::Nothing)
                    }
                    actix_http::ws::Item::FirstBinary(b) => {
                        self.start(false, &b).map(|_| Inbound::Nothing)
                    }
                    actix_http::ws::Item::Continue(b) => self.append(&b).map(|_| Inbound::Nothing),
                    actix_http::ws::Item::Last(b) => self.append(&b).and_then(|_| self.finish()),
                };
                step.map_err(Some)
            }
        }
    }
}

fn close(code: ws::CloseCode, description: &str) -> ws::CloseReason {
    ws::CloseReason {
        code,
        description: Some(description.to_string()),
    }
}

/// The close frame for a protocol error; `None` for a broken connection.
fn protocol_close(err: ws::ProtocolError) -> Option<ws::CloseReason> {
    match err {
        ws::ProtocolError::Overflow => Some(close(ws::CloseCode::Size, "message too big")),
        ws::ProtocolError::Io(io) if io.to_string().to_ascii_lowercase().contains("utf-8") => {
            Some(close(ws::CloseCode::Invalid, "text is not UTF-8"))
        }
        // actix-http reports frames with reserved bits set this way.
        ws::ProtocolError::Io(io) if io.kind() == std::io::ErrorKind::InvalidData => {
            Some(close(ws::CloseCode::Protocol, &io.to_string()))
        }
        ws::ProtocolError::Io(_) => None,
        other => Some(close(ws::CloseCode::Protocol, &other.to_string())),
    }
}

/// Send a close frame (if any) and stop the actor.
fn close_and_stop<A>(ctx: &mut ws::WebsocketContext<A>, reason: Option<ws::CloseReason>)
where
    A: Actor<Context = ws::WebsocketContext<A>>,
{
    if reason.is_some() {
        ctx.close(reason);
    }
    ctx.stop();
}

/// Ping every `heartbeat`; stop when nothing was heard for `timeout`.
fn start_heartbeat<A>(ctx: &mut ws::WebsocketContext<A>, limits: WsLimits, heard: fn(&A) -> Instant)
where
    A: Actor<Context = ws::WebsocketContext<A>>,
{
    ctx.run_interval(limits.heartbeat, move |act, ctx| {
        if heard(act).elapsed() > limits.timeout {
            tracing::debug!("WebSocket peer silent; dropping it");
            ctx.stop();
        } else {
            ctx.ping(b"");
        }
    });
}

pub struct WsSession {
    id: SessionId,
    app: web::Data<AppState>,
    server: Addr<ChatServer>,
    user: CurrentUser,
    ip: Option<IpAddr>,
    limits: WsLimits,
    assembler: Assembler,
    last_heard: Instant,
    rooms: HashMap<i32, RoomSync>,
    /// Rooms looked up so far, by lower-cased name.
    known_rooms: HashMap<String, RoomRef>,
    typing_sent: HashMap<i32, Instant>,
}

impl Actor for WsSession {
    type Context = ws::WebsocketContext<Self>;

    fn started(&mut self, ctx: &mut Self::Context) {
        ctx.set_mailbox_capacity(self.limits.queue);
        start_heartbeat(ctx, self.limits, |s: &Self| s.last_heard);
        let until_expiry = self.user.expires_at - db::now_ms();
        ctx.run_later(
            Duration::from_millis(u64::try_from(until_expiry).unwrap_or(0)),
            |_, ctx| close_and_stop(ctx, Some(close(ws::CloseCode::Policy, "session expired"))),
        );
        let connect = self.server.send(Connect {
            session: ctx.address().recipient(),
            user_id: self.user.id,
            user_name: self.user.name.clone(),
            token_hash: session::hash_token(&self.user.token),
            ip: self.ip,
        });
        // `wait`: no frame is handled before the session is registered.
        ctx.wait(
            connect
                .into_actor(self)
                .map(|result, act, ctx| match result {
                    Ok(Ok(id)) => {
                        act.id = id;
                        act.send_room_list(ctx);
                    }
                    Ok(Err(reason)) => {
                        close_and_stop(ctx, Some(close(ws::CloseCode::Policy, reason)))
                    }
                    Err(_) => close_and_stop(
                        ctx,
                        Some(close(ws::CloseCode::Error, "chat server unavailable")),
                    ),
                }),
        );
    }

    fn stopped(&mut self, _: &mut Self::Context) {
        // Every exit path — close, timeout, protocol error, overflow, server
        // shutdown — ends here, so the member count always returns to 0.
        if self.id != 0 {
            self.server.do_send(Disconnect {
                session_id: self.id,
            });
        }
    }
}

impl Handler<ToSession> for WsSession {
    type Result = ();

    fn handle(&mut self, msg: ToSession, ctx: &mut Self::Context) {
        match msg {
            ToSession::Event {
                room_id,
                seq,
                frame,
            } => match self.rooms.get_mut(&room_id) {
                Some(RoomSync::Live(last)) if seq > *last => {
                    *last = seq;
                    ctx.text(frame);
                }
                Some(RoomSync::Syncing(buffer)) => {
                    buffer.push((seq, frame));
                    if buffer.len() > SYNC_BUFFER_MAX {
                        close_and_stop(
                            ctx,
                            Some(close(ws::CloseCode::Policy, "too far behind: resume")),
                        );
                    }
                }
                _ => {}
            },
            ToSession::Frame(frame) => ctx.text(frame),
            ToSession::Close { code, reason } => {
                close_and_stop(ctx, Some(close(ws::CloseCode::from(code), reason)))
            }
        }
    }
}

impl StreamHandler<Result<ws::Message, ws::ProtocolError>> for WsSession {
    fn handle(&mut self, item: Result<ws::Message, ws::ProtocolError>, ctx: &mut Self::Context) {
        self.last_heard = Instant::now();
        match self.assembler.frame(item, ctx) {
            Ok(Inbound::Text(text)) => self.on_text(&text, ctx),
            Ok(Inbound::Binary(_)) => self.send(
                ctx,
                &ServerFrame::error("binary_not_supported", "Send JSON text frames."),
            ),
            Ok(Inbound::Nothing) => {}
            Err(reason) => close_and_stop(ctx, reason),
        }
    }
}

impl WsSession {
    fn send(&self, ctx: &mut ws::WebsocketContext<Self>, frame: &ServerFrame) {
        ctx.text(frame.to_text());
    }

    fn send_room_list(&mut self, ctx: &mut ws::WebsocketContext<Self>) {
        let app = self.app.clone();
        let list = async move { super::room_list(&app).await };
        ctx.spawn(list.into_actor(self).map(|result, act, ctx| {
            if let Ok((rooms, _)) = result {
                act.send(ctx, &ServerFrame::Rooms { rooms });
            }
        }));
    }

    fn on_text(&mut self, text: &str, ctx: &mut ws::WebsocketContext<Self>) {
        let frame = match decode(text) {
            Ok(frame) => frame,
            Err((code, message)) => return self.send(ctx, &ServerFrame::error(code, message)),
        };
        match frame {
            ClientFrame::Join { room } => {
                self.with_room(room, ctx, |act, room, ctx| act.sync(room, None, ctx))
            }
            ClientFrame::Resume { room, after } => {
                self.with_room(room, ctx, move |act, room, ctx| {
                    act.sync(room, Some(after.max(0)), ctx)
                })
            }
            ClientFrame::Leave { room } => self.with_room(room, ctx, |act, room, _| {
                act.rooms.remove(&room.id);
                act.server.do_send(Leave {
                    session_id: act.id,
                    room_id: room.id,
                });
            }),
            ClientFrame::Typing { room } => self.with_room(room, ctx, |act, room, _| {
                let now = Instant::now();
                let recent = act
                    .typing_sent
                    .get(&room.id)
                    .is_some_and(|at| now.duration_since(*at) < TYPING_EVERY);
                if !recent && act.rooms.contains_key(&room.id) {
                    act.typing_sent.insert(room.id, now);
                    act.server.do_send(Typing {
                        session_id: act.id,
                        room_id: room.id,
                    });
                }
            }),
            ClientFrame::History {
                room,
                before,
                limit,
            } => self.with_room(room, ctx, move |act, room, ctx| {
                act.history(room, before, limit, ctx)
            }),
            ClientFrame::Send {
                room,
                body,
                client_id,
                reply_to: _,
            } => self.on_send(room, body, client_id, ctx),
        }
    }

    /// Look up a room by name (cached), then continue with it; an unknown
    /// room is answered with `no_such_room`.
    fn with_room<F>(&mut self, name: String, ctx: &mut ws::WebsocketContext<Self>, then: F)
    where
        F: FnOnce(&mut Self, RoomRef, &mut ws::WebsocketContext<Self>) + 'static,
    {
        let key = name.to_lowercase();
        if let Some(room) = self.known_rooms.get(&key).cloned() {
            return then(self, room, ctx);
        }
        let app = self.app.clone();
        let lookup = async move { super::find_room(&app, name).await };
        ctx.spawn(
            lookup
                .into_actor(self)
                .map(move |result, act, ctx| match result {
                    Ok(room) => {
                        act.known_rooms.insert(key, room.clone());
                        then(act, room, ctx)
                    }
                    Err(AppError::NotFound) => act.send(
                        ctx,
                        &ServerFrame::error("no_such_room", "There is no such room."),
                    ),
                    Err(err) => act.send(ctx, &ServerFrame::error("unavailable", err.to_string())),
                }),
        );
    }

    /// Join `room` and send stored events — the latest (`after = None`) or
    /// every one after `after` — then go live.
    fn sync(&mut self, room: RoomRef, after: Option<i64>, ctx: &mut ws::WebsocketContext<Self>) {
        self.rooms.insert(room.id, RoomSync::Syncing(Vec::new()));
        let join = self.server.send(Join {
            session_id: self.id,
            room_id: room.id,
            room_name: room.name.clone(),
        });
        let app = self.app.clone();
        let room_id = room.id;
        let read = async move {
            join.await
                .map_err(|_| AppError::Unavailable(anyhow::anyhow!("chat server stopped")))?;
            match after {
                None => {
                    app.db(move |conn| db::messages::latest(conn, room_id, JOIN_BACKLOG))
                        .await
                }
                Some(after) => {
                    app.db(move |conn| db::messages::after(conn, room_id, after, RESUME_PAGE))
                        .await
                }
            }
        };
        ctx.spawn(
            read.into_actor(self)
                .map(move |result, act, ctx| act.synced(room, after, result, ctx)),
        );
    }

    /// Send one page of stored events; fetch the next or go live.
    fn synced(
        &mut self,
        room: RoomRef,
        after: Option<i64>,
        result: Result<Vec<db::messages::MessageView>, AppError>,
        ctx: &mut ws::WebsocketContext<Self>,
    ) {
        let rows = match result {
            Ok(rows) => rows,
            Err(err) => {
                self.rooms.remove(&room.id);
                self.server.do_send(Leave {
                    session_id: self.id,
                    room_id: room.id,
                });
                return self.send(ctx, &ServerFrame::error("unavailable", err.to_string()));
            }
        };
        let page_full = after.is_some() && rows.len() as i64 == RESUME_PAGE;
        let has_more = match after {
            Some(_) => page_full,
            None => rows.first().is_some_and(|r| r.message.seq > 1),
        };
        let last = rows
            .last()
            .map(|r| r.message.seq)
            .unwrap_or(after.unwrap_or(0));
        let messages = rows
            .into_iter()
            .map(|view| MessageObject::from_view(&room.name, view))
            .collect();
        self.send(
            ctx,
            &ServerFrame::History {
                room: room.name.clone(),
                messages,
                has_more,
            },
        );
        if page_full {
            let app = self.app.clone();
            let room_id = room.id;
            let next = async move {
                app.db(move |conn| db::messages::after(conn, room_id, last, RESUME_PAGE))
                    .await
            };
            ctx.spawn(
                next.into_actor(self)
                    .map(move |result, act, ctx| act.synced(room, Some(last), result, ctx)),
            );
        } else {
            self.go_live(room.id, last, ctx);
        }
    }

    /// Release live events buffered during a sync that come after `last`.
    fn go_live(&mut self, room_id: i32, mut last: i64, ctx: &mut ws::WebsocketContext<Self>) {
        if let Some(RoomSync::Syncing(buffer)) = self.rooms.remove(&room_id) {
            for (seq, frame) in buffer {
                if seq > last {
                    last = seq;
                    ctx.text(frame);
                }
            }
        }
        self.rooms.insert(room_id, RoomSync::Live(last));
    }

    fn history(
        &mut self,
        room: RoomRef,
        before: Option<i64>,
        limit: Option<i64>,
        ctx: &mut ws::WebsocketContext<Self>,
    ) {
        let limit = limit
            .unwrap_or(HISTORY_DEFAULT_LIMIT)
            .clamp(1, HISTORY_MAX_LIMIT);
        let app = self.app.clone();
        let room_id = room.id;
        let read = async move {
            app.db(move |conn| db::messages::before(conn, room_id, before, limit))
                .await
        };
        ctx.spawn(
            read.into_actor(self)
                .map(move |result, act, ctx| match result {
                    Ok(rows) => {
                        let has_more = rows.first().is_some_and(|r| r.message.seq > 1);
                        let messages = rows
                            .into_iter()
                            .map(|view| MessageObject::from_view(&room.name, view))
                            .collect();
                        act.send(
                            ctx,
                            &ServerFrame::History {
                                room: room.name,
                                messages,
                                has_more,
                            },
                        );
                    }
                    Err(err) => act.send(ctx, &ServerFrame::error("unavailable", err.to_string())),
                }),
        );
    }

    fn on_send(
        &mut self,
        room: String,
        body: String,
        client_id: String,
        ctx: &mut ws::WebsocketContext<Self>,
    ) {
        let refuse = |code: &str, message: String| ServerFrame::Error {
            code: code.to_string(),
            message,
            client_id: Some(client_id.clone()),
        };
        let body = match MessageBody::parse(&body, self.app.config.max_message_chars) {
            Ok(body) => body,
            Err(message) => return self.send(ctx, &refuse("invalid_body", message)),
        };
        let parsed_id = match ClientId::parse(&client_id) {
            Ok(id) => id,
            Err(message) => return self.send(ctx, &refuse("invalid_client_id", message)),
        };
        self.with_room(room, ctx, move |act, room, ctx| {
            let app = act.app.clone();
            let user = act.user.clone();
            let post =
                async move { super::post_message(&app, &user, &room, body, Some(parsed_id)).await };
            ctx.spawn(post.into_actor(act).map(move |result, act, ctx| {
                let frame = match result {
                    Ok(stored) => ServerFrame::Ack {
                        client_id,
                        id: i64::from(stored.message.id),
                        room: stored.room_name,
                        seq: stored.message.seq,
                    },
                    Err(AppError::TooManyRequests { retry_after }) => ServerFrame::Error {
                        code: "rate_limited".into(),
                        message: format!("Too many messages; wait {retry_after} s and retry."),
                        client_id: Some(client_id),
                    },
                    Err(err) => ServerFrame::Error {
                        code: "unavailable".into(),
                        message: err.to_string(),
                        client_id: Some(client_id),
                    },
                };
                act.send(ctx, &frame);
            }));
        });
    }
}

/// `/ws` in conformance mode (`CHAT_CONFORMANCE_ECHO`): no authentication,
/// every message echoed back, through the same frame handling as chat
/// sessions. Used by scripts/autobahn.sh; never enable it in production.
pub struct EchoSession {
    limits: WsLimits,
    assembler: Assembler,
    last_heard: Instant,
}

impl Actor for EchoSession {
    type Context = ws::WebsocketContext<Self>;

    fn started(&mut self, ctx: &mut Self::Context) {
        start_heartbeat(ctx, self.limits, |s: &Self| s.last_heard);
    }
}

impl StreamHandler<Result<ws::Message, ws::ProtocolError>> for EchoSession {
    fn handle(&mut self, item: Result<ws::Message, ws::ProtocolError>, ctx: &mut Self::Context) {
        self.last_heard = Instant::now();
        match self.assembler.frame(item, ctx) {
            Ok(Inbound::Text(text)) => ctx.text(text),
            Ok(Inbound::Binary(bytes)) => ctx.binary(bytes),
            Ok(Inbound::Nothing) => {}
            Err(reason) => close_and_stop(ctx, reason),
        }
    }
}

/// `GET /ws`: authenticate, check the origin, upgrade.
pub async fn ws_route(
    req: HttpRequest,
    stream: web::Payload,
    app: web::Data<AppState>,
    user: MaybeUser,
) -> Result<HttpResponse, AppError> {
    let limits = app.ws_limits;
    let codec = actix_http::ws::Codec::new().max_size(limits.max_message_bytes);
    let upgrade_error =
        |err: actix_web::Error| AppError::bad_request(format!("WebSocket upgrade failed: {err}"));
    if app.config.conformance_echo {
        let echo = EchoSession {
            limits,
            assembler: Assembler::new(limits.max_message_bytes),
            last_heard: Instant::now(),
        };
        return ws::WsResponseBuilder::new(echo, &req, stream)
            .codec(codec)
            .start()
            .map_err(upgrade_error);
    }
    if !ws_origin_allowed(&req, &app) {
        return Err(AppError::Forbidden(
            "WebSocket connections from other sites are not allowed.".into(),
        ));
    }
    let user = user.0.ok_or(AppError::Unauthorized)?;
    let session = WsSession {
        id: 0,
        server: app.chat.clone(),
        ip: req.peer_addr().map(|a| a.ip()),
        limits,
        assembler: Assembler::new(limits.max_message_bytes),
        last_heard: Instant::now(),
        rooms: HashMap::new(),
        known_rooms: HashMap::new(),
        typing_sent: HashMap::new(),
        user,
        app: app.clone(),
    };
    ws::WsResponseBuilder::new(session, &req, stream)
        .codec(codec)
        .start()
        .map_err(upgrade_error)
}

/// No `Origin` (a tool), this site's own, or one on the allow-list.
fn ws_origin_allowed(req: &HttpRequest, app: &AppState) -> bool {
    let origin = req
        .headers()
        .get(actix_web::http::header::ORIGIN)
        .and_then(|v| v.to_str().ok());
    match origin {
        Some(origin) if app.config.ws_allowed_origins.iter().any(|o| o == origin) => true,
        _ => csrf::origin_allowed(req, app.config.public_origin.as_deref()),
    }
}
