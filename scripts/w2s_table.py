#!/usr/bin/env python3
"""Markdown table of several-seed `w2sd train` runs: one row per (run folder, loss) with the
across-seed mean and 95% t interval that results.json's `aggregate[]` holds, the per-seed
values, and the data stage's contamination count on every seed. Usage:

    python3 scripts/w2s_table.py runs/datasets/sst2 runs/datasets/imdb ...
"""
import glob, json, os, sys


def fmt(s):
    if s is None or s.get("mean") is None:
        return "null"
    ci = s.get("ci") or [None, None]
    lo, hi = ("—" if v is None else f"{v:.3f}" for v in ci)
    return f"{s['mean']:.3f} [{lo}, {hi}]"


print("| data | run | test n | acc weak | acc ceiling | acc w2s | PGR (seeds) | PGR mean [95% across seeds] | contamination |")
print("|---|---|---|---|---|---|---|---|---|")
for d in sys.argv[1:]:
    r = json.load(open(os.path.join(d, "results.json")))
    cont, test_n = [], set()
    for s in sorted(glob.glob(os.path.join(d, "seed-*", "stages", "data-*.json"))):
        o = json.load(open(s))["output"]
        cont.append(o["contamination"])
        test_n.add(len(o["splits"]["test"]))
    for a in r["aggregate"]:
        vals = ", ".join("null" if v is None else f"{v:.2f}" for v in a["pgr"]["values"]) if a.get("pgr", {}).get("k") else "null"
        print(f"| {os.path.basename(d)} | `{a['id']}` | {'/'.join(map(str, sorted(test_n)))} | {fmt(a['acc_weak'])} | "
              f"{fmt(a['acc_ceiling'])} | {fmt(a['acc_w2s'])} | {vals} | {fmt(a['pgr'])} | {'/'.join(map(str, cont))} |")
