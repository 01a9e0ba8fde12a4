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

    /// How many calls were recorded since the last `take`.
    pub(crate) fn count(&self) -> usize {
        self.seen.lock().unwrap().len()
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

/// The payload of this suite's deliberate panics (from listeners and creators),
/// which [`quiet_deliberate_panics`] keeps out of the test output.
pub(crate) struct Deliberate;

/// Silences panics whose payload is [`Deliberate`], or whose message contains
/// one of `expected` (panics the cache raises on purpose); every other panic
/// still prints. Installed once per test binary.
pub(crate) fn quiet_deliberate_panics(expected: &'static [&'static str]) {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let default = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let message = panic_message(info.payload());
            let expected = expected.iter().any(|e| message.contains(e));
            if !info.payload().is::<Deliberate>() && !expected {
                default(info);
            }
        }));
    });
}

/// The text of a panic payload (empty if it is not a string).
pub(crate) fn panic_message(payload: &(dyn std::any::Any + Send)) -> &str {
    payload
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| payload.downcast_ref::<&str>().copied())
        .unwrap_or("")
}

/// Waits until this process has `n` threads named as the sweeper names its
/// thread (on Linux, where `/proc` tells; elsewhere this checks nothing).
pub(crate) fn wait_for_sweeper_threads(n: usize, what: &str) {
    #[cfg(target_os = "linux")]
    wait_until(what, || {
        let tasks = std::fs::read_dir("/proc/self/task").expect("read /proc/self/task");
        tasks
            .filter_map(|task| std::fs::read_to_string(task.ok()?.path().join("comm")).ok())
            .filter(|name| name.trim_end() == "tenure-sweeper")
            .count()
            == n
    });
    let _ = (n, what);
}

/// Whether `op` panicked with [`Deliberate`] (any other panic fails the test).
pub(crate) fn panics_deliberately(op: impl FnOnce()) -> bool {
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(op)) {
        Ok(()) => false,
        Err(payload) => {
            assert!(payload.is::<Deliberate>(), "an unexpected panic");
            true
        }
    }
}
