//! One load client from start to end: connect (bounded concurrency), join its
//! room, keep reading while the others get ready, take part in the measured
//! phase, close. It always returns a report, whatever went wrong.

use std::sync::Arc;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use tokio::sync::{watch, Semaphore};
use tokio::time::{timeout, Instant};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::{header, HeaderValue};
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::{Error as WsError, Message};

use super::stats::Counters;
use super::traffic::{Live, Schedule, Tally, Ws};
use super::wire::{describe_close, Incoming, Outgoing};
use super::Plan;

const CONNECT_TIMEOUT: Duration = Duration::from_secs(30);
const JOIN_TIMEOUT: Duration = Duration::from_secs(30);
const CLOSE_TIMEOUT: Duration = Duration::from_secs(2);
/// tungstenite allocates its read buffer up front (128 KiB by default), which
/// would dominate memory with thousands of connections, and zero-fills up to
/// this much before every read (one per wake, and one more that finds the
/// socket empty): at 16 KiB that memset was the tool's largest cost. A read
/// of 4 KiB still takes a dozen chat frames.
const READ_BUFFER_BYTES: usize = 4 * 1024;

/// Who this client is.
pub struct Slot {
    pub index: u32,
    pub room: usize,
    pub token: Option<String>,
    /// Its sender number, if it sends.
    pub sender: Option<u32>,
}

/// How one client's run went.
#[derive(Debug, Default)]
pub struct ConnReport {
    pub room: usize,
    pub connect_micros: Option<u64>,
    /// Why it never took part (connect, join, or ready too late).
    pub failure: Option<String>,
    /// Connected and joined before the start: a receiver the senders count on.
    pub participated: bool,
    /// How it was lost before the end, if it was (e.g. "close 1008").
    pub lost: Option<String>,
    pub tally: Tally,
}

pub async fn run(
    plan: Arc<Plan>,
    slot: Slot,
    gate: Arc<Semaphore>,
    mut start: watch::Receiver<Option<Schedule>>,
) -> ConnReport {
    let mut report = ConnReport {
        room: slot.room,
        ..ConnReport::default()
    };
    let mut ws = match set_up(&plan, &slot, &gate).await {
        Ok((ws, micros)) => {
            report.connect_micros = Some(micros);
            ws
        }
        Err(failure) => {
            Counters::add(&plan.counters.failed, 1);
            report.failure = Some(failure);
            return report;
        }
    };
    Counters::add(&plan.counters.ready, 1);
    let ready_at = Instant::now();
    let schedule = match wait_for_start(&mut ws, &mut start).await {
        Ok(schedule) => schedule,
        Err(lost) => {
            Counters::add(&plan.counters.disconnects, 1);
            report.failure = Some(format!("lost before the start: {lost}"));
            return report;
        }
    };
    if ready_at > schedule.start {
        report.failure = Some("ready only after the start".into());
        close(&mut ws).await;
        return report;
    }
    report.participated = true;
    let room = plan.rooms.get(slot.room).map_or("", String::as_str);
    let mut live = Live::new(&plan, slot.index, room, slot.sender, schedule);
    let outcome = live.run(&mut ws).await;
    report.tally = live.finish();
    match outcome {
        Ok(()) => close(&mut ws).await,
        Err(lost) => {
            Counters::add(&plan.counters.disconnects, 1);
            report.lost = Some(lost);
        }
    }
    report
}

/// Connects and joins; returns the socket and the connect time in µs.
async fn set_up(plan: &Plan, slot: &Slot, gate: &Semaphore) -> Result<(Ws, u64), String> {
    let _permit = gate.acquire().await.map_err(|e| e.to_string())?;
    let began = Instant::now();
    let mut ws = open(plan, slot.token.as_deref()).await?;
    let micros = u64::try_from(began.elapsed().as_micros()).unwrap_or(u64::MAX);
    if !plan.raw {
        let room = plan.rooms.get(slot.room).map_or("", String::as_str);
        timeout(JOIN_TIMEOUT, join(&mut ws, room))
            .await
            .map_err(|_| "join timed out".to_string())??;
    }
    Ok((ws, micros))
}

async fn open(plan: &Plan, token: Option<&str>) -> Result<Ws, String> {
    let mut request = plan
        .ws_url
        .as_str()
        .into_client_request()
        .map_err(|e| format!("bad WebSocket URL: {e}"))?;
    if let Some(token) = token {
        let value = HeaderValue::from_str(&format!("Bearer {token}"))
            .map_err(|_| "a token is not a valid header value".to_string())?;
        request.headers_mut().insert(header::AUTHORIZATION, value);
    }
    let config = WebSocketConfig::default().read_buffer_size(READ_BUFFER_BYTES);
    let connecting = tokio_tungstenite::connect_async_with_config(request, Some(config), true);
    match timeout(CONNECT_TIMEOUT, connecting).await {
        Err(_) => Err("connect timed out".into()),
        Ok(Err(WsError::Http(response))) => {
            Err(format!("upgrade refused: HTTP {}", response.status()))
        }
        Ok(Err(err)) => Err(format!("connect: {err}")),
        Ok(Ok((ws, _))) => Ok(ws),
    }
}

/// Joins `room` and waits for its `history` frame (presence may come first).
async fn join(ws: &mut Ws, room: &str) -> Result<(), String> {
    ws.send(Outgoing::Join { room }.to_message())
        .await
        .map_err(|e| format!("join: {e}"))?;
    while let Some(frame) = ws.next().await {
        let text = match frame.map_err(|e| format!("join: {e}"))? {
            Message::Text(text) => text,
            Message::Close(frame) => return Err(describe_close(frame)),
            _ => continue,
        };
        let Ok(frame) = Incoming::read(text.as_str()) else {
            continue;
        };
        match frame.kind.as_ref() {
            "history" => return Ok(()),
            "error" => {
                return Err(format!(
                    "join refused: {}",
                    frame.code.as_deref().unwrap_or("error")
                ))
            }
            _ => {}
        }
    }
    Err("connection ended while joining".into())
}

/// Reads (and drops: presence of the others joining) until the start.
async fn wait_for_start(
    ws: &mut Ws,
    start: &mut watch::Receiver<Option<Schedule>>,
) -> Result<Schedule, String> {
    loop {
        if let Some(schedule) = *start.borrow_and_update() {
            return Ok(schedule);
        }
        tokio::select! {
            changed = start.changed() => {
                if changed.is_err() {
                    return Err("the run was called off".into());
                }
            }
            frame = ws.next() => match frame {
                Some(Ok(Message::Close(frame))) => return Err(describe_close(frame)),
                Some(Ok(_)) => {}
                Some(Err(err)) => return Err(format!("error: {err}")),
                None => return Err("connection ended".into()),
            },
        }
    }
}

async fn close(ws: &mut Ws) {
    let _ = timeout(CLOSE_TIMEOUT, ws.close(None)).await;
}
