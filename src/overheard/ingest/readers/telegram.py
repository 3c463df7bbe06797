"""Telegram Desktop exports (``result.json``, "Export chat history" / "Export Telegram data" in
machine-readable JSON) → one utterance per message.

A single-chat export holds ``{"name", "type", "id", "messages": [...]}``; a whole-account export
holds ``{"chats": {"list": [chat, ...]}}`` (and ``left_chats``); both are read. Per message: its
id, time (``date_unixtime``, which is UTC, is preferred over ``date``, which is the exporting
machine's local time without an offset), sender (``from``), chat name, forwarded-from, reply-to,
and the text flattened from Telegram's entity list with each entity's offsets kept
(``meta.entities``: type, start, end, and the URL of a text link). Service messages (joins, pins,
calls) are not utterances. Media a message refers to (``file``, ``photo``) are returned as
attachments: voice and video messages, videos and audio files are ingested by the caller as their
own sources, linked to the message; photos, stickers and other files are recorded, not analysed.

What an export cannot say: the sender's real identity (a display name and a ``from_id``), when a
forwarded message was first written, and anything about messages deleted before the export.
"""

from __future__ import annotations

import json
from pathlib import PurePosixPath

from .base import IngestError, ParsedSource, ParsedUtterance, parse_time

NAME, VERSION = "telegram-export", "1"
# media that carry speech: ingested as sources of their own and transcribed in call mode
SPEECH_MEDIA = {"voice_message", "video_message", "video_file", "audio_file"}
MISSING = "(File not included"         # Telegram's placeholder when media were not exported


def looks_like(data: dict) -> bool:
    return isinstance(data, dict) and (isinstance(data.get("messages"), list)
                                       or isinstance((data.get("chats") or {}).get("list"), list))


def flatten(text) -> tuple[str, list[dict]]:
    """Telegram's ``text`` (a string, or a list of strings and entity objects) → plain text and
    the entities with character offsets into it."""
    if isinstance(text, str):
        return text, []
    if not isinstance(text, list):
        return "", []
    out, entities, pos = [], [], 0
    for part in text:
        if isinstance(part, str):
            piece, ent = part, None
        elif isinstance(part, dict):
            piece = str(part.get("text", ""))
            ent = {"type": str(part.get("type", "plain")), "start": pos, "end": pos + len(piece)}
            if part.get("href"):
                ent["url"] = str(part["href"])
            if part.get("user_id") is not None:
                ent["user_id"] = part["user_id"]
            if ent["type"] == "plain":
                ent = None
        else:
            continue
        out.append(piece)
        if ent:
            entities.append(ent)
        pos += len(piece)
    return "".join(out), entities


def _chats(data: dict) -> list[dict]:
    if isinstance(data.get("messages"), list):
        return [data]
    chats = data.get("chats") or {}
    found = [c for c in chats.get("list", []) if isinstance(c, dict) and isinstance(c.get("messages"), list)]
    found += [c for c in (data.get("left_chats") or {}).get("list", [])
              if isinstance(c, dict) and isinstance(c.get("messages"), list)]
    return found


def _when(msg: dict, where: str) -> str | None:
    if msg.get("date_unixtime") not in (None, ""):
        return parse_time(str(msg["date_unixtime"]), what=f"{where} date_unixtime")
    if msg.get("date"):
        # local time of the exporting machine, offset unknown: kept, and said so in meta
        return parse_time(str(msg["date"]), what=f"{where} date")
    return None


def _attachment(msg: dict) -> dict | None:
    for key in ("file", "photo"):
        ref = msg.get(key)
        if not isinstance(ref, str) or not ref:
            continue
        media = msg.get("media_type") or ("photo" if key == "photo" else "file")
        att = {"path": ref, "media_type": str(media), "mime_type": msg.get("mime_type"),
               "duration_s": msg.get("duration_seconds"), "speech": media in SPEECH_MEDIA}
        if ref.startswith(MISSING):
            att["missing"] = "not included in the export"
        else:
            p = PurePosixPath(ref.replace("\\", "/"))
            if p.is_absolute() or ".." in p.parts:
                att["missing"] = "refused: path leaves the export folder"
        return att
    return None


def read(text: str, *, kind: str | None = None) -> ParsedSource:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise IngestError(f"Telegram export: not valid JSON ({exc.msg} at line {exc.lineno}"
                          f" column {exc.colno}; truncated?)") from None
    if not looks_like(data):
        raise IngestError("Telegram export: no 'messages' list and no 'chats.list' (not a Telegram Desktop result.json)")
    utterances: list[ParsedUtterance] = []
    attachments: list[dict] = []
    problems: list[str] = []
    local_dates = 0
    chats = _chats(data)
    for chat in chats:
        chat_name = str(chat.get("name") or (f"chat {chat.get('id')}" if chat.get("id") is not None else "chat"))
        for msg in chat["messages"]:
            if not isinstance(msg, dict) or msg.get("type", "message") != "message":
                continue
            mid = msg.get("id")
            where = f"message {mid}"
            try:
                when = _when(msg, where)
            except IngestError as exc:
                problems.append(str(exc))
                when = None
            local_dates += int(msg.get("date_unixtime") in (None, "") and bool(msg.get("date")))
            body, entities = flatten(msg.get("text", ""))
            att = _attachment(msg)
            if not body.strip() and att is None:
                continue
            meta = {"message_id": mid, "chat": chat_name, "chat_type": chat.get("type"),
                    "chat_id": chat.get("id")}
            for key, name in (("forwarded_from", "forwarded_from"), ("reply_to_message_id", "reply_to"),
                              ("from_id", "from_id"), ("edited_unixtime", "edited")):
                if msg.get(key) not in (None, ""):
                    meta[name] = msg[key]
            if entities:
                meta["entities"] = entities
            if att is not None:
                meta["attachment"] = {k: v for k, v in att.items() if v is not None}
                attachments.append({**att, "seq": len(utterances) + 1, "message_id": mid, "chat": chat_name,
                                    "captured_at": when, "sender": str(msg["from"]) if msg.get("from") else None})
            sender = msg.get("from") or msg.get("actor")
            utterances.append(ParsedUtterance(
                text=body.strip(), captured_at=when, time_basis="sent" if when else None,
                speaker=str(sender) if sender is not None else None, channel=chat_name, meta=meta))
    if not utterances:
        raise IngestError("Telegram export: no messages with text or media")
    meta = {"chats": [c.get("name") for c in chats], "messages": len(utterances),
            "attachments": len(attachments)}
    if problems:
        meta["problems"] = problems[:50]
    if local_dates:
        meta["local_dates"] = f"{local_dates} message(s) had only a local 'date' (taken as UTC)"
    title = str(chats[0].get("name") or "") or None if len(chats) == 1 else f"Telegram export ({len(chats)} chats)"
    parsed = ParsedSource(reader=NAME, reader_version=VERSION, media_type="application/x-telegram-export+json",
                          kind=kind or "message", utterances=utterances, title=title, meta=meta,
                          attachments=attachments)
    return parsed
