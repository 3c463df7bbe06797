"""Evaluation of morale-indicator detectors against gold JSONL.

Gold format (one JSON a line, as /shared/data/intercepts-dev/labels.jsonl)::

    {"id": "rc012-002", "lang": "ru", "text": "...", "labels": [{"code": "distress", "stance": "self"}]}

Scoring unit: (utterance id, code) pairs. Stance is scored separately as the share of
matched (true-positive) pairs whose predicted stance equals the gold stance.

    python -m overheard.analyse.evaluate GOLD.jsonl [--json] [--baseline] [--loro]
"""
from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path
from typing import Iterable

from .indicators import CODES


def load_gold(gold_path) -> list[dict]:
    rows = []
    with open(gold_path, encoding="utf-8") as fh:
        for ln, line in enumerate(fh, 1):
            line = line.strip()
            if not line:
                continue
            d = json.loads(line)
            if "id" not in d or "text" not in d:
                raise ValueError(f"{gold_path}:{ln}: needs id and text")
            d.setdefault("lang", "ru")
            d.setdefault("labels", [])
            rows.append(d)
    return rows


def _prf(tp: int, fp: int, fn: int):
    """Precision, recall, F1; None where undefined (no predictions / no support)."""
    p = tp / (tp + fp) if tp + fp else None
    r = tp / (tp + fn) if tp + fn else None
    if p is not None and r is not None:
        f = 2 * p * r / (p + r) if p + r else 0.0
    elif tp + fp + fn:
        f = 0.0
    else:
        f = None
    return p, r, f


def score_predictions(gold: list[dict], preds: list) -> dict:
    """Score predictions (one list of findings-like objects per gold row).

    A finding-like object has .code and .stance (and optionally .start/.end/.score/.method).
    """
    tp = Counter()
    fp = Counter()
    fn = Counter()
    stance_ok = stance_n = 0
    misses = []
    for row, findings in zip(gold, preds):
        g = {}
        for lab in row.get("labels", []):
            g.setdefault(lab["code"], lab.get("stance"))
        p = {}
        for f in findings:
            if f.code not in p or f.score > p[f.code].score:
                p[f.code] = f
        for code in set(g) | set(p):
            if code in g and code in p:
                tp[code] += 1
                if g[code] is not None:
                    stance_n += 1
                    stance_ok += int(p[code].stance == g[code])
            elif code in p:
                fp[code] += 1
                f = p[code]
                ev = row["text"][f.start:f.end] if hasattr(f, "start") else ""
                misses.append({"kind": "FP", "id": row["id"], "code": code,
                               "score": getattr(f, "score", None), "evidence": ev,
                               "method": getattr(f, "method", ""), "text": row["text"]})
            else:
                fn[code] += 1
                misses.append({"kind": "FN", "id": row["id"], "code": code, "score": None,
                               "evidence": "", "method": "", "text": row["text"]})
    per_code = {}
    for code in CODES:
        P, R, F = _prf(tp[code], fp[code], fn[code])
        per_code[code] = {"precision": P, "recall": R, "f1": F,
                          "support": tp[code] + fn[code], "predicted": tp[code] + fp[code]}
    # codes outside CODES that appear in gold or predictions
    for code in sorted((set(tp) | set(fp) | set(fn)) - set(CODES)):
        P, R, F = _prf(tp[code], fp[code], fn[code])
        per_code[code] = {"precision": P, "recall": R, "f1": F,
                          "support": tp[code] + fn[code], "predicted": tp[code] + fp[code]}
    TP, FP, FN = sum(tp.values()), sum(fp.values()), sum(fn.values())
    mP, mR, mF = _prf(TP, FP, FN)
    active = [c for c, v in per_code.items() if v["support"] > 0 or v["predicted"] > 0]
    macro = {}
    for k in ("precision", "recall", "f1"):
        vals = [(per_code[c][k] or 0.0) for c in active]
        macro[k] = sum(vals) / len(vals) if vals else None
    # worst misses: confident false positives first, then false negatives
    misses.sort(key=lambda m: (m["kind"] != "FP", -(m["score"] or 0.0), m["id"]))
    return {
        "micro": {"precision": mP or 0.0, "recall": mR or 0.0, "f1": mF or 0.0},
        "macro": macro,
        "per_code": per_code,
        "n": len(gold),
        "tp": TP, "fp": FP, "fn": FN,
        "stance_accuracy": (stance_ok / stance_n) if stance_n else None,
        "worst_misses": misses[:40],
    }


