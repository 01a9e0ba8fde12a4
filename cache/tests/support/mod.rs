//! Shared pieces of the integration tests: a removal recorder and bounded waits.
//!
//! Each test binary uses a subset of these, hence the `dead_code` allowance.
#![allow(dead_code)]

use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tenure::RemovalCause;

/// How long a test waits for another thread before it declares a hang.
pub(crate) const PATIENCE: Duration = Duration::from_secs(10);

/// Records every call of a removal listener, in call order.
pub(crate) struct Removals<K, V> {
    seen: Arc<Mutex<Vec<(K, V, RemovalCause)>>>,
}

impl<K, V> Clone for Removals<K, V> {
    fn clone(&self) -> Self {
        Removals {
            seen: Arc::clone(&self.seen),
        }
    }
}

impl<K: Send + 'static, V: Send + 'static> Removals<K, V> {
    pub(crate) fn new() -> Self {
        Removals {
            seen: Arc::new(Mutex::new(Vec::new())),
        }
    }

    /// A listener that records into `self`.
    pub(crate) fn listener(&self) -> impl Fn(K, V, RemovalCause) + Send + Sync + 'static {
        let seen = Arc::clone(&self.seen);
        move |k, v, cause| seen.lock().unwrap().push((k, v, cause))
    }

    /// Everything recorded since the last `take`, in call order.
    pub(crate) fn take(&self) -> Vec<(K, V, RemovalCause)> {
        std::mem::take(&mut *self.seen.lock().unwrap())
    }

    /// Like [`take`](Removals::take), sorted (for comparing multisets).
    pub(crate) fn take_sorted(&self) -> Vec<(K, V, RemovalCause)>
    where
        K: Ord,
        V: Ord,
    {
        let mut all = self.take();
        all.sort();
        all
    }
}

/// Polls `done` until it holds; panics naming `what` after [`PATIENCE`]. This
/// waits for other threads to make progress, never for time to pass.
pub(crate) fn wait_until(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + PATIENCE;
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting until {what}");
        std::thread::sleep(Duration::from_millis(1));
    }
}

/// Runs `body` on its own thread and returns its result; fails the test if it
/// has not finished within [`PATIENCE`] (a deadlock) and re-raises its panic.
pub(crate) fn within_patience<R: Send + 'static>(
    what: &str,
    body: impl FnOnce() -> R + Send + 'static,
) -> R {
    let (done, finished) = mpsc::channel();
    let worker = std::thread::spawn(move || {
        let result = body();
        let _ = done.send(());
        result
    });
    match finished.recv_timeout(PATIENCE) {
        // Disconnected: the body panicked; `join` hands its panic back.
        Ok(()) | Err(mpsc::RecvTimeoutError::Disconnected) => worker
            .join()
            .unwrap_or_else(|p| std::panic::resume_unwind(p)),
        Err(mpsc::RecvTimeoutError::Timeout) => {
            panic!("{what}: still running after {PATIENCE:?} (deadlock?)")
        }
    }
}
