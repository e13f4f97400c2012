//! Fan-out through the real `ChatServer` actor (`palaver::chat::server`):
//! 1,000 in-process recipients joined to one room, timing one `Publish` of
//! 1 event and of 32 events until every recipient has handled every event.
//!
//! The recipients are dummy actors standing in for `WsSession`s: they take
//! `ToSession` from a mailbox as big as a real session's and count room
//! events, so the figure is the `ChatServer`'s own cost (one mailbox push per
//! member and commit) plus actix's delivery, without WebSocket encoding or
//! sockets. Two shapes: everything on one thread, and the recipients on two
//! other arbiters as the HTTP workers hold sessions in the real server.
//!
//! `cargo bench --bench fanout`

// Bench code, like tests: a set-up that fails should stop the run loudly.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

mod common;

use actix::prelude::*;
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use tokio::sync::Notify;

use palaver::chat::messages::{
    Connect, GetOnline, Inbox, Join, Publish, RoomBatch, RoomEvent, ToSession,
};
use palaver::chat::protocol::ServerFrame;
use palaver::chat::server::{ChatServer, ConnectionLimits};
use palaver::config::Config;

/// Members of the one room.
const RECIPIENTS: usize = 1_000;
/// Events per `Publish`: one, and a busy writer batch.
const BATCHES: [usize; 2] = [1, 32];
/// Like `CHAT_WS_QUEUE`'s default: a member never overflows here.
const RECIPIENT_MAILBOX: usize = 4096;
/// Room presence is flushed every 250 ms; wait for that flush after the
/// joins so it does not land inside a measurement.
const PRESENCE_SETTLE: Duration = Duration::from_millis(400);
const ROOM_ID: i32 = 1;

/// Counts room events over all recipients; wakes the bench at `target`.
#[derive(Default)]
struct Tally {
    received: AtomicUsize,
    target: AtomicUsize,
    done: Notify,
}

struct Member {
    tally: Arc<Tally>,
    inbox: Arc<Inbox>,
    taken: Vec<RoomBatch>,
}

impl Actor for Member {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Self::Context) {
        ctx.set_mailbox_capacity(RECIPIENT_MAILBOX);
    }
}

impl Handler<ToSession> for Member {
    type Result = ();

    fn handle(&mut self, msg: ToSession, _: &mut Self::Context) {
        if let ToSession::Events = msg {
            self.inbox.take_into(&mut self.taken);
            let count: usize = self.taken.drain(..).map(|b| b.events.len()).sum();
            let seen = self.tally.received.fetch_add(count, Ordering::AcqRel) + count;
            if seen == self.tally.target.load(Ordering::Acquire) {
                self.tally.done.notify_one();
            }
        }
    }
}

/// The events of one `Publish`, serialized once as the writer's commit hook
/// does. The only place that builds frames, so a change to the event types
/// touches one function.
fn events(count: usize) -> Vec<RoomEvent> {
    (1..=count as i64)
        .map(|seq| {
            let frame =
                ServerFrame::Message(Box::new(common::message("bench", seq, seq))).to_text();
            RoomEvent {
                room_id: ROOM_ID,
                seq,
                frame,
                unread: None,
            }
        })
        .collect()
}

/// A `ChatServer` on the current arbiter with `RECIPIENTS` members in one
/// room, placed on `arbiters` (or on the current one if empty).
async fn world(arbiters: &[Arbiter], tally: &Arc<Tally>) -> (Addr<ChatServer>, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let config = Config::for_tests(dir.path().to_path_buf());
    palaver::db::prepare(&config).unwrap();
    let pool = palaver::db::build_pool(&config).unwrap();
    let server = ChatServer::new(
        ConnectionLimits {
            per_user: usize::MAX,
            per_ip: usize::MAX,
            // The periodic session check queries the database: not here.
            session_check: Duration::from_secs(3600),
        },
        pool,
        palaver::metrics::Metrics::new(),
    )
    .start();
    for i in 0..RECIPIENTS {
        let inbox = Arc::new(Inbox::new(usize::MAX));
        let member = Member {
            tally: tally.clone(),
            inbox: inbox.clone(),
            taken: Vec::new(),
        };
        let addr = match arbiters.get(i % arbiters.len().max(1)) {
            Some(arbiter) => Member::start_in_arbiter(&arbiter.handle(), |_| member),
            None => member.start(),
        };
        let session_id = server
            .send(Connect {
                session: addr.recipient(),
                inbox,
                user_id: i as i32 + 1,
                user_name: format!("member{i}"),
                token_hash: format!("token{i}"),
                ip: None,
            })
            .await
            .unwrap()
            .unwrap();
        server
            .send(Join {
                session_id,
                room_id: ROOM_ID,
                room_name: "bench".into(),
            })
            .await
            .unwrap();
    }
    actix::clock::sleep(PRESENCE_SETTLE).await;
    (server, dir)
}

fn fanout(c: &mut Criterion) {
    let mut group = c.benchmark_group("fanout/1000_members");
    for workers in [0usize, 2] {
        let system = System::new();
        let arbiters: Vec<Arbiter> = (0..workers).map(|_| Arbiter::new()).collect();
        let tally = Arc::new(Tally::default());
        let (server, _dir) = system.block_on(world(&arbiters, &tally));
        let shape = if workers == 0 {
            "same_thread"
        } else {
            "2_worker_threads"
        };
        for batch in BATCHES {
            let prepared = events(batch);
            group.throughput(Throughput::Elements((RECIPIENTS * batch) as u64));
            group.bench_with_input(
                BenchmarkId::new(shape, format!("{batch}_events")),
                &prepared,
                |b, prepared| {
                    b.iter_custom(|iters| {
                        system.block_on(async {
                            let started = Instant::now();
                            for _ in 0..iters {
                                tally.received.store(0, Ordering::Release);
                                tally.target.store(RECIPIENTS * batch, Ordering::Release);
                                server.do_send(Publish {
                                    events: prepared.clone(),
                                    committed_at: Instant::now(),
                                });
                                tally.done.notified().await;
                            }
                            started.elapsed()
                        })
                    })
                },
            );
        }
        // Nobody overflowed and was dropped: every figure above is for a
        // full room.
        let online = system
            .block_on(server.send(GetOnline { with_names: false }))
            .unwrap();
        assert_eq!(online.connections, RECIPIENTS, "members were dropped");
        for arbiter in &arbiters {
            arbiter.stop();
        }
        for arbiter in arbiters {
            arbiter.join().unwrap();
        }
    }
    group.finish();
}

/// Each iteration takes ~0.1-5 ms: a few seconds per case is plenty.
fn config() -> Criterion {
    Criterion::default()
        .sample_size(30)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(4))
}

criterion_group! {
    name = benches;
    config = config();
    targets = fanout
}
criterion_main!(benches);