def evaluate(detector, gold_path) -> dict:
    """Run ``detector`` over the gold file and score it (see module docstring)."""
    gold = load_gold(gold_path)
    items = [(r["text"], r.get("lang", "ru")) for r in gold]
    if hasattr(detector, "analyze_many"):
        results = detector.analyze_many(items)
    else:
        results = [detector.analyze(t, l) for t, l in items]
    preds = [r.findings for r in results]
    out = score_predictions(gold, preds)
    out["detector"] = getattr(detector, "version", type(detector).__name__)
    out["gold"] = str(gold_path)
    return out


def evaluate_with_baseline(gold_path, detector=None) -> dict:
    """Evaluate the detector and the plain keyword baseline on the same gold file."""
    from .baseline import KeywordBaseline
    from .hybrid import load_detector
    det = detector or load_detector()
    return {"detector": evaluate(det, gold_path), "baseline": evaluate(KeywordBaseline(), gold_path)}


def recording_of(item_id: str) -> str:
    """Group key for leave-one-recording-out: 'rc012-004' -> 'rc012'; 'seed-003' -> 'seed'."""
    m = re.match(r"^(.*?)-\d+$", item_id)
    return m.group(1) if m else item_id


def evaluate_loro(gold_path, *, corpus_rows=None, params=None, fast: bool = False,
                  progress=None) -> dict:
    """Leave-one-recording-out evaluation of the shipped detector (rules + learned model).

    For each recording (group = the id before the last ``-NNN``, i.e. ``rcNNN``) the learned
    model is trained afresh on the training corpus (``train.load_corpus()`` unless
    ``corpus_rows`` is given) less every row of that recording (by id and by text), and the
    recording is scored by rules + that model. The rules are the same in every fold (they
    were written by hand, reading the dev set: read ``docs/indicators.md``), so the figure
    of the learned model alone is returned too, under ``learned_only``. ``fast=True`` scores
    the rules alone. Per-recording counts are under ``folds``.
    """
    from .hybrid import HybridDetector, load_detector
    from .learned import normalise
    from .train import load_corpus, train

    gold = load_gold(gold_path)
    groups: dict[str, list[int]] = {}
    for i, r in enumerate(gold):
        groups.setdefault(recording_of(r["id"]), []).append(i)
    rules = load_detector(fast=True)
    corpus = list(corpus_rows) if corpus_rows is not None else (None if fast else load_corpus())
    corpus_norm = [normalise(r["text"]) for r in corpus] if corpus is not None else []
    preds: list = [None] * len(gold)
    learned: list = [None] * len(gold)
    folds = {}
    for g, idx in groups.items():
        rows = [gold[i] for i in idx]
        items = [(r["text"], r.get("lang", "ru")) for r in rows]
        if fast:
            det = rules
        else:
            ids = {r["id"] for r in rows}
            texts = {normalise(r["text"]) for r in rows}
            fold_rows = [r for r, t in zip(corpus, corpus_norm) if r["id"] not in ids and t not in texts]
            det = HybridDetector(rules, train(fold_rows, params))
        res = det.analyze_many(items)
        for i, rr in zip(idx, res):
            preds[i] = rr.findings
            learned[i] = [f for f in rr.findings if "model" in f.method]
        s = score_predictions(rows, [preds[i] for i in idx])
        folds[g] = {"n": len(rows), "tp": s["tp"], "fp": s["fp"], "fn": s["fn"]}
        if progress:
            progress(g)
    out = score_predictions(gold, preds)
    out["folds"] = folds
    out["trained_component"] = not fast
    out["detector"] = rules.version if fast else f"{rules.version}+<model trained per fold>"
    if not fast:
        lo = score_predictions(gold, learned)
        out["learned_only"] = {k: lo[k] for k in ("micro", "macro", "per_code", "stance_accuracy",
                                                   "tp", "fp", "fn")}
    return out


