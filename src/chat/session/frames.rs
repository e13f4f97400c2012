//! The frame layer shared by chat and echo sessions: starting a session
//! with its output in small pieces, reassembly of fragmented messages up to
//! the size cap, the right close code for every protocol error (1002, 1007,
//! 1009), and the heartbeat.

use std::sync::OnceLock;
use std::time::{Duration, Instant};

use actix::prelude::*;
use actix_web::{web, HttpRequest, HttpResponse};
use actix_web_actors::ws;
use futures_util::{stream, Stream, StreamExt};

use super::WsLimits;

/// The most session output handed to actix-http at once. actix-http copies
/// each piece into the connection's write buffer (initially 8 KiB) and keeps
/// whatever capacity that buffer grew to, up to 128 KiB, for the life of the
/// connection: one `rooms` list or history page would otherwise pin its own
/// size on every idle socket. Split output is the same bytes on the wire.
const OUTPUT_PIECE_BYTES: usize = 4096;

/// How full the write buffer gets before it is written out (the server's
/// `h1_write_buffer_size`): with pieces of [`OUTPUT_PIECE_BYTES`] it stays
/// under actix-http's initial 8 KiB.
pub const WRITE_BUFFER_BYTES: usize = 4096;

/// Upgrade `req` and start `actor` on it, with its output in pieces of at
/// most [`OUTPUT_PIECE_BYTES`].
pub(super) fn start<A, S>(
    actor: A,
    req: &HttpRequest,
    stream: S,
    codec: actix_http::ws::Codec,
) -> Result<HttpResponse, actix_web::Error>
where
    A: Actor<Context = ws::WebsocketContext<A>>
        + StreamHandler<Result<ws::Message, ws::ProtocolError>>,
    S: Stream<Item = Result<web::Bytes, actix_web::error::PayloadError>> + 'static,
{
    let output = ws::WebsocketContext::with_codec(actor, stream, codec)
        .flat_map(|chunk| stream::iter(pieces(chunk)));
    Ok(ws::handshake(req)?.streaming(output))
}

/// One output chunk as pieces of at most [`OUTPUT_PIECE_BYTES`] (slices of
/// the same buffer, not copies).
fn pieces<E>(chunk: Result<web::Bytes, E>) -> impl Iterator<Item = Result<web::Bytes, E>> {
    let mut rest = Some(chunk);
    std::iter::from_fn(move || match rest.take()? {
        Ok(mut bytes) if bytes.len() > OUTPUT_PIECE_BYTES => {
            let piece = bytes.split_to(OUTPUT_PIECE_BYTES);
            rest = Some(Ok(bytes));
            Some(Ok(piece))
        }
        last => Some(last),
    })
}

/// What a complete incoming message turned out to be.
pub(super) enum Inbound {
    Text(String),
    Binary(web::Bytes),
    /// Control frame or a fragment: nothing for the application.
    Nothing,
}

/// Reassembles fragmented messages and maps protocol errors to close codes.
pub(super) struct Assembler {
    partial: Option<(bool, web::BytesMut)>,
    max_bytes: usize,
}

impl Assembler {
    pub(super) fn new(max_bytes: usize) -> Self {
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
    pub(super) fn frame<A>(
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

pub(super) fn close(code: ws::CloseCode, description: &str) -> ws::CloseReason {
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
pub(super) fn close_and_stop<A>(ctx: &mut ws::WebsocketContext<A>, reason: Option<ws::CloseReason>)
where
    A: Actor<Context = ws::WebsocketContext<A>>,
{
    if reason.is_some() {
        ctx.close(reason);
    }
    ctx.stop();
}

/// What the heartbeat asks of a session actor.
pub(super) trait Heartbeat: Actor<Context = ws::WebsocketContext<Self>> {
    /// When anything was last heard from the peer.
    fn last_heard(&self) -> Instant;

    /// Why the session must end now whatever the peer does (its login
    /// expired), if it must. Checked at each beat rather than by a timer of
    /// its own: every timer is polled at every wake of a busy session.
    fn must_end(&self) -> Option<ws::CloseReason> {
        None
    }
}

/// Every session's beats fall on a grid of this step shared by the whole
/// process. Without it, 10,000 idle sessions each have a timer of their own
/// and the workers wake about once a millisecond for a single ping, which
/// costs more in going to sleep and waking than the ping itself; on the grid
/// they wake a few times a second and ping a batch each time.
const HEARTBEAT_GRID: Duration = Duration::from_millis(250);

/// The first beat: one `heartbeat` from now, rounded up to the grid. The
/// heartbeat is configured in whole seconds, so the later beats stay on it.
fn first_beat(heartbeat: Duration) -> tokio::time::Instant {
    static GRID_START: OnceLock<Instant> = OnceLock::new();
    let now = Instant::now();
    let grid_start = *GRID_START.get_or_init(|| now);
    let due = now + heartbeat;
    let step = HEARTBEAT_GRID.as_nanos();
    let offset = due.duration_since(grid_start).as_nanos() % step;
    let to_grid = if offset == 0 { 0 } else { step - offset };
    tokio::time::Instant::from_std(due + Duration::from_nanos(to_grid as u64))
}

/// Ping every `heartbeat` (on the shared grid); stop when nothing was heard
/// for `timeout`, or close when the session must end.
pub(super) fn start_heartbeat<A: Heartbeat>(ctx: &mut ws::WebsocketContext<A>, limits: WsLimits) {
    let first = first_beat(limits.heartbeat);
    ctx.run_interval_at(first, limits.heartbeat, move |act, ctx| {
        if let Some(reason) = act.must_end() {
            close_and_stop(ctx, Some(reason));
        } else if act.last_heard().elapsed() > limits.timeout {
            tracing::debug!("WebSocket peer silent; dropping it");
            ctx.stop();
        } else {
            ctx.ping(b"");
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn heartbeats_fall_on_one_grid_a_heartbeat_or_a_little_more_from_now() {
        let heartbeat = Duration::from_secs(10);
        let before = tokio::time::Instant::now();
        let a = first_beat(heartbeat);
        let after = tokio::time::Instant::now();
        std::thread::sleep(Duration::from_millis(7));
        let b = first_beat(heartbeat);
        assert!(a >= before + heartbeat && a < after + heartbeat + HEARTBEAT_GRID);
        let apart = b.duration_since(a).as_nanos();
        assert_eq!(apart % HEARTBEAT_GRID.as_nanos(), 0, "{apart} ns apart");
    }

    #[test]
    fn a_big_chunk_becomes_pieces_of_the_same_bytes() {
        let chunk: Vec<u8> = (0..10_000u32).map(|i| (i % 251) as u8).collect();
        let pieces: Vec<web::Bytes> = pieces(Ok::<_, ()>(web::Bytes::from(chunk.clone())))
            .collect::<Result<_, _>>()
            .unwrap();
        assert!(pieces.iter().all(|p| p.len() <= OUTPUT_PIECE_BYTES));
        assert_eq!(pieces.len(), 3);
        assert_eq!(pieces.concat(), chunk);
    }

    #[test]
    fn a_small_chunk_or_an_error_passes_through_whole() {
        let small: Vec<_> = pieces(Ok::<_, ()>(web::Bytes::from_static(b"hi"))).collect();
        assert_eq!(small, vec![Ok(web::Bytes::from_static(b"hi"))]);
        let failed: Vec<_> = pieces(Err::<web::Bytes, _>("broken")).collect();
        assert_eq!(failed, vec![Err("broken")]);
    }
}
