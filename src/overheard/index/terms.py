"""Search terms for Russian, Ukrainian and English word forms.

Two extra index columns sit beside the original text:

* ``lemmas`` — every dictionary normal form pymorphy3 gives a word (``убили`` → ``убить``),
  so any inflected form finds any other;
* ``roots`` — a coarse word-family key (snowball stem, minus a derivational suffix, with
  the final consonant's alternation class), so ``страх`` (fear) finds ``страшно``
  (frightening) and ``страшный``.

Parses are cached per word: real traffic repeats its vocabulary, which keeps indexing
at tens of thousands of words a second.
"""

from __future__ import annotations

import re
from functools import lru_cache

import snowballstemmer

WORD_RE = re.compile(r"[^\W\d_]+(?:['’ʼ][^\W\d_]+)*|\d+", re.UNICODE)
CYRILLIC_RE = re.compile(r"[\u0400-\u04FF]")

# Final-consonant alternations of East Slavic word families (страх/страшный,
# друг/дружба, рука/ручной, вода/вожу): map each to one class symbol.
_ALTERNATION = str.maketrans({"ш": "х", "с": "х", "ж": "г", "з": "г", "д": "г",
                              "ч": "к", "т": "к", "ц": "к", "щ": "к"})
_DERIVATIONAL = ("ованн", "ическ", "енн", "онн", "ск", "н")
MIN_ROOT = 4          # shorter roots are not selective enough to index


@lru_cache(maxsize=4)   # one analyser per language; maxsize=1 would thrash between ru and uk
def _morph(lang: str):
    import pymorphy3
    return pymorphy3.MorphAnalyzer(lang=lang)


@lru_cache(maxsize=4)
def _stemmer(name: str):
    return snowballstemmer.stemmer(name)


@lru_cache(maxsize=500_000)
def lemmas_of(word: str, lang: str) -> tuple[str, ...]:
    """Normal forms of one lower-cased word (ё folded to е). Cyrillic words of unknown
    language try both dictionaries. Only dictionary parses count when there are any:
    guessed parses add junk lemmas that make common words match half the corpus."""
    word = word.replace("’", "'").replace("ʼ", "'")
    if not CYRILLIC_RE.search(word):
        if lang == "en" or lang not in ("ru", "uk"):
            return (_stemmer("english").stemWord(word),) if word.isalpha() else (word,)
        return (word,)
    langs = (lang,) if lang in ("ru", "uk") else ("ru", "uk")
    known: set[str] = set()
    guessed: list[str] = []
    for code in langs:
        for parse in _morph(code).parse(word):   # parse before folding ё: приём ≠ при + ём
            if parse.is_known:
                known.add(parse.normal_form.replace("ё", "е"))
            elif not guessed:
                guessed.append(parse.normal_form.replace("ё", "е"))
    return tuple(sorted(known)) or tuple(guessed) or (word.replace("ё", "е"),)


@lru_cache(maxsize=500_000)
def root_of(lemma: str) -> str | None:
    """Word-family key of a Cyrillic lemma, or None when too short to be selective."""
    if not CYRILLIC_RE.search(lemma):
        return None
    stem = _stemmer("russian").stemWord(lemma)
    for suffix in _DERIVATIONAL:
        if stem.endswith(suffix) and len(stem) - len(suffix) >= MIN_ROOT:
            stem = stem[: -len(suffix)]
            break
    if len(stem) < MIN_ROOT:
        return None
    return stem[:-1] + stem[-1].translate(_ALTERNATION)


@lru_cache(maxsize=500_000)
def word_terms(word: str, lang: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(lemmas, roots) of one word."""
    lemmas = lemmas_of(word.lower(), lang)
    roots = tuple(sorted({r for lemma in lemmas if (r := root_of(lemma))}))
    return lemmas, roots


def index_terms(text: str, lang: str) -> tuple[str, str]:
    """Space-joined lemma and root columns for the full-text index."""
    lemmas: list[str] = []
    roots: list[str] = []
    for match in WORD_RE.finditer(text):
        word_lemmas, word_roots = word_terms(match.group(), lang)
        lemmas.extend(word_lemmas)
        roots.extend(word_roots)
    return " ".join(lemmas), " ".join(roots)
