#!/usr/bin/env bash
# The README's test command: every unit, integration and doc test in the workspace.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -d ../shared/traces ]; then
  echo "ci/test.sh: ../shared/traces is missing (tests replay the ARC traces from there)" >&2
  exit 1
fi
export NO_PROXY="127.0.0.1,localhost${NO_PROXY:+,$NO_PROXY}"
cargo test --workspace --features tenure/tokio
