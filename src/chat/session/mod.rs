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
//! event whose `seq` is not above the last one sent is dropped (`sync.rs`).
//! The frame layer (reassembly, close codes, heartbeat) is `frames.rs`; the
//! test-only echo session is `echo.rs`.

mod changes;
mod echo;
mod frames;
mod sync;

use self::changes::{error_code, Change};
use self::echo::EchoSession;
pub use self::frames::WRITE_BUFFER_BYTES;
use self::frames::{close, close_and_stop, start, start_heartbeat, Assembler, Heartbeat, Inbound};

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use actix::prelude::*;
use actix_web::{web, HttpRequest, HttpResponse};
use actix_web_actors::ws;

use super::messages::{
    Connect, Disconnect, Inbox, Leave, LiveEvent, RoomBatch, SessionId, ToSession, Typing,
};
use super::protocol::{decode, ClientFrame, ServerFrame, HISTORY_DEFAULT_LIMIT};
use super::server::ChatServer;
use super::RoomRef;
use crate::auth::{client, csrf, session, CurrentUser, MaybeUser};
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
    /// Live events that may wait for a session before it counts as a slow
    /// consumer and is disconnected (also its mailbox's capacity).
    pub queue: usize,
}

/// Where a room stands for this session.
pub(super) enum RoomSync {
    /// Reading stored events; live ones wait here in `seq` order.
    Syncing(Vec<LiveEvent>),
    /// Up to date; the last `seq` sent.
    Live(i64),
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
    /// Live events the `ChatServer` queued for this session.
    inbox: Arc<Inbox>,
    /// The batches of one wake, kept for its capacity.
    taken: Vec<RoomBatch>,
}

impl Actor for WsSession {
    type Context = ws::WebsocketContext<Self>;

