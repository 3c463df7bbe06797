"""Morale-indicator detector (codebook v1) for Russian, Ukrainian and English utterances.

    from overheard.analyse.indicators import load_detector
    det = load_detector()
    res = det.analyze("Мне страшно, нас кинули", "ru")
    for f in res.findings:
        print(f.code, f.stance, f.score, res_text[f.start:f.end], f.method)

The detector is a set of lemma rules per language (``lexicon/<lang>.txt``, see
``rules.py`` for the rule language) with negation, question and irony handling and a
heuristic stance assignment. Every finding carries the rule that fired and the
character span of its evidence in the original text.
"""
from __future__ import annotations

import hashlib
import threading
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Iterable

from .rules import SENT_END, Lexicon, Tok, load_lexicon, match_rule, norm, tokenize

CODES: tuple[str, ...] = (
    "fear", "distress", "self_harm", "deceived", "unwilling", "coercion",
    "casualties", "infighting", "civilian_harm", "neglect", "resolve",
)
STANCES: tuple[str, ...] = ("self", "reported", "narration")
LANGS: tuple[str, ...] = ("ru", "uk", "en")

RULES_VERSION = "rules-2026.11.1"
LEXICON_DIR = Path(__file__).resolve().parent / "lexicon"
MAX_CHARS = 20_000          # longer texts are cut here (status "truncated")
NEG_WINDOW = 3              # words before a cue searched for a negator
IRONY_WINDOW = 4
# codes whose "our/own" possessive means the speaker's group is the one affected
_OWN_SELF_CODES = frozenset({"casualties", "neglect", "infighting", "coercion", "deceived",
                             "unwilling", "distress", "fear", "resolve"})
_NEGATIVE_CODES = frozenset(CODES) - {"resolve"}


def _lexicon_hash() -> str:
    h = hashlib.sha256()
    for lang in LANGS:
        p = LEXICON_DIR / f"{lang}.txt"
        h.update(lang.encode())
        h.update(p.read_bytes() if p.exists() else b"")
    return h.hexdigest()[:8]


DETECTOR_VERSION = f"{RULES_VERSION}+lex.{_lexicon_hash()}"


@dataclass(frozen=True)
class Finding:
    code: str      # one of CODES
    stance: str    # self | reported | narration
    score: float   # [0,1]
    start: int     # char offset into the ORIGINAL text (evidence span)
    end: int
    method: str    # which rule fired, e.g. "lemma-rule:fear.ru.3"


@dataclass(frozen=True)
class AnalysisResult:
    findings: list = field(default_factory=list)
    status: str = "ok"         # ok | empty | unsupported | truncated
    note: str | None = None


class _Lang:
    """Per-language analyser: lexicon + cached token features."""

    def __init__(self, lang: str):
        self.lang = lang
        self.stem = None
        self.morph = None
        if lang == "en":
            import snowballstemmer
            self._stemmer = snowballstemmer.stemmer("english")
            self.stem = self._stemmer.stemWord
        else:
            import pymorphy3
            self.morph = pymorphy3.MorphAnalyzer(lang=lang)
        self.lex: Lexicon = load_lexicon(LEXICON_DIR / f"{lang}.txt", lang, self.stem)
        s = self.lex.sets
        self.neg = s.get("_neg", frozenset())
        self.negafter = s.get("_negafter", frozenset())
        self.self_ = s.get("_self", frozenset())
        self.own = s.get("_own", frozenset())
        self.third = s.get("_third", frozenset())
        self.report = s.get("_report", frozenset())
        self.irony = s.get("_irony", frozenset())
        self.filler = s.get("_filler", frozenset())
        self.attrib = s.get("_attrib", frozenset())
        self._plens = sorted({len(p) for p in self.lex.prefixes})
        self._prefixes = frozenset(self.lex.prefixes)
        self.feats = lru_cache(maxsize=200_000)(self._feats)

    def _feats(self, w: str) -> frozenset:
        keys = {"S:" + w}
        if self.morph is not None:
            if w.isalpha() or "-" in w:
                for p in self.morph.parse(w)[:4]:
                    keys.add("L:" + norm(p.normal_form))
        else:
            keys.add("L:" + self.stem(w.replace("'", "")))
            if "'" in w:
                keys.add("S:" + w.replace("'", ""))
        for k in self._plens:
            if len(w) >= k and w[:k] in self._prefixes:
                keys.add("P:" + w[:k])
        return frozenset(keys)

    def tokens(self, text: str) -> list:
        toks: list[Tok] = []
        sent = 0
        for s, e, raw in tokenize(text):
            c = raw[0]
            if c.isalnum():
                w = norm(raw)
                f = self.feats(w)
                toks.append(Tok(s, e, True, f, sent, w, not self.filler.isdisjoint(f)))
            elif c in SENT_END or raw == "...":
                toks.append(Tok(s, e, False, frozenset(), sent, raw))
                sent += 1
            # commas, quotes, brackets: not tokens (clause boundaries are read from text)
        return toks


