"""The shipped indicator detector: the lemma rules and the learned model together.

    from overheard.analyse import load_detector
    det = load_detector()                 # rules + learned model (the default)
    det = load_detector(fast=True)        # rules alone (~10x faster, lower recall)
    res = det.analyze("Мам, тут такое творится, я не знаю, как это пережить.", "ru")

For each code the rules answer first: a rule that fires gives the finding its exact words,
its rule id and its stance. Where no rule fires, the learned model (``learned.py``) makes
the finding when its calibrated probability for the utterance reaches the code's
threshold; its evidence is the sentence (or clause of a long sentence) that scores
highest for that code, and its stance comes from the model's stance classifier.
``method`` says which: ``lemma-rule:<id>`` or ``model:<model version>``; a rule finding
that the model also supports says ``lemma-rule:<id>+model``.
"""
from __future__ import annotations

import threading
from typing import Iterable

from .indicators import CODES, AnalysisResult, Detector, Finding, cut_text
from .indicators import load_detector as load_rules_detector
from .learned import LinearModel, load_model


class HybridDetector:
    """Rules ∪ calibrated linear model, one finding per code (see the module docstring)."""

    def __init__(self, rules: Detector | None = None, model: LinearModel | None = None):
        self.rules = rules or load_rules_detector()
        self.model = model or load_model()
        self.version = f"{self.rules.version}+{self.model.version}"
        self._thr = dict(zip(self.model.codes, map(float, self.model.thresholds)))

    def analyze(self, text: str, lang: str) -> AnalysisResult:
        return self.analyze_many([(text, lang)])[0]

    def analyze_many(self, items: Iterable) -> list:
        items = list(items)
        base = self.rules.analyze_many(items)
        todo = []                       # (index, analysed text, lang)
        for k, ((text, lang), res) in enumerate(zip(items, base)):
            if res.status in ("ok", "truncated"):
                todo.append((k, cut_text(text)[0], self.rules.norm_lang(lang)))
        if not todo:
            return base
        scored = self.model.score_many([(t, l) for _, t, l in todo])
        out = list(base)
        pending = []                    # learned findings still needing a stance
        for (k, text, lang), sc in zip(todo, scored):
            res = base[k]
            by_code = {f.code: f for f in res.findings}
            merged = []
            for code in self.model.codes:
                p = sc.whole.get(code, 0.0)
                f = by_code.get(code)
                if f is not None:
                    if p >= self._thr[code]:
                        f = Finding(f.code, f.stance, round(max(f.score, p), 3), f.start, f.end,
                                    f.method + "+model")
                    merged.append(f)
                elif p >= self._thr[code]:
                    _, a, b = sc.best[code]
                    merged.append([code, None, round(p, 3), a, b])
                    pending.append((k, len(merged) - 1, text, lang))
            out[k] = (res, merged)
        if pending:
            X = self.model.features([t[m[3]:m[4]] for (k, i, t, l) in pending
                                     for m in [out[k][1][i]]], [l for *_, l in pending])
            stances = self.model.stance(X, [self.model.codes.index(out[k][1][i][0])
                                            for k, i, *_ in pending])
            for (k, i, _, _), st in zip(pending, stances):
                code, _, p, a, b = out[k][1][i]
                out[k][1][i] = Finding(code, st, p, a, b, "model:" + self.model.version)
        for k, v in enumerate(out):
            if isinstance(v, tuple):
                res, merged = v
                merged.sort(key=lambda f: (f.start, CODES.index(f.code)))
                out[k] = AnalysisResult(merged, res.status, res.note)
        return out


_HYBRID: HybridDetector | None = None
_LOCK = threading.Lock()


def load_detector(fast: bool = False):
    """The shipped detector: rules + learned model, or the rules alone with ``fast=True``."""
    global _HYBRID
    if fast:
        return load_rules_detector()
    if _HYBRID is None:
        with _LOCK:
            if _HYBRID is None:
                _HYBRID = HybridDetector()
    return _HYBRID
