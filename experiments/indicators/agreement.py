"""Inter-annotator agreement of the written corpus, from the annotations kept in each line
(a1, a2: independent annotators given only the codebook and the text; writer: the writer's
intended labels). Cohen's kappa per code (presence), pairwise micro-F1, stance agreement.

    python experiments/indicators/agreement.py [FILE.jsonl ...]
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

from overheard.analyse.indicators import CODES

ROOT = Path(__file__).resolve().parents[2]


def kappa(a, b):
    n = len(a)
    po = sum(x == y for x, y in zip(a, b)) / n
    pa, pb = sum(a) / n, sum(b) / n
    pe = pa * pb + (1 - pa) * (1 - pb)
    return (po - pe) / (1 - pe) if pe < 1 else 1.0


def main(paths):
    rows = [json.loads(l) for p in paths for l in open(p, encoding="utf-8") if l.strip()]
    rows = [r for r in rows if "annotations" in r]
    def codes(labels):
        return {l["code"]: l.get("stance") for l in labels}
    out = {"n": len(rows), "kappa_a1_a2": {}, "kappa_adjudicated_writer": {}}
    tp = n1 = n2 = st_ok = st_n = adj = 0
    for c in CODES:
        v1 = [int(c in codes(r["annotations"]["a1"])) for r in rows]
        v2 = [int(c in codes(r["annotations"]["a2"])) for r in rows]
        vg = [int(c in codes(r["labels"])) for r in rows]
        vw = [int(c in codes(r["annotations"]["writer"])) for r in rows]
        out["kappa_a1_a2"][c] = round(kappa(v1, v2), 3)
        out["kappa_adjudicated_writer"][c] = round(kappa(vg, vw), 3)
        tp += sum(x and y for x, y in zip(v1, v2)); n1 += sum(v1); n2 += sum(v2)
        adj += sum(x != y for x, y in zip(v1, v2))
    for r in rows:
        a, b = codes(r["annotations"]["a1"]), codes(r["annotations"]["a2"])
        for c in set(a) & set(b):
            st_n += 1; st_ok += a[c] == b[c]
    out["pairwise_micro_f1_a1_a2"] = round(2 * tp / (n1 + n2), 3)
    out["stance_agreement_a1_a2"] = round(st_ok / st_n, 3)
    out["code_disagreements_adjudicated"] = adj
    out["labels"] = sum(len(r["labels"]) for r in rows)
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    paths = sys.argv[1:] or sorted((ROOT / "src/overheard/analyse/corpus").glob("written-w*.jsonl"))
    main(paths)
