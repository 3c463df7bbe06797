"""Known Whisper hallucinations on noise, silence and music.

Whisper was trained on subtitled video, so on noise it tends to emit the
closing lines of YouTube subtitles ("Продолжение следует...", "Субтитры
сделал DimaTorzok", "Спасибо за просмотр") or to loop.  :func:`check` finds
them; the caller keeps the raw text for audit but does not pass the
hallucinated part on as speech.
"""

from __future__ import annotations

import re
import zlib
from dataclasses import dataclass

# Normalised (lower case, ё->е, punctuation removed) phrase patterns.
PHRASES: tuple[tuple[str, str], ...] = (
    # Russian
    ("продолжение следует", "subtitle-outro"),
    (r"подписывайтесь на (наш |мой )?канал", "subtitle-outro"),
    (r"подпишись на (наш |мой )?канал", "subtitle-outro"),
    (r"ставьте лайк\w*", "subtitle-outro"),
    (r"спасибо за просмотр", "subtitle-outro"),
    (r"благодарю за просмотр", "subtitle-outro"),
    (r"всем спасибо за (просмотр|внимание)", "subtitle-outro"),
    (r"до (новых|скорых) встреч", "subtitle-outro"),
    (r"субтитры (сделал|создавал|создал|подготовил|делал|делала|подогнал|выполнил|by|от)\b.*", "subtitle-credit"),
    (r"редактор субтитров.*", "subtitle-credit"),
    (r"корректор .*", "subtitle-credit"),
    (r"dimatorzok", "subtitle-credit"),
    (r"amara ?org.*", "subtitle-credit"),
    (r"с вами был\w* .*", "subtitle-outro"),
    # Ukrainian
    (r"дякую за перегляд", "subtitle-outro"),
    (r"підписуйтесь на (наш )?канал", "subtitle-outro"),
    (r"субтитри (зробив|створив|підготував|зроблено).*", "subtitle-credit"),
    # English (also in the translate gloss)
    (r"thanks? (you )?for watching", "subtitle-outro"),
    (r"please subscribe( to (my|our|the) channel)?", "subtitle-outro"),
    (r"subtitles by .*", "subtitle-credit"),
    (r"to be continued", "subtitle-outro"),
)
# Whole-text-only patterns (sound-event captions that are fine inside speech).
CAPTIONS = re.compile(
    r"^(музыка|музыкальная заставка|аплодисменты|смех|тишина|шум|music|applause|silence|laughter|"
    r"динамичная музыка|спокойная музыка|веселая музыка|грустная музыка|[♪♫ ]+)$"
)

# "<adjective> музыка", "звук сирены" ...: one or two words ending in a sound noun
_CAPTION_WORDS = re.compile(r"^(\w+ )?(музыка|мелодия|сирена|аплодисменты|смех|шум|выстрелы?|взрыв|music|applause)$")


def _upper_caption(raw: str) -> bool:
    """Whisper writes sound-event captions in capitals ("ПОЛИЦЕЙСКАЯ СИРЕНА")."""
    letters = [c for c in raw if c.isalpha()]
    return len(letters) >= 4 and all(c.isupper() for c in letters) and len(raw.split()) <= 4


_PUNCT = re.compile(r"[^\w\s]", re.UNICODE)
_WS = re.compile(r"\s+")
_COMPILED = [(re.compile(r"(?:^|\b)" + p + r"(?:\b|$)"), reason, p) for p, reason in PHRASES]

# thresholds
COMPRESSION_RATIO_MAX = 2.4  # Whisper's own failure criterion
NO_SPEECH_PROB_MIN = 0.6
AVG_LOGPROB_MAX = -1.0
MAX_CHARS_PER_S = 30.0  # faster than any human reads aloud
REPEAT_MIN = 4  # an n-gram repeated this many times in a row is a loop


