#!/usr/bin/env bash
# Benches are built (not run) in CI so they never rot; run them by hand, see docs/benchmarks.md.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release -p tenure-benches --all-targets
