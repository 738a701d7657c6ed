#!/usr/bin/env python3
"""Summarises a bench/run.sh results folder: the compare.sh tables (via the shared
summarize.py), the extra 15k runs, the issue's targets with Gyre/ceiling and Gyre/peer
ratios, Gyre's fan-out over Protobuf against JSON (ws_fanout), and the HTTP streaming transports
against WebSocket (ws_fanout --transport). Usage: report.py RESULTS_DIR"""
import glob
import json
import os
import statistics
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


def ws_fanout_runs(out):
    """ws_fanout results by (scenario, encoding, payload), e.g. ("fanout-1k", "pb", 100), from
    RESULTS_DIR/ws_fanout/gyre-<scenario>-<pb|json>-<payload>b.json."""
    found = {}
    for f in sorted(glob.glob(os.path.join(out, "ws_fanout", "gyre-fanout-*.json"))):
        parts = os.path.basename(f)[len("gyre-"):-len(".json")].split("-")
        d = load(f)
        if d and len(parts) == 4 and parts[3].endswith("b") and parts[3][:-1].isdigit():
            found[(f"{parts[0]}-{parts[1]}", parts[2], int(parts[3][:-1]))] = d
    return found


def print_encodings(out, cmp_dir):
    """Gyre's fan-out over Protobuf and JSON with ws_fanout (and, for reference, compare.sh's
    wsload JSON run of the same scenario, whose data is about 100 bytes)."""
    found = ws_fanout_runs(out)
    if not found:
        return
    print("### Fan-out by encoding (Gyre, ws_fanout)\n")
    print("| scenario | encoding | data B | tool | deliveries/s | delivery ratio | p50 ms | p99 ms "
          "| max ms | server CPU us/delivery | CPU vs JSON |")
    print("|---|---|---:|---|---:|---:|---:|---:|---:|---:|---:|")

    def cells(r):
        lat = r["latency_ms"]
        cpu = cpu_per_delivery(r) if "server" in r else None
        ratio_cell = f"{r['delivery_ratio']:.4f}"
        if r["reordered"]:
            ratio_cell += f" ({r['reordered']:,} reordered)"
        if r.get("duplicates"):
            ratio_cell += f" ({r['duplicates']:,} duplicates)"
        return cpu, (f"{r['deliveries_per_s']:,.0f} | {ratio_cell} | {lat['p50']:.1f} | "
                     f"{lat['p99']:.1f} | {lat['max']:.1f} | "
                     + (f"{cpu:.2f}" if cpu is not None else "n/a"))

    for sc in ("fanout-1k", "fanout-10k"):
        for payload in sorted({k[2] for k in found if k[0] == sc}):
            json_run = found.get((sc, "json", payload))
            json_cpu = cpu_per_delivery(json_run) if json_run and "server" in json_run else None
            for enc, name in (("pb", "Protobuf"), ("json", "JSON")):
                r = found.get((sc, enc, payload))
                if not r:
                    continue
                cpu, text = cells(r)
                vs = ratio(cpu, json_cpu) if enc == "pb" else ""
                print(f"| {sc}-{enc} | {name} | {payload} | ws_fanout | {text} | {vs} |")
        ref = runs(cmp_dir, f"gyre-{sc}")
        if ref:
            _, text = cells(ref[0])
            print(f"| {sc} | JSON | ~100 | wsload (compare.sh) | {text} | |")
    print()


UNI_TRANSPORTS = (("websocket", "WebSocket"), ("uni-http-stream", "uni_http_stream"),
                  ("uni-sse", "uni_sse"))


