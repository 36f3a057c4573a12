#!/usr/bin/env python3
"""The SST-2 setup of docs/train.md: a seeded, deduplicated sample of 4,000 sentences of
train_full.tsv, none of which (after w2sd's normalisation: lower case, alphanumeric runs
joined by spaces) occurs in dev.tsv. Usage:

    python3 scripts/sst2_w2s_data.py ../shared/data/sst2 runs/sst2 [N=4000] [SEED=0]

writes runs/sst2/train4000.tsv and runs/sst2/dev.tsv (the 872 dev sentences, trimmed).
"""
import csv, os, random, re, sys


def norm(s):
    return " ".join(w.lower() for w in re.split(r"[^0-9A-Za-z\u00C0-\uFFFF]+", s) if w)


def read(path):
    with open(path, newline="", encoding="utf-8") as f:
        r = csv.reader(f, delimiter="\t", quoting=csv.QUOTE_NONE)
        next(r)
        return [(s.strip(), l.strip()) for s, l in r]


src, out = sys.argv[1], sys.argv[2]
n = int(sys.argv[3]) if len(sys.argv) > 3 else 4000
seed = int(sys.argv[4]) if len(sys.argv) > 4 else 0
dev = read(os.path.join(src, "dev.tsv"))
dev_keys = {norm(s) for s, _ in dev}
seen, pool = set(), []
for s, l in read(os.path.join(src, "train_full.tsv")):
    k = norm(s)
    if k and k not in dev_keys and k not in seen:
        seen.add(k)
        pool.append((s, l))
random.Random(seed).shuffle(pool)
os.makedirs(out, exist_ok=True)
for name, rows in [(f"train{n}.tsv", pool[:n]), ("dev.tsv", dev)]:
    with open(os.path.join(out, name), "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f, delimiter="\t", quoting=csv.QUOTE_NONE, escapechar="\\", lineterminator="\n")
        w.writerow(["sentence", "label"])
        w.writerows(rows)
print(f"{len(pool)} distinct train sentences not in dev; wrote {n} to {out}/train{n}.tsv and {len(dev)} to {out}/dev.tsv")
