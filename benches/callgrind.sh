#!/usr/bin/env bash
# Instructions per operation of each cache's hot paths (a get hit, an insert
# that evicts, a get-or-create miss into a full cache), counted by callgrind,
# and a ratchet against regressions.
#
#   benches/callgrind.sh                  print the table
#   benches/callgrind.sh --check FILE     ... and exit 1 if a count is more than
#                                         5 % above FILE's (benches/callgrind-budget.txt)
#   benches/callgrind.sh --write FILE     ... and write the counts measured to FILE as the budget
#   --ops N        measured operations per cell (default 200000)
#   --caches LIST  space-separated `paths` cache labels (default: every tenure
#                  policy, quick_cache and lru)
#   --paths LIST   from: hit insert create (default: all three)
#   --jobs N       cells run at once (default: CPUs; counts do not depend on it)
#   --out DIR      keep the callgrind files there (for callgrind_annotate)
#
# How: builds benches/examples/paths.rs in release and runs
# `paths PATH CACHE N` under valgrind --tool=callgrind for each cell. The
# example builds the cache as `compare` does, fills it, runs the path N times
# uncounted (a warm-up: evictions reach their steady state, TinyLfu's sketch
# and window settle), then N times inside `paths::measured_ops`, a function
# that is never inlined. `--collect-atstart=no --toggle-collect=` that
# function counts it (and what it calls) alone, so the fill, the warm-up and
# the teardown are left out and the total Ir ÷ N is instructions per
# operation, harness loop included. (Running N and 2N operations and taking
# the difference would do the same with two runs per cell.)
#
# Instruction counts do not move with machine load, and the example hashes
# with fixed seeds (tenure, quick_cache and lru otherwise seed per process,
# from the time), so two runs count the same, exactly, with one exception:
# Hybrid (every path) and SlidingTtl's hit read the coarse clock, as a user's
# cache does, and do some work once per clock tick, which under callgrind's
# slowdown comes at a rate that depends on machine load: those counts move by
# up to ~0.05 % (sometimes the last digit). Counts are whole instructions.
# Inlining depends on the whole binary, so a change elsewhere in it can move
# a count by ~1 % (and `compare`, another binary, may differ as much): hence
# the 5 % slack.
set -euo pipefail
cd "$(dirname "$0")/.."

ops=200000
caches="lru-bound sliding hybrid tinylfu s3fifo sieve quick_cache lru"
paths="hit insert create"
jobs=$(nproc 2>/dev/null || echo 1)
check="" write="" out=""
# The tolerance of --check, in percent above the budget.
slack=5

usage() {
  sed -n '6,15p' "$0" | sed 's/^# \{0,1\}//' >&2
  exit "${1:-2}"
}
while [ $# -gt 0 ]; do
  case "$1" in
    --check) check=${2:?--check needs a file}; shift 2 ;;
    --write) write=${2:?--write needs a file}; shift 2 ;;
    --ops) ops=${2:?--ops needs a number}; shift 2 ;;
    --caches) caches=${2:?--caches needs a list}; shift 2 ;;
    --paths) paths=${2:?--paths needs a list}; shift 2 ;;
    --jobs) jobs=${2:?--jobs needs a number}; shift 2 ;;
    --out) out=${2:?--out needs a directory}; shift 2 ;;
    -h | --help) usage 0 ;;
    *) echo "callgrind.sh: unknown argument '$1'" >&2; usage ;;
  esac
done
if [ -n "$check" ] && [ ! -f "$check" ]; then
  echo "callgrind.sh: no budget file '$check' (make one with --write)" >&2
  exit 2
fi
if ! command -v valgrind >/dev/null; then
  echo "callgrind.sh: valgrind not found (Debian: apt-get install valgrind)" >&2
  exit 2
fi

start=$SECONDS
cargo build --release --quiet -p tenure-benches --example paths
target_dir=$(cargo metadata --format-version 1 --no-deps |
  sed -n 's/.*"target_directory":"\([^"]*\)".*/\1/p')
