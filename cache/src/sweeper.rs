//! Background reclamation of expired entries.
//!
//! A sweeper holds only a [`Weak`] reference to the cache, so it never keeps the
//! cache alive; it stops as soon as its [`Sweeper`] handle or the cache is dropped
//! (the cache signals every sweeper it started). A std-thread sweeper is a
//! detached thread that never blocks process exit; a tokio sweeper is a task.

use std::fmt;
use std::time::Duration;

use crate::faults;
use crate::sync::{Arc, AtomicBool, Condvar, Mutex, Ordering, Weak, thread};

/// What a sweeper calls; implemented by the cache.
pub(crate) trait Maintain: Send + Sync {
    fn maintain(&self);
}

/// Wakes a thread sweeper early when it must stop.
pub(crate) struct StopSignal {
    stopped: Mutex<bool>,
    wake: Condvar,
    finished: AtomicBool,
}

impl StopSignal {
    fn stop(&self) {
        *self.stopped.lock() = true;
        self.wake.notify_all();
    }

    /// Waits up to `interval`; returns whether the sweeper must stop.
    fn wait(&self, interval: Duration) -> bool {
        let stopped = self.stopped.lock();
        if *stopped {
            return true;
        }
        let stopped = faults::racy_stop_wait(stopped, || self.stopped.lock());
        *self.wake.wait_timeout(stopped, interval)
    }
}

impl Default for StopSignal {
    fn default() -> Self {
        StopSignal {
            stopped: Mutex::new(false),
            wake: Condvar::new(),
            finished: AtomicBool::new(false),
        }
    }
}

/// How to stop one sweeper.
#[derive(Clone)]
pub(crate) enum StopHandle {
    Thread(Arc<StopSignal>),
    #[cfg(feature = "tokio")]
    Task(tokio::task::AbortHandle),
}

impl StopHandle {
    pub(crate) fn stop(&self) {
        match self {
            StopHandle::Thread(signal) => signal.stop(),
            #[cfg(feature = "tokio")]
            StopHandle::Task(task) => task.abort(),
        }
    }
}

/// `start_tokio_sweeper` was called outside a tokio runtime.
#[cfg(feature = "tokio")]
#[derive(Debug, Clone, thiserror::Error)]
#[error("a tokio sweeper must be started inside a tokio runtime")]
pub struct SweeperError;

/// A running sweeper. Dropping it stops the sweeper.
///
/// ```
/// use std::time::Duration;
/// use tenure::{Cache, SlidingTtl};
///
/// let cache: Cache<u32, u32, SlidingTtl> = Cache::new(SlidingTtl::new(Duration::from_secs(60))?);
/// let sweeper = cache.start_sweeper(Duration::from_secs(5));
/// drop(cache);
/// sweeper.join(); // the thread has noticed the cache is gone and ended
/// # Ok::<(), tenure::PolicyError>(())
/// ```
#[must_use = "dropping a Sweeper stops it"]
pub struct Sweeper {
    stop: StopHandle,
    thread: Option<thread::JoinHandle<()>>,
}

impl fmt::Debug for Sweeper {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sweeper")
            .field("finished", &self.is_finished())
            .finish()
    }
}

impl Sweeper {
    pub(crate) fn thread(cache: Weak<dyn Maintain>, interval: Duration) -> Sweeper {
        let signal = Arc::new(StopSignal::default());
        let stop = Arc::clone(&signal);
        let body = move || {
            while !signal.wait(interval) {
                match cache.upgrade() {
                    Some(cache) => cache.maintain(),
                    None => break,
                }
            }
            signal.finished.store(true, Ordering::Release);
        };
        let thread = thread::Builder::new()
            .name("tenure-sweeper".into())
            .spawn(body)
            .expect("tenure: could not start the sweeper thread");
        Sweeper {
            stop: StopHandle::Thread(stop),
            thread: Some(thread),
        }
    }

    #[cfg(feature = "tokio")]
    pub(crate) fn tokio(
        cache: Weak<dyn Maintain>,
        interval: Duration,
    ) -> Result<Sweeper, SweeperError> {
        let runtime = tokio::runtime::Handle::try_current().map_err(|_| SweeperError)?;
        let task = runtime.spawn(async move {
            loop {
                tokio::time::sleep(interval).await;
                match cache.upgrade() {
                    Some(cache) => cache.maintain(),
                    None => break,
                }
            }
        });
        Ok(Sweeper {
            stop: StopHandle::Task(task.abort_handle()),
            thread: None,
        })
    }

    pub(crate) fn stop_handle(&self) -> StopHandle {
        self.stop.clone()
    }

    /// Whether the sweeper has ended.
    pub fn is_finished(&self) -> bool {
        match &self.stop {
            StopHandle::Thread(signal) => signal.finished.load(Ordering::Acquire),
            #[cfg(feature = "tokio")]
            StopHandle::Task(task) => task.is_finished(),
        }
    }

    /// Waits for a thread sweeper to end *without* asking it to: use after
    /// dropping the cache to see it stop. (To stop it, drop the handle.) Returns
    /// at once for a tokio sweeper.
    pub fn join(mut self) {
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Drop for Sweeper {
    fn drop(&mut self) {
        self.stop.stop();
    }
}
