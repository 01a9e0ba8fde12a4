#!/usr/bin/env bash
# Benches are built (not run) in CI so they never rot; run them by hand, see docs/benchmarks.md.
# The one exception: instructions per operation of each cache's hit, insert and
# get-or-create paths (benches/callgrind.sh, 30 s–2 min), which fail the step
# when one rises more than 5 % above benches/callgrind-budget.txt.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release -p tenure-benches --all-targets
if ! command -v valgrind >/dev/null; then
  # CI runs as root on Debian; by hand, sudo may be needed.
  sudo=$([ "$(id -u)" = 0 ] || echo sudo)
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq valgrind >/dev/null
fi
bash benches/callgrind.sh --check benches/callgrind-budget.txt