bin="$target_dir/release/examples/paths"
if [ -n "$out" ]; then
  mkdir -p "$out"
  dir=$out
else
  dir=$(mktemp -d)
  trap 'rm -rf "$dir"' EXIT
fi

# One cell: writes DIR/CACHE.PATH.out (callgrind), .log (valgrind's own) and,
# if the example failed, .failed.
cell() {
  if ! valgrind --tool=callgrind --collect-atstart=no \
    --toggle-collect='paths::measured_ops' \
    --callgrind-out-file="$dir/$1.$2.out" --log-file="$dir/$1.$2.log" \
    "$bin" "$2" "$1" "$ops" >"$dir/$1.$2.stdout" 2>&1; then
    touch "$dir/$1.$2.failed"
  fi
}
running=0
for cache in $caches; do
  for path in $paths; do
    if [ "$running" -ge "$jobs" ]; then
      wait -n
      running=$((running - 1))
    fi
    cell "$cache" "$path" &
    running=$((running + 1))
  done
done
wait

# Lines "cache path instructions-per-op".
measured="$dir/measured.txt"
: >"$measured"
for cache in $caches; do
  for path in $paths; do
    if [ -e "$dir/$cache.$path.failed" ]; then
      echo "callgrind.sh: $path on $cache failed:" >&2
      cat "$dir/$cache.$path.stdout" "$dir/$cache.$path.log" >&2 || true
      exit 2
    fi
    total=$(sed -n 's/^summary: *\([0-9]*\).*/\1/p' "$dir/$cache.$path.out")
    if [ -z "$total" ] || [ "$total" = 0 ]; then
      echo "callgrind.sh: $path on $cache counted nothing (was paths::measured_ops inlined or renamed?)" >&2
      exit 2
    fi
    echo "$cache $path $(((total + ops / 2) / ops))" >>"$measured"
  done
done

# The table: a row per path, a column per cache.
{
  printf '| path |'
  for cache in $caches; do printf ' %s |' "$cache"; done
  printf '\n|---|'
  for cache in $caches; do printf -- '---:|'; done
  printf '\n'
  for path in $paths; do
    printf '| %s |' "$path"
    for cache in $caches; do
      printf ' %s |' "$(awk -v c="$cache" -v p="$path" '$1 == c && $2 == p { print $3 }' "$measured")"
    done
    printf '\n'
  done
}
echo "instructions per operation, $ops operations per cell after as many uncounted; $((SECONDS - start)) s"

status=0
if [ -n "$check" ]; then
  # Prints one line per cell out of bounds; FAIL lines make the check fail.
  report=$(awk -v slack="$slack" '
    /^[ \t]*(#|$)/ { next }
    FNR == NR { budget[$1 " " $2] = $3; next }
    {
      cell = $1 " " $2
      if (!(cell in budget)) { printf "note: no budget for %s on %s (%d)\n", $2, $1, $3; next }
      b = budget[cell]
      if ($3 > b * (1 + slack / 100))
        printf "FAIL: %s on %s: %d instructions per op, %.1f %% above the budget of %d (limit +%d %%)\n", $2, $1, $3, 100 * ($3 / b - 1), b, slack
      else if ($3 < b * (1 - slack / 100))
        printf "note: %s on %s: %d instructions per op, %.1f %% below the budget of %d: lower it (--write)\n", $2, $1, $3, 100 * (1 - $3 / b), b
    }' "$check" "$measured")
  [ -n "$report" ] && echo "$report"
  if grep -q '^FAIL' <<<"$report"; then
    status=1
  else
    echo "within budget ($check, +$slack %)"
  fi
fi
if [ -n "$write" ]; then
  {
    echo "# Instructions per operation: the ceiling benches/callgrind.sh --check allows (+$slack %)."
    echo "# A ratchet: lower a line when a change makes its path cheaper (--write FILE)."
    echo "# cache path instructions"
    cat "$measured"
  } >"$write"
  echo "wrote $write"
fi
exit "$status"
