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

#[path = "../benches/common/writer_world.rs"]
mod writer_world;

use palaver::config::Durability;
use writer_world::World;

fn main() {
    let arg = |n: usize| std::env::args().nth(n);
    let rounds: usize = arg(1).map_or(40, |s| s.parse().unwrap());
    let inflight: usize = arg(2).map_or(256, |s| s.parse().unwrap());
    let durability = if arg(3).is_some_and(|s| s == "relaxed") {
        Durability::Relaxed
    } else {
        Durability::Full
    };
    let mut world = World::new(durability);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let started = std::time::Instant::now();
    rt.block_on(async {
        for _ in 0..rounds {
            world.store(inflight).await;
        }
    });
    let elapsed = started.elapsed();
    let messages = rounds * inflight;
    eprintln!(
        "{messages} msgs in {elapsed:?}: {:.0} msg/s",
        messages as f64 / elapsed.as_secs_f64()
    );
    if let Some(mean) = world.mean_batch() {
        eprintln!("mean batch the writer formed: {mean:.1} messages");
    }
    world.finish();
}
