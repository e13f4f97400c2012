//! Frames that change stored messages — `edit`, `delete`, `react`,
//! `unreact` — and `read`. Each calls the one chat action every transport
//! shares; the result reaches every member (this session included) as the
//! live event, so success needs no reply here, only failure does.

use actix::prelude::*;
use actix_web_actors::ws;
use futures_util::future::{FutureExt, LocalBoxFuture};

use super::WsSession;
use crate::chat::protocol::ServerFrame;
use crate::chat::{changes, unread, RoomRef};
use crate::domain::{Emoji, MessageBody};
use crate::error::AppError;

/// A change to one message.
pub enum Change {
    Edit(MessageBody),
    Delete,
    React(Emoji),
    Unreact(Emoji),
}

/// The `error` frame code for a failed action.
pub fn error_code(err: &AppError) -> &'static str {
    match err {
        AppError::TooManyRequests { .. } => "rate_limited",
        AppError::NotFound => "no_such_message",
        AppError::Unavailable(_) | AppError::Internal(_) => "unavailable",
        other => other.code(),
    }
}

impl WsSession {
    pub(super) fn on_edit(&mut self, id: i64, body: String, ctx: &mut ws::WebsocketContext<Self>) {
        match MessageBody::parse(&body, self.app.config.max_message_chars) {
            Ok(body) => self.on_change(id, Change::Edit(body), ctx),
            Err(message) => self.send(ctx, &ServerFrame::error("invalid_body", message)),
        }
    }

    pub(super) fn on_react(
        &mut self,
        id: i64,
        emoji: String,
        add: bool,
        ctx: &mut ws::WebsocketContext<Self>,
    ) {
        match Emoji::parse(&emoji) {
            Ok(emoji) if add => self.on_change(id, Change::React(emoji), ctx),
            Ok(emoji) => self.on_change(id, Change::Unreact(emoji), ctx),
            Err(message) => self.send(ctx, &ServerFrame::error("invalid_emoji", message)),
        }
    }

    pub(super) fn on_change(
        &mut self,
        id: i64,
        change: Change,
        ctx: &mut ws::WebsocketContext<Self>,
    ) {
        let (app, user) = (&self.app, &self.user);
        // Queued for the writer here, in frame order (see `on_send`).
        let work: LocalBoxFuture<'static, _> = match change {
            Change::Edit(body) => changes::edit(app, user, id, body).boxed_local(),
            Change::Delete => changes::delete(app, user, id).boxed_local(),
            Change::React(emoji) => changes::react(app, user, id, emoji, true).boxed_local(),
            Change::Unreact(emoji) => changes::react(app, user, id, emoji, false).boxed_local(),
        };
        ctx.spawn(work.into_actor(self).map(|result, act, ctx| {
            if let Err(err) = result {
                act.send(ctx, &ServerFrame::error(error_code(&err), err.to_string()));
            }
        }));
    }

    pub(super) fn on_read(
        &mut self,
        room: RoomRef,
        seq: i64,
        ctx: &mut ws::WebsocketContext<Self>,
    ) {
        let app = self.app.clone();
        let user = self.user.clone();
        let work = async move { unread::mark_read(&app, &user, &room, seq).await };
        ctx.spawn(work.into_actor(self).map(|result, act, ctx| {
            if let Err(err) = result {
                act.send(ctx, &ServerFrame::error(error_code(&err), err.to_string()));
            }
        }));
    }
}
