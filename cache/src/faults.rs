//! Test-only faults: each breaks one invariant that a loom model checks, so the
//! model can be shown to fail (`ci/loom-faults.sh` builds the crate with
//! `--cfg tenure_fault="<name>"`). In every other build each function here is a
//! constant `false` or passes its input through, and the compiler removes it.
//! A site that can be broken calls one of these, once, in one line.

use crate::RemovalCause;

/// Register no flight, so racing creators all create (models a): skips
/// `register`.
pub(crate) fn no_flight(register: impl FnOnce()) {
    if !cfg!(tenure_fault = "no_flight") {
        register();
    }
}

/// Leave an abandoned flight running, so its waiters hang (models b): skips
/// `retire`.
pub(crate) fn keep_abandoned(retire: impl FnOnce()) {
    if !cfg!(tenure_fault = "keep_abandoned") {
        retire();
    }
}

/// Store a created value over one written while its creator ran (models k1).
pub(crate) fn overwrite_on_create() -> bool {
    cfg!(tenure_fault = "overwrite_on_create")
}

/// Take a finished creation's flight off the registry only after its write,
/// so a call after a `remove` of its value can still join it (models k2).
pub(crate) fn unregister_after_write() -> bool {
    cfg!(tenure_fault = "unregister_after_write")
}

/// Publish the length before evicting down to the bound (models c): runs
/// `publish` only under the fault.
pub(crate) fn len_before_evict(publish: impl FnOnce()) {
    if cfg!(tenure_fault = "len_before_evict") {
        publish();
    }
}

/// Hand out an entry without checking its deadline (models d).
pub(crate) fn skip_hit_expiry() -> bool {
    cfg!(tenure_fault = "skip_hit_expiry")
}

/// Reclaim a due entry on the deadline structure's word alone, without
/// checking the entry's own last access (models d).
pub(crate) fn reclaim_trusts_policy() -> bool {
    cfg!(tenure_fault = "reclaim_trusts_policy")
}

/// Once reclamation meets a live entry, put every later due entry back
/// unchecked, as a reclaimer that trusts a list kept in replayed-read order
/// would stop there (the read-path models). Otherwise just runs `check`, which
/// answers as the timer wheel's check does (`Some(deadline)`: live).
pub(crate) fn reclaim_in_read_order(
    met_live: &mut bool,
    now: crate::Timestamp,
    check: impl FnOnce() -> Option<crate::Timestamp>,
) -> Option<crate::Timestamp> {
    if !cfg!(tenure_fault = "reclaim_in_read_order") {
        return check();
    }
    if *met_live {
        return Some(now + std::time::Duration::from_nanos(1));
    }
    let verdict = check();
    *met_live = verdict.is_some();
    verdict
}

/// Publish a hit's read record after releasing the table lock, so a removal
/// and a reuse of the position can slip in between (the read-path models):
/// returns the guard to release later, or releases it now.
pub(crate) fn unlock_before_record<G>(guard: G) -> Option<G> {
    if cfg!(tenure_fault = "reused_slot_record") {
        drop(guard);
        return None;
    }
    Some(guard)
}

/// Store an entry's access time instead of only moving it forward (the
/// read-path models): under the fault, stores `now` itself and returns 0 (no
/// time left to record); otherwise returns `now`.
pub(crate) fn store_touch(last_access: &crate::sync::AtomicU64, now: u64) -> u64 {
    if cfg!(tenure_fault = "store_touch") {
        last_access.store(now, crate::sync::Ordering::Release);
        return 0;
    }
    now
}

/// Report a removed entry with a value read before the write lock was taken
/// (models e): [`stale_peek`] runs `peek` before the write, and
/// [`stale_remove`] then puts the peeked value in the write's last removal.
pub(crate) fn stale_peek<V>(peek: impl FnOnce() -> Option<V>) -> Option<V> {
    if cfg!(tenure_fault = "stale_remove") {
        peek()
    } else {
        None
    }
}

/// See [`stale_peek`]: hands the peeked value to `report`, which puts it in
/// the write's last removal; passes `removed` through.
pub(crate) fn stale_remove<V, R>(stale: Option<V>, removed: R, report: impl FnOnce(V)) -> R {
    if let Some(stale) = stale {
        report(stale);
    }
    removed
}

/// Lose the listener call of a replaced or cleared entry (models e).
pub(crate) fn lost_removal(cause: RemovalCause) -> bool {
    cfg!(tenure_fault = "lost_removal")
        && matches!(cause, RemovalCause::Replaced | RemovalCause::Cleared)
}

/// Unlock between a sweeper's stop check and its wait, so a stop signalled in
/// between is never seen (model f): drops `guard` and locks again.
pub(crate) fn racy_stop_wait<G>(guard: G, relock: impl FnOnce() -> G) -> G {
    if cfg!(tenure_fault = "racy_stop_wait") {
        drop(guard);
        return relock();
    }
    guard
}

/// Count no read of a marking policy's entry, as if hits were not recorded at
/// all (model j): `false` under the fault.
pub(crate) fn mark_reads() -> bool {
    !cfg!(tenure_fault = "skip_mark")
}
