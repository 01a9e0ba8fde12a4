#!/usr/bin/env bash
# Times one OLTP LRU replay (capacity 1000) by tenure-sim and by the Python
# OrderedDict baseline, in the same hyperfine run. Run from the workspace root
# after `cargo build --release -p tenure-sim`; needs hyperfine, python3 and zstdcat.
#
# Usage: sim/scripts/bench_replay.sh [runs] [trace]
set -euo pipefail
cd "$(dirname "$0")/../.."
runs="${1:-20}"
sim="${CARGO_TARGET_DIR:-target}/release/tenure-sim"
trace="${2:-testdata/traces/OLTP.lis.zst}"
uptime
hyperfine -N --warmup 3 --runs "$runs" \
  "$sim replay --trace $trace --policy lru --capacity 1000 --quiet" \
  "python3 sim/scripts/lru_ordereddict.py $trace 1000"
