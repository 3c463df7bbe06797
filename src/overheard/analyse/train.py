"""Train the learned indicator model from the annotated corpus (scikit-learn).

    python -m overheard.analyse.train [--out PATH] [--corpus DIR]   # or: overheard train indicators

The corpus (``corpus/``, described by ``corpus/MANIFEST.json``) is JSON Lines, one
utterance a line: ``{"id", "lang", "text", "labels": [{"code", "stance"}]}``; each file has
a weight and a group rule (the recording or the writer) for leave-one-group-out tests.
Training is deterministic: the same corpus and parameters give the same arrays, and the
model version is a hash of both.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

import numpy as np

from .learned import (CODES, MODEL_PATH, STANCES, _LEMMATISER, LinearModel, featurise,
                      make_vectorizers, normalise)

CORPUS_DIR = Path(__file__).resolve().parent / "corpus"
MODEL_SERIES = "linear-2026.12.1"


@dataclass
class TrainParams:
    char_ngrams: tuple = (2, 5)
    word_ngrams: tuple = (1, 2)
    char_min_df: int = 2
    word_min_df: int = 2
    max_char_features: int = 150_000
    max_word_features: int = 60_000
    C: float = 4.0                    # inverse L2 strength of each per-code model
    calibration_folds: int = 5        # group folds for calibration and the threshold
    threshold: float = 0.5            # calibrated probability at which a finding is made
    min_evidence_words: int = 3       # a learned finding needs an evidence clause this long
    # the gravest claims need more certainty: a false war-crime or suicide finding does the
    # most harm (set after the blind set C showed civilian_harm at precision 0.60 with 0.5)
    thresholds: dict = field(default_factory=lambda: {"civilian_harm": 0.7, "self_harm": 0.7})

    def as_dict(self) -> dict:
        d = dict(self.__dict__)
        d["char_ngrams"] = list(self.char_ngrams)
        d["word_ngrams"] = list(self.word_ngrams)
        return d


def load_corpus(corpus_dir: Path = CORPUS_DIR, *, include: Sequence[str] | None = None,
                exclude: Sequence[str] = ()) -> list[dict]:
    """Rows of every corpus file named in MANIFEST.json, with ``weight`` and ``group``."""
    manifest = json.loads((corpus_dir / "MANIFEST.json").read_text(encoding="utf-8"))
    rows = []
    for entry in manifest["files"]:
        name = entry["file"]
        if include is not None and name not in include or name in exclude:
            continue
        path = corpus_dir / name
        with open(path, encoding="utf-8") as fh:
            for ln, line in enumerate(fh, 1):
                line = line.strip()
                if not line:
                    continue
                try:
                    d = json.loads(line)
                except json.JSONDecodeError as e:
                    raise ValueError(f"{path}:{ln}: not JSON ({e.msg})") from None
                if not isinstance(d.get("text"), str) or "id" not in d:
                    raise ValueError(f"{path}:{ln}: needs id and text")
                for lab in d.get("labels", []):
                    if lab.get("code") not in CODES or lab.get("stance", "self") not in STANCES:
                        raise ValueError(f"{path}:{ln}: unknown code or stance {lab}")
                d.setdefault("lang", "ru")
                d.setdefault("labels", [])
                d["weight"] = float(entry.get("weight", 1.0))
                d["source"] = name
                d["group"] = _group(d["id"], entry.get("group", "file"), name)
                rows.append(d)
    return rows


def _group(item_id: str, rule: str, name: str) -> str:
    if rule == "recording":
        return item_id.rsplit("-", 1)[0]
    return name


def corpus_digest(rows: Sequence[dict]) -> str:
    h = hashlib.sha256()
    for r in rows:
        h.update(json.dumps([r["id"], r["lang"], r["text"], sorted((l["code"], l.get("stance", "self"))
                                                                   for l in r["labels"]), r["weight"]],
                            ensure_ascii=False).encode())
    return h.hexdigest()


def label_matrix(rows: Sequence[dict]) -> np.ndarray:
    Y = np.zeros((len(rows), len(CODES)), dtype=np.int8)
    for i, r in enumerate(rows):
        for lab in r["labels"]:
            Y[i, CODES.index(lab["code"])] = 1
    return Y


def train(rows: Sequence[dict], params: TrainParams | None = None, *, progress=None) -> LinearModel:
    """Fit vectorizers, one calibrated logistic regression per code and a stance model."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.base import clone
    from sklearn.model_selection import GroupKFold

    p = params or TrainParams()
    texts = [r["text"] for r in rows]
    langs = [r["lang"] for r in rows]
    w = np.array([r["weight"] for r in rows], dtype=np.float64)
    Y = label_matrix(rows)

    cv, wv = make_vectorizers(p.char_ngrams, p.word_ngrams,
                              char={"min_df": p.char_min_df, "max_features": p.max_char_features},
                              word={"min_df": p.word_min_df, "max_features": p.max_word_features})
    cv.fit([normalise(t) for t in texts])
    wv.fit([_LEMMATISER.lemmas(t, l) for t, l in zip(texts, langs)])
    X = featurise(cv, wv, texts, langs)

    n_feat = X.shape[1]
    groups = np.array([r["group"] for r in rows])
    real = np.array([r["source"].startswith("real-") for r in rows])
    n_folds = min(p.calibration_folds, len(set(groups)))
    coef = np.zeros((len(CODES), n_feat), dtype=np.float64)
    intercept = np.zeros(len(CODES))
    calib = np.tile([-1.0, 30.0], (len(CODES), 1))    # codes without data never fire
    oof = np.zeros(Y.shape)
    for k, code in enumerate(CODES):
        y = Y[:, k]
        if progress:
            progress(code)
        if y.sum() < max(3, n_folds) or n_folds < 2:
            continue
        base = LogisticRegression(C=p.C, class_weight="balanced", solver="liblinear", max_iter=2000)
        # out-of-fold decision values, folds by group (a recording or a writer's file never
        # straddles train and test), give the sigmoid calibration and the thresholds
        dec = np.zeros(len(y))
        for tr, te in GroupKFold(n_splits=n_folds).split(X, y, groups):
            if y[tr].min() == y[tr].max():      # every positive sits in the held-out groups
                dec[te] = -10.0 if y[tr].max() == 0 else 10.0
                continue
            fold = clone(base).fit(X[tr], y[tr], sample_weight=w[tr])
            dec[te] = fold.decision_function(X[te])
        platt = LogisticRegression(C=1e4).fit(dec.reshape(-1, 1), y, sample_weight=w)
        a, b = -float(platt.coef_[0, 0]), -float(platt.intercept_[0])
        calib[k] = (a, b)
        oof[:, k] = 1.0 / (1.0 + np.exp(a * dec + b))
        final = clone(base).fit(X, y, sample_weight=w)
        coef[k] = final.coef_[0]
        intercept[k] = final.intercept_[0]
    threshold = p.threshold
    oof_fit = {"real": micro_prf(oof[real], Y[real], threshold),
               "written": micro_prf(oof[~real], Y[~real], threshold)}

    # stance: self / reported / narration from the text and the code it is given for
    from scipy.sparse import csr_matrix, hstack
    srows, scodes, sy, sw = [], [], [], []
    for i, r in enumerate(rows):
        for lab in r["labels"]:
            srows.append(i)
            scodes.append(CODES.index(lab["code"]))
            sy.append(STANCES.index(lab.get("stance", "self")))
            sw.append(w[i])
    onehot = np.zeros((len(srows), len(CODES)), dtype=np.float32)
    onehot[np.arange(len(srows)), scodes] = 1.0
    Z = hstack([X[srows], csr_matrix(onehot)]).tocsr()
    st = LogisticRegression(C=p.C, class_weight="balanced", max_iter=3000)
    st.fit(Z, np.array(sy), sample_weight=np.array(sw))
    s_coef = np.zeros((len(STANCES), Z.shape[1]))
    s_int = np.full(len(STANCES), -1e3)
    if len(st.classes_) == 2:        # binary: sklearn keeps one row for the second class
        a, b = st.classes_
        s_coef[b], s_int[b] = st.coef_[0], st.intercept_[0]
        s_coef[a], s_int[a] = 0.0, 0.0
    else:
        for j, c in enumerate(st.classes_):
            s_coef[c], s_int[c] = st.coef_[j], st.intercept_[j]

    thresholds = np.array([p.thresholds.get(c, threshold) for c in CODES])
    digest = corpus_digest(rows)
    pdict = p.as_dict()
    version_hash = hashlib.sha256((digest + json.dumps(pdict, sort_keys=True)).encode()).hexdigest()[:8]
    meta = {"version": f"{MODEL_SERIES}+{version_hash}", "corpus_sha256": digest,
            "params": pdict, "features": {"char_ngrams": list(p.char_ngrams),
                                          "word_ngrams": list(p.word_ngrams)},
            "threshold": threshold, "min_evidence_words": p.min_evidence_words,
            "out_of_fold": oof_fit,
            "n_train": len(rows), "positives": {c: int(Y[:, k].sum()) for k, c in enumerate(CODES)},
            "sources": sorted({r["source"] for r in rows})}
    return LinearModel(char_vocab=cv.get_feature_names_out().tolist(), char_idf=cv.idf_.astype(np.float32),
                       word_vocab=wv.get_feature_names_out().tolist(), word_idf=wv.idf_.astype(np.float32),
                       coef=coef.astype(np.float32), intercept=intercept.astype(np.float32), calib=calib,
                       thresholds=thresholds, stance_coef=s_coef.astype(np.float32),
                       stance_intercept=s_int.astype(np.float32), meta=meta)


def micro_prf(P: np.ndarray, Y: np.ndarray, threshold: float) -> dict:
    """Micro precision/recall/F1 of probabilities P against labels Y at a threshold."""
    pred = P >= threshold
    tp = int((pred & (Y == 1)).sum())
    fp = int((pred & (Y == 0)).sum())
    fn = int((~pred & (Y == 1)).sum())
    prec = tp / (tp + fp) if tp + fp else 0.0
    rec = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * prec * rec / (prec + rec) if prec + rec else 0.0
    return {"precision": round(prec, 4), "recall": round(rec, 4), "f1": round(f1, 4),
            "tp": tp, "fp": fp, "fn": fn}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m overheard.analyse.train", description=__doc__.split("\n")[0])
    ap.add_argument("--corpus", type=Path, default=CORPUS_DIR)
    ap.add_argument("--out", type=Path, default=MODEL_PATH)
    a = ap.parse_args(argv)
    rows = load_corpus(a.corpus)
    model = train(rows)
    model.save(a.out)
    print(f"{a.out}: {model.version} from {len(rows)} utterances")
    return 0


if __name__ == "__main__":
    sys.exit(main())
