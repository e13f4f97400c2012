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

use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};

use palaver::config::Durability;

#[path = "common/writer_world.rs"]
mod writer_world;
use writer_world::World;

/// Jobs submitted at once.
const BATCH_SIZES: [usize; 3] = [1, 32, 256];

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
        world.finish();
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
