#!/usr/bin/env python3
"""W4: start + join of a process running an empty function, with CPython's three start methods.

Prints one JSON object per line, e.g.
  {"id": "W4_start_join/cpython_fork/empty", "ns_per_iter": 2980000.0}
Usage: python3 benches/python/mp_process_start.py [--quick]
"""
import json
import multiprocessing as mp
import sys
import time


def empty():
    pass


def measure(method, n):
    ctx = mp.get_context(method)
    # Warm up (starts the forkserver, imports in the server, fills caches).
    for _ in range(2):
        p = ctx.Process(target=empty)
        p.start()
        p.join()
    samples = []
    for _ in range(n):
        t0 = time.perf_counter_ns()
        p = ctx.Process(target=empty)
        p.start()
        p.join()
        samples.append(time.perf_counter_ns() - t0)
    samples.sort()
    return float(samples[len(samples) // 2])


def main():
    quick = "--quick" in sys.argv
    counts = {"fork": 20 if quick else 200, "forkserver": 10 if quick else 100, "spawn": 5 if quick else 30}
    for method in ("fork", "forkserver", "spawn"):
        ns = measure(method, counts[method])
        print(json.dumps({"id": f"W4_start_join/cpython_{method}/empty", "ns_per_iter": ns}), flush=True)


if __name__ == "__main__":
    main()
