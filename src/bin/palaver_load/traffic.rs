//! The measured phase of one connection: what it sends (if it is a sender),
//! and what it counts for everything it receives.

use std::collections::BTreeMap;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use tokio::net::TcpStream;
use tokio::time::{interval_at, sleep_until, Instant, MissedTickBehavior};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

use super::stamp::{unix_nanos, Stamp};
use super::stats::{Counters, LocalSamples};
use super::wire::{describe_close, Incoming, Outgoing};
use super::Plan;

pub type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// After an `error` frame, a closed-loop sender pauses this long rather than
/// spinning on a server that refuses (e.g. `rate_limited`).
const ERROR_BACKOFF: Duration = Duration::from_millis(10);
/// A sender whose messages have gone unanswered this long stops waiting for
/// them (counted as `ack_timeouts`): a peer that drops frames for a lagging
/// client, or a lost ack, must not stall a sender for the rest of the run.
const ACK_TIMEOUT: Duration = Duration::from_secs(5);
/// The progress counters are brought up to date at least this often.
const COUNTER_FLUSH_NANOS: u64 = 200_000_000;
/// A timer cannot usefully tick faster; faster rates send several per tick.
const MIN_TICK: Duration = Duration::from_millis(1);

/// When the run's phases begin and end, on both clocks.
#[derive(Debug, Clone, Copy)]
pub struct Schedule {
    pub start: Instant,
    pub stop_sending: Instant,
    pub stop: Instant,
    pub window_start_unix: u64,
    pub window_end_unix: u64,
}

impl Schedule {
    fn in_window(&self, unix_nanos: u64) -> bool {
        (self.window_start_unix..self.window_end_unix).contains(&unix_nanos)
    }
}

/// What one connection counted in the measured phase.
#[derive(Debug, Default)]
pub struct Tally {
    /// Deliveries received inside the window: the throughput figure.
    pub delivered_in_window: u64,
    /// Deliveries of messages sent inside the window: compared with the expected.
    pub delivered_of_window: u64,
    /// A message from a sender that arrived after a later one from it.
    pub out_of_order: u64,
    pub sent: u64,
    pub sent_in_window: u64,
    /// Sends of the window answered with an `error` (not stored, not expected).
    pub rejected_in_window: u64,
    pub acked_in_window: u64,
    /// Sends skipped because --max-inflight were unanswered.
    pub skipped: u64,
    /// Times a sender gave up waiting for its unanswered messages.
    pub ack_timeouts: u64,
    pub errors: BTreeMap<String, u64>,
}

/// One connection during the measured phase.
pub struct Live<'a> {
    plan: &'a Plan,
    room: &'a str,
    me: Option<u32>,
    schedule: Schedule,
    pub tally: Tally,
    seq: u64,
    attempts: u64,
    inflight: u32,
    /// Per sender, the seq after the last one received (0: none yet).
    next_seq: Vec<u64>,
    latency: LocalSamples,
    ack_latency: LocalSamples,
    pending: PendingCounters,
    retry_at: Option<Instant>,
    /// The last send or answer, for [`ACK_TIMEOUT`].
    last_progress: Instant,
}

#[derive(Default)]
struct PendingCounters {
    delivered: u64,
    sent: u64,
    acked: u64,
    errors: u64,
    flushed_at: u64,
}

impl<'a> Live<'a> {
    pub fn new(
        plan: &'a Plan,
        index: u32,
        room: &'a str,
        me: Option<u32>,
        schedule: Schedule,
    ) -> Self {
        let shard = usize::try_from(index).unwrap_or(0);
        Live {
            plan,
            room,
            me,
            schedule,
            tally: Tally::default(),
            seq: 0,
            attempts: 0,
            inflight: 0,
            next_seq: vec![0; usize::try_from(plan.senders).unwrap_or(0)],
            latency: LocalSamples::new(shard),
            ack_latency: LocalSamples::new(shard),
            pending: PendingCounters::default(),
            retry_at: None,
            last_progress: schedule.start,
        }
    }

