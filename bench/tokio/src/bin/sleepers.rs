//! usage: sleepers N [WORKERS=2]
//!
//! Tokio's memory per sleeping task: a task on a WORKERS-thread runtime spawns N tasks that each
//! sleep one second, keeps their JoinHandles and awaits them all. Prints one line with the
//! process's peak resident memory (VmHWM); bench/run derives bytes per task as
//! (peak with N tasks - peak with 1 task) / N, the way memory_bench measures Brigade's.
use brigade_bench_peers as peers;

use std::time::Duration;

/// A "Key:   123 kB" field of /proc/self/status, in KiB.
fn status_kib(key: &str) -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|line| line.strip_prefix(key)?.strip_prefix(':'))
        .and_then(|rest| rest.split_whitespace().next()?.parse().ok())
        .unwrap_or(0)
}

fn main() {
    let count: usize = peers::arg(1, 100_000);
    let workers: usize = peers::arg(2, 2);
    let runtime = peers::runtime(workers);
    // The workers' stacks belong to the baseline: let them start before measuring.
    runtime.block_on(tokio::task::yield_now());
    let before = status_kib("VmRSS");
    runtime.block_on(async move {
        let spawner = tokio::spawn(async move {
            let handles: Vec<_> = (0..count)
                .map(|_| tokio::spawn(tokio::time::sleep(Duration::from_secs(1))))
                .collect();
            for handle in handles {
                handle.await.expect("sleeper");
            }
        });
        spawner.await.expect("spawner");
    });
    println!(
        "sleepers n={count} workers={workers} rss_before_kib={before} peak_kib={}",
        status_kib("VmHWM")
    );
}
