"""Subtitles (SubRip ``.srt``, WebVTT ``.vtt``) → one timed utterance per cue.

Times come from the cue (``start_s``/``end_s``, seconds from the start of the video); the speaker
from a WebVTT voice tag (``<v Name>``) or a ``NAME:`` prefix; styling tags (``<i>``, ``<b>``,
``<c.x>``, ``{\\an8}``) are removed. What a subtitle file cannot say: when the video was recorded
or published (give ``--captured-at`` or a sidecar), and who the speakers are beyond the names it
writes.
"""

from __future__ import annotations

import re

from .base import IngestError, ParsedSource, ParsedUtterance

NAME, VERSION = "subtitles", "1"
SUFFIXES = (".srt", ".vtt")
_TIME = r"(?:(\d{1,3}):)?(\d{1,2}):(\d{2})[.,](\d{1,3})"
_CUE = re.compile(rf"^\s*{_TIME}\s*-->\s*{_TIME}")
_VOICE = re.compile(r"<v(?:\.[\w.-]+)?\s+([^>]+)>")
_TAGS = re.compile(r"</?[^>\s][^>]*>|\{\\[^}]*\}")
_PREFIX = re.compile(r"^\s*([^\s:][^:]{0,38}?)\s*:\s+(?=\S)")
_TIMESTAMP_TAG = re.compile(r"<\d{1,2}:\d{2}(?::\d{2})?\.\d{3}>")


def _seconds(h, m, s, ms) -> float:
    return int(h or 0) * 3600 + int(m) * 60 + int(s) + int(ms.ljust(3, "0")) / 1000


def looks_like(text: str) -> bool:
    head = text.lstrip("\ufeff").lstrip()[:2000]
    return head.startswith("WEBVTT") or any(_CUE.match(line) for line in head.split("\n")[:6])


def _speaker_and_text(raw: str) -> tuple[str | None, str]:
    speaker = None
    voice = _VOICE.search(raw)
    if voice:
        speaker = voice.group(1).strip()
    text = _TAGS.sub("", _TIMESTAMP_TAG.sub("", raw))
    text = " ".join(text.replace("&amp;", "&").replace("&lt;", "<").replace("&gt;", ">")
                    .replace("&nbsp;", " ").split())
    if speaker is None:
        m = _PREFIX.match(text)
        # "NAME: text" — a name, not a sentence with a colon: short, no sentence punctuation
        if m and not re.search(r"[.!?,]", m.group(1)) and len(m.group(1).split()) <= 3:
            speaker, text = m.group(1).strip(), text[m.end():]
    return speaker, text.strip()


def read(text: str, *, kind: str | None = None, vtt: bool | None = None) -> ParsedSource:
    lines = text.lstrip("\ufeff").split("\n")
    is_vtt = lines[0].strip().startswith("WEBVTT") if vtt is None else vtt
    utterances: list[ParsedUtterance] = []
    i, n = 0, len(lines)
    while i < n:
        m = _CUE.match(lines[i])
        if not m:
            if is_vtt and lines[i].strip().startswith(("NOTE", "STYLE", "REGION")):
                while i < n and lines[i].strip():          # a comment or style block: skip it whole
                    i += 1
            i += 1
            continue
        g = m.groups()
        start, end = _seconds(*g[:4]), _seconds(*g[4:])
        if end < start:
            raise IngestError(f"subtitles line {i + 1}: cue ends ({end:.3f} s) before it starts ({start:.3f} s)")
        body_line = i + 2
        i += 1
        body = []
        while i < n and lines[i].strip():
            body.append(lines[i])
            i += 1
        speaker, cue_text = _speaker_and_text(" ".join(body))
        if cue_text:
            utterances.append(ParsedUtterance(text=cue_text, line_no=body_line, speaker=speaker,
                                              start_s=round(start, 3), end_s=round(end, 3),
                                              time_basis="offset"))
    if not utterances:
        raise IngestError("subtitles: no cues with text (expected 'HH:MM:SS,mmm --> HH:MM:SS,mmm' lines)")
    return ParsedSource(reader=NAME, reader_version=VERSION,
                        media_type="text/vtt" if is_vtt else "application/x-subrip",
                        kind=kind or "call", utterances=utterances,
                        meta={"cues": len(utterances), "format": "vtt" if is_vtt else "srt"})
