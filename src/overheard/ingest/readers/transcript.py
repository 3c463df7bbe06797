"""Call/radio transcripts in the Radio-Analyzer layout: ``final_<lang>.txt``, one speaker turn a line.

A ``data_source.csv`` in the parent folder (as that data set ships) supplies the recording's
category (radio/call) when the user does not give ``--kind``, its public URL, and the date it was
published (``upload_date``), which becomes every turn's time with basis ``published`` — so the
transcripts count in trends (the recording itself may be older; no capture time is known).
"""

from __future__ import annotations

import csv
import re
from pathlib import Path

from .base import ParsedSource, ParsedUtterance, IngestError

NAME, VERSION = "transcript-lines", "1"
FILE_RE = re.compile(r"^final_([a-z]{2})\.txt$")
# Files that sit beside final_ru.txt in that layout and are not separate sources.
COMPANIONS = {
    "final_en.txt": "English translation of final_ru.txt (not line-aligned), not a source of its own",
    "corrected_ru.txt": "30-second-block version of final_ru.txt",
    "whisper_large_v2_ru.txt": "raw ASR hypothesis for final_ru.txt",
}


def matches(path: Path) -> bool:
    return bool(FILE_RE.match(path.name))


def companion_reason(path: Path) -> str | None:
    """Why a file beside a final_ru.txt is skipped, or None when it is a source itself."""
    if path.name in COMPANIONS and (path.parent / "final_ru.txt").exists() and path.name != "final_ru.txt":
        return COMPANIONS[path.name]
    return None


def _recording_info(path: Path) -> dict:
    table = path.parent.parent / "data_source.csv"
    number = re.sub(r"\D", "", path.parent.name)
    if not number or not table.exists():
        return {}
    try:
        with open(table, encoding="utf-8", newline="") as fh:
            for row in csv.DictReader(fh, delimiter=";"):
                if re.sub(r"\D", "", Path(row.get("path", "")).stem) == number:
                    return {k: row[k] for k in ("category", "url", "upload_date", "length",
                                                "sound_quality") if row.get(k)}
    except (OSError, csv.Error, UnicodeDecodeError):
        return {}
    return {}


def _day(value: str | None) -> str | None:
    """data_source.csv writes dates as DD.MM.YYYY (the public post's upload date)."""
    m = re.fullmatch(r"(\d{1,2})\.(\d{1,2})\.(\d{4})", (value or "").strip())
    if not m:
        return None
    d, mo, y = (int(x) for x in m.groups())
    try:
        from datetime import date
        return date(y, mo, d).isoformat() + "T00:00:00Z"
    except ValueError:
        return None


def read(text: str, path: Path, *, kind: str | None = None) -> ParsedSource:
    lang = FILE_RE.match(path.name).group(1)
    info = _recording_info(path)
    published_at = _day(info.get("upload_date"))
    utterances = [ParsedUtterance(text=line.strip(), line_no=n, lang=None, captured_at=published_at,
                                  time_basis="published" if published_at else None)
                  for n, line in enumerate(text.split("\n"), start=1) if line.strip()]
    if not utterances:
        raise IngestError("transcript: no speaker turns")
    category = info.get("category")
    return ParsedSource(reader=NAME, reader_version=VERSION, media_type="text/x-transcript-lines",
                        kind=kind or (category if category in ("radio", "call") else "radio"),
                        utterances=utterances, url=info.get("url"), lang_hint=lang, published_at=published_at,
                        title=f"recording {path.parent.name}", meta={"recording": path.parent.name, **info})
