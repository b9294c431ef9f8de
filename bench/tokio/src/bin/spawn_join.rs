//! usage: spawn_join [WORKERS=1] [BATCHES=2000] [REPS=5]
//!
//! Tokio's cost of a spawn and its join, measured as runtime_bench's BM_spawn_join measures
//! Brigade's: from inside a task on a WORKERS-thread runtime, spawn 1,000 empty tasks, await
//! their JoinHandles in order, and repeat BATCHES times. Prints one line per repetition with the
//! nanoseconds per spawned task; bench/run takes the median.
use brigade_bench_peers as peers;

use std::time::Instant;

const BATCH: usize = 1000;

async fn empty() {}

async fn spawn_join_batches(batches: usize) -> f64 {
    let mut handles = Vec::with_capacity(BATCH);
    let start = Instant::now();
    for _ in 0..batches {
        handles.extend((0..BATCH).map(|_| tokio::spawn(empty())));
        for handle in handles.drain(..) {
            handle.await.expect("empty task");
        }
    }
    start.elapsed().as_nanos() as f64 / (batches * BATCH) as f64
}

fn main() {
    let workers: usize = peers::arg(1, 1);
    let batches: usize = peers::arg(2, 2000);
    let reps: usize = peers::arg(3, 5);
    let runtime = peers::runtime(workers);
    // One unmeasured round: the workers start and the allocator warms up.
    runtime
        .block_on(async move { tokio::spawn(spawn_join_batches(batches / 10 + 1)).await })
        .expect("warm-up");
    for rep in 1..=reps {
        let ns = runtime
            .block_on(async move { tokio::spawn(spawn_join_batches(batches)).await })
            .expect("spawner");
        println!("spawn_join workers={workers} rep={rep} ns_per_task={ns:.1}");
    }
}
