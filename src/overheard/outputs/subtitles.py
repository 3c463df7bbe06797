"""WebVTT and SRT tracks for an audio source: the transcript, or the English gloss (each cue
of the gloss track marked as machine translation unless an analyst wrote it)."""

from __future__ import annotations

from typing import IO

from ..store import Store

MT_MARK = "(MT) "


def _stamp(seconds: float, sep: str) -> str:
    ms = int(round(seconds * 1000))
    h, rem = divmod(ms, 3_600_000)
    m, rem = divmod(rem, 60_000)
    s, ms = divmod(rem, 1000)
    return f"{h:02d}:{m:02d}:{s:02d}{sep}{ms:03d}"


def cues(store: Store, source_id: int, track: str) -> list[tuple[float, float, str]]:
    if track == "transcript":
        sql = ("SELECT start_s, end_s, text, NULL FROM utterances WHERE source_id = ? AND start_s IS NOT NULL"
               " AND text != '' ORDER BY start_s")
    elif track == "gloss":
        sql = ("SELECT u.start_s, u.end_s, g.text, g.method FROM utterances u JOIN glosses g ON g.utterance_id = u.id"
               " WHERE u.source_id = ? AND u.start_s IS NOT NULL AND g.id = (SELECT max(id) FROM glosses"
               " WHERE utterance_id = u.id) ORDER BY u.start_s")
    else:
        raise ValueError(f"--track {track!r}: expected transcript or gloss")
    out = []
    for start, end, text, method in store.conn.execute(sql, (source_id,)):
        machine = track == "gloss" and not (method or "").startswith("analyst")
        out.append((start, end, (MT_MARK if machine else "") + " ".join(text.split())))
    return out


def write_vtt(store: Store, source, track: str, out: IO[str]) -> int:
    rows = cues(store, source["id"], track)
    out.write("WEBVTT\n\n")
    out.write(f"NOTE overheard: source {source['original_name']} sha256 {source['sha256']}; track {track}"
              + ("; cues marked (MT) are machine translation, not a human translation" if track == "gloss" else "")
              + "\n\n")
    for i, (start, end, text) in enumerate(rows, start=1):
        out.write(f"{i}\n{_stamp(start, '.')} --> {_stamp(end, '.')}\n{text}\n\n")
    return len(rows)


def write_srt(store: Store, source, track: str, out: IO[str]) -> int:
    rows = cues(store, source["id"], track)
    for i, (start, end, text) in enumerate(rows, start=1):
        out.write(f"{i}\n{_stamp(start, ',')} --> {_stamp(end, ',')}\n{text}\n\n")
    return len(rows)