def cut_text(text: str) -> tuple[str, str, str | None]:
    """The part of ``text`` that is analysed: all of it, or the first MAX_CHARS cut at a word."""
    if len(text) <= MAX_CHARS:
        return text, "ok", None
    cut = text.rfind(" ", MAX_CHARS - 200, MAX_CHARS)
    cut = cut if cut > 0 else MAX_CHARS
    return text[:cut], "truncated", f"analysed the first {cut} of {len(text)} characters"


_CLAUSE_CHARS = frozenset(",;:—–()\"«»“”.!?…")


class Detector:
    """Rule-based morale-indicator detector. Thread-safe for reading."""

    def __init__(self):
        self.version = DETECTOR_VERSION
        self._langs: dict[str, _Lang] = {}
        self._lock = threading.Lock()

    # -- language handling -------------------------------------------------
    def _lang(self, lang: str) -> _Lang:
        la = self._langs.get(lang)
        if la is None:
            with self._lock:
                la = self._langs.get(lang)
                if la is None:
                    la = _Lang(lang)
                    self._langs[lang] = la
        return la

    @staticmethod
    def norm_lang(lang) -> str | None:
        if not isinstance(lang, str):
            return None
        l = lang.strip().lower().replace("_", "-").split("-")[0]
        if l in ("ukr",):
            l = "uk"
        if l in ("rus",):
            l = "ru"
        if l in ("eng",):
            l = "en"
        return l if l in LANGS else None

    # -- public API --------------------------------------------------------
    def analyze(self, text: str, lang: str) -> AnalysisResult:
        if text is None or not isinstance(text, str) or not text.strip():
            return AnalysisResult([], "empty", None)
        l = self.norm_lang(lang)
        if l is None:
            return AnalysisResult([], "unsupported", f"language {lang!r} not supported (ru, uk, en)")
        work, status, note = cut_text(text)
        findings = self._analyze(work, self._lang(l))
        return AnalysisResult(findings, status, note)

    def analyze_many(self, items: Iterable) -> list:
        """Analyse (text, lang) pairs in order; returns a list of AnalysisResult."""
        an = self.analyze
        return [an(t, l) for t, l in items]

    # -- internals ---------------------------------------------------------
    def _analyze(self, text: str, la: _Lang) -> list:
        toks = la.tokens(text)
        if not toks:
            return []
        index = la.lex.index
        # sentence facts
        nsent = toks[-1].sent + 1
        question = [False] * (nsent + 1)
        for t in toks:
            if not t.word and "?" in text[t.start:t.end]:
                question[t.sent] = True
        best: dict[str, tuple] = {}
        for i, t in enumerate(toks):
            if not t.word:
                continue
            cand = None
            for k in t.feats:
                rs = index.get(k)
                if rs:
                    if cand is None:
                        cand = []
                    cand.extend(rs)
            if not cand:
                continue
            seen = set()
            for rule in cand:
                if id(rule) in seen:
                    continue
                seen.add(id(rule))
                m = match_rule(rule, toks, i)
                if m is None:
                    continue
                sent = toks[i].sent
                if question[sent] and not rule.q:
                    continue
                if rule.neg and (self._negated(text, toks, m[0], la) or self._neg_in_gap(toks, m, la)
                                 or self._negated_after(toks, m[-1], la, text)):
                    continue
                if rule.nopunct and self._punct_inside(text, toks, m):
                    continue
                if rule.unless is not None and self._in_sent(toks, sent, rule.unless, self._covered(m)):
                    continue
                if rule.ctx is not None and not self._in_sent(toks, sent, rule.ctx, ()):
                    continue
                if rule.uctx is not None and not any(
                        tk.word and rule.uctx.ends_at(toks, j) for j, tk in enumerate(toks)):
                    continue
                if rule.irony and self._ironic(text, toks, m[0], la):
                    continue
                start, end = toks[m[0]].start, toks[m[-1]].end
                prev = best.get(rule.code)
                if prev is None or rule.score > prev[0]:
                    best[rule.code] = (rule.score, start, end, rule, m, sent)
        if not best:
            return []
        # resolve is not asserted next to low-morale indicators in the same sentence
        if "resolve" in best:
            rs = best["resolve"][5]
            if any(v[5] == rs for c, v in best.items() if c in _NEGATIVE_CODES):
                del best["resolve"]
        out = []
        for code, (score, start, end, rule, m, sent) in best.items():
            stance = rule.stance or self._stance(text, toks, m, code, la)
            out.append(Finding(code, stance, round(score, 3), start, end, "lemma-rule:" + rule.rid))
        out.sort(key=lambda f: (f.start, CODES.index(f.code)))
        return out

    @staticmethod
    def _in_sent(toks, sent, el, exclude) -> bool:
        ex = set(exclude)
        for j, tk in enumerate(toks):
            if tk.sent == sent and tk.word and j not in ex and el.ends_at(toks, j):
                return True
        return False

    @staticmethod
    def _negated(text, toks, i, la: _Lang) -> bool:
        if not la.neg:
            return False
        # look back up to NEG_WINDOW words (fillers free) inside the clause
        seen = 0
        j = i - 1
        while j >= 0 and seen < NEG_WINDOW:
            tk = toks[j]
            if not tk.word:
                break
            # a clause boundary between this word and the cue stops the search
            if any(c in _CLAUSE_CHARS for c in text[tk.end:toks[j + 1].start]):
                break
            if not la.neg.isdisjoint(tk.feats):
                return True
            if not tk.filler:
                seen += 1
            j -= 1
        return False

    @staticmethod
    def _negated_after(toks, last, la: _Lang, text: str = "") -> bool:
        """"сдаваться не собираюсь", "страшно не было": negator + auxiliary right after.

        Not across a clause boundary: "плачу, не могу остановиться" is not negated (a comma
        around swearing in between does not count: "Сдаваться, блядь, не собираюсь")."""
        if not la.negafter:
            return False
        n = len(toks)
        j = last + 1
        while j < n and toks[j].word and toks[j].filler:
            j += 1
        if text and j == last + 1 < n and any(c in _CLAUSE_CHARS for c in text[toks[last].end:toks[j].start]):
            return False
        if j + 1 < n and toks[j].word and not la.neg.isdisjoint(toks[j].feats):
            k = j + 1
            return toks[k].word and not la.negafter.isdisjoint(toks[k].feats)
        return False

    @staticmethod
    def _covered(m) -> set:
        cov = set()
        for a, b in zip(m[0::2], m[1::2]):
            cov.update(range(a, b + 1))
        return cov

    def _neg_in_gap(self, toks, m, la: _Lang) -> bool:
        if m[-1] - m[0] + 1 == len(self._covered(m)):
            return False
        cov = self._covered(m)
        return any(j not in cov and toks[j].word and not la.neg.isdisjoint(toks[j].feats)
                   for j in range(m[0], m[-1] + 1))

    @staticmethod
    def _punct_inside(text, toks, m) -> bool:
        for j in range(m[0], m[-1]):
            if toks[j + 1].filler and j + 1 < m[-1]:
                continue
            if toks[j].filler and j > m[0]:
                continue
            if any(c in ",;:—–" for c in text[toks[j].end:toks[j + 1].start]):
                return True
        return False

    @staticmethod
    def _ironic(text, toks, i, la: _Lang) -> bool:
        if not la.irony:
            return False
        sent = toks[i].sent
        j = i - 1
        seen = 0
        while j >= 0 and seen < IRONY_WINDOW and toks[j].sent == sent:
            tk = toks[j]
            if tk.word:
                if not la.irony.isdisjoint(tk.feats):
                    return True
                seen += 1
            j -= 1
        return False

    @staticmethod
    def _in_quotes(text: str, pos: int) -> bool:
        before = text[:pos]
        n = before.count('"') + before.count("“") + before.count("«")
        n_close = before.count("”") + before.count("»")
        straight = before.count('"')
        if straight % 2 == 1:
            return True
        return (n - straight) > n_close

    def _stance(self, text, toks, m, code, la: _Lang) -> str:
        first, last = m[0], m[-1]
        sent = toks[first].sent
        if la.lang == "en":
            s_start = next((t.start for t in toks if t.sent == sent), 0)
            s_end = max((t.end for t in toks if t.sent == sent), default=len(text))
            attrib_before = any(tk.word and tk.end <= toks[first].start and tk.start >= 0
                                and not la.attrib.isdisjoint(tk.feats) for tk in toks)
            if self._in_quotes(text, toks[first].start):
                # a quote with an attribution frame ("..., a soldier texted") is the
                # journalist's narration of it; a bare quote is the soldier's own words
                has_attrib = any(tk.word and not la.attrib.isdisjoint(tk.feats)
                                 and not self._in_quotes(text, tk.start) for tk in toks)
                return "narration" if has_attrib else "self"
            colon = text.rfind(":", 0, toks[first].start)
            if colon >= 0 and attrib_before:
                return "narration"
            words = [tk for tk in toks if tk.word and tk.sent == sent]
            if any(not la.self_.isdisjoint(tk.feats) for tk in words):
                return "self"
            if (any(not la.own.isdisjoint(tk.feats) for tk in words)
                    and any(not la.third.isdisjoint(tk.feats) for tk in words)):
                return "reported"
            if not any(tk.word and not la.attrib.isdisjoint(tk.feats) for tk in toks) and any(
                    tk.word and not la.self_.isdisjoint(tk.feats) for tk in toks):
                return "self"       # first-person message split into sentences
            return "narration"
        near = self._nearest_person(toks, first, last, sent, code, la)
        return near or "self"

    def _nearest_person(self, toks, first, last, sent, code, la: _Lang):
        """Stance from the person marker nearest to the evidence in its sentence.

        First-person pronouns mean self; third-person pronouns mean reported; "our/own"
        counts as self where the own group is the one affected (casualties, neglect...)
        and as reported where it is the actor (civilian_harm, self_harm). A reporting
        verb means reported only when no first-person pronoun is in the sentence
        ("нам сказали" is still the speaker's own group).
        """
        best_d, best = None, None
        own_self = code in _OWN_SELF_CODES
        words = [(j, tk) for j, tk in enumerate(toks) if tk.sent == sent and tk.word]
        has_self = any(not la.self_.isdisjoint(tk.feats) for _, tk in words)
        for j, tk in words:
            if first <= j <= last:
                d = 0
            else:
                d = first - j if j < first else j - last
            f = tk.feats
            kind = None
            if not la.self_.isdisjoint(f) or (own_self and not la.own.isdisjoint(f)):
                kind = "self"
            elif not la.third.isdisjoint(f) or (not own_self and not la.own.isdisjoint(f)):
                kind = "reported"
            elif not has_self and code not in ("coercion", "deceived") and not la.report.isdisjoint(f):
                kind = "reported"
            if kind and (best_d is None or d < best_d):
                best_d, best = d, kind
        return best


_DETECTOR: Detector | None = None
_DLOCK = threading.Lock()


def load_detector() -> Detector:
    """Return the shared detector (built once; language resources load on first use)."""
    global _DETECTOR
    if _DETECTOR is None:
        with _DLOCK:
            if _DETECTOR is None:
                _DETECTOR = Detector()
    return _DETECTOR
