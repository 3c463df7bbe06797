"""Quoted speech in article sentences: the quoted span and, where the text says, who speaks.

Handles paired quotation marks of all kinds (" " “ ” « » „ “ ‘ ’ and straight single
quotes that are not apostrophes), a quote left open to the end of the sentence, and
reported speech introduced by a verb and a colon ("he said: …", "telling her: …").
"""

from __future__ import annotations

import re
from dataclasses import dataclass

PAIRS = [("“", "”"), ("«", "»"), ("„", "“"), ("„", "”"), ("‘", "’"), ('"', '"')]
SPEECH_VERBS = (r"said|says|say|told|tells|telling|added|adds|continued|explained|wrote|writes|"
                r"asked|asks|shouted|screamed|replied|recalled|admitted|complained|warned|"
                r"сказал[аи]?|говорит|говорят|сообщил[аи]?|рассказал[аи]?|добавил[аи]?|"
                r"написал[аи]?|заявил[аи]?|сказав|каже|кажуть|розповів|розповіла|додав|додала")
COLON_SPEECH = re.compile(rf"\b(?:{SPEECH_VERBS})\b(?:\s+\w+){{0,2}}\s*:\s*(?P<q>\S.*)$",
                          re.IGNORECASE)
SINGLE = re.compile(r"(?:(?<=^)|(?<=[\s(\[]))'(?P<q>[^'\s](?:[^']*?[^\s'])?)'(?=$|[\s,.;:!?)\]])")

ROLES = [
    ("prisoner", r"prisoners?|captives?|pows?|captured|пленн\w*|полонен\w*"),
    ("soldier", r"soldiers?|troops?|servicem[ae]n|conscripts?|fighters?|paratroopers?|"
                r"mobili[sz]ed|invaders?|comrades?|солдат\w*|военн\w*|боец|бойц\w*|мобик\w*|"
                r"військов\w*|вояк\w*"),
    ("official", r"officials?|minister|ministry|spokes(?:man|woman|person)|general|commanders?|"
                 r"president|kremlin|government|governor|чиновник\w*|министр\w*|командир\w*"),
    ("analyst", r"analysts?|experts?|founder|researchers?|intelligence|investigators?|"
                r"аналитик\w*|эксперт\w*"),
    ("relative", r"mother|mum|mom|wife|relatives?|family|parents?|father|мать|мама|жена|"
                 r"родственник\w*|мати|дружина"),
    ("activist", r"activists?|human rights|правозащитни\w*"),
    ("journalist", r"journalists?|reporters?|correspondent|журналист\w*"),
]
ROLE_RES = [(role, re.compile(rf"\b(?:{pat})\b", re.IGNORECASE)) for role, pat in ROLES]
NAMED = re.compile(r"\b((?:Mr|Mrs|Ms|Dr|Gen|Col|Capt|Lt)\.?\s+[A-Z][\w'-]+|[A-Z][a-z]+\s+[A-Z][a-z]+)"
                   r"\s+(?:said|says|added|continued|told|explained|wrote)\b")


@dataclass(frozen=True)
class Quote:
    start: int
    end: int
    speaker: str | None
    speaker_role: str | None


def find_quote(sentence: str) -> Quote | None:
    """The main quoted span of one sentence, or None when it quotes nobody."""
    span = _paired_span(sentence) or _open_span(sentence) or _colon_span(sentence)
    if span is None:
        return None
    start, end = span
    speaker, role = attribute(sentence[:start])
    if speaker is None and role is None:
        speaker, role = attribute(sentence[end:])   # '"…," the soldier said'
    return Quote(start, end, speaker, role)


def _paired_span(s: str) -> tuple[int, int] | None:
    best = None
    for open_, close in PAIRS:
        i = s.find(open_)
        while i >= 0:
            j = s.find(close, i + 1)
            if j < 0:
                break
            if j - i > 2 and (best is None or (j - i) > (best[1] - best[0])):
                best = (i + 1, j)
            i = s.find(open_, j + 1)
    m = SINGLE.search(s)
    if m and (best is None or m.end("q") - m.start("q") > best[1] - best[0]):
        best = (m.start("q"), m.end("q"))
    return best


def _open_span(s: str) -> tuple[int, int] | None:
    # A quote opened and never closed runs to the end (articles split quotes across lines).
    for mark in ('"', "“", "«", "„"):
        if s.count(mark) == 1:
            i = s.find(mark)
            if len(s) - i > 3:
                return i + 1, len(s.rstrip())
    return None


def _colon_span(s: str) -> tuple[int, int] | None:
    m = COLON_SPEECH.search(s)
    if m:
        return m.start("q"), len(s.rstrip())
    return None


def attribute(context: str) -> tuple[str | None, str | None]:
    """(speaker name or phrase, role) from the words around a quote."""
    role = None
    best_pos = len(context) + 1
    for name, rx in ROLE_RES:
        m = rx.search(context)
        # the first role word is the subject ("a captive … telling his mother: …")
        if m and m.start() < best_pos:
            best_pos, role = m.start(), name
    named = NAMED.search(context)
    speaker = named.group(1) if named else None
    return speaker, role
