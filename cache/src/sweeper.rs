//! Background reclamation of expired entries.
//!
//! A sweeper holds only a [`Weak`] reference to the cache, so it never keeps the
//! cache alive; it stops as soon as its [`Sweeper`] handle or the cache is dropped
//! (the cache signals every sweeper it started). A std-thread sweeper is a
//! detached thread that never blocks process exit; a tokio sweeper is a task.
//!
//! A panic during a sweep (a removal listener's, in practice) is caught and the
//! sweeper goes on: the cache is consistent by the time the listener runs, and
//! a sweeper that died would leave expired entries held for good.

use std::fmt;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::time::Duration;

use crate::faults;
use crate::sync::{Arc, AtomicBool, Condvar, Mutex, Ordering, Weak, thread};

/// What a sweeper calls; implemented by the cache.
pub(crate) trait Maintain: Send + Sync {
    fn maintain(&self);
}

/// A sweep interval shorter than [`Sweeper::MIN_INTERVAL`]: such a sweeper would
/// spin on the policy lock rather than sleep.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("`sweep_interval` must be at least 1ms")]
pub struct SweepIntervalError;

/// Checks a sweep interval; every API that takes one calls this.
///
/// # Errors
/// [`SweepIntervalError`] if `interval` is shorter than [`Sweeper::MIN_INTERVAL`].
pub(crate) fn check_interval(interval: Duration) -> Result<Duration, SweepIntervalError> {
    match interval >= Sweeper::MIN_INTERVAL {
        true => Ok(interval),
        false => Err(SweepIntervalError),
    }
}

/// A sweeper could not be started.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SweeperError {
    /// The interval is shorter than [`Sweeper::MIN_INTERVAL`].
    #[error(transparent)]
    IntervalTooShort(#[from] SweepIntervalError),
    /// A tokio sweeper was asked for outside a tokio runtime.
    #[error("a tokio sweeper must be started inside a tokio runtime")]
    NoTokioRuntime,
}

/// Wakes a thread sweeper early when it must stop, and records that a sweeper
/// (thread or task) has ended.
pub(crate) struct StopSignal {
    stopped: Mutex<bool>,
    wake: Condvar,
    /// Set once the sweeper's body has been dropped, however it ended.
    finished: AtomicBool,
}

impl StopSignal {
    fn stop(&self) {
        *self.stopped.lock() = true;
        self.wake.notify_all();
    }

    fn is_stopped(&self) -> bool {
        *self.stopped.lock()
    }

