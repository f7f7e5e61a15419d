#!/usr/bin/env python3
"""W6 and W8 with CPython's multiprocessing locks and semaphores, for benches/benches/lock.rs.

Prints one JSON object per line, e.g.
  {"id": "W6_counter/cpython/per_op", "ns_per_iter": 1317.0}
  {"id": "W6_uncontended/cpython/per_op", "ns_per_iter": 108.0}
  {"id": "W8_pingpong/cpython/round_trip", "ns_per_iter": 7300.0}
The time is per criterion iteration of the Rust bench: one locked increment (W6_counter, over
both processes), one acquire + release (W6_uncontended), one round trip (W8_pingpong).
Usage: python3 benches/python/mp_lock.py [--quick]
"""
import json
import multiprocessing as mp
import sys
import time


def emit(scenario, ns):
    print(json.dumps({"id": scenario, "ns_per_iter": float(ns)}), flush=True)


def median(xs):
    xs = sorted(xs)
    return xs[len(xs) // 2]


def counter_worker(lock, value, n, ready, go):
    ready.release()
    go.wait()
    for _ in range(n):
        with lock:
            value.value += 1


def w6_counter(n_per_proc, repeats):
    ctx = mp.get_context("fork")
    samples = []
    for _ in range(repeats):
        lock = ctx.Lock()
        value = ctx.Value("q", 0, lock=False)
        ready = ctx.Semaphore(0)
        go = ctx.Event()
        procs = [ctx.Process(target=counter_worker, args=(lock, value, n_per_proc, ready, go)) for _ in range(2)]
        for p in procs:
            p.start()
        for _ in procs:
            ready.acquire()
        t0 = time.perf_counter_ns()
        go.set()
        for p in procs:
            p.join()
        took = time.perf_counter_ns() - t0
        assert value.value == 2 * n_per_proc
        samples.append(took / (2 * n_per_proc))
    return median(samples)


def w6_uncontended(n, repeats):
    lock = mp.get_context("fork").Lock()
    samples = []
    for _ in range(repeats):
        t0 = time.perf_counter_ns()
        for _ in range(n):
            lock.acquire()
            lock.release()
        samples.append((time.perf_counter_ns() - t0) / n)
    return median(samples)


def pong_worker(ping, pong, n):
    for _ in range(n):
        ping.acquire()
        pong.release()


def w8_pingpong(n, repeats):
    ctx = mp.get_context("fork")
    samples = []
    for _ in range(repeats):
        ping, pong = ctx.Semaphore(0), ctx.Semaphore(0)
        p = ctx.Process(target=pong_worker, args=(ping, pong, n))
        p.start()
        # One warm-up round trip so that the child is running.
        ping.release()
        pong.acquire()
        t0 = time.perf_counter_ns()
        for _ in range(n - 1):
            ping.release()
            pong.acquire()
        samples.append((time.perf_counter_ns() - t0) / (n - 1))
        p.join()
    return median(samples)


def main():
    quick = "--quick" in sys.argv
    repeats = 3 if quick else 5
    emit("W6_uncontended/cpython/per_op", w6_uncontended(100_000 if quick else 1_000_000, repeats))
    emit("W6_counter/cpython/per_op", w6_counter(20_000 if quick else 200_000, repeats))
    emit("W8_pingpong/cpython/round_trip", w8_pingpong(2_000 if quick else 20_000, repeats))


if __name__ == "__main__":
    main()
