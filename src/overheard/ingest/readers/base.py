"""What every text reader returns, and the errors it may raise."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone

KINDS = ("radio", "call", "interview", "message", "article")


class IngestError(Exception):
    """A file cannot be ingested; the message is one line, without the file name."""


@dataclass
class ParsedUtterance:
    text: str
    line_no: int | None = None
    lang: str | None = None
    captured_at: str | None = None
    time_basis: str | None = None
    channel: str | None = None
    speaker: str | None = None
    speaker_role: str | None = None
    quote_start: int | None = None
    quote_end: int | None = None
    is_boilerplate: bool = False
    start_s: float | None = None
    end_s: float | None = None
    meta: dict = field(default_factory=dict)


@dataclass
class ParsedSource:
    reader: str
    reader_version: str
    media_type: str
    kind: str
    utterances: list[ParsedUtterance]
    title: str | None = None
    url: str | None = None
    published_at: str | None = None
    lang_hint: str | None = None
    meta: dict = field(default_factory=dict)
    # media a message refers to (messenger exports): path relative to the export, media_type,
    # speech (ingest it as a source and transcribe it), seq of its message, captured_at, sender
    attachments: list[dict] = field(default_factory=list)


def decode_utf8(data: bytes) -> str:
    """Strict UTF-8 (a BOM is allowed); names the byte offset of the first bad byte."""
    if not data.strip():
        raise IngestError("empty file")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise IngestError(f"not valid UTF-8 (bad byte 0x{data[exc.start]:02x} at offset {exc.start})") from None
    if not text.strip():
        raise IngestError("empty file (whitespace only)")
    return text.replace("\r\n", "\n").replace("\r", "\n")


MIN_LEGACY_BYTES = 8     # below this many non-ASCII bytes, a non-UTF-8 file is not guessed at


def _plausible(text: str) -> bool:
    """Whether a text decoded from a guessed (or BOM-declared) encoding reads as the European
    scripts this tool is for: at least 90 % ASCII, Latin, Cyrillic or general punctuation."""
    if not text:
        return True
    ok = sum(1 for c in text if c.isascii() or "\u00a0" <= c <= "\u024f" or "\u0400" <= c <= "\u052f"
             or "\u2000" <= c <= "\u206f" or c in "\u2116\ufeff")
    return ok >= 0.9 * len(text)


def decode_text(data: bytes) -> tuple[str, str]:
    """Text in any common encoding → (text, encoding name). UTF-8 (a BOM allowed) first; else the
    encoding charset-normalizer finds (cp1251, KOI8-R, UTF-16, …). Bytes that decode only to
    control characters are refused as not text."""
    if not data.strip():
        raise IngestError("empty file")
    try:
        if data[:4] in (b"\xff\xfe\x00\x00", b"\x00\x00\xfe\xff"):      # byte-order marks say it
            text, name = data.decode("utf-32"), "utf_32"
        elif data[:2] in (b"\xff\xfe", b"\xfe\xff"):
            text, name = data.decode("utf-16"), "utf_16"
        else:
            text, name = data.decode("utf-8-sig"), "utf_8"
    except UnicodeDecodeError as exc:
        from charset_normalizer import from_bytes
        sample = data[:200_000]
        high = sum(1 for b in sample if b >= 0x80)
        wide = sample.count(0) > len(sample) // 10          # UTF-16/32 without a BOM
        if high < MIN_LEGACY_BYTES and not wide:    # a few stray bytes in ASCII text: damage, not an encoding
            raise IngestError(f"not valid UTF-8 (bad byte 0x{data[exc.start]:02x} at offset {exc.start}),"
                              f" and {high} non-ASCII byte(s) are too few to tell another encoding") from None
        best = from_bytes(data).best()
        if best is None:
            raise IngestError(f"not text: not valid UTF-8 (bad byte 0x{data[exc.start]:02x} at offset {exc.start})"
                              " and no other text encoding fits") from None
        text, name = str(best), best.encoding
    if name != "utf_8" and not _plausible(text[:20000]):
        raise IngestError(f"not text: read as {name} it gives mostly characters outside Latin, Cyrillic and"
                          " punctuation (a binary file, or damaged)")
    controls = sum(1 for ch in text[:20000] if ord(ch) < 32 and ch not in "\n\r\t\f")
    if controls > max(2, len(text[:20000]) // 100):
        raise IngestError(f"not text: {controls} control characters after decoding as {name} (a binary file?)")
    if not text.strip():
        raise IngestError("empty file (whitespace only)")
    return text.replace("\r\n", "\n").replace("\r", "\n"), name


def parse_time(value: str | int | float | None, *, what: str = "time") -> str | None:
    """ISO 8601 (any offset) or Unix seconds → UTC ISO 8601 'YYYY-MM-DDTHH:MM:SSZ'."""
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise IngestError(f"{what} {value!r} is not a date/time")
    if isinstance(value, (int, float)) or (isinstance(value, str) and value.strip().replace(".", "", 1).isdigit()
                                           and len(value.strip()) >= 9):
        seconds = float(value)
        if seconds > 1e11:            # epoch milliseconds, as many chat exports write them
            seconds /= 1000.0
        try:
            dt = datetime.fromtimestamp(seconds, tz=timezone.utc)
        except (ValueError, OverflowError, OSError):
            raise IngestError(f"{what} {value!r} is not a usable Unix time") from None
    else:
        raw = str(value).strip()
        if len(raw) == 8 and raw.isdigit():
            raw = f"{raw[:4]}-{raw[4:6]}-{raw[6:]}"
        try:
            dt = datetime.fromisoformat(raw.replace("Z", "+00:00"))
        except ValueError:
            raise IngestError(f"{what} {raw!r} is not an ISO 8601 date/time") from None
        if dt.tzinfo is None:
            dt = dt.replace(tzinfo=timezone.utc)   # naive times are taken as UTC, and said so in docs
    return dt.astimezone(timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")
