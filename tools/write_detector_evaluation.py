"""Measure the shipped indicator detector on the shipped gold sets and write the figures the
report quotes in its methods (src/overheard/analyse/evaluation.json). Rerun after the detector
changes; the report says when the figures belong to another detector version.

    .venv/bin/python tools/write_detector_evaluation.py [--loro]

Sets: D and C — blind written lines (never used to write the rules or train the model; see
docs/indicators.md) — and, with --loro (minutes), the 14 real intercepted recordings of the dev
set scored leave-one-recording-out (the rules were written reading them: not held out for the
rules, only for the learned model).
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import datetime, timezone
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))
FIX = REPO / "tests" / "fixtures"
OUT = REPO / "src" / "overheard" / "analyse" / "evaluation.json"
SETS = [
    ("blind D", FIX / "indicators_blind_d.jsonl", "written lines, blind: frozen before any model saw them"),
    ("blind C", FIX / "indicators_written_c.jsonl", "written lines, blind"),
]


def _summary(result: dict, base: dict, note: str) -> dict:
    r3 = lambda x: None if x is None else round(x, 3)  # noqa: E731  (None: no support or no predictions)
    per_code = {c: {k: r3(v[k]) for k in ("precision", "recall", "f1")} | {"support": v.get("support", 0)}
                for c, v in result["per_code"].items()}
    return {"n": result["n"], "note": note,
            "micro": {k: r3(result["micro"][k]) for k in ("precision", "recall", "f1")},
            "per_code": per_code, "baseline_micro_f1": round(base["micro"]["f1"], 3)}


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--loro", action="store_true", help="also score the real dev recordings leave-one-recording-out")
    args = ap.parse_args()
    from overheard.analyse import evaluate as ev
    from overheard.analyse import load_detector
    from overheard.analyse.baseline import KeywordBaseline

    det = load_detector()
    sets = {}
    for name, path, note in SETS:
        sets[name] = _summary(ev.evaluate(det, path), ev.evaluate(KeywordBaseline(), path), note)
        print(name, sets[name]["micro"])
    if args.loro:
        gold = FIX / "intercepts_dev_labels.jsonl"
        sets["real speech, LORO"] = _summary(
            ev.evaluate_loro(gold), ev.evaluate(KeywordBaseline(), gold),
            "14 real intercepted recordings, leave-one-recording-out; the rules were written reading them")
        print("LORO", sets["real speech, LORO"]["micro"])
    OUT.write_text(json.dumps({
        "detector_version": det.version,
        "measured_at": datetime.now(timezone.utc).strftime("%Y-%m-%d"),
        "sets": sets}, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {OUT}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
