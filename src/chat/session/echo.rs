//! The test-only echo session behind `CHAT_CONFORMANCE_ECHO`.

use std::time::Instant;

use actix::prelude::*;
use actix_web_actors::ws;

use super::frames::{close_and_stop, start_heartbeat, Assembler, Heartbeat, Inbound};
use super::WsLimits;

/// `/ws` in conformance mode (`CHAT_CONFORMANCE_ECHO`): no authentication,
/// every message echoed back, through the same frame handling as chat
/// sessions. Used by scripts/autobahn.sh; never enable it in production.
pub(super) struct EchoSession {
    limits: WsLimits,
    assembler: Assembler,
    last_heard: Instant,
}

impl EchoSession {
    pub(super) fn new(limits: WsLimits) -> Self {
        EchoSession {
            limits,
            assembler: Assembler::new(limits.max_message_bytes),
            last_heard: Instant::now(),
        }
    }
}

impl Actor for EchoSession {
    type Context = ws::WebsocketContext<Self>;

    fn started(&mut self, ctx: &mut Self::Context) {
        start_heartbeat(ctx, self.limits);
    }
}

impl Heartbeat for EchoSession {
    fn last_heard(&self) -> Instant {
        self.last_heard
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
