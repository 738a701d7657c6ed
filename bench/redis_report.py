#!/usr/bin/env python3
"""Prints the Markdown tables of bench/redis.sh from OUT/results.jsonl: medians over the
repetitions (with the range when there are several), each Gyre publish figure as a ratio of the
matching redis-benchmark figure of the same run."""
import json
import statistics
import sys
from pathlib import Path

out = Path(sys.argv[1])
rows = [json.loads(line) for line in (out / "results.jsonl").read_text().splitlines() if line]
reps = sorted({r["rep"] for r in rows if "rep" in r})


def by_name(kind):
    groups = {}
    for r in rows:
        if r.get("kind") == kind:
            groups.setdefault(r["name"], []).append(r)
    return groups


def med(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def fmt(values, digits=0, spread=True):
    values = [v for v in values if v is not None]
    if not values:
        return "n/a"
    m = med(values)
    text = f"{m:,.{digits}f}"
    if spread and len(values) > 1:
        text += f" ({min(values):,.{digits}f}–{max(values):,.{digits}f})"
    return text


base = by_name("baseline")
api = by_name("api")
lat = by_name("latency")
loads = [r for r in rows if r.get("kind") == "load"]

machine = out / "machine.txt"
if machine.exists():
    print(machine.read_text().strip().replace("\n", "; "))
print("load average before each repetition: " +
      ", ".join(r["loadavg_before"] for r in loads if "loadavg_before" in r) +
      "; after: " + ", ".join(r["loadavg_after"] for r in loads if "loadavg_after" in r))
print(f"{len(reps)} repetition(s); medians, range in brackets\n")

print("| redis-benchmark -c 50 -P 16 | requests/s | Redis CPU µs/request |")
print("|---|---:|---:|")
for name, rs in base.items():
    print(f"| {name.removeprefix('redis-benchmark ')} | {fmt([r['ops_per_s'] for r in rs])} | "
          f"{fmt([r['redis_cpu_us_per_op'] for r in rs], 2)} |")
print()


def baseline_for(name, rep):
    key = "redis-benchmark EVAL" if "(EVAL)" in name else "redis-benchmark PUBLISH"
    for r in base.get(key, []):
        if r["rep"] == rep:
            return r["ops_per_s"]
    return None


print("| Gyre API publish, node A | conns | publishes/s | ratio to redis-benchmark | "
      "p50 / p99 ms | Gyre CPU µs/publish | Redis CPU µs/call | Redis core % | http_load core % |")
print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
for name, rs in api.items():
    ratios = []
    for r in rs:
        b = baseline_for(name, r["rep"])
        ratios.append(r["publishes_per_s"] / b if b and "memory" not in name else None)
    ratio = fmt(ratios, 3, spread=False) if any(v is not None for v in ratios) else ""
    if ratio and "(EVAL)" in name:
        ratio += " of EVAL"
    elif ratio:
        ratio += " of PUBLISH"
    p50 = med([r["latency_ms"]["p50"] for r in rs])
    p99 = med([r["latency_ms"]["p99"] for r in rs])
    redis_call = fmt([r.get("redis_cpu_us_per_call") for r in rs], 2, spread=False)
    redis_util = fmt([100 * r["redis_cpu_util"] for r in rs], 0, spread=False)
    load_util = fmt([100 * r["client_cpu_s"] / r["duration_s"] for r in rs], 0, spread=False)
    if "memory" in name:
        redis_call = redis_util = ""
    print(f"| {name} | {rs[0]['conns']} | {fmt([r['publishes_per_s'] for r in rs])} | {ratio} | "
          f"{p50:.2f} / {p99:.2f} | {fmt([r.get('cpu_us_per_publish') for r in rs], 1, False)} | "
          f"{redis_call} | {redis_util} | {load_util} |")
errors = sum(r["errors"] for rs in api.values() for r in rs)
print(f"\nAPI errors over all runs: {errors}\n")

print("| delivery latency, ws_fanout (Protobuf, 100 B) | subscribers | publications/s | "
      "delivered | p50 ms | p99 ms | max ms | node A CPU % |")
print("|---|---:|---:|---:|---:|---:|---:|---:|")
for name, rs in lat.items():
    delivered = sum(r["deliveries_received"] for r in rs)
    expected = sum(r["deliveries_expected"] for r in rs)
    print(f"| {name} | {rs[0]['connections_target']} | {fmt([r['publish_rate'] for r in rs], 0, False)} | "
          f"{delivered:,}/{expected:,} | {fmt([r['latency_ms']['p50'] for r in rs], 2)} | "
          f"{fmt([r['latency_ms']['p99'] for r in rs], 2)} | "
          f"{fmt([r['latency_ms']['max'] for r in rs], 1)} | "
          f"{fmt([r.get('server', {}).get('cpu_pct_window') for r in rs], 0, False)} |")