def normalise(text: str) -> str:
    t = text.lower().replace("ё", "е").replace("\u0301", "")
    t = t.replace("[", " ").replace("]", " ").replace("(", " ").replace(")", " ")
    t = _PUNCT.sub(" ", t)
    return _WS.sub(" ", t).strip()


@dataclass(frozen=True)
class HallucinationCheck:
    flag: bool
    reason: str | None  # e.g. "subtitle-outro: продолжение следует", "repetition-loop", "no-speech"
    clean_text: str  # the text with hallucinated parts removed ("" if nothing is left)


def compression_ratio(text: str) -> float:
    b = text.encode("utf-8")
    return len(b) / max(1, len(zlib.compress(b))) if b else 0.0


def _repetition_loop(words: list[str]) -> str | None:
    n = len(words)
    for size in range(1, 6):
        if n < size * REPEAT_MIN:
            break
        for i in range(0, n - size * REPEAT_MIN + 1):
            gram = words[i : i + size]
            reps = 1
            j = i + size
            while j + size <= n and words[j : j + size] == gram:
                reps += 1
                j += size
            if reps >= REPEAT_MIN:
                return " ".join(gram)
    return None


def _repeated_sentence(text: str) -> str | None:
    sents = [normalise(x) for x in _split_sentences(text)]
    sents = [x for x in sents if x]
    for x in set(sents):
        if len(x.split()) >= 2 and sents.count(x) >= 3:
            return x
    return None


def _split_sentences(text: str) -> list[str]:
    parts = re.split(r"(?<=[.!?…])\s+", text.strip())
    return [p for p in parts if p.strip()]


def check(
    text: str,
    *,
    duration_s: float | None = None,
    avg_logprob: float | None = None,
    no_speech_prob: float | None = None,
) -> HallucinationCheck:
    """Flag known hallucinations.  Sentences that match a known phrase are
    removed from ``clean_text``; loops, sound captions and "no speech" by the
    model's own scores drop the whole text."""
    raw = text.strip()
    norm = normalise(raw)
    if not norm:
        return HallucinationCheck(False, None, "")
    if CAPTIONS.match(norm) or _CAPTION_WORDS.match(norm) or _upper_caption(raw):
        return HallucinationCheck(True, f"sound-caption: {norm}", "")
    words = norm.split()
    loop = _repetition_loop(words)
    if loop is not None:
        return HallucinationCheck(True, f"repetition-loop: {loop}", "")
    rep = _repeated_sentence(raw)
    if rep is not None:
        return HallucinationCheck(True, f"repetition-loop: {rep}", "")
    if len(raw) >= 40 and compression_ratio(raw) > COMPRESSION_RATIO_MAX:
        return HallucinationCheck(True, f"repetition-loop: compression ratio {compression_ratio(raw):.2f}", "")
    if (
        no_speech_prob is not None
        and avg_logprob is not None
        and no_speech_prob > NO_SPEECH_PROB_MIN
        and avg_logprob < AVG_LOGPROB_MAX
    ):
        return HallucinationCheck(True, f"no-speech: p={no_speech_prob:.2f} logprob={avg_logprob:.2f}", "")
    if duration_s and duration_s > 0 and len(raw) / duration_s > MAX_CHARS_PER_S and len(raw) > 20:
        return HallucinationCheck(True, f"too-fast: {len(raw) / duration_s:.0f} chars/s", "")
    # phrase matching per sentence
    kept, reasons = [], []
    for sent in _split_sentences(raw):
        ns = normalise(sent)
        hit = None
        for rx, reason, _p in _COMPILED:
            m = rx.search(ns)
            if m and len(m.group(0).strip()) >= 0.6 * len(ns):  # the sentence is mostly the phrase
                hit = f"{reason}: {m.group(0).strip()}"
                break
        if hit:
            reasons.append(hit)
        else:
            kept.append(sent)
    if reasons:
        return HallucinationCheck(True, "; ".join(reasons), " ".join(kept).strip())
    return HallucinationCheck(False, None, raw)
