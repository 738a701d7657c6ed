#!/usr/bin/env python3
"""Summarises a bench/run.sh results folder: the compare.sh tables (via the shared
summarize.py), the extra 15k runs, and the issue's targets with Gyre/ceiling and Gyre/peer
ratios. Usage: report.py RESULTS_DIR"""
import glob
import json
import os
import subprocess
import sys


def load(path):
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def runs(folder, prefix):
    """wsload results of one target and scenario prefix (e.g. gyre-fanout-1k)."""
    out = []
    for f in sorted(glob.glob(os.path.join(folder, prefix + "*.json"))):
        d = load(f)
        if d:
            out.append(d)
    return out


def cpu_per_delivery(r):
    return r["server"]["cpu_s_window"] * 1e6 / max(1, r["deliveries_received"])


def idle_cpu(r):
    return r["server"]["cpu_s_window"] * 1e6 / max(1, r["connections"]) / max(1e-9, r["held_s"])


def best_sweep(rs):
    """Highest deliveries/s of a sweep run with no loss and p99 < 1 s."""
    ok = [r for r in rs if r["delivery_ratio"] >= 0.999 and r["latency_ms"]["p99"] < 1000]
    return max((r["deliveries_per_s"] for r in ok), default=0.0)


def ratio(a, b):
    return f"{a / b:.2f}x" if a and b else "n/a"


def main():
    out = sys.argv[1]
    cmp_dir = os.path.join(out, "compare")
    shared = os.environ.get("SHARED_BENCH", os.path.join(os.path.dirname(__file__), "..", "..",
                                                         "shared", "bench"))
    summarize = os.path.join(shared, "summarize.py")
    if os.path.isdir(cmp_dir) and os.path.exists(summarize):
        print("### compare.sh runs\n")
        print(subprocess.run([sys.executable, summarize, cmp_dir], capture_output=True,
                             text=True).stdout)

    targets = ["gyre", "ceiling", "go"]
    row = {t: {} for t in targets}
    for t in targets:
        for sc in ("fanout-1k", "fanout-10k"):
            rs = runs(cmp_dir, f"{t}-{sc}")
            if rs:
                r = rs[0]
                row[t][sc] = (cpu_per_delivery(r), r["latency_ms"]["p99"])
        idle = runs(cmp_dir, f"{t}-idle-10k")
        if idle:
            row[t]["idle-10k"] = (idle[0]["server"]["rss_bytes_per_conn_end"], idle_cpu(idle[0]))
        sweep = runs(cmp_dir, f"{t}-sweep-1k")
        if sweep:
            row[t]["sweep-1k"] = best_sweep(sweep)
    for t in ("gyre", "ceiling"):
        d = load(os.path.join(out, f"{t}-idle-15k.json"))
        if d:
            row[t]["idle-15k"] = (d["server"]["rss_bytes_per_conn_end"], idle_cpu(d))
    storm = load(os.path.join(out, "gyre-storm-15k.json"))

    print("### Targets (Gyre vs ceiling and Go peer)\n")
    print("| measure | target | Gyre | ceiling | Go peer | Gyre/ceiling | Gyre/peer |")
    print("|---|---|---:|---:|---:|---:|---:|")

    def line(name, target, key, idx, fmt):
        vals = {t: row[t].get(key) for t in targets}
        vals = {t: (v[idx] if isinstance(v, tuple) else v) for t, v in vals.items()}
        cells = [fmt(vals[t]) if vals[t] is not None else "n/a" for t in targets]
        print(f"| {name} | {target} | " + " | ".join(cells) +
              f" | {ratio(vals['gyre'], vals['ceiling'])} | {ratio(vals['gyre'], vals['go'])} |")

    line("idle-10k RSS B/conn", "<= 2,048", "idle-10k", 0, lambda v: f"{v:,.0f}")
    line("idle-10k CPU us/conn/s", "<= 0.5", "idle-10k", 1, lambda v: f"{v:.2f}")
    line("idle-15k RSS B/conn", "<= 2,048", "idle-15k", 0, lambda v: f"{v:,.0f}")
    line("idle-15k CPU us/conn/s", "<= 0.5", "idle-15k", 1, lambda v: f"{v:.2f}")
    line("fanout-1k CPU us/delivery", "<= 1.2x ceiling", "fanout-1k", 0, lambda v: f"{v:.2f}")
    line("fanout-1k p99 ms", "<= 1.5x ceiling", "fanout-1k", 1, lambda v: f"{v:.1f}")
    line("fanout-10k CPU us/delivery", "<= 1.2x ceiling", "fanout-10k", 0, lambda v: f"{v:.2f}")
    line("fanout-10k p99 ms", "<= 1.5x ceiling", "fanout-10k", 1, lambda v: f"{v:.1f}")
    line("sweep-1k max deliveries/s", ">= 5,000,000", "sweep-1k", None,
         lambda v: f"{v:,.0f}")
    if storm:
        print(f"| JWT connect storm 15k: s to all subscribed | <= 2 | {storm['connect_s']:.2f} "
              f"| n/a | n/a | | |")
    print()


if __name__ == "__main__":
    main()
