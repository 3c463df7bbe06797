"""Messages as JSONL or CSV/TSV: one message a row.

Columns are found by name (text/message/body…, time/timestamp/date…, sender/from/author…,
channel/chat/group…) unless given explicitly.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass

from .base import IngestError, ParsedSource, ParsedUtterance, parse_time

NAME, VERSION = "messages", "1"
CANDIDATES = {
    "text": ("text", "message", "body", "content", "msg", "message_text", "текст", "сообщение"),
    "time": ("time", "timestamp", "date", "datetime", "created_at", "sent_at", "sent", "ts"),
    "sender": ("sender", "from", "author", "user", "speaker", "from_name", "username", "name"),
    "channel": ("channel", "chat", "group", "room", "chat_name", "conversation", "thread"),
}


@dataclass
class Columns:
    text: str | None = None
    time: str | None = None
    sender: str | None = None
    channel: str | None = None


def _pick(keys: list[str], given: Columns) -> Columns:
    lowered = {k.lower().strip(): k for k in keys}
    out = Columns()
    for role, names in CANDIDATES.items():
        explicit = getattr(given, role)
        if explicit:
            if explicit not in keys:
                raise IngestError(f"no column {explicit!r} (columns: {', '.join(keys)})")
            setattr(out, role, explicit)
            continue
        for name in names:
            if name in lowered:
                setattr(out, role, lowered[name])
                break
    if out.text is None:
        raise IngestError(f"no text column found (columns: {', '.join(keys) or 'none'}); "
                          "name it with --text-col")
    return out


def _rows_jsonl(text: str):
    for n, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            raise IngestError(f"line {n}: invalid JSON ({exc.msg})") from None
        if not isinstance(obj, dict):
            raise IngestError(f"line {n}: expected a JSON object, found {type(obj).__name__}")
        yield n, obj


def _rows_csv(text: str, delimiter: str | None):
    try:
        dialect = csv.Sniffer().sniff(text[:8192], delimiters=",;\t|") if not delimiter else None
    except csv.Error:
        dialect = None
    reader = csv.DictReader(io.StringIO(text), dialect=dialect or "excel",
                            **({"delimiter": delimiter} if delimiter else {}))
    if not reader.fieldnames:
        raise IngestError("CSV has no header row")
    try:
        for row in reader:
            yield reader.line_num, row
    except csv.Error as exc:
        raise IngestError(f"line {reader.line_num}: malformed CSV ({exc})") from None


def read(text: str, *, fmt: str, columns: Columns | None = None, kind: str | None = None,
         delimiter: str | None = None) -> ParsedSource:
    rows = list(_rows_jsonl(text) if fmt == "jsonl" else _rows_csv(text, delimiter))
    if not rows:
        raise IngestError("no messages")
    keys: list[str] = []
    for _, obj in rows:
        for k in obj:
            if k is not None and k not in keys:
                keys.append(k)
    cols = _pick(keys, columns or Columns())
    utterances, skipped = [], 0
    for n, obj in rows:
        body = obj.get(cols.text)
        if body is None or not str(body).strip():
            skipped += 1
            continue
        when = parse_time(obj.get(cols.time), what=f"line {n}: time") if cols.time else None
        extra = {k: v for k, v in obj.items()
                 if k not in (cols.text, cols.time, cols.sender, cols.channel) and k is not None
                 and isinstance(v, (str, int, float, bool)) and v != ""}
        utterances.append(ParsedUtterance(
            text=str(body).strip(), line_no=n, captured_at=when, time_basis="sent" if when else None,
            speaker=str(obj[cols.sender]) if cols.sender and obj.get(cols.sender) not in (None, "") else None,
            channel=str(obj[cols.channel]) if cols.channel and obj.get(cols.channel) not in (None, "") else None,
            meta=extra))
    if not utterances:
        raise IngestError(f"no message has text in column {cols.text!r}")
    return ParsedSource(reader=NAME, reader_version=VERSION,
                        media_type="application/jsonl" if fmt == "jsonl" else "text/csv",
                        kind=kind or "message", utterances=utterances,
                        meta={"columns": cols.__dict__, "rows_without_text": skipped})
