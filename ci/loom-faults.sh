#!/usr/bin/env bash
# Shows that each loom model can fail: builds the cache with one test-only fault
# (`--cfg tenure_fault="..."`, see the cfg'd lines in cache/src) at a time and
# checks that every model guarding that invariant fails, quoting loom's failure.
# Not part of CI. Only the `tenure` crate is rebuilt per fault
# (ci/rustc-with-fault.sh adds the cfg to it alone), so a run takes minutes.
#
# Usage: ci/loom-faults.sh [fault ...]
set -euo pipefail
cd "$(dirname "$0")/.."

export RUSTFLAGS="--cfg tenure_loom"
export LOOM_MAX_PREEMPTIONS="${LOOM_MAX_PREEMPTIONS:-3}"
export RUSTC_WORKSPACE_WRAPPER="$PWD/ci/rustc-with-fault.sh"
export CARGO_TARGET_DIR="${LOOM_FAULTS_TARGET_DIR:-target-loom-faults}"

# fault => the models (tests in cache/tests/loom.rs) that must catch it
declare -A models=(
  [no_flight]="a1_single_flight_two_sync_threads a2_single_flight_two_async_callers a3_single_flight_sync_and_async a4_single_flight_three_sync_threads"
  [keep_abandoned]="b1_hand_over_after_creator_panics b2_hand_over_after_creator_error b3_hand_over_after_async_creator_is_dropped"
  [len_before_evict]="c1_capacity_one_two_inserters c2_capacity_two_three_inserts"
  [skip_hit_expiry]="d1_read_racing_expiry_and_maintenance d2_read_racing_lifetime_and_repeated_maintenance"
  [reclaim_trusts_policy]="d1_read_racing_expiry_and_maintenance d2_read_racing_lifetime_and_repeated_maintenance"
  [stale_remove]="e1_listener_once_remove_vs_insert"
  [lost_removal]="e1_listener_once_remove_vs_insert e2_listener_once_clear_vs_insert_and_remove e3_listener_once_insert_vs_insert"
  [racy_stop_wait]="f_sweeper_ends_when_cache_is_dropped"
  [reclaim_in_read_order]="g_two_readers_then_maintenance_and_remove"
  [reused_slot_record]="h_slot_reused_between_read_and_drain"
  [store_touch]="i_racing_touches_of_one_entry"
  [skip_mark]="j1_marked_read_racing_an_evicting_insert"
  [overwrite_on_create]="k1_creation_racing_an_insert_and_a_remove"
  [unregister_after_write]="k2_removed_value_not_handed_out_again"
)
faults=("$@")
if [ ${#faults[@]} -eq 0 ]; then
  faults=(no_flight keep_abandoned len_before_evict skip_hit_expiry reclaim_trusts_policy
    stale_remove lost_removal racy_stop_wait reclaim_in_read_order reused_slot_record store_touch skip_mark
    overwrite_on_create unregister_after_write)
fi
mkdir -p "$CARGO_TARGET_DIR"

status=0
for fault in "${faults[@]}"; do
  echo "=== fault $fault"
  # The fault is not part of cargo's fingerprint: force the crate to rebuild.
  touch cache/src/lib.rs
  build_log="$CARGO_TARGET_DIR/fault-$fault-build.log"
  if ! TENURE_FAULT="$fault" cargo test -p tenure --release --test loom --no-run >"$build_log" 2>&1; then
    echo "!!! the build with fault $fault failed (see $build_log)"
    status=1
    continue
  fi
  for model in ${models[$fault]:?unknown fault $fault}; do
    log="$CARGO_TARGET_DIR/fault-$fault-$model.log"
    # A deadlock makes loom abort the whole test binary, so run one model at a time.
    if TENURE_FAULT="$fault" cargo test -p tenure --release --test loom -- --exact "$model" >"$log" 2>&1; then
      echo "!!! $model did NOT catch fault $fault (see $log)"
      status=1
    elif grep -qE "^test result: FAILED|deadlock; threads" "$log"; then
      echo "--- $model caught it:"
      # Where it failed and why: the panic line and the message after it.
      grep -E -A3 "panicked at" "$log" | grep -vE "^(--|stack backtrace:|note:|thread .* rt/thread.rs|called .Option::unwrap|^ +[0-9]+: )" | head -4 | sed 's/^/    /'
    else
      echo "!!! $model failed without a test failure (see $log)"
      status=1
    fi
  done
done
# Leave no faulted build behind.
touch cache/src/lib.rs
exit $status
