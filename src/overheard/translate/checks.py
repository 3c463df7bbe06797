"""Meaning checks on a machine gloss: a dropped negation, a lost number, the wrong language.

They are cheap, conservative tests of the source line against its English: each names what
went missing so that a reader knows which part of a gloss not to trust.
"""

from __future__ import annotations

import re

from ..index.terms import WORD_RE, lemmas_of

NEGATION_RU_UK = {
    "не", "ни", "нет", "нельзя", "никто", "ничто", "ничего", "никогда", "нигде", "никуда", "никак",
    "никакой", "ниче", "нема", "немає", "нету", "ні", "ніхто", "нічого", "ніколи", "ніде", "неможна",
}
NEGATION_EN = re.compile(
    r"\b(not|no|never|none|nothing|nobody|no one|noone|neither|nor|nowhere|without|cannot|negative|"
    r"can't|won't|don't|doesn't|didn't|isn't|aren't|wasn't|weren't|haven't|hasn't|hadn't|shouldn't|"
    r"wouldn't|couldn't|mustn't|ain't|nope|unable|refuse[sd]?|lack|lacking|out of)\b|n't\b", re.I)

NUMBER_LEMMAS = {
    "ноль": 0, "нуль": 0, "два": 2, "двое": 2, "оба": 2, "три": 3, "трое": 3, "четыре": 4, "четверо": 4,
    "пять": 5, "пятеро": 5, "шесть": 6, "шестеро": 6, "семь": 7, "семеро": 7, "восемь": 8, "девять": 9,
    "десять": 10, "десятеро": 10, "одиннадцать": 11, "двенадцать": 12, "тринадцать": 13,
    "четырнадцать": 14, "пятнадцать": 15, "шестнадцать": 16, "семнадцать": 17, "восемнадцать": 18,
    "девятнадцать": 19, "двадцать": 20, "тридцать": 30, "сорок": 40, "пятьдесят": 50, "шестьдесят": 60,
    "семьдесят": 70, "восемьдесят": 80, "девяносто": 90, "сто": 100, "двести": 200, "триста": 300,
    "четыреста": 400, "пятьсот": 500, "тысяча": 1000,
    # Ukrainian
    "дві": 2, "двоє": 2, "троє": 3, "чотири": 4, "п'ять": 5, "п'ятеро": 5, "шість": 6, "сім": 7,
    "вісім": 8, "дев'ять": 9, "десять": 10, "двадцять": 20, "тридцять": 30, "сорок": 40, "сто": 100,
}
ORDINAL_LEMMAS = {
    "второй": 2, "третий": 3, "четвертый": 4, "пятый": 5, "шестой": 6, "седьмой": 7,
    "восьмой": 8, "девятый": 9, "десятый": 10, "другий": 2, "третій": 3, "четвертий": 4, "п'ятий": 5,
}
EN_NUMBERS = {
    "zero": 0, "nil": 0, "one": 1, "first": 1, "two": 2, "both": 2, "three": 3, "four": 4, "five": 5, "six": 6,
    "seven": 7, "eight": 8, "nine": 9, "niner": 9, "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13,
    "fourteen": 14, "fifteen": 15, "sixteen": 16, "seventeen": 17, "eighteen": 18, "nineteen": 19,
    "twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70, "eighty": 80,
    "ninety": 90, "hundred": 100, "thousand": 1000, "pair": 2, "couple": 2, "dozen": 12,
    "second": 2, "third": 3, "fourth": 4, "fifth": 5, "sixth": 6, "seventh": 7, "eighth": 8, "ninth": 9,
    "tenth": 10, "twice": 2, "thrice": 3, "double": 2, "triple": 3,
}
CYRILLIC = re.compile(r"[\u0400-\u04FF]")
LETTER = re.compile(r"[^\W\d_]")
EN_TOKEN = re.compile(r"\d+|[A-Za-z]+")


def has_negation(text: str) -> bool:
    return any(m.group().lower() in NEGATION_RU_UK for m in WORD_RE.finditer(text))


def _runs(values: list[int | None]) -> list[tuple[int, tuple[int, ...]]]:
    """Number words side by side make one number: (total, parts) for each run
    (двадцать пять → (25, (20, 5)); one hundred → (100, (1, 100)))."""
    out, run = [], []
    for v in values + [None]:
        if v is None:
            if run:
                total = 0
                for x in run:
                    total = total * x if x in (100, 1000) and total else total + x
                out.append((total, tuple(run)))
            run = []
        else:
            run.append(v)
    return out


def source_numbers(text: str, lang: str = "ru") -> list[tuple[int, tuple[int, ...]]]:
    """Numbers said in a Russian/Ukrainian line as (total, parts): digit groups and number words
    (not 'один', which is as often 'alone' or 'a' as 'one')."""
    seq: list[int | None] = []
    found = []
    for m in WORD_RE.finditer(text.replace("ё", "е")):
        w = m.group().lower()
        if w.isdigit():
            seq.append(None)
            found.append((int(w), (int(w),)))
            continue
        lems = lemmas_of(w, lang if lang in ("ru", "uk") else "ru")
        value = next((NUMBER_LEMMAS[x] for x in lems if x in NUMBER_LEMMAS), None)
        if value is None:
            value = next((ORDINAL_LEMMAS[x] for x in lems if x in ORDINAL_LEMMAS), None)
        seq.append(value)
    return found + _runs(seq)


def english_numbers(text: str) -> set[int]:
    """Every number an English text states, as digits or words, with runs combined and split."""
    seq: list[int | None] = []
    values: set[int] = set()
    for m in EN_TOKEN.finditer(text.replace(",", "")):
        tok = m.group().lower()
        if tok.isdigit():
            values.add(int(tok))
            seq.append(None)
            continue
        seq.append(EN_NUMBERS.get(tok))
    for total, parts in _runs(seq):
        values.add(total)
        values.update(parts)
    return values


def check(source: str, gloss: str, lang: str = "ru") -> list[str]:
    """Problems with ``gloss`` as a translation of ``source``; empty when none is seen."""
    flags = []
    g = (gloss or "").strip()
    if not g:
        return ["empty"]
    letters = LETTER.findall(g)
    if letters and sum(bool(CYRILLIC.match(c)) for c in letters) / len(letters) > 0.3:
        flags.append("wrong-language")
    if has_negation(source) and not NEGATION_EN.search(g):
        flags.append("negation-dropped")
    missing = sorted(_missing_numbers(source, g, lang))
    if missing:
        flags.append("number-lost:" + ",".join(str(x) for x in missing[:5]))
    if len(g) > 4 * len(source) + 80:
        flags.append("runaway")
    return flags


def _missing_numbers(source: str, gloss: str, lang: str) -> set[int]:
    """Source numbers the gloss does not state: a number counts as kept when its total, or all
    of its spoken parts, appear; digit groups may be regrouped ("93-9-6-6" as "93-9-66")."""
    said = source_numbers(source, lang)
    if not said:
        return set()
    en = english_numbers(gloss)
    en_digits = "".join(re.findall(r"\d", gloss))
    missing = set()
    for total, parts in said:
        if total in en or all(p in en for p in parts) or str(total) in en_digits:
            continue
        missing.add(total)
    return missing
