#!/usr/bin/env bash
# The README's test command: every unit, integration and doc test in the workspace.
# Needs nothing outside the repository (the trace tests read testdata/traces).
set -euo pipefail
cd "$(dirname "$0")/.."
export NO_PROXY="127.0.0.1,localhost${NO_PROXY:+,$NO_PROXY}"
cargo test --workspace --features tenure/tokio,tenure/metrics,tenure-openai/metrics
