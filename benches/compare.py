#!/usr/bin/env python3
"""Side-by-side table of multiproc's criterion results, the raw floors and CPython.

Usage:
    python3 benches/compare.py [--run] [--quick] [--bench NAME ...]

--run      first runs `cargo bench -p multiproc-benches --bench NAME` and the matching
           `benches/python/mp_NAME.py` for every selected bench (default: all of them)
--quick    shorter runs (criterion --quick-ish settings via env, python --quick)

Criterion results are read from target/criterion/<group>/<function>/<param>/new/estimates.json
(median time per iteration). Python scripts print JSON lines
{"id": "<group>/cpython.../<param>", "ns_per_iter": float}; they are stored under
target/bench-python/NAME.jsonl. For each scenario and parameter the table prints every measured
variant, then the ratios: ours / floor (lower is better, 1.00 = as fast as the raw mechanism) and
cpython / ours (higher is better).
"""
import argparse
import glob
import json
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TARGET = os.environ.get("CARGO_TARGET_DIR", os.path.join(ROOT, "target"))
BENCHES = ["pipe", "process_start", "lock", "queue", "pool"]


def run(benches, quick):
    py_out = os.path.join(TARGET, "bench-python")
    os.makedirs(py_out, exist_ok=True)
    for b in benches:
        cmd = ["cargo", "bench", "-p", "multiproc-benches", "--bench", b]
        if quick:
            cmd += ["--", "--warm-up-time", "0.5", "--measurement-time", "2"]
        print("$", " ".join(cmd), file=sys.stderr)
        subprocess.run(cmd, cwd=ROOT, check=True)
        script = os.path.join(ROOT, "benches", "python", "mp_" + b + ".py")
        if os.path.exists(script):
            pycmd = ["python3", script] + (["--quick"] if quick else [])
            print("$", " ".join(pycmd), file=sys.stderr)
            res = subprocess.run(pycmd, cwd=ROOT, check=True, capture_output=True, text=True)
            with open(os.path.join(py_out, b + ".jsonl"), "w") as f:
                f.write(res.stdout)


def load():
    rows = {}  # (group, param) -> {variant: ns}
    for est in glob.glob(os.path.join(TARGET, "criterion", "**", "new", "estimates.json"), recursive=True):
        rel = os.path.relpath(os.path.dirname(os.path.dirname(est)), os.path.join(TARGET, "criterion"))
        parts = rel.split(os.sep)
        if len(parts) == 3:
            group, variant, param = parts
        elif len(parts) == 2:
            group, variant = parts
            param = "-"
        else:
            continue
        with open(est) as f:
            ns = json.load(f)["median"]["point_estimate"]
        rows.setdefault((group, param), {})[variant] = ns
    for jl in glob.glob(os.path.join(TARGET, "bench-python", "*.jsonl")):
        with open(jl) as f:
            for line in f:
                line = line.strip()
                if not line.startswith("{"):
                    continue
                rec = json.loads(line)
                parts = rec["id"].split("/")
                group, variant = parts[0], parts[1]
                param = parts[2] if len(parts) > 2 else "-"
                rows.setdefault((group, param), {})[variant] = float(rec["ns_per_iter"])
    return rows


def fmt_ns(ns):
    if ns >= 1e9:
        return f"{ns / 1e9:.2f} s"
    if ns >= 1e6:
        return f"{ns / 1e6:.2f} ms"
    if ns >= 1e3:
        return f"{ns / 1e3:.2f} µs"
    return f"{ns:.1f} ns"


def table(rows):
    if not rows:
        print("no results yet: run with --run (or cargo bench first)")
        return
    for (group, param) in sorted(rows):
        v = rows[(group, param)]
        print(f"\n## {group} [{param}]")
        for name in sorted(v, key=lambda n: (not n.startswith("ours"), n)):
            print(f"  {name:<34} {fmt_ns(v[name]):>12}")
        ours = [n for n in v if n.startswith("ours")]
        floors = [n for n in v if n.startswith("floor")]
        cpy = [n for n in v if n.startswith("cpython")]
        for o in ours:
            for fl in floors:
                print(f"  {o} / {fl}: {v[o] / v[fl]:.2f}x")
            for c in cpy:
                print(f"  {c} / {o}: {v[c] / v[o]:.1f}x")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--run", action="store_true")
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--bench", action="append")
    a = ap.parse_args()
    if a.run:
        run(a.bench or BENCHES, a.quick)
    table(load())


if __name__ == "__main__":
    main()
