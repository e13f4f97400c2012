//! A real message writer on a fresh SQLite file in a temp dir, with one
//! user and one room, storing typical chat lines N at a time: shared by
//! `benches/writer.rs` (criterion) and `examples/writer_profile.rs` (a fixed
//! workload for callgrind/perf), so both measure the same work.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use futures_util::future::join_all;

use palaver::config::{Config, Durability};
use palaver::db::writer::{Job, NewMessageJob, WriterHandle};
use palaver::domain::{RoomName, Username};

/// Batches and messages the writer committed (its commit hook counts them).
#[derive(Default)]
pub struct Committed {
    batches: AtomicU64,
    messages: AtomicU64,
}

/// A writer on a fresh database in a temp dir with one user and one room.
pub struct World {
    writer: WriterHandle,
    user_id: i32,
    room_id: i32,
    committed: Arc<Committed>,
    next: u64,
    thread: std::thread::JoinHandle<()>,
    _dir: tempfile::TempDir,
}

impl World {
    pub fn new(durability: Durability) -> World {
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
        let (writer, thread) = WriterHandle::spawn(
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
            thread,
            _dir: dir,
        }
    }

    /// Submit `count` sends at once and wait for every reply. The only
    /// place that calls the writer, so a change to its job type touches one
    /// function.
    pub async fn store(&mut self, count: usize) {
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
    pub fn mean_batch(&self) -> Option<f64> {
        let batches = self.committed.batches.swap(0, Ordering::Relaxed);
        let messages = self.committed.messages.swap(0, Ordering::Relaxed);
        (batches > 0).then(|| messages as f64 / batches as f64)
    }

    /// Stop the writer (every handle dropped, the queue drained) and wait
    /// for its thread.
    pub fn finish(self) {
        drop(self.writer);
        self.thread.join().unwrap();
    }
}
