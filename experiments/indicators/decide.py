"""Compare decision rules on a dump from loro.py (no retraining)."""
from __future__ import annotations

import json
import sys
from collections import Counter

CODES = ("fear", "distress", "self_harm", "deceived", "unwilling", "coercion",
         "casualties", "infighting", "civilian_harm", "neglect", "resolve")


def decide(row, mode, t, veto=0.0):
    p = {}
    for c in CODES:
        w = row["whole"][c]
        b = row["best"][c][0]
        if mode == "whole":
            s = w
        elif mode == "max":
            s = max(w, b)
        elif mode == "mean":
            s = (w + b) / 2 if row["nwin"] > 1 else w
        else:
            s = w
        p[c] = s
    learned = {c: row["stance"][c] for c in CODES if p[c] >= t}
    rules = {f["code"]: f["stance"] for f in row["rules"] if p[f["code"]] >= veto}
    return learned, rules


def score(rows, pick):
    tp = Counter(); fp = Counter(); fn = Counter(); st_ok = st_n = 0
    for r in rows:
        g = {l["code"]: l.get("stance") for l in r["gold"]}
        pr = pick(r)
        for c in set(g) | set(pr):
            if c in g and c in pr:
                tp[c] += 1; st_n += 1; st_ok += pr[c] == g[c]
            elif c in pr:
                fp[c] += 1
            else:
                fn[c] += 1
    TP, FP, FN = sum(tp.values()), sum(fp.values()), sum(fn.values())
    P = TP / (TP + FP) if TP + FP else 0; R = TP / (TP + FN) if TP + FN else 0
    F = 2 * P * R / (P + R) if P + R else 0
    per = {c: (tp[c], fp[c], fn[c]) for c in CODES if tp[c] + fp[c] + fn[c]}
    return P, R, F, (st_ok / st_n if st_n else 0), per


def main(path, verbose=False):
    d = json.load(open(path))
    sets = {"LORO": d["loro"], **d["blind"]}
    for name, rows in sets.items():
        print(f"== {name} ({len(rows)})")
        P, R, F, S, per = score(rows, lambda r: decide(r, "whole", 2)[1])
        print(f"rules alone          P {P:.3f} R {R:.3f} F {F:.3f} st {S:.3f}")
        for mode in ("whole", "max", "mean"):
            for t in (0.3, 0.4, 0.5, 0.6, 0.7):
                P, R, F, S, per = score(rows, lambda r: decide(r, mode, t)[0])
                P2, R2, F2, S2, per2 = score(rows, lambda r: {**decide(r, mode, t)[0], **decide(r, mode, t)[1]})
                print(f"{mode:5} t={t}  learned P {P:.3f} R {R:.3f} F {F:.3f} st {S:.2f} | union P {P2:.3f} R {R2:.3f} F {F2:.3f} st {S2:.2f}")
        if verbose:
            P, R, F, S, per = score(rows, lambda r: decide(r, "whole", 0.5)[0])
            for c, v in per.items():
                print("   ", c, "tp fp fn", v)


if __name__ == "__main__":
    main(sys.argv[1], "-v" in sys.argv)
