"""Language of one utterance: ru, uk, en, another ISO 639-1 code, or "und".

Short Russian radio lines fool statistical detectors (``"Я тебе говорю"`` scores as
Ukrainian), so Cyrillic text is decided by letters only one language uses and then by
which dictionary knows more of its words; lingua (restricted to a handful of languages)
decides Latin-script text.
"""

from __future__ import annotations

import re
from functools import lru_cache

from ..index.terms import WORD_RE, _morph

UK_ONLY = set("іїєґІЇЄҐ")
RU_ONLY = set("ыэъёЫЭЪЁ")
BE_ONLY = set("ўЎ")
CYR = re.compile(r"[\u0400-\u04FF]")
LAT = re.compile(r"[A-Za-z\u00C0-\u024F]")
SUPPORTED = ("ru", "uk", "en")


@lru_cache(maxsize=1)
def _latin_detector():
    from lingua import Language, LanguageDetectorBuilder
    langs = [Language.ENGLISH, Language.GERMAN, Language.FRENCH, Language.SPANISH,
             Language.POLISH, Language.ITALIAN, Language.PORTUGUESE, Language.DUTCH]
    return LanguageDetectorBuilder.from_languages(*langs).build()


@lru_cache(maxsize=200_000)
def _known(word: str, lang: str) -> bool:
    return _morph(lang).word_is_known(word)


def _cyrillic_language(text: str) -> str:
    letters = set(text)
    uk, ru, be = len(letters & UK_ONLY), len(letters & RU_ONLY), len(letters & BE_ONLY)
    if be and not ru:
        return "be"
    if uk and not ru:
        return "uk"
    if ru and not uk:
        return "ru"
    votes = {"ru": 0, "uk": 0}
    for match in WORD_RE.finditer(text.lower()):
        word = match.group()
        if len(word) < 2 or not CYR.search(word):
            continue
        for lang in votes:
            votes[lang] += _known(word, lang)
    if votes["uk"] > votes["ru"]:
        return "uk"
    return "ru"  # ties and unknown words: Russian, by far the commoner in this traffic


def detect_language(text: str, hint: str | None = None) -> str:
    """Best guess for ``text``; ``hint`` (e.g. from the file name) breaks ties in Cyrillic."""
    cyr = len(CYR.findall(text))
    lat = len(LAT.findall(text))
    if cyr == 0 and lat == 0:
        return "und"
    if cyr >= lat:
        lang = _cyrillic_language(text)
        if hint in ("ru", "uk") and lang in ("ru", "uk") and not (set(text) & (UK_ONLY | RU_ONLY)):
            # no decisive letters: trust the file's own statement only if the words allow it
            return hint if _cyrillic_votes_close(text) else lang
        return lang
    found = _latin_detector().detect_language_of(text)
    return found.iso_code_639_1.name.lower() if found is not None else "und"


def _cyrillic_votes_close(text: str) -> bool:
    words = [m.group() for m in WORD_RE.finditer(text.lower()) if CYR.search(m.group())]
    ru = sum(_known(w, "ru") for w in words)
    uk = sum(_known(w, "uk") for w in words)
    return abs(ru - uk) <= max(1, len(words) // 4)