def _fmt(x) -> str:
    return "–" if x is None else f"{x:.3f}"


def render_report(result: dict, title: str | None = None, console=None, show_misses: int = 10):
    """Print an evaluation result (from evaluate()) as Rich tables."""
    from rich.console import Console
    from rich.table import Table
    console = console or Console()
    t = Table(title=title or f"Indicator evaluation — {result.get('detector', '')}  (n={result['n']})")
    t.add_column("code")
    for c in ("precision", "recall", "f1", "support", "predicted"):
        t.add_column(c, justify="right")
    for code, v in result["per_code"].items():
        if v["support"] == 0 and v["predicted"] == 0:
            continue
        t.add_row(code, _fmt(v["precision"]), _fmt(v["recall"]), _fmt(v["f1"]),
                  str(v["support"]), str(v["predicted"]))
    t.add_section()
    for k in ("micro", "macro"):
        v = result[k]
        t.add_row(k, _fmt(v["precision"]), _fmt(v["recall"]), _fmt(v["f1"]), "", "")
    console.print(t)
    console.print(f"stance accuracy (matched codes): {_fmt(result.get('stance_accuracy'))}")
    if show_misses and result.get("worst_misses"):
        mt = Table(title="worst misses")
        for c in ("kind", "id", "code", "evidence", "text"):
            mt.add_column(c, overflow="fold")
        for m in result["worst_misses"][:show_misses]:
            mt.add_row(m["kind"], m["id"], m["code"], m.get("evidence", ""), m["text"][:160])
        console.print(mt)


def render_comparison(results: dict, console=None):
    """Print detector and baseline figures side by side (from evaluate_with_baseline())."""
    from rich.console import Console
    from rich.table import Table
    console = console or Console()
    names = list(results)
    t = Table(title="detector vs keyword baseline")
    t.add_column("figure")
    for n in names:
        t.add_column(n, justify="right")
    for k in ("micro", "macro"):
        for m in ("precision", "recall", "f1"):
            t.add_row(f"{k} {m}", *[_fmt(results[n][k][m]) for n in names])
    codes = [c for c in CODES if any(results[n]["per_code"][c]["support"] or
                                     results[n]["per_code"][c]["predicted"] for n in names)]
    for c in codes:
        t.add_row(f"{c} P/R", *[f"{_fmt(results[n]['per_code'][c]['precision'])}/"
                                f"{_fmt(results[n]['per_code'][c]['recall'])}" for n in names])
    console.print(t)


def main(argv: Iterable[str] | None = None) -> int:
    import argparse
    ap = argparse.ArgumentParser(prog="python -m overheard.analyse.evaluate")
    ap.add_argument("gold", nargs="+")
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--baseline", action="store_true", help="also score the keyword baseline")
    ap.add_argument("--loro", action="store_true", help="leave-one-recording-out figure")
    ap.add_argument("--misses", type=int, default=10)
    a = ap.parse_args(list(argv) if argv is not None else None)
    from .hybrid import load_detector
    det = load_detector()
    allres = {}
    for g in a.gold:
        if a.baseline:
            res = evaluate_with_baseline(g, det)
        else:
            res = {"detector": evaluate(det, g)}
        if a.loro:
            res["loro"] = evaluate_loro(g)
        allres[g] = res
    if a.json:
        print(json.dumps(allres, ensure_ascii=False, indent=1))
        return 0
    for g, res in allres.items():
        render_report(res["detector"], title=f"{Path(g).parent.name}/{Path(g).name} — {det.version}",
                      show_misses=a.misses)
        if a.baseline:
            render_comparison({"detector": res["detector"], "baseline": res["baseline"]})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