    /// Sends and receives until the schedule's end; `Err` says how the
    /// connection was lost.
    pub async fn run(&mut self, ws: &mut Ws) -> Result<(), String> {
        let stop = sleep_until(self.schedule.stop);
        tokio::pin!(stop);
        let kickoff = sleep_until(self.schedule.start);
        tokio::pin!(kickoff);
        let per_sender_rate = self.plan.rate_per_sender;
        let open_loop = self.me.is_some() && per_sender_rate.is_some();
        let closed_loop = self.me.is_some() && per_sender_rate.is_none();
        let period = per_sender_rate
            .map(|r| Duration::from_secs_f64(1.0 / r).max(MIN_TICK))
            .unwrap_or(MIN_TICK);
        let mut ticker = interval_at(self.first_send(period), period);
        ticker.set_missed_tick_behavior(MissedTickBehavior::Skip);
        let mut started = false;
        loop {
            tokio::select! {
                biased;
                () = &mut stop => return Ok(()),
                frame = ws.next() => match frame {
                    Some(Ok(Message::Text(text))) => self.on_text(text.as_str()),
                    Some(Ok(Message::Close(frame))) => return Err(describe_close(frame)),
                    Some(Ok(_)) => {}
                    Some(Err(err)) => return Err(format!("error: {err}")),
                    None => return Err("connection ended".into()),
                },
                _ = ticker.tick(), if open_loop => self.send_due(ws).await?,
                () = &mut kickoff, if closed_loop && !started => started = true,
                () = sleep_until(self.retry_at.unwrap_or(self.schedule.stop)),
                    if self.retry_at.is_some() => self.retry_at = None,
                () = sleep_until(self.last_progress + ACK_TIMEOUT), if self.inflight > 0 => {
                    self.tally.ack_timeouts += 1;
                    self.inflight = 0;
                    self.last_progress = Instant::now();
                }
            }
            if started && self.retry_at.is_none() {
                self.fill_window(ws).await?;
            }
        }
    }

    fn on_text(&mut self, text: &str) {
        let now = unix_nanos();
        if self.plan.raw {
            // A peer echoes every frame to everyone: each stamped frame is a
            // delivery, and its sender's own copy is its acknowledgement.
            if let Some(stamp) = Stamp::find_in(text) {
                self.on_delivery(stamp, now);
                self.on_ack(stamp, now);
            }
        } else {
            match Incoming::read(text) {
                Ok(frame) => self.on_frame(frame, now),
                Err(_) => self.on_error("unreadable_frame", None),
            }
        }
        self.flush_counters(now, false);
    }

    fn on_frame(&mut self, frame: Incoming, now: u64) {
        match frame.kind.as_ref() {
            "message" => {
                if let Some(stamp) = frame.body.as_deref().and_then(Stamp::parse_body) {
                    self.on_delivery(stamp, now);
                }
            }
            "ack" => {
                if let Some(stamp) = frame.client_id.as_deref().and_then(Stamp::parse_client_id) {
                    self.on_ack(stamp, now);
                }
            }
            "error" => self.on_error(
                frame.code.as_deref().unwrap_or("error"),
                frame.client_id.as_deref(),
            ),
            // presence, history, rooms, typing: not what is measured.
            _ => {}
        }
    }

    fn on_delivery(&mut self, stamp: Stamp, now: u64) {
        if stamp.run != self.plan.run {
            return;
        }
        self.pending.delivered += 1;
        if self.schedule.in_window(now) {
            self.tally.delivered_in_window += 1;
        }
        if self.schedule.in_window(stamp.sent_unix_nanos) {
            self.tally.delivered_of_window += 1;
            let micros = now.saturating_sub(stamp.sent_unix_nanos) / 1000;
            self.latency.record(micros, &self.plan.latency);
        }
        let next = usize::try_from(stamp.sender)
            .ok()
            .and_then(|i| self.next_seq.get_mut(i));
        if let Some(next) = next {
            if stamp.seq < *next {
                self.tally.out_of_order += 1;
            } else {
                *next = stamp.seq + 1;
            }
        }
    }

    fn on_ack(&mut self, stamp: Stamp, now: u64) {
        if stamp.run != self.plan.run || Some(stamp.sender) != self.me {
            return;
        }
        self.inflight = self.inflight.saturating_sub(1);
        self.last_progress = Instant::now();
        self.pending.acked += 1;
        if self.schedule.in_window(now) {
            self.tally.acked_in_window += 1;
        }
        if self.schedule.in_window(stamp.sent_unix_nanos) {
            let micros = now.saturating_sub(stamp.sent_unix_nanos) / 1000;
            self.ack_latency.record(micros, &self.plan.ack_latency);
        }
    }

