//! The message writer (`palaver::db::writer`): messages stored per second
//! into a SQLite file on disk, with N jobs submitted at once so the writer
//! groups them (batch sizes 1, 32 and 256), under the default durability
//! (`synchronous=FULL`: every batch fsynced before it is acknowledged) and
//! under `CHAT_DURABILITY=relaxed`.
//!
//! Each job is a real send: the `client_id` idempotency lookup, the room's
//! next `seq`, the insert, the commit, the reply, and the commit hook (here
//! counting batches instead of fanning out). After each case the mean
//! batch size the writer actually formed is printed, since grouping depends
//! on thread timing.
//!
//! `cargo bench --bench writer`

// Bench code, like tests: a set-up that fails should stop the run loudly.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use futures_util::future::join_all;

use palaver::config::{Config, Durability};
use palaver::db::writer::{Job, NewMessageJob, WriterHandle};
use palaver::domain::{RoomName, Username};

/// Jobs submitted at once.
const BATCH_SIZES: [usize; 3] = [1, 32, 256];

/// Batches and messages the writer committed (its commit hook counts them).
#[derive(Default)]
struct Committed {
    batches: AtomicU64,
    messages: AtomicU64,
}

/// A writer on a fresh database in a temp dir with one user and one room.
struct World {
    writer: WriterHandle,
    user_id: i32,
    room_id: i32,
    committed: Arc<Committed>,
    next: u64,
    _dir: tempfile::TempDir,
}

impl World {
    fn new(durability: Durability) -> World {
        let dir = tempfile::tempdir().unwrap();
        let mut config = Config::for_tests(dir.path().to_path_buf());
        config.durability = durability;
        palaver::db::prepare(&config).unwrap();
        let setup = palaver::db::SqliteSetup { durability };
        let mut conn = setup.open(config.sqlite_path()).unwrap();
        let user =
            palaver::db::users::create(&mut conn, &Username::parse("alice").unwrap(), "x", false)
                .unwrap();
        let room = palaver::db::rooms::create(&mut conn, &RoomName::parse("bench").unwrap(), None)
            .unwrap();
        let committed = Arc::new(Committed::default());
        let counter = committed.clone();
        let (writer, _thread) = WriterHandle::spawn(
            setup.open(config.sqlite_path()).unwrap(),
            Box::new(move |stored| {
                counter.batches.fetch_add(1, Ordering::Relaxed);
                counter
                    .messages
                    .fetch_add(stored.len() as u64, Ordering::Relaxed);
            }),
            palaver::metrics::Metrics::new(),
        )
        .unwrap();
        World {
            writer,
            user_id: user.id,
            room_id: room.id,
            committed,
            next: 0,
            _dir: dir,
        }
    }

    /// Submit `count` sends at once and wait for every reply. The only
    /// place that calls the writer, so a change to its job type touches one
    /// function.
    async fn store(&mut self, count: usize) {
        let jobs = (0..count).map(|_| {
            self.next += 1;
            NewMessageJob {
                room_id: self.room_id,
                room_name: "bench".into(),
                user_id: self.user_id,
                user_name: "alice".into(),
                body: "Hello everyone, the build is green again".into(),
                client_id: Some(format!("c-{}", self.next)),
                upload: None,
                reply_to: None,
            }
        });
        let jobs: Vec<NewMessageJob> = jobs.collect();
        let submits = jobs
            .into_iter()
            .map(|job| self.writer.submit(Job::Message(job)));
        for result in join_all(submits).await {
            result.unwrap();
        }
    }

    /// Messages per batch since the last call; `None` if nothing ran
    /// (e.g. the case was filtered out on the command line).
    fn mean_batch(&self) -> Option<f64> {
        let batches = self.committed.batches.swap(0, Ordering::Relaxed);
        let messages = self.committed.messages.swap(0, Ordering::Relaxed);
        (batches > 0).then(|| messages as f64 / batches as f64)
    }
}

fn writer(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let mut group = c.benchmark_group("writer");
    for (name, durability) in [("full", Durability::Full), ("relaxed", Durability::Relaxed)] {
        let mut world = World::new(durability);
        for size in BATCH_SIZES {
            group.throughput(Throughput::Elements(size as u64));
            group.bench_with_input(BenchmarkId::new(name, size), &size, |b, &size| {
                b.iter_custom(|iters| {
                    runtime.block_on(async {
                        let started = Instant::now();
                        for _ in 0..iters {
                            world.store(size).await;
                        }
                        started.elapsed()
                    })
                })
            });
            if let Some(mean) = world.mean_batch() {
                eprintln!("writer/{name}/{size}: mean batch the writer formed: {mean:.1} messages");
            }
        }
    }
    group.finish();
}

/// An fsync costs ~1-10 ms here: few, long samples.
fn config() -> Criterion {
    Criterion::default()
        .sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(4))
}

criterion_group! {
    name = benches;
    config = config();
    targets = writer
}
criterion_main!(benches);
