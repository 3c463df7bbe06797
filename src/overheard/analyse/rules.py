"""Rule language and matcher for the morale-indicator detector.

A lexicon file (``lexicon/<lang>.txt``) holds named sets and rules, one a line::

    @enemy = хохол|укроп|всу|противник
    casualties | двухсотый|трехсотый            || score=0.9 unless=@enemy
    neglect    | где воздух|поддержка|авиация   || q score=0.9

Names starting with ``_`` are reserved word classes the detector uses (``@_neg``
negators, ``@_self`` first person, ``@_own`` our/own, ``@_third`` third person,
``@_report`` reporting verbs, ``@_irony`` irony markers, ``@_filler`` swearing and
fillers that a gap skips for free, ``@_attrib`` attribution verbs of news prose).

Pattern syntax (space separated elements, matched in order on word tokens):

* ``word``     lemma (pymorphy3 normal form; for English a Snowball stem) or surface form
* ``=word``    exact surface form only (lowercased, ё→е)
* ``pref*``    surface form starts with ``pref``
* ``a|b|=c``   alternatives
* ``=a_b``     a multi-word alternative (words joined by ``_``; a leading ``=`` applies
               to every word), e.g. ``=не_хватает|кончиться``
* ``@name``    a named set (alternatives defined earlier in the file)
* ``~N``       up to N other words may stand before the next element (never across a
               sentence end)
* ``$``        the end of a sentence (``. ! ? …``) or of the utterance
* ``!elem``    negative look-ahead on the next word: the next word must NOT match

Options (after ``||``), space separated:

* ``score=F``    confidence of the rule (default 0.8)
* ``q``          may fire inside a question (default: questions do not assert, so no)
* ``neg=0``      no negation check (the pattern itself carries the negation)
* ``unless=E``   suppressed when a word of the same sentence matches element E
* ``ctx=E``      requires a word matching element E in the same sentence
* ``uctx=E``     requires a word matching element E anywhere in the utterance
* ``stance=S``   forces the stance
* ``irony``      suppressed when an irony marker precedes it in its sentence
* ``nopunct``    no comma, colon, semicolon or dash between the matched words
                 ("Нет, воды хватает" is an answer, not "нет воды")

Negation: unless ``neg=0``, a negator (``@_neg``) up to three words before the match in
the same clause, or inside a gap of the match, cancels it.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

_WORD_RE = re.compile(r"[^\W_]+(?:[-'’][^\W_]+)*|\.\.\.|[.!?…]+|[,;:—–()\"«»“”]", re.UNICODE)
SENT_END = frozenset(".!?…")


def norm(word: str) -> str:
    return word.lower().replace("ё", "е").replace("’", "'")


@dataclass
class Element:
    keys: frozenset
    gap: int = 0            # words allowed before this element
    end: bool = False       # matches a sentence end
    negnext: frozenset | None = None  # the following word must not match these keys
    seqs: tuple = ()        # multi-word alternatives: tuples of keysets

    def ends_at(self, toks: list, j: int):
        """End indices of the matches of this element starting at word token j."""
        t = toks[j]
        out = []
        if not self.keys.isdisjoint(t.feats):
            out.append(j)
        n = len(toks)
        for seq in self.seqs:
            if seq[0].isdisjoint(t.feats):
                continue
            k = j
            ok = True
            for ks in seq[1:]:
                k += 1
                while k < n and toks[k].word and toks[k].filler and ks.isdisjoint(toks[k].feats):
                    k += 1
                if k >= n or not toks[k].word or ks.isdisjoint(toks[k].feats):
                    ok = False
                    break
            if ok:
                out.append(k)
        return out

    def first_keys(self) -> frozenset:
        ks = set(self.keys)
        for seq in self.seqs:
            ks |= seq[0]
        return frozenset(ks)


@dataclass
class Rule:
    rid: str
    code: str
    elements: list
    score: float = 0.8
    q: bool = False
    neg: bool = True
    unless: Element | None = None   # context conditions (single words or sequences)
    ctx: Element | None = None
    uctx: Element | None = None
    stance: str | None = None
    irony: bool = False
    nopunct: bool = False   # no , ; : — between the matched elements (fillers aside)
    pattern: str = ""


@dataclass
class Lexicon:
    lang: str
    rules: list = field(default_factory=list)
    sets: dict = field(default_factory=dict)
    prefixes: set = field(default_factory=set)
    index: dict = field(default_factory=dict)      # key -> [rule]
    seqsets: dict = field(default_factory=dict)    # name -> multi-word alternatives

    def set_keys(self, name: str) -> frozenset:
        return self.sets.get(name, frozenset())


class LexiconError(ValueError):
    pass


def _alt_spec(spec: str, lex: Lexicon, stem):
    """Parse an element: returns (single-word keys, multi-word sequences)."""
    single = []
    seqs = []
    for alt in spec.split("|"):
        alt = alt.strip()
        if not alt:
            continue
        if "_" in alt and not alt.startswith("@"):
            eq = alt.startswith("=")
            parts = [p for p in alt.lstrip("=").split("_") if p]
            seqs.append(tuple(_alt_keys(("=" if eq and not p.endswith("*") else "") + p, lex, stem)
                              for p in parts))
        elif alt.startswith("@") and alt[1:] in lex.seqsets:
            seqs.extend(lex.seqsets[alt[1:]])
            single.append(alt)
        else:
            single.append(alt)
    return _alt_keys("|".join(single), lex, stem), tuple(seqs)


def _alt_keys(spec: str, lex: Lexicon, stem) -> frozenset:
    keys = set()
    for alt in spec.split("|"):
        alt = alt.strip()
        if not alt:
            continue
        if "_" in alt and not alt.startswith("@"):
            raise LexiconError(f"multi-word alternative {alt!r} not allowed here")
        if alt.startswith("@"):
            if alt[1:] not in lex.sets:
                raise LexiconError(f"{lex.lang}: unknown set {alt}")
            keys |= lex.sets[alt[1:]]
        elif alt.endswith("*"):
            p = norm(alt.lstrip("=")[:-1])
            lex.prefixes.add(p)
            keys.add("P:" + p)
        elif alt.startswith("="):
            keys.add("S:" + norm(alt[1:]))
        else:
            w = norm(alt)
            keys.add("S:" + w)
            keys.add("L:" + (stem(w) if stem else w))
    return frozenset(keys)


def parse_lexicon(text: str, lang: str, stem=None) -> Lexicon:
    lex = Lexicon(lang=lang)
    counters: dict[str, int] = {}
    for lineno, raw in enumerate(text.splitlines(), 1):
        line = raw.split("#", 1)[0].strip() if not raw.lstrip().startswith("#") else ""
        if not line:
            continue
        try:
            if line.startswith("@"):
                name, _, spec = line[1:].partition("=")
                keys, seqs = _alt_spec(spec, lex, stem)
                lex.sets[name.strip()] = keys
                if seqs:
                    lex.seqsets[name.strip()] = seqs
                continue
            parts = [p.strip() for p in line.split("|", 1)]
            code = parts[0]
            rest = parts[1]
            # pattern and options are separated by " || "
            if "||" in rest:
                pat, opts = rest.split("||", 1)
            else:
                pat, opts = rest, ""
            elements: list[Element] = []
            gap = 0
            pending_neg = None
            for tok in pat.split():
                if tok.startswith("~"):
                    gap = int(tok[1:])
                    continue
                if tok == "$":
                    elements.append(Element(frozenset(), gap, end=True))
                    gap = 0
                    continue
                if tok.startswith("!"):
                    if not elements:
                        raise LexiconError("negative element cannot start a pattern")
                    elements[-1].negnext = _alt_keys(tok[1:], lex, stem)
                    continue
                keys, seqs = _alt_spec(tok, lex, stem)
                elements.append(Element(keys, gap, seqs=seqs))
                gap = 0
            if not elements or elements[0].end:
                raise LexiconError("empty pattern")
            n = counters.get(code, 0) + 1
            counters[code] = n
            rule = Rule(rid=f"{code}.{lang}.{n}", code=code, elements=elements, pattern=pat.strip())
            for o in opts.split():
                k, _, v = o.partition("=")
                if k == "score":
                    rule.score = float(v)
                elif k == "q":
                    rule.q = True
                elif k == "neg":
                    rule.neg = v not in ("0", "false", "no")
                elif k in ("unless", "ctx", "uctx"):
                    keys, seqs = _alt_spec(v, lex, stem)
                    setattr(rule, k, Element(keys, seqs=seqs))
                elif k == "stance":
                    rule.stance = v
                elif k == "irony":
                    rule.irony = True
                elif k == "nopunct":
                    rule.nopunct = True
                elif k == "id":
                    rule.rid = f"{code}.{lang}.{v}"
                else:
                    raise LexiconError(f"unknown option {o}")
            lex.rules.append(rule)
        except LexiconError as e:
            raise LexiconError(f"{lang} lexicon line {lineno}: {e}: {raw!r}") from None
        except (ValueError, IndexError) as e:
            raise LexiconError(f"{lang} lexicon line {lineno}: {e}: {raw!r}") from None
    for rule in lex.rules:
        for k in rule.elements[0].first_keys():
            lex.index.setdefault(k, []).append(rule)
    return lex


def load_lexicon(path: Path, lang: str, stem=None) -> Lexicon:
    return parse_lexicon(path.read_text(encoding="utf-8"), lang, stem)


@dataclass(slots=True)
class Tok:
    start: int
    end: int
    word: bool           # a word (else sentence-end punctuation)
    feats: frozenset
    sent: int
    text: str            # normalised surface
    filler: bool = False  # swearing/filler: skipped by gaps for free


def tokenize(text: str):
    """Yield (start, end, raw) for words and punctuation."""
    for m in _WORD_RE.finditer(text):
        yield m.start(), m.end(), m.group()


def match_rule(rule: Rule, toks: list, i: int):
    """Try to match ``rule`` with its first element starting on word token ``i``.

    Returns the list of matched word-token indices (first and last of each element),
    or None.
    """
    els = rule.elements
    n = len(toks)

    def ok_next(el, end):
        if el.negnext is None:
            return True
        nx = end + 1
        return not (nx < n and toks[nx].word and not el.negnext.isdisjoint(toks[nx].feats))

    def rec(ei: int, pos: int, acc: list):
        if ei == len(els):
            return acc
        el = els[ei]
        j = pos
        skipped = 0
        while True:
            if el.end:
                if j >= n or not toks[j].word:
                    return acc
            elif j < n and toks[j].word:
                for end in el.ends_at(toks, j):
                    if ok_next(el, end):
                        r = rec(ei + 1, end + 1, acc + [j, end])
                        if r is not None:
                            return r
            if j >= n or not toks[j].word:
                return None
            if toks[j].filler:
                j += 1
                continue
            if skipped >= el.gap:
                return None
            j += 1
            skipped += 1

    first = els[0]
    for end in first.ends_at(toks, i):
        if ok_next(first, end):
            r = rec(1, end + 1, [i, end])
            if r is not None:
                return r
    return None
