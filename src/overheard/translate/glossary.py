"""The military-slang glossary: which of its terms occur in a line, and what they mean.

Entries are matched by dictionary lemma (any inflected form of the headword or phrase) or
by an exact listed form (slang the dictionary does not know). The terms found go into the
prompt and are shown to the reader beside the gloss.
"""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass
from functools import cached_property
from importlib import resources
from pathlib import Path

from ..index.terms import WORD_RE, lemmas_of

KINDS = ("procedure", "jargon", "slang", "slur", "mat", "abbrev")
# "не понял" is not "roger": a term right after a negation particle is left to the model
NEGATORS = {"не", "ни", "ні"}


class GlossaryError(ValueError):
    pass


@dataclass(frozen=True)
class Term:
    ru: str
    en: str
    kind: str
    note: str = ""
    also: tuple[str, ...] = ()

    def to_dict(self) -> dict:
        d = asdict(self)
        d.pop("also")
        return d


@dataclass(frozen=True)
class Match:
    term: Term
    start: int        # character span in the line
    end: int

    def to_dict(self) -> dict:
        return {**self.term.to_dict(), "span": [self.start, self.end]}


def _fold(word: str) -> str:
    return word.lower().replace("ё", "е")


def _words(text: str) -> list[tuple[str, int, int]]:
    return [(_fold(m.group()), m.start(), m.end()) for m in WORD_RE.finditer(text)]


def parse(text: str, origin: str) -> list[Term]:
    """Terms from glossary text (tab-separated; see data/glossary.tsv)."""
    terms = []
    for n, line in enumerate(text.splitlines(), 1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        cols = line.split("\t")
        if len(cols) < 3:
            raise GlossaryError(f"{origin}:{n}: expected at least ru<TAB>en<TAB>kind, got {len(cols)} column(s)")
        ru, en, kind = (c.strip() for c in cols[:3])
        if not ru or not en:
            raise GlossaryError(f"{origin}:{n}: empty ru or en")
        if kind not in KINDS:
            raise GlossaryError(f"{origin}:{n}: kind {kind!r}: expected one of {', '.join(KINDS)}")
        note = cols[3].strip() if len(cols) > 3 else ""
        also = tuple(a.strip() for a in cols[4].split("|") if a.strip()) if len(cols) > 4 else ()
        terms.append(Term(ru, en, kind, note, also))
    return terms


class Glossary:
    """An ordered set of terms; a later entry for the same headword replaces an earlier one."""

    def __init__(self, terms: list[Term], sources: list[str]):
        by_ru: dict[str, Term] = {}
        for t in terms:
            by_ru[_fold(t.ru)] = t
        self.terms = list(by_ru.values())
        self.sources = sources

    @classmethod
    def load(cls, extra: list[str | Path] = ()) -> "Glossary":
        """The shipped glossary, then each user file in order."""
        text = resources.files(__package__).joinpath("data/glossary.tsv").read_text(encoding="utf-8")
        terms, sources, digest = parse(text, "glossary.tsv"), ["builtin"], hashlib.sha256(text.encode())
        for path in extra:
            path = Path(path)
            try:
                body = path.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError) as exc:
                raise GlossaryError(f"{path}: cannot read the glossary ({exc})") from None
            terms += parse(body, str(path))
            sources.append(str(path))
            digest.update(b"\0" + body.encode())
        g = cls(terms, sources)
        g.version = digest.hexdigest()[:12]
        return g

    @cached_property
    def _index(self):
        """first-word key -> [(term, lemma-sequence or surface-sequence, by_lemma)]"""
        index: dict[str, list] = {}
        for t in self.terms:
            seqs = [(tuple(lemmas_of(w, "ru") + lemmas_of(w, "uk") for w, _, _ in _words(t.ru)), True)]
            seqs += [(tuple((w,) for w, _, _ in _words(a)), False) for a in t.also]
            for seq, by_lemma in seqs:
                if not seq:
                    continue
                for key in seq[0]:
                    index.setdefault(key, []).append((t, seq, by_lemma))
        return index

    def find(self, text: str, lang: str = "ru") -> list[Match]:
        """Every term in ``text``, longest first where they overlap, in text order."""
        words = _words(text)
        forms = [(w, set(lemmas_of(w, lang if lang in ("ru", "uk") else "ru")) | {w}) for w, _, _ in words]
        found: list[Match] = []
        for i, (w, lems) in enumerate(forms):
            cands = []
            for key in lems:
                cands += self._index.get(key, [])
            for term, seq, by_lemma in cands:
                if i + len(seq) > len(forms):
                    continue
                ok = all((set(seq[j]) & forms[i + j][1]) if by_lemma else (seq[j][0] == forms[i + j][0])
                         for j in range(len(seq)))
                if ok and not (i and words[i - 1][0] in NEGATORS and words[i][0] not in NEGATORS):
                    found.append(Match(term, words[i][1], words[i + len(seq) - 1][2]))
        found.sort(key=lambda m: (m.start, -(m.end - m.start)))
        kept: list[Match] = []
        seen_terms = set()
        for m in found:
            if kept and m.start < kept[-1].end:
                continue
            if m.term.ru in seen_terms:     # one note per term per line
                continue
            kept.append(m)
            seen_terms.add(m.term.ru)
        return kept
