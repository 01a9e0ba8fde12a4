#!/usr/bin/env bash
# API docs must build without a single warning (broken links, missing docs).
set -euo pipefail
cd "$(dirname "$0")/.."
RUSTDOCFLAGS="-D warnings" cargo doc --workspace --no-deps
RUSTDOCFLAGS="-D warnings" cargo doc --workspace --no-deps --features tenure/tokio,tenure/metrics,tenure-openai/metrics
