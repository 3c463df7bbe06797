"""The shipped indicator detector: the lemma rules and the learned model together.

    from overheard.analyse import load_detector
    det = load_detector()                 # rules + learned model (the default)
    det = load_detector(fast=True)        # rules alone (~10x faster, lower recall)
    res = det.analyze("Мам, тут такое творится, я не знаю, как это пережить.", "ru")

For each code the rules answer first: a rule that fires gives the finding its exact words
and its rule id. Where no rule fires, the learned model (``learned.py``) makes
the finding when its calibrated probability for the utterance reaches the code's
threshold (0.5: more likely than not) and the sentence (or clause of a long sentence)
that scores highest for that code has at least three words — that sentence is the
evidence. The stance of every finding comes from the model's stance classifier, read over
the sentence that holds the evidence.
``method`` says which: ``lemma-rule:<id>`` or ``model:<model version>``; a rule finding
that the model also supports says ``lemma-rule:<id>+model``.
"""
from __future__ import annotations

import re
import threading
from typing import Iterable

from .indicators import CODES, AnalysisResult, Detector, Finding, cut_text
from .indicators import load_detector as load_rules_detector
from .learned import LinearModel, load_model


_LETTER_WORD = re.compile(r"[^\W\d_]{2,}")


class HybridDetector:
    """Rules ∪ calibrated linear model, one finding per code (see the module docstring)."""

    def __init__(self, rules: Detector | None = None, model: LinearModel | None = None):
        self.rules = rules or load_rules_detector()
        self.model = model or load_model()
        self.version = f"{self.rules.version}+{self.model.version}"
        self._thr = dict(zip(self.model.codes, map(float, self.model.thresholds)))
        self._min_words = int(self.model.meta.get("min_evidence_words", 0))

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
        pending = []                    # (k, code, score, start, end, method, window)
        for (k, text, lang), sc in zip(todo, scored):
            by_code = {f.code: f for f in base[k].findings}
            for code in self.model.codes:
                p = sc.whole.get(code, 0.0)
                f = by_code.get(code)
                if f is not None:
                    method = f.method + ("+model" if p >= self._thr[code] else "")
                    win = _window_of(sc.windows, f.start, len(text))
                    pending.append((k, code, round(max(f.score, p) if p >= self._thr[code] else f.score, 3),
                                    f.start, f.end, method, win))
                elif p >= self._thr[code]:
                    _, a, b = sc.best[code]
                    if len(_LETTER_WORD.findall(text[a:b])) < self._min_words:
                        continue        # "Я 85-ый", "Держись!": too little text to stand as evidence
                    pending.append((k, code, round(p, 3), a, b, "model:" + self.model.version, (a, b)))
        if pending:
            # stance from the model's stance classifier over the sentence that holds the evidence:
            # on the blind sets it beats the pronoun heuristic of the rules (docs/indicators.md)
            texts = {k: t for k, t, _ in todo}
            langs = {k: l for k, _, l in todo}
            X = self.model.features([texts[k][w[0]:w[1]] for k, *_, w in pending],
                                    [langs[k] for k, *_ in pending])
            stances = self.model.stance(X, [self.model.codes.index(c) for _, c, *_ in pending])
            found: dict[int, list] = {}
            for (k, code, score, a, b, method, _), st in zip(pending, stances):
                found.setdefault(k, []).append(Finding(code, st, score, a, b, method))
            for k, fs in found.items():
                fs.sort(key=lambda f: (f.start, CODES.index(f.code)))
                out[k] = AnalysisResult(fs, base[k].status, base[k].note)
        return out


def _window_of(windows: list, pos: int, n: int) -> tuple[int, int]:
    """The sentence window that holds character ``pos`` (the whole text if none does)."""
    for a, b in windows:
        if a <= pos < b:
            return a, b
    return 0, n


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