    fn is_finished(&self) -> bool {
        self.finished.load(Ordering::Acquire)
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

/// Moved into a sweeper's body: marks the sweeper finished when the body is
/// dropped, whether it returned, unwound, or (a task) was never polled.
struct FinishOnDrop(Arc<StopSignal>);

impl Drop for FinishOnDrop {
    fn drop(&mut self) {
        self.0.finished.store(true, Ordering::Release);
    }
}

/// How to stop one sweeper.
#[derive(Clone)]
struct StopHandle {
    signal: Arc<StopSignal>,
    #[cfg(feature = "tokio")]
    task: Option<tokio::task::AbortHandle>,
}

impl StopHandle {
    fn stop(&self) {
        self.signal.stop();
        #[cfg(feature = "tokio")]
        if let Some(task) = &self.task {
            task.abort();
        }
    }

    /// Whether the sweeper may still need stopping by the cache.
    fn is_live(&self) -> bool {
        !self.signal.is_finished() && !self.signal.is_stopped()
    }
}

/// The stop handles of the sweepers a cache started, so that dropping the cache
/// stops them. Only live ones are kept: restarting sweepers does not
/// accumulate handles.
pub(crate) struct Sweepers(Mutex<Vec<StopHandle>>);

impl Sweepers {
    pub(crate) fn new() -> Self {
        Sweepers(Mutex::new(Vec::new()))
    }

    /// Remembers `sweeper`, forgetting those that have stopped or ended.
    pub(crate) fn register(&self, sweeper: &Sweeper) {
        let mut handles = self.0.lock();
        handles.retain(StopHandle::is_live);
        handles.push(sweeper.stop.clone());
    }

    /// Stops every sweeper still registered.
    pub(crate) fn stop_all(&self) {
        for handle in self.0.lock().drain(..) {
            handle.stop();
        }
    }
}

/// One sweep: maintains the cache if it is still alive; returns whether it was.
/// A panic from maintenance (a listener's) is caught, already counted by the
/// cache, and does not end the sweeper.
fn sweep(cache: &Weak<dyn Maintain>) -> bool {
    let Some(cache) = cache.upgrade() else {
        return false;
    };
    let _ = catch_unwind(AssertUnwindSafe(|| cache.maintain()));
    true
}

/// A running sweeper. Dropping it stops the sweeper.
///
/// ```
/// use std::time::Duration;
/// use tenure::Cache;
///
/// let cache: Cache<u32, u32> = Cache::builder().time_to_idle(Duration::from_secs(60)).build()?;
/// let sweeper = cache.start_sweeper(Duration::from_secs(5))?;
/// drop(cache);
/// sweeper.join(); // the thread has noticed the cache is gone and ended
/// # Ok::<(), Box<dyn std::error::Error>>(())
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
    /// The shortest interval a sweeper accepts. A shorter one would make the
    /// sweeper spin on the cache's policy lock instead of sleeping.
    pub const MIN_INTERVAL: Duration = Duration::from_millis(1);

    pub(crate) fn thread(
        cache: Weak<dyn Maintain>,
        interval: Duration,
    ) -> Result<Sweeper, SweeperError> {
        let interval = check_interval(interval)?;
        let signal = Arc::new(StopSignal::default());
        let finish = FinishOnDrop(Arc::clone(&signal));
        let stop = StopHandle {
            signal: Arc::clone(&signal),
            #[cfg(feature = "tokio")]
            task: None,
        };
        let body = move || {
            let _finish = finish;
            while !signal.wait(interval) && sweep(&cache) {}
        };
        let thread = thread::Builder::new()
            .name("tenure-sweeper".into())
            .spawn(body)
            .expect("tenure: could not start the sweeper thread");
        Ok(Sweeper {
            stop,
            thread: Some(thread),
        })
    }

    #[cfg(feature = "tokio")]
    pub(crate) fn tokio(
        cache: Weak<dyn Maintain>,
        interval: Duration,
    ) -> Result<Sweeper, SweeperError> {
        let interval = check_interval(interval)?;
        let runtime =
            tokio::runtime::Handle::try_current().map_err(|_| SweeperError::NoTokioRuntime)?;
        let signal = Arc::new(StopSignal::default());
        let finish = FinishOnDrop(Arc::clone(&signal));
        let task = runtime.spawn(async move {
            let _finish = finish;
            loop {
                tokio::time::sleep(interval).await;
                if !sweep(&cache) {
                    break;
                }
            }
        });
        Ok(Sweeper {
            stop: StopHandle {
                signal,
                task: Some(task.abort_handle()),
            },
            thread: None,
        })
    }

    /// A sweeper on a tokio task if `on_tokio` and a runtime is current, else on
    /// a std thread (the builder's `sweep_on_tokio_every`).
    pub(crate) fn configured(
        cache: Weak<dyn Maintain>,
        interval: Duration,
        on_tokio: bool,
    ) -> Result<Sweeper, SweeperError> {
        #[cfg(feature = "tokio")]
        if on_tokio {
            match Sweeper::tokio(cache.clone(), interval) {
                Err(SweeperError::NoTokioRuntime) => {}
                started => return started,
            }
        }
        let _ = on_tokio;
        Sweeper::thread(cache, interval)
    }

    /// Whether the sweeper has ended: it was stopped, its cache was dropped, or
    /// (a task) its runtime shut down.
    pub fn is_finished(&self) -> bool {
        self.stop.signal.is_finished()
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
