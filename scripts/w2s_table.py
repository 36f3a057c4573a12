#!/usr/bin/env python3
"""Markdown table of several-seed `w2sd train` runs: one row per (run folder, loss) with the
across-seed mean and 95% t interval that results.json's `aggregate[]` holds, the per-seed
values, the student's supervisor's accuracy (a debate-assisted supervisor's differs from the
weak one's), and the data stage's contamination count on every seed; then every `paired[]`
difference (logconf − xent, and +debate − plain). Usage:

    python3 scripts/w2s_table.py runs/datasets/sst2 runs/datasets/imdb ...
"""
import glob, json, os, sys


def fmt(s):
    if s is None or s.get("mean") is None:
        return "null"
    ci = s.get("ci") or [None, None]
    lo, hi = ("—" if v is None else f"{v:.3f}" for v in ci)
    return f"{s['mean']:.3f} [{lo}, {hi}]"


print("| data | run | test n | acc weak | acc supervisor | acc ceiling | acc w2s | PGR (seeds) | PGR mean [95% across seeds] | contamination |")
print("|---|---|---|---|---|---|---|---|---|---|")
paired = []
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
              f"{fmt(a.get('acc_supervisor'))} | {fmt(a['acc_ceiling'])} | {fmt(a['acc_w2s'])} | {vals} | {fmt(a['pgr'])} | "
              f"{'/'.join(map(str, cont))} |")
    paired += [(os.path.basename(d), p) for p in r.get("paired", [])]
if paired:
    print()
    print("| data | strong | comparison | Δ PGR [95% across seeds] | Δ acc w2s [95% across seeds] |")
    print("|---|---|---|---|---|")
    for d, p in paired:
        what = f"{p['loss']} + debate ({p['debate']}) − {p['baseline']}" if p.get("debate") else f"{p['loss']} − {p['baseline']}"
        print(f"| {d} | {p['strong']} | {what} | {fmt(p['pgr'])} | {fmt(p['acc_w2s'])} |")