    fn on_error(&mut self, code: &str, client_id: Option<&str>) {
        *self.tally.errors.entry(code.to_string()).or_default() += 1;
        self.pending.errors += 1;
        let Some(stamp) = client_id.and_then(Stamp::parse_client_id) else {
            return;
        };
        if stamp.run != self.plan.run || Some(stamp.sender) != self.me {
            return;
        }
        self.inflight = self.inflight.saturating_sub(1);
        self.last_progress = Instant::now();
        if self.schedule.in_window(stamp.sent_unix_nanos) {
            self.tally.rejected_in_window += 1;
        }
        if self.plan.rate_per_sender.is_none() {
            self.retry_at = Some(Instant::now() + ERROR_BACKOFF);
        }
    }

    /// Closed loop: keep --window messages unanswered.
    async fn fill_window(&mut self, ws: &mut Ws) -> Result<(), String> {
        let mut fed = false;
        while self.inflight < self.plan.window && Instant::now() < self.schedule.stop_sending {
            self.feed_one(ws).await?;
            fed = true;
        }
        if fed {
            ws.flush().await.map_err(|e| format!("error: {e}"))?;
        }
        Ok(())
    }

    /// When this sender's open-loop schedule starts: senders are spread
    /// evenly over one period, as independent clients are, instead of all
    /// sending in the same instant (5,000 clients at 1 msg/s would otherwise
    /// be one burst of 5,000 messages a second).
    fn first_send(&self, period: Duration) -> Instant {
        let share = match self.me {
            Some(me) => f64::from(me) / f64::from(self.plan.senders.max(1)),
            None => 0.0,
        };
        self.schedule.start + period.mul_f64(share)
    }

    /// Open loop: send what the rate says is due by now, unless too many are
    /// unanswered (then the send is skipped and counted).
    async fn send_due(&mut self, ws: &mut Ws) -> Result<(), String> {
        let now = Instant::now();
        let Some(rate) = self.plan.rate_per_sender else {
            return Ok(());
        };
        if now >= self.schedule.stop_sending {
            return Ok(());
        }
        let first = self.first_send(Duration::from_secs_f64(1.0 / rate));
        if now < first {
            return Ok(());
        }
        let elapsed = now.saturating_duration_since(first);
        // Truncation intended: messages due so far, the first one at the start.
        let due = (elapsed.as_secs_f64() * rate) as u64 + 1;
        let mut fed = false;
        while self.attempts < due {
            self.attempts += 1;
            if self.inflight >= self.plan.max_inflight {
                self.tally.skipped += 1;
                continue;
            }
            self.feed_one(ws).await?;
            fed = true;
        }
        if fed {
            ws.flush().await.map_err(|e| format!("error: {e}"))?;
        }
        Ok(())
    }

    async fn feed_one(&mut self, ws: &mut Ws) -> Result<(), String> {
        let Some(me) = self.me else {
            return Ok(());
        };
        self.seq += 1;
        let stamp = Stamp {
            run: self.plan.run,
            sender: me,
            seq: self.seq,
            sent_unix_nanos: unix_nanos(),
        };
        let body = stamp.body(self.plan.body_bytes);
        let client_id = stamp.client_id();
        let frame = Outgoing::Send {
            room: self.room,
            body: &body,
            client_id: &client_id,
        };
        ws.feed(frame.to_message())
            .await
            .map_err(|e| format!("error: {e}"))?;
        if self.inflight == 0 {
            self.last_progress = Instant::now();
        }
        self.inflight += 1;
        self.tally.sent += 1;
        self.pending.sent += 1;
        if self.schedule.in_window(stamp.sent_unix_nanos) {
            self.tally.sent_in_window += 1;
        }
        Ok(())
    }

    fn flush_counters(&mut self, now: u64, force: bool) {
        if !force && now.saturating_sub(self.pending.flushed_at) < COUNTER_FLUSH_NANOS {
            return;
        }
        let c = &self.plan.counters;
        let p = std::mem::take(&mut self.pending);
        Counters::add(&c.delivered, p.delivered);
        Counters::add(&c.sent, p.sent);
        Counters::add(&c.acked, p.acked);
        Counters::add(&c.errors, p.errors);
        self.pending.flushed_at = now;
    }

    /// Hands every buffered sample and count over; the tally is what is left.
    pub fn finish(mut self) -> Tally {
        self.latency.flush(&self.plan.latency);
        self.ack_latency.flush(&self.plan.ack_latency);
        self.flush_counters(unix_nanos(), true);
        self.tally
    }
}
