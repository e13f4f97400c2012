//! Joining, resuming and paging a room: the gap- and duplicate-free seam
//! between stored events and live ones (see the module doc of `session`).

use actix::prelude::*;
use actix_web_actors::ws;

use super::{RoomSync, WsSession, JOIN_BACKLOG, RESUME_PAGE};
use crate::chat::messages::{Join, Leave};
use crate::chat::protocol::{ServerFrame, HISTORY_DEFAULT_LIMIT, HISTORY_MAX_LIMIT};
use crate::chat::stream;
use crate::chat::RoomRef;
use crate::db;
use crate::db::messages::StreamPage;
use crate::error::AppError;

impl WsSession {
    /// Join `room` and send stored events — the latest (`after = None`) or
    /// every one after `after` — then go live.
    pub(super) fn sync(
        &mut self,
        room: RoomRef,
        after: Option<i64>,
        ctx: &mut ws::WebsocketContext<Self>,
    ) {
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
                    app.db(move |conn| db::messages::latest_page(conn, room_id, JOIN_BACKLOG))
                        .await
                }
                Some(after) => {
                    app.db(move |conn| {
                        db::messages::stream_after(conn, room_id, after, RESUME_PAGE)
                    })
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
        result: Result<StreamPage, AppError>,
        ctx: &mut ws::WebsocketContext<Self>,
    ) {
        let page = match result {
            Ok(page) => page,
            Err(err) => {
                self.rooms.remove(&room.id);
                self.server.do_send(Leave {
                    session_id: self.id,
                    room_id: room.id,
                });
                return self.send(ctx, &ServerFrame::error("unavailable", err.to_string()));
            }
        };
        self.send(ctx, &stream::history_frame(&room.name, &page, true));
        let last = page.last_seq;
        if after.is_some() && page.has_more {
            let app = self.app.clone();
            let room_id = room.id;
            let next = async move {
                app.db(move |conn| db::messages::stream_after(conn, room_id, last, RESUME_PAGE))
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
            for event in buffer {
                if event.seq > last {
                    last = event.seq;
                    ctx.text(event.frame);
                }
            }
        }
        self.rooms.insert(room_id, RoomSync::Live(last));
    }

    pub(super) fn history(
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
                    Ok(messages) => {
                        let page = StreamPage {
                            has_more: messages.first().is_some_and(|m| m.message.seq > 1),
                            messages,
                            ..StreamPage::default()
                        };
                        act.send(ctx, &stream::history_frame(&room.name, &page, false));
                    }
                    Err(err) => act.send(ctx, &ServerFrame::error("unavailable", err.to_string())),
                }),
        );
    }
}
