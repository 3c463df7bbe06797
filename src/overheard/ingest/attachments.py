"""Media files of messenger exports (Telegram Desktop, WhatsApp) and how they join the store.

A message's voice note, video message, video or audio file becomes a source of its own (kind
``message``, so ``process`` transcribes it in call mode: VAD only, no squelch), linked both ways:
its ``meta.parent`` names the export's source, the message and its utterance; the message's
``meta.attachment`` names the file. Photos, stickers and other files are kept as companion
evidence files of the export (``source_files`` role ``attachment:<path>``), recorded, not
analysed. A file a message refers to must resolve (symlinks included) inside the export's folder.
"""

from __future__ import annotations

import functools
import re
from pathlib import Path

from .readers import ParsedSource

TELEGRAM_MEDIA_DIRS = {"voice_messages", "round_video_messages", "video_files", "files", "photos", "stickers",
                       "audio_files", "animations", "contacts", "chats"}
WHATSAPP_MEDIA = re.compile(r"^(?:(?:PTT|AUD|IMG|VID|DOC|STK)-\d{8}-WA\d{4}|\d{8}-(?:AUDIO|PHOTO|VIDEO|STICKER|"
                            r"FILE)-\d{4}-\d{2}-\d{2}-\d{2}-\d{2}-\d{2})", re.I)


@functools.lru_cache(maxsize=256)
def _whatsapp_chat_in(folder: Path) -> str | None:
    from .readers import whatsapp
    for txt in sorted(folder.glob("*.txt")):
        try:
            with open(txt, "rb") as fh:
                head = fh.read(4096).decode("utf-8", "ignore")
        except OSError:
            continue
        if whatsapp.looks_like(head):
            return txt.name
    return None


def attachment_reason(path: Path) -> str | None:
    """Why a file found in a folder walk is taken with its export rather than on its own."""
    parent = path.parent
    if parent.name in TELEGRAM_MEDIA_DIRS and (parent.parent / "result.json").is_file():
        return f"attachment of the Telegram export {parent.parent.name}/result.json (taken with its message)"
    if WHATSAPP_MEDIA.match(path.name):
        chat = _whatsapp_chat_in(parent)
        if chat:
            return f"attachment of the WhatsApp export {chat} (taken with its message)"
    return None


def label(path: Path, att: dict) -> str:
    where = f"message {att['message_id']}" if att.get("message_id") is not None else f"line {att.get('line_no')}"
    return f"{path.name} {where}"


def resolve(path: Path, parsed: ParsedSource) -> tuple[list[tuple[dict, Path]], list[tuple[dict, Path]],
                                                          list[tuple[str, Path, str]]]:
    """Attachments of an export file → (speech files, other files kept with the export, problems as
    (status, path, message)). Nothing is read here beyond the file system's answers."""
    folder = path.parent.resolve()
    speech, kept, problems = [], [], []
    seen = set()
    for att in parsed.attachments:
        ref = att.get("path")
        if att.get("missing"):          # the export's own file is named: the media path is unusable
            shown = path
            status = "failed" if att["missing"].startswith("refused") else "skipped"
            problems.append((status, shown, f"{label(path, att)}: {att['media_type']} {att['missing']}"))
            continue
        shown = path.parent / ref
        try:
            real = (path.parent / ref).resolve(strict=True)
        except (OSError, RuntimeError):
            problems.append(("failed", shown, f"{label(path, att)}: {att['media_type']} file missing from the export"))
            continue
        if not real.is_relative_to(folder):
            problems.append(("failed", shown, f"{label(path, att)}: refused, {ref} resolves outside the export folder"))
            continue
        if not real.is_file():
            problems.append(("failed", shown, f"{label(path, att)}: {ref} is not a regular file"))
            continue
        if real in seen:
            continue
        seen.add(real)
        # the checked path as the export names it (reports read like the export's own layout)
        (speech if att.get("speech") else kept).append((att, path.parent / ref))
    return speech, kept, problems


def parent_link(source_id: int, sha256: str, name: str, att: dict, utterance_id: int | None) -> dict:
    return {k: v for k, v in {
        "source_id": source_id, "sha256": sha256, "name": name, "message_id": att.get("message_id"),
        "line_no": att.get("line_no"), "seq": att.get("seq"), "utterance_id": utterance_id,
        "media_type": att.get("media_type"), "path": att.get("path"), "sender": att.get("sender"),
        "chat": att.get("chat")}.items() if v is not None}