def print_uni(out):
    """The HTTP streaming transports against WebSocket (JSON, ws_fanout), medians over the
    repetitions in RESULTS_DIR/uni/gyre-<scenario>-<transport>-r<rep>.json, range in brackets."""
    folder = os.path.join(out, "uni")
    if not os.path.isdir(folder):
        return

    def med(rs, f, fmt):
        vals = [f(r) for r in rs]
        m = fmt(statistics.median(vals))
        return m if len(vals) == 1 else f"{m} ({fmt(min(vals))}–{fmt(max(vals))})"

    def clean(rs):
        bad = sum(1 for r in rs if r["connections"] != r["connections_target"]
                  or r["deliveries_received"] != r["deliveries_expected"]
                  or any(r["errors"][k] for k in ("connect", "subscribe", "disconnects",
                                                  "protocol", "bad_frames", "publish")))
        return f"{bad} of {len(rs)} runs not clean" if bad else "clean"

    def idle_us(r):
        return (r["server"]["cpu_s_window"] * 1e6 / max(1, r["connections"])
                / max(1e-9, r["window_s"]))

    heads = {
        "fanout-1k": "| scenario | transport | runs | deliveries/s | delivery ratio | p50 ms | "
                     "p99 ms | max ms | server CPU us/delivery | server core % | load generator CPU % | "
                     "reordered | errors |\n"
                     "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|",
        "idle-10k": "| scenario | transport | runs | connections | server RSS B/conn | "
                    "server CPU us/conn/s | pings seen | errors |\n"
                    "|---|---|---:|---:|---:|---:|---:|---|",
    }
    title = False
    for sc, head in heads.items():
        table = False
        for key, name in UNI_TRANSPORTS:
            rs = runs(folder, f"gyre-{sc}-{key}-r")
            if not rs:
                continue
            if not title:
                print("### HTTP streaming transports (Gyre, ws_fanout, JSON; medians, range)\n")
                title = True
            if not table:
                print(head)
                table = True
            if sc == "fanout-1k":
                cells = [med(rs, lambda r: r["deliveries_per_s"], lambda v: f"{v:,.0f}"),
                         med(rs, lambda r: r["delivery_ratio"], lambda v: f"{v:.4f}"),
                         med(rs, lambda r: r["latency_ms"]["p50"], lambda v: f"{v:.1f}"),
                         med(rs, lambda r: r["latency_ms"]["p99"], lambda v: f"{v:.1f}"),
                         med(rs, lambda r: r["latency_ms"]["max"], lambda v: f"{v:.1f}"),
                         med(rs, cpu_per_delivery, lambda v: f"{v:.2f}"),
                         med(rs, lambda r: r["server"]["cpu_pct_window"], lambda v: f"{v:.0f}"),
                         med(rs, lambda r: r["loadgen_cpu_pct"], lambda v: f"{v:.0f}"),
                         med(rs, lambda r: r["reordered"], lambda v: f"{v:,.0f}")]
            else:
                cells = [med(rs, lambda r: r["connections"], lambda v: f"{v:,.0f}"),
                         med(rs, lambda r: r["server"]["rss_bytes_per_conn_end"],
                             lambda v: f"{v:,.0f}"),
                         med(rs, idle_us, lambda v: f"{v:.2f}"),
                         med(rs, lambda r: r["pings_answered"], lambda v: f"{v:,.0f}")]
            print(f"| {sc} | {name} | {len(rs)} | " + " | ".join(cells) + f" | {clean(rs)} |")
        if table:
            print()


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
    # Protobuf fan-out (ws_fanout, data ~100 B): the ceiling and the Go peer speak JSON only, so
    # Gyre's Protobuf figures are set against their JSON runs of the same scenario.
    pb = ws_fanout_runs(out)
    for sc in ("fanout-1k", "fanout-10k"):
        r = pb.get((sc, "pb", 100))
        if not r or "server" not in r:
            continue
        for what, target, key, gv, fmt in (
                ("CPU us/delivery", "<= 1.2x ceiling (JSON)", 0, cpu_per_delivery(r),
                 lambda v: f"{v:.2f}"),
                ("p99 ms", "<= 1.5x ceiling (JSON)", 1, r["latency_ms"]["p99"],
                 lambda v: f"{v:.1f}")):
            others = {t: (row[t][sc][key] if sc in row[t] else None) for t in ("ceiling", "go")}
            cells = [fmt(v) if v is not None else "n/a"
                     for v in (gv, others["ceiling"], others["go"])]
            print(f"| {sc}-pb {what} | {target} | " + " | ".join(cells) +
                  f" | {ratio(gv, others['ceiling'])} | {ratio(gv, others['go'])} |")
    if storm:
        print(f"| JWT connect storm 15k: s to all subscribed | <= 2 | {storm['connect_s']:.2f} "
              f"| n/a | n/a | | |")
    print()
    print_encodings(out, cmp_dir)
    print_uni(out)


if __name__ == "__main__":
    main()
