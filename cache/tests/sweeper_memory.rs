//! Issue 10, item 5: starting and stopping sweepers does not accumulate memory
//! in the cache (each stop used to leave its stop handle behind).
//!
//! Observed from outside, as heap bytes held, with dhat's counting allocator
//! installed for this test binary only: that is the cost the issue is about,
//! and it does not depend on how the cache stores its handles. One test in the
//! binary, so nothing else allocates while it measures.

mod support;

use std::thread;
use std::time::Duration;

use support::wait_until;
use tenure::policy::SlidingTtl;
use tenure::{Cache, CacheBuilder, ManualClock};

#[global_allocator]
static ALLOC: dhat::Alloc = dhat::Alloc;

const RESTARTS: usize = 5_000;
/// Two threads start and stop sweepers on the same cache at once.
const THREADS: usize = 2;
/// Far longer than the test: every sweeper ends because it is stopped.
const INTERVAL: Duration = Duration::from_secs(3600);
/// Heap the cache may keep after all the restarts: a few handles and their
/// list, not thousands (each restart used to keep ~45 B, 224 KB in all), plus
/// room for the lock library's thread table to grow a step.
const SLACK: usize = 16 * 1024;

/// The one place this file builds a cache.
fn build(builder: CacheBuilder<u32, u32, SlidingTtl>) -> Cache<u32, u32, SlidingTtl> {
    builder.build().expect("a valid cache")
}

fn heap() -> usize {
    dhat::HeapStats::get().curr_bytes
}

/// This process's threads (on Linux; elsewhere 0, and the test then trusts
/// that stopped sweeper threads have exited by the time it measures). Counted
/// by number, not name: a thread not yet running has no name of its own.
fn threads() -> usize {
    std::fs::read_dir("/proc/self/task").map_or(0, Iterator::count)
}

#[test]
fn restarting_sweepers_keeps_the_cache_s_memory_flat() {
    let cache = build(
        Cache::builder()
            .policy(SlidingTtl::new(Duration::from_secs(60)).unwrap())
            .clock(ManualClock::new()),
    );
    let _profiler = dhat::Profiler::builder().testing().build();

    // Thread sweepers, started and stopped from two threads at once. A first
    // round is not measured: it grows process-wide per-thread tables (the
    // lock library's, which never shrink) to this test's peak thread count.
    let restarts = || {
        let idle = threads();
        thread::scope(|s| {
            for _ in 0..THREADS {
                s.spawn(|| {
                    for _ in 0..RESTARTS / THREADS {
                        drop(cache.start_sweeper(INTERVAL).unwrap());
                        // Keeps that peak small and steady: at most one
                        // stopped sweeper thread per restarting thread is
                        // still exiting.
                        wait_until("stopped sweeper threads exit", || {
                            threads() <= idle + 2 * THREADS
                        });
                    }
                });
            }
        });
        // Each stopped thread frees what it allocated as it exits.
        wait_until("every stopped sweeper thread has exited", || {
            threads() <= idle
        });
    };
    restarts();
    let before = heap();
    restarts();
    let kept = heap().saturating_sub(before);
    println!("{RESTARTS} thread sweeper restarts kept {kept} B");
    assert!(
        kept <= SLACK,
        "{RESTARTS} thread sweeper restarts left {kept} B on the heap (allowed {SLACK} B)"
    );
    #[cfg(feature = "tokio")]
    tokio_restarts(&cache);
    assert!(cache.is_empty());
}

/// The same with tokio sweepers, on a current-thread runtime (which reaps the
/// aborted tasks only when this thread yields to it).
#[cfg(feature = "tokio")]
fn tokio_restarts(cache: &Cache<u32, u32, SlidingTtl>) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .unwrap();

    // Tokio sweepers. A first round grows the runtime's own run queue to hold
    // 5,000 tasks, and it keeps that capacity; the second round is measured.
    let restarts = || {
        runtime.block_on(async {
            for _ in 0..RESTARTS {
                drop(cache.start_tokio_sweeper(INTERVAL).unwrap());
            }
            let metrics = tokio::runtime::Handle::current().metrics();
            let reaped = async {
                while metrics.num_alive_tasks() > 0 {
                    tokio::task::yield_now().await;
                }
            };
            tokio::time::timeout(support::PATIENCE, reaped)
                .await
                .expect("the runtime reaps the aborted sweeper tasks");
        });
    };
    restarts();
    let before = heap();
    restarts();
    let kept = heap().saturating_sub(before);
    println!("{RESTARTS} tokio sweeper restarts kept {kept} B");
    assert!(
        kept <= SLACK,
        "{RESTARTS} tokio sweeper restarts left {kept} B on the heap (allowed {SLACK} B)"
    );
}
