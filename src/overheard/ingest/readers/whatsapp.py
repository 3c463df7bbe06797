"""WhatsApp chat exports ("Export chat", ``.txt``) → one utterance per message.

Android writes ``31/12/2021, 23:59 - Name: text`` (``12/31/21, 11:59 PM - …`` in US English,
``31.12.21, 23:59 - …`` in German or Russian); iOS writes ``[31/12/2021, 23:59:59] Name: text``.
Lines without a leading time continue the message above (multi-line messages). Day/month order is
decided per file from the dates themselves (a first field over 12 means day first, a second field
over 12 month first; otherwise by the locale's habits: dots and 24-hour times day first, AM/PM
month first) and recorded. Media lines — iOS ``<attached: 00000012-AUDIO-….opus>``, Android
``PTT-20220305-WA0002.opus (file attached)`` in several languages — become attachments; voice
notes, audio and video are ingested by the caller as their own sources linked to the message.
``<Media omitted>`` is recorded as such. System lines (encryption notice, joins) are not messages.

What an export cannot say: the time zone (times are the phone's local time, stored as if UTC and
said so in ``meta.time_zone``), phone numbers behind contact names, and deleted messages.
"""

from __future__ import annotations

import re
from datetime import datetime, timezone

from .base import IngestError, ParsedSource, ParsedUtterance

NAME, VERSION = "whatsapp-export", "1"
_STAMP = (r"(\d{1,4})[./-](\d{1,2})[./-](\d{2,4}),?\s+(\d{1,2})[:.](\d{2})(?:[:.](\d{2}))?"
          r"(?:\s*([AaPp])\.?\s*[Mm]\.?)?")
ANDROID = re.compile(rf"^{_STAMP}\s+[-–]\s+(.*)$")
IOS = re.compile(rf"^\[{_STAMP}\]\s+(.*)$")
_INVISIBLE = dict.fromkeys(map(ord, "\u200e\u200f\u202a\u202b\u202c\u2066\u2067\u2068\u2069"), None)
_SPACES = {ord("\u202f"): " ", ord("\u00a0"): " "}
ATTACHED_IOS = re.compile(r"<(?:attached|прикреплено|angehängt|pièce jointe|adjunto):\s*([^>]+)>", re.I)
ATTACHED_ANDROID = re.compile(
    r"^(.+?\.\w{2,5})\s+\((?:file attached|Datei angehängt|файл добавлен|файл прикреплён|файл прикреплен"
    r"|fichier joint|archivo adjunto|arquivo anexado|файл додано)\)", re.I)
OMITTED = re.compile(r"^<(?:Media omitted|Медиа отсутствуют|Без медиафайлов|Medien ausgeschlossen"
                     r"|Médias omis|Multimedia omitido)>$", re.I)
SPEECH_EXTS = {".opus", ".ogg", ".oga", ".m4a", ".mp3", ".aac", ".amr", ".wav", ".mp4", ".3gp", ".mov"}


def _clean(line: str) -> str:
    return line.translate(_INVISIBLE).translate(_SPACES)


def _match(line: str):
    line = _clean(line)
    return IOS.match(line) or ANDROID.match(line)


