#!/usr/bin/env python3
"""W2, W2b and W3 with CPython's multiprocessing.Queue and SimpleQueue, for benches/benches/queue.rs.

Prints one JSON object per line, e.g.
  {"id": "W2_spsc_u64/cpython_queue/u64", "ns_per_iter": 6900.0}
  {"id": "W2b_mpmc_2p2c/cpython_simplequeue/u64", "ns_per_iter": 6100.0}
  {"id": "W3_1MiB/cpython_queue/1MiB", "ns_per_iter": 1500000.0}
The time is per criterion iteration of the Rust bench: one message (an int for W2/W2b, a
1 MiB bytes object for W3), from the first put to the last get, processes included.
Usage: python3 benches/python/mp_queue.py [--quick]
"""
import os
import sys

# This file is named like the standard library's `queue`, which multiprocessing imports: take
# the script's own directory off the import path first.
_here = os.path.dirname(os.path.abspath(__file__))
sys.path[:] = [p for p in sys.path if os.path.abspath(p or ".") != _here]

import json  # noqa: E402
import multiprocessing as mp  # noqa: E402
import time  # noqa: E402

MIB = 1 << 20


def emit(scenario, ns):
    print(json.dumps({"id": scenario, "ns_per_iter": float(ns)}), flush=True)


def median(xs):
    xs = sorted(xs)
    return xs[len(xs) // 2]


def producer(q, n):
    for i in range(n):
        q.put(i)


def producer_bytes(q, n):
    msg = bytes(MIB)
    for _ in range(n):
        q.put(msg)


def consumer(q, n):
    for _ in range(n):
        q.get()


def consumer_until_none(q):
    while q.get() is not None:
        pass


def one_way(ctx, make_queue, n, repeats, target):
    samples = []
    for _ in range(repeats):
        q = make_queue(ctx)
        t0 = time.perf_counter_ns()
        c = ctx.Process(target=consumer, args=(q, n))
        p = ctx.Process(target=target, args=(q, n))
        c.start()
        p.start()
        p.join()
        c.join()
        samples.append((time.perf_counter_ns() - t0) / n)
    return median(samples)


def two_by_two(ctx, make_queue, n, repeats):
    samples = []
    for _ in range(repeats):
        q = make_queue(ctx)
        t0 = time.perf_counter_ns()
        cs = [ctx.Process(target=consumer_until_none, args=(q,)) for _ in range(2)]
        ps = [ctx.Process(target=producer, args=(q, n // 2)) for _ in range(2)]
        for x in cs + ps:
            x.start()
        for p in ps:
            p.join()
        q.put(None)
        q.put(None)
        for c in cs:
            c.join()
        samples.append((time.perf_counter_ns() - t0) / n)
    return median(samples)


def main():
    quick = "--quick" in sys.argv
    ctx = mp.get_context("fork")
    n_small = 20_000 if quick else 200_000
    n_big = 50 if quick else 500
    repeats = 1 if quick else 3
    kinds = [
        ("cpython_queue", lambda c: c.Queue()),
        ("cpython_simplequeue", lambda c: c.SimpleQueue()),
    ]
    for name, make in kinds:
        emit(f"W2_spsc_u64/{name}/u64", one_way(ctx, make, n_small, repeats, producer))
    for name, make in kinds:
        emit(f"W2b_mpmc_2p2c/{name}/u64", two_by_two(ctx, make, n_small, repeats))
    for name, make in kinds:
        emit(f"W3_1MiB/{name}/1MiB", one_way(ctx, make, n_big, repeats, producer_bytes))


if __name__ == "__main__":
    main()
