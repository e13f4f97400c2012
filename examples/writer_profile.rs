//! A fixed amount of writer work for profilers, where criterion's
//! adaptive iteration counts get in the way: ROUNDS rounds of IN_FLIGHT
//! sends submitted at once (like `benches/writer.rs`), on a fresh database,
//! printing messages/s and the writer's batches.
//!
//! Instructions per message: run it under callgrind at two ROUNDS and divide
//! the difference by the extra messages, so set-up cancels out:
//!
//! ```text
//! cargo build --release --example writer_profile
//! valgrind --tool=callgrind target/release/examples/writer_profile 4 256
//! valgrind --tool=callgrind target/release/examples/writer_profile 44 256
//! ```
//!
//! `writer_profile [ROUNDS=40] [IN_FLIGHT=256] [full|relaxed]`
#![allow(clippy::unwrap_used, clippy::expect_used)]
use futures_util::future::join_all;
use palaver::config::{Config, Durability};
use palaver::db::writer::{Job, NewMessageJob, WriterHandle};
use palaver::domain::{RoomName, Username};

fn main() {
    let rounds: usize = std::env::args()
        .nth(1)
        .map(|s| s.parse().unwrap())
        .unwrap_or(40);
    let inflight: usize = std::env::args()
        .nth(2)
        .map(|s| s.parse().unwrap())
        .unwrap_or(256);
    let relaxed = std::env::args().nth(3).is_some_and(|s| s == "relaxed");
    let durability = if relaxed {
        Durability::Relaxed
    } else {
        Durability::Full
    };
    let dir = tempfile::tempdir().unwrap();
    let mut config = Config::for_tests(dir.path().to_path_buf());
    config.durability = durability;
    palaver::db::prepare(&config).unwrap();
    let setup = palaver::db::SqliteSetup { durability };
    let mut conn = setup.open(config.sqlite_path()).unwrap();
    let user =
        palaver::db::users::create(&mut conn, &Username::parse("alice").unwrap(), "x", false)
            .unwrap();
    let room =
        palaver::db::rooms::create(&mut conn, &RoomName::parse("bench").unwrap(), None).unwrap();
    let batches = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counter = batches.clone();
    let (writer, thread) = WriterHandle::spawn(
        setup.open(config.sqlite_path()).unwrap(),
        Box::new(move |_stored| {
            counter.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        }),
        palaver::metrics::Metrics::new(),
    )
    .unwrap();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let started = std::time::Instant::now();
    let mut next = 0u64;
    rt.block_on(async {
        for _ in 0..rounds {
            let jobs: Vec<_> = (0..inflight)
                .map(|_| {
                    next += 1;
                    NewMessageJob {
                        room_id: room.id,
                        room_name: "bench".into(),
                        user_id: user.id,
                        user_name: "alice".into(),
                        body: "Hello everyone, the build is green again".into(),
                        client_id: Some(format!("c-{next}")),
                        upload: None,
                        reply_to: None,
                    }
                })
                .collect();
            for r in join_all(jobs.into_iter().map(|j| writer.submit(Job::Message(j)))).await {
                r.unwrap();
            }
        }
    });
    let el = started.elapsed();
    eprintln!(
        "{} msgs in {:?}: {:.0} msg/s",
        rounds * inflight,
        el,
        (rounds * inflight) as f64 / el.as_secs_f64()
    );
    eprintln!(
        "batches: {} (mean {:.1})",
        batches.load(std::sync::atomic::Ordering::Relaxed),
        (rounds * inflight) as f64 / batches.load(std::sync::atomic::Ordering::Relaxed) as f64
    );
    drop(writer);
    thread.join().unwrap();
}