def looks_like(text: str) -> bool:
    lines = [ln for ln in text.split("\n")[:20] if ln.strip()]
    return len(lines) >= 1 and sum(1 for ln in lines if _match(ln)) >= max(1, len(lines) // 2)


def _order(stamps: list[tuple]) -> tuple[str, str]:
    """'dmy' or 'mdy' (or 'ymd'), and why."""
    if any(len(a) == 4 for a, _, _ in stamps):
        return "ymd", "year first in the dates"
    if any(int(a) > 12 for a, _, _ in stamps):
        return "dmy", "a first date field over 12"
    if any(int(b) > 12 for _, b, _ in stamps):
        return "mdy", "a second date field over 12"
    if any(ampm for _, _, ampm in stamps):
        return "mdy", "ambiguous dates with AM/PM times (US layout assumed)"
    return "dmy", "ambiguous dates with 24-hour times (day first assumed)"


def _time(groups: tuple, order: str) -> str:
    a, b, c, hh, mm, ss, ampm = groups
    if order == "ymd":
        y, mo, d = a, b, c
    elif order == "dmy":
        d, mo, y = a, b, c
    else:
        mo, d, y = a, b, c
    y = int(y) + (2000 if len(y) == 2 else 0)
    hour = int(hh)
    if ampm:
        hour = hour % 12 + (12 if ampm.lower() == "p" else 0)
    dt = datetime(y, int(mo), int(d), hour, int(mm), int(ss or 0), tzinfo=timezone.utc)
    return dt.isoformat(timespec="seconds").replace("+00:00", "Z")


def _split_sender(rest: str) -> tuple[str | None, str]:
    # "Name: text" — the first ": " after a plausible name; none means a system line
    i = rest.find(": ")
    if i <= 0 or i > 60:
        return None, rest
    return rest[:i].strip(), rest[i + 2:]


def _attachment(body: str) -> tuple[dict | None, str]:
    first, _, rest = body.partition("\n")
    first_clean = _clean(first).strip()
    m = ATTACHED_IOS.search(first_clean)
    name = None
    if m:
        name = m.group(1).strip()
        caption = (ATTACHED_IOS.sub("", first_clean).strip() + "\n" + rest).strip()
    else:
        m = ATTACHED_ANDROID.match(first_clean)
        if m:
            name = m.group(1).strip()
            caption = (first_clean[m.end():].strip() + "\n" + rest).strip()
    if name is not None:
        ext = "." + name.rsplit(".", 1)[-1].lower() if "." in name else ""
        upper = name.upper()
        if ext in (".mp4", ".mov", ".3gp"):
            media = "video"
        elif "PTT" in upper or ext == ".opus":
            media = "voice_message"
        elif ext in SPEECH_EXTS:
            media = "audio_file"
        else:
            media = "photo" if ext in (".jpg", ".jpeg", ".png", ".webp", ".gif") else "file"
        att = {"path": name, "media_type": media, "speech": ext in SPEECH_EXTS}
        if "/" in name or "\\" in name or name.startswith("."):
            att["missing"] = "refused: path leaves the export folder"
        return att, caption
    if OMITTED.match(first_clean):
        return {"path": None, "media_type": "omitted", "speech": False,
                "missing": "media omitted from the export"}, rest.strip()
    return None, body


def read(text: str, *, kind: str | None = None) -> ParsedSource:
    lines = text.split("\n")
    messages: list[list] = []         # [line_no, groups, rest, continuation lines]
    layout = None
    for n, line in enumerate(lines, start=1):
        m = _match(line)
        if m:
            layout = layout or ("ios" if _clean(line).startswith("[") else "android")
            g = m.groups()
            messages.append([n, g[:7], g[7], []])
        elif messages:
            messages[-1][3].append(line)
        elif line.strip():
            raise IngestError(f"WhatsApp export line {n}: no date/time layout this reader knows"
                              f" (expected '31/12/2021, 23:59 - Name: text' or '[31/12/2021, 23:59:59] Name: text')")
    if not messages:
        raise IngestError("WhatsApp export: no messages")
    order, why = _order([(g[0], g[1], g[6]) for _, g, _, _ in messages])
    utterances: list[ParsedUtterance] = []
    attachments: list[dict] = []
    system = 0
    for n, groups, rest, more in messages:
        sender, body = _split_sender(_clean(rest))
        if sender is None:
            system += 1
            continue
        body = "\n".join([body, *more]).strip()
        try:
            when = _time(groups, order)
        except ValueError:
            raise IngestError(f"WhatsApp export line {n}: {'/'.join(groups[:3])} is not a date in"
                              f" {order.upper()} order") from None
        att, body = _attachment(body)
        meta = {}
        if att is not None:
            meta["attachment"] = {k: v for k, v in att.items() if v is not None}
            if att["path"]:
                attachments.append({**att, "seq": len(utterances) + 1, "line_no": n, "captured_at": when,
                                    "sender": sender})
        elif not body:
            continue
        utterances.append(ParsedUtterance(text=body, line_no=n, captured_at=when, time_basis="sent",
                                          speaker=sender, meta=meta))
    if not utterances:
        raise IngestError("WhatsApp export: no messages from a sender (only system lines)")
    parsed = ParsedSource(reader=NAME, reader_version=VERSION, media_type="text/x-whatsapp-export",
                          kind=kind or "message", utterances=utterances,
                          meta={"layout": layout, "date_order": order, "date_order_why": why,
                                "time_zone": "phone's local time, offset unknown (stored as UTC)",
                                "system_lines": system, "attachments": len(attachments)},
                          attachments=attachments)
    return parsed
