#!/usr/bin/env python3
"""W5a and W5b with CPython's multiprocessing.Pool (fork), the same scenarios as benches/pool.rs.

W5a: Pool(2).map(square, range(1_000_000)) on a pool whose workers already run.
W5b: Pool(2).map(burn, [iters] * 2000), where burn() spins for about 1 ms; also the serial
time of the same tasks and the efficiency serial / (2 x parallel).

Prints one JSON object per line, e.g.
  {"id": "W5a_map_squares/cpython/1M", "ns_per_iter": 257000000.0}
  {"id": "W5b_cpu_tasks/cpython/2000x1ms", "ns_per_iter": 1100000000.0}
  {"id": "W5b_cpu_tasks/cpython_efficiency/2000x1ms", "efficiency": 0.93}
Usage: python3 benches/python/mp_pool.py [--quick]
"""
import json
import os
import sys
import time

import multiprocessing as mp


def square(x):
    return x * x


def burn(iters):
    acc = 0
    for i in range(iters):
        acc = (acc * 31 + i) & 0xFFFFFFFF
    return acc


def calibrate(target_s):
    iters = 1000
    while True:
        t0 = time.perf_counter()
        burn(iters)
        el = time.perf_counter() - t0
        if el >= 0.02:
            return max(1, int(iters * target_s / el))
        iters *= 2


def median_ns(f, n):
    samples = []
    for _ in range(n):
        t0 = time.perf_counter_ns()
        f()
        samples.append(time.perf_counter_ns() - t0)
    samples.sort()
    return float(samples[len(samples) // 2])


def main():
    quick = "--quick" in sys.argv
    ctx = mp.get_context("fork")
    with ctx.Pool(2) as pool:
        pool.map(square, range(10))  # workers are up
        ns = median_ns(lambda: pool.map(square, range(1_000_000)), 3 if quick else 10)
        print(json.dumps({"id": "W5a_map_squares/cpython/1M", "ns_per_iter": ns}), flush=True)

        iters = calibrate(0.001)
        tasks = [iters] * (200 if quick else 2000)
        label = f"{len(tasks)}x1ms"
        runs = 1 if quick else 3
        par = median_ns(lambda: pool.map(burn, tasks), runs)
        ser = median_ns(lambda: [burn(t) for t in tasks], runs)
        print(json.dumps({"id": f"W5b_cpu_tasks/cpython/{label}", "ns_per_iter": par}), flush=True)
        print(json.dumps({"id": f"W5b_cpu_tasks/cpython_serial/{label}", "ns_per_iter": ser}), flush=True)
        print(json.dumps({"id": f"W5b_cpu_tasks/cpython_efficiency/{label}", "efficiency": ser / (2 * par)}), flush=True)


if __name__ == "__main__":
    main()
