#!/usr/bin/env bash
# Model-checks the cache core with loom (cache/tests/loom.rs).
#
# The cache's sync shim (cache/src/sync.rs) swaps in loom's locks, atomics,
# condvar and threads under `--cfg tenure_loom`; loom then runs each model under
# every interleaving up to LOOM_MAX_PREEMPTIONS preemptions. A separate target
# dir keeps this build (RUSTFLAGS differ) from throwing away the normal one.
#
# Usage: ci/loom.sh [extra test-name filter]
set -euo pipefail
cd "$(dirname "$0")/.."

export RUSTFLAGS="--cfg tenure_loom"
export LOOM_MAX_PREEMPTIONS="${LOOM_MAX_PREEMPTIONS:-3}"
export CARGO_TARGET_DIR="${LOOM_TARGET_DIR:-target-loom}"

start=$(date +%s)
# The models are compiled only under the cfg, so lint them here.
cargo clippy -p tenure --release --test loom -- -D warnings
cargo test -p tenure --release --test loom -- --test-threads=1 --nocapture "$@" 2>&1 \
  | grep -v '^$'
echo "loom: all models passed at LOOM_MAX_PREEMPTIONS=$LOOM_MAX_PREEMPTIONS in $(( $(date +%s) - start ))s (build included)"
