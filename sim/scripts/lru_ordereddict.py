#!/usr/bin/env python3
"""Exact LRU over an ARC .lis trace with collections.OrderedDict: the baseline
tenure-sim's replay speed is compared against (docs/benchmarks.md, "Simulator speed").

Usage: lru_ordereddict.py TRACE CAPACITY
TRACE may be Zstandard-compressed (read through the `zstdcat` command).
Prints the hit ratio in percent with two decimals, then hits and accesses.
Standard library only.
"""

import subprocess
import sys
from collections import OrderedDict


def lines(path):
    if path.endswith(".zst"):
        proc = subprocess.Popen(["zstdcat", path], stdout=subprocess.PIPE, text=True)
        yield from proc.stdout
        if proc.wait() != 0:
            sys.exit(f"zstdcat failed on {path}")
    else:
        with open(path) as f:
            yield from f


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    path, capacity = sys.argv[1], int(sys.argv[2])
    cache = OrderedDict()
    hits = accesses = 0
    for line in lines(path):
        fields = line.split()
        if not fields:
            continue
        start, count = int(fields[0]), int(fields[1])
        for block in range(start, start + count):
            accesses += 1
            if block in cache:
                hits += 1
                cache.move_to_end(block)
            else:
                cache[block] = None
                if len(cache) > capacity:
                    cache.popitem(last=False)
    print(f"hit_ratio {100 * hits / accesses:.2f} hits {hits} accesses {accesses}")


if __name__ == "__main__":
    main()
