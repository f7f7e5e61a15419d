#!/usr/bin/env python3
"""W1 with CPython's multiprocessing.Pipe, the same scenario as benches/benches/pipe.rs.

Round trip parent <-> forked child: the parent sends a message, the child echoes it back.
Prints one JSON object per line, time per round trip (one criterion iteration):
  {"id": "W1_roundtrip/cpython/64B", "ns_per_iter": 31600.0}          send_bytes/recv_bytes
  {"id": "W1_roundtrip/cpython_typed/64B", "ns_per_iter": 35000.0}    send/recv (pickle)
Usage: python3 benches/python/mp_pipe.py [--quick]
"""
import json
import multiprocessing as mp
import sys
import time

SIZES = [(64, "64B"), (4096, "4KiB"), (1 << 20, "1MiB")]


def emit(scenario, ns):
    print(json.dumps({"id": scenario, "ns_per_iter": float(ns)}), flush=True)


def echo_bytes(conn):
    try:
        while True:
            conn.send_bytes(conn.recv_bytes())
    except EOFError:
        pass


def echo_typed(conn):
    try:
        while True:
            conn.send(conn.recv())
    except EOFError:
        pass


def round_trips(typed, size, seconds):
    ctx = mp.get_context("fork")
    parent, child = ctx.Pipe()
    p = ctx.Process(target=echo_typed if typed else echo_bytes, args=(child,))
    p.start()
    child.close()
    msg = b"\x5a" * size
    send, recv = (parent.send, parent.recv) if typed else (parent.send_bytes, parent.recv_bytes)
    for _ in range(50):  # warm-up
        send(msg)
        recv()
    samples = []
    deadline = time.perf_counter() + seconds
    batch = 200 if size <= 4096 else 5
    while time.perf_counter() < deadline:
        t0 = time.perf_counter_ns()
        for _ in range(batch):
            send(msg)
            recv()
        samples.append((time.perf_counter_ns() - t0) / batch)
    parent.close()
    p.terminate()  # the forked child still holds a copy of `parent`: it would never see EOF
    p.join()
    samples.sort()
    return samples[len(samples) // 2]


def main():
    seconds = 0.5 if "--quick" in sys.argv else 3.0
    for size, label in SIZES:
        emit(f"W1_roundtrip/cpython/{label}", round_trips(False, size, seconds))
        if size == 64:
            emit(f"W1_roundtrip/cpython_typed/{label}", round_trips(True, size, seconds))


if __name__ == "__main__":
    main()
