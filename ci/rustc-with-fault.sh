#!/usr/bin/env bash
# RUSTC_WORKSPACE_WRAPPER for ci/loom-faults.sh: compiles the `tenure` crate with
# `--cfg tenure_fault="$TENURE_FAULT"`, every other crate unchanged (so the
# dependencies built for the loom run are reused).
set -euo pipefail
for arg in "$@"; do
  if [ "$arg" = "tenure" ] && [ -n "${TENURE_FAULT:-}" ]; then
    exec "$@" --cfg "tenure_fault=\"$TENURE_FAULT\""
  fi
done
exec "$@"