    fn started(&mut self, ctx: &mut Self::Context) {
        ctx.set_mailbox_capacity(self.limits.queue);
        start_heartbeat(ctx, self.limits);
        let connect = self.server.send(Connect {
            session: ctx.address().recipient(),
            inbox: self.inbox.clone(),
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
                        act.send_first_room_list(ctx);
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

impl Heartbeat for WsSession {
    fn last_heard(&self) -> Instant {
        self.last_heard
    }

    /// The login behind the socket expired (closed at the first beat after).
    fn must_end(&self) -> Option<ws::CloseReason> {
        (db::now_ms() >= self.user.expires_at)
            .then(|| close(ws::CloseCode::Policy, "session expired"))
    }
}

impl Handler<ToSession> for WsSession {
    type Result = ();

    fn handle(&mut self, msg: ToSession, ctx: &mut Self::Context) {
        match msg {
            ToSession::Events => {
                let mut taken = std::mem::take(&mut self.taken);
                self.inbox.take_into(&mut taken);
                for batch in taken.drain(..) {
                    self.on_events(batch.room_id, &batch.events, ctx);
                }
                self.taken = taken;
            }
            ToSession::Frame(frame) => ctx.text(frame),
            ToSession::RefreshRooms => self.send_room_list(ctx),
            ToSession::Close { code, reason } => {
                close_and_stop(ctx, Some(close(ws::CloseCode::from(code), reason)))
            }
        }
    }
}

impl WsSession {
    /// A room's live events: sent if new, held while the room syncs.
    fn on_events(
        &mut self,
        room_id: i32,
        events: &[LiveEvent],
        ctx: &mut ws::WebsocketContext<Self>,
    ) {
        match self.rooms.get_mut(&room_id) {
            Some(RoomSync::Live(last)) => {
                for event in events {
                    if event.seq > *last {
                        *last = event.seq;
                        ctx.text(event.frame.clone());
                    }
                }
            }
            Some(RoomSync::Syncing(buffer)) => {
                buffer.extend_from_slice(events);
                if buffer.len() > SYNC_BUFFER_MAX {
                    close_and_stop(
                        ctx,
                        Some(close(ws::CloseCode::Policy, "too far behind: resume")),
                    );
                }
            }
            None => {}
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

    /// On connect: hand the user's unread counts to the `ChatServer`, then
    /// send the room list. Once the client has its first `rooms` frame, the
    /// server is keeping its counts, so every later message is counted.
    fn send_first_room_list(&mut self, ctx: &mut ws::WebsocketContext<Self>) {
        let app = self.app.clone();
        let user_id = self.user.id;
        let load = async move { super::unread::load(&app, user_id).await };
        ctx.wait(load.into_actor(self).map(|result, act, ctx| {
            if let Err(err) = result {
                tracing::warn!(error = %err, "could not count unread messages");
            }
            act.send_room_list(ctx);
        }));
    }

    fn send_room_list(&mut self, ctx: &mut ws::WebsocketContext<Self>) {
        let app = self.app.clone();
        let user_id = self.user.id;
        let list = async move { super::room_list(&app, user_id, super::Counts::Live).await };
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
                reply_to,
            } => self.on_send(room, body, client_id, reply_to, ctx),
            ClientFrame::Edit { id, body } => self.on_edit(id, body, ctx),
            ClientFrame::Delete { id } => self.on_change(id, Change::Delete, ctx),
            ClientFrame::React { id, emoji } => self.on_react(id, emoji, true, ctx),
            ClientFrame::Unreact { id, emoji } => self.on_react(id, emoji, false, ctx),
            ClientFrame::Read { room, seq } => {
                self.with_room(room, ctx, move |act, room, ctx| act.on_read(room, seq, ctx))
            }
        }
    }

    /// Look up a room by name (cached), then continue with it; an unknown
    /// room is answered with `no_such_room`. Frames are handled in order:
    /// the first use of a room holds the ones after it until it is found.
    fn with_room<F>(&mut self, name: String, ctx: &mut ws::WebsocketContext<Self>, then: F)
    where
        F: FnOnce(&mut Self, RoomRef, &mut ws::WebsocketContext<Self>) + 'static,
    {
        let key = name.to_lowercase();
        if let Some(room) = self.known_rooms.get(&key).cloned() {
            return then(self, room, ctx);
        }
        let app = self.app.clone();
        let user_id = self.user.id;
        let lookup = async move { super::find_room(&app, user_id, name).await };
        // `wait`, not `spawn`: later frames wait for this one's room, so
        // two sends to a room not looked up yet are still queued in order.
        ctx.wait(
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

    fn on_send(
        &mut self,
        room: String,
        body: String,
        client_id: String,
        reply_to: Option<i64>,
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
            // Queued for the writer here, in frame order: a socket's
            // messages are stored in the order they were sent.
            let post =
                super::post_message(&act.app, &act.user, &room, body, Some(parsed_id), reply_to);
            ctx.spawn(post.into_actor(act).map(move |result, act, ctx| {
                let frame = match result {
                    Ok(stored) => ServerFrame::Ack {
                        client_id,
                        id: i64::from(stored.message_id()),
                        room: stored.room_name,
                        seq: stored.message_seq,
                    },
                    Err(AppError::TooManyRequests { retry_after }) => ServerFrame::Error {
                        code: "rate_limited".into(),
                        message: format!("Too many messages; wait {retry_after} s and retry."),
                        client_id: Some(client_id),
                    },
                    Err(err) => ServerFrame::Error {
                        code: error_code(&err).into(),
                        message: err.to_string(),
                        client_id: Some(client_id),
                    },
                };
                act.send(ctx, &frame);
            }));
        });
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
        let echo = EchoSession::new(limits);
        return start(echo, &req, stream, codec).map_err(upgrade_error);
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
        ip: client::ip(&req, app.config.behind_proxy),
        limits,
        assembler: Assembler::new(limits.max_message_bytes),
        last_heard: Instant::now(),
        rooms: HashMap::new(),
        known_rooms: HashMap::new(),
        typing_sent: HashMap::new(),
        inbox: Arc::new(Inbox::new(limits.queue)),
        taken: Vec::new(),
        user,
        app: app.clone(),
    };
    start(session, &req, stream, codec).map_err(upgrade_error)
}

/// No `Origin` (a tool), this site's own, or one on the allow-list.
fn ws_origin_allowed(req: &HttpRequest, app: &AppState) -> bool {
    let origin = req
        .headers()
        .get(actix_web::http::header::ORIGIN)
        .and_then(|v| v.to_str().ok());
    match origin {
        Some(origin) if app.config.ws_allowed_origins.iter().any(|o| o == origin) => true,
        _ => csrf::origin_allowed(
            req,
            app.config.public_origin.as_deref(),
            app.config.behind_proxy,
        ),
    }
}
