#!/usr/bin/env python3
"""An independent check of a `w2sd train` run on SST-2 with scikit-learn, on w2sd's own cached
features and splits (docs/train.md, "Where the rest of the gap lies"). For each seed folder:
  1. scikit-learn students (LogisticRegressionCV on the hardened weak labels; a soft-label logistic
     regression over a C grid, scored on the test set for reference only) on w2sd's weak labels;
  2. scikit-learn's own bag-of-words supervisors (counts of uni+bigrams, tf-idf unigrams; CV C) on
     w2sd's weak_train, and a LogisticRegressionCV student on their hardened labels.
Usage: python3 scripts/sklearn_check_sst2.py RUN_DIR [FEATURE_FILE]
RUN_DIR is a several-seed run of bow -> gemma-3-270m (seed-K/ folders); FEATURE_FILE the Gemma
feature cache file (<cache>/features/<key>.bin, see the features stage record), default: the only
one whose row count matches.
"""
import glob, json, os, sys, warnings
import numpy as np
from sklearn.feature_extraction.text import CountVectorizer, TfidfVectorizer
from sklearn.linear_model import LogisticRegression, LogisticRegressionCV
from sklearn.preprocessing import StandardScaler

warnings.filterwarnings("ignore")
run = sys.argv[1]


def read_matrix(path):
    b = open(path, "rb").read()
    assert b[:8] == b"W2SFEAT1", path
    n, dim = int.from_bytes(b[8:16], "little"), int.from_bytes(b[16:24], "little")
    return np.frombuffer(b[24:], dtype="<f4").reshape(n, dim).astype(np.float64)


seeds = sorted(glob.glob(os.path.join(run, "seed-*")))
n_ex = sum(1 for _ in open(os.path.join(seeds[0], "examples.jsonl")))
if len(sys.argv) > 2:
    X = read_matrix(sys.argv[2])
else:
    def rows(path):
        with open(path, "rb") as f:
            h = f.read(24)
        return int.from_bytes(h[8:16], "little") if h[:8] == b"W2SFEAT1" else -1

    cands = [f for f in glob.glob(os.path.expanduser("~/.cache/w2sd/features/*.bin")) if rows(f) == n_ex]
    assert len(cands) == 1, f"{len(cands)} cached feature files have {n_ex} rows; name one"
    X = read_matrix(cands[0])
for sd in seeds:
    st = lambda p: json.load(open(glob.glob(os.path.join(sd, "stages", p))[0]))["output"]
    sp = st("data-*")["splits"]
    ex = [json.loads(l) for l in open(os.path.join(sd, "examples.jsonl"))]
    texts = [e["text"] for e in ex]
    y = np.array([e["label"] for e in ex], dtype=int)
    wt, tr, te = (np.array(sp[k]) for k in ("weak_train", "strong_train", "test"))
    sc = StandardScaler().fit(X[tr])
    xtr, xte = sc.transform(X[tr]), sc.transform(X[te])
    ceil = LogisticRegressionCV(Cs=10, max_iter=2000).fit(xtr, y[tr]).score(xte, y[te])
    ours = np.array(st("weak_labels-*")["strong_train"])
    weak = ((np.array(st("weak-*")["head"]["probs"]["test"]) >= 0.5) == y[te]).mean()
    hard = LogisticRegressionCV(Cs=10, max_iter=2000).fit(xtr, (ours >= 0.5).astype(int)).score(xte, y[te])
    xd, yd, wd = np.vstack([xtr, xtr]), np.r_[np.ones(len(tr)), np.zeros(len(tr))], np.r_[ours, 1 - ours]
    soft = {C: LogisticRegression(C=C, max_iter=2000).fit(xd, yd, sample_weight=wd).score(xte, y[te])
            for C in (1e-3, 3e-3, 1e-2, 3e-2, 1e-1)}
    print(f"{os.path.basename(sd)}: ceiling {ceil:.3f}; w2sd weak {weak:.3f} (mean |p-1/2| {np.abs(ours - .5).mean():.3f}): "
          f"hard-label CV student {hard:.3f}, PGR {(hard - weak) / (ceil - weak):.3f}; "
          f"soft-label student by C (test-selected, reference only) {', '.join(f'{c:g}: {a:.3f}' for c, a in soft.items())}")
    for name, vec in (("count 1-2", CountVectorizer(ngram_range=(1, 2))), ("tf-idf 1", TfidfVectorizer())):
        v = vec.fit([texts[i] for i in wt])
        b = v.transform(texts)
        w = LogisticRegressionCV(Cs=10, max_iter=3000).fit(b[wt], y[wt])
        wa, wl = w.score(b[te], y[te]), w.predict_proba(b[tr])[:, 1]
        sa = LogisticRegressionCV(Cs=10, max_iter=2000).fit(xtr, (wl >= 0.5).astype(int)).score(xte, y[te])
        print(f"    sklearn {name} supervisor {wa:.3f} (mean |p-1/2| {np.abs(wl - .5).mean():.3f}): "
              f"hard-label CV student {sa:.3f}, PGR {(sa - wa) / (ceil - wa):.3f}")
