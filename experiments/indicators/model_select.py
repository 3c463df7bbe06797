"""Fast model selection for the learned indicator model (vectorizers fitted once on all
text — an unsupervised leak that is fine for comparing settings, not for reporting).

    python experiments/indicators/model_select.py --corpus DIR
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
from scipy.sparse import hstack
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score

from overheard.analyse.learned import CODES, _LEMMATISER, normalise
from overheard.analyse.train import label_matrix, load_corpus

ROOT = Path(__file__).resolve().parents[2]


def blind_rows():
    out = {}
    for name, p in {"C": "tests/fixtures/indicators_written_c.jsonl", "D": "tests/fixtures/indicators_blind_d.jsonl"}.items():
        p = ROOT / p
        if p.exists():
            out[name] = [json.loads(l) for l in open(p, encoding="utf-8") if l.strip()]
    return out


def feats(texts, langs, kind, fit_texts=None):
    blocks = []
    if "char" in kind:
        cv = TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True, min_df=2, max_features=150000)
        blocks.append(cv.fit_transform([normalise(t) for t in texts]))
    if "word" in kind:
        wv = TfidfVectorizer(analyzer="word", token_pattern=r"\S+", ngram_range=(1, 2), sublinear_tf=True, min_df=2)
        blocks.append(wv.fit_transform([_LEMMATISER.lemmas(t, l) for t, l in zip(texts, langs)]))
    return hstack(blocks).tocsr()


def prf(Y, P, t):
    pred = P >= t
    tp = (pred & (Y == 1)).sum(); fp = (pred & (Y == 0)).sum(); fn = (~pred & (Y == 1)).sum()
    p = tp / (tp + fp) if tp + fp else 0; r = tp / (tp + fn) if tp + fn else 0
    return p, r, 2 * p * r / (p + r) if p + r else 0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--corpus", type=Path, default=None)
    ap.add_argument("--exclude", nargs="*", default=[])
    ap.add_argument("--kinds", default="char+word,word,char")
    ap.add_argument("--Cs", default="1,4,16")
    a = ap.parse_args()
    rows = load_corpus(a.corpus, exclude=a.exclude) if a.corpus else load_corpus(exclude=a.exclude)
    blind = blind_rows()
    allrows = rows + [dict(r, group="blind-" + k, weight=0, source="blind") for k, rs in blind.items() for r in rs]
    texts = [r["text"] for r in allrows]; langs = [r.get("lang", "ru") for r in allrows]
    Y = label_matrix(allrows)
    w = np.array([r["weight"] for r in allrows])
    groups = np.array([r["group"] for r in allrows])
    dev = np.array([r["source"] == "real-intercepts-dev.jsonl" for r in allrows])
    for kind in a.kinds.split(","):
        X = feats(texts, langs, kind)
        for C in map(float, a.Cs.split(",")):
            P = np.zeros(Y.shape)
            # LORO folds over dev recordings
            for g in sorted(set(groups[dev])):
                tr = (groups != g) & (w > 0)
                te = groups == g
                for k in range(len(CODES)):
                    if Y[tr, k].sum() < 3:
                        continue
                    m = LogisticRegression(C=C, class_weight="balanced", solver="liblinear").fit(X[tr], Y[tr, k], sample_weight=w[tr])
                    P[te, k] = m.predict_proba(X[te])[:, 1]
            tr = w > 0
            bl = groups.astype(str)
            bmask = np.char.startswith(bl, "blind-")
            for k in range(len(CODES)):
                m = LogisticRegression(C=C, class_weight="balanced", solver="liblinear").fit(X[tr], Y[tr, k], sample_weight=w[tr])
                P[bmask, k] = m.predict_proba(X[bmask])[:, 1]
            out = [f"{kind:10} C={C:<4}"]
            for name, mask in [("LORO", dev)] + [(n, groups == "blind-" + n) for n in blind]:
                Yd, Pd = Y[mask], P[mask]
                aucs = [roc_auc_score(Yd[:, k], Pd[:, k]) for k in range(len(CODES)) if 0 < Yd[:, k].sum() < len(Yd)]
                best = max((prf(Yd, Pd, t) + (t,) for t in np.arange(0.1, 0.95, 0.05)), key=lambda x: x[2])
                f5 = prf(Yd, Pd, 0.5)
                out.append(f"{name}: auc {np.mean(aucs):.3f} F@.5 {f5[2]:.3f} (P {f5[0]:.2f}) best F {best[2]:.3f} (P {best[0]:.2f} R {best[1]:.2f} t {best[3]:.2f})")
            print(" | ".join(out), flush=True)


if __name__ == "__main__":
    main()
