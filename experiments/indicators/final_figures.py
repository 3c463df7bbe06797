"""The figures of docs/indicators.md for the shipped detector: blind slices C and D (rules,
rules + learned model, the model's own decisions, keyword baseline), per code and stance.

    python experiments/indicators/final_figures.py [--json OUT]
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

from overheard.analyse import load_detector
from overheard.analyse.baseline import KeywordBaseline
from overheard.analyse.evaluate import load_gold, score_predictions

ROOT = Path(__file__).resolve().parents[2]
SETS = {"C": ROOT / "tests/fixtures/indicators_written_c.jsonl",
        "D": ROOT / "tests/fixtures/indicators_blind_d.jsonl",
        "dev (not held out)": ROOT / "tests/fixtures/intercepts_dev_labels.jsonl",
        "seed": ROOT / "tests/fixtures/seed_labels.jsonl",
        "own cases": ROOT / "tests/fixtures/indicator_cases.jsonl"}


def fmt(m):
    return f"{m['precision']:.3f} / {m['recall']:.3f} / {m['f1']:.3f}"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--json")
    a = ap.parse_args()
    hybrid, rules, kb = load_detector(), load_detector(fast=True), KeywordBaseline()
    out = {"detector": hybrid.version}
    for name, path in SETS.items():
        gold = load_gold(path)
        items = [(r["text"], r.get("lang", "ru")) for r in gold]
        res_h = hybrid.analyze_many(items)
        h = score_predictions(gold, [r.findings for r in res_h])
        m = score_predictions(gold, [[f for f in r.findings if "model" in f.method] for r in res_h])
        r = score_predictions(gold, [x.findings for x in rules.analyze_many(items)])
        k = score_predictions(gold, [x.findings for x in kb.analyze_many(items)])
        out[name] = {"hybrid": h, "model_decisions": m, "rules": r, "baseline": k}
        print(f"== {name} (n={len(gold)})")
        for lab, s in (("rules + model", h), ("model's decisions", m), ("rules alone", r), ("keyword baseline", k)):
            st = s["stance_accuracy"]
            print(f"  {lab:18} micro P/R/F1 {fmt(s['micro'])}  macro F1 {s['macro']['f1'] or 0:.3f}  "
                  f"stance {st if st is None else round(st, 3)}")
        for code, v in h["per_code"].items():
            if v["support"] or v["predicted"]:
                p = "–" if v["precision"] is None else f"{v['precision']:.2f}"
                rr = "–" if v["recall"] is None else f"{v['recall']:.2f}"
                print(f"    {code:14} P {p} R {rr} support {v['support']} predicted {v['predicted']}")
    if a.json:
        for v in out.values():
            if isinstance(v, dict):
                for s in v.values():
                    s.pop("worst_misses", None)
        Path(a.json).write_text(json.dumps(out, indent=1, ensure_ascii=False))


if __name__ == "__main__":
    main()
