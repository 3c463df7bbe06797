"""Leave-one-recording-out on the real dev recordings, and blind slices, for the learned
indicator model: dumps per-row probabilities so that decision rules can be compared
without retraining.

    python experiments/indicators/loro.py --out /tmp/loro.json [--exclude FILE ...]
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from overheard.analyse.indicators import CODES, load_detector
from overheard.analyse.learned import STANCES
from overheard.analyse.train import TrainParams, load_corpus, train

ROOT = Path(__file__).resolve().parents[2]
BLIND = {"C": ROOT / "tests/fixtures/indicators_written_c.jsonl"}
extra = ROOT / "tests/fixtures/indicators_blind_d.jsonl"
if extra.exists():
    BLIND["D"] = extra


def dump(model, rules, rows):
    scored = model.score_many([(r["text"], r["lang"]) for r in rows])
    rres = rules.analyze_many([(r["text"], r["lang"]) for r in rows])
    out = []
    for r, sc, rr in zip(rows, scored, rres):
        # stance of the best window per code
        codes = list(CODES)
        spans = [sc.best[c] for c in codes]
        X = model.features([r["text"][a:b] for _, a, b in spans], [r["lang"]] * len(codes))
        st = model.stance(X, range(len(codes)))
        out.append({"id": r["id"], "gold": r["labels"], "whole": sc.whole,
                    "best": {c: list(sc.best[c]) for c in codes}, "stance": dict(zip(codes, st)),
                    "rules": [{"code": f.code, "stance": f.stance, "score": f.score} for f in rr.findings],
                    "nwin": len(sc.windows)})
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    ap.add_argument("--exclude", nargs="*", default=[])
    ap.add_argument("--C", type=float, default=4.0)
    ap.add_argument("--corpus", default=None)
    a = ap.parse_args()
    rows = load_corpus(Path(a.corpus), exclude=a.exclude) if a.corpus else load_corpus(exclude=a.exclude)
    params = TrainParams(C=a.C)
    rules = load_detector()
    dev = [r for r in rows if r["source"] == "real-intercepts-dev.jsonl"]
    groups = sorted({r["group"] for r in dev})
    res = {"loro": [], "blind": {}}
    t0 = time.time()
    for g in groups:
        train_rows = [r for r in rows if r["group"] != g]
        m = train(train_rows, params)
        test = [r for r in dev if r["group"] == g]
        res["loro"] += dump(m, rules, test)
        print(g, len(test), f"{time.time()-t0:.0f}s", file=sys.stderr, flush=True)
    m = train(rows, params)
    for name, path in BLIND.items():
        test = [json.loads(l) for l in open(path, encoding="utf-8") if l.strip()]
        res["blind"][name] = dump(m, rules, test)
    json.dump(res, open(a.out, "w"), ensure_ascii=False)


if __name__ == "__main__":
    main()
