"""Audio and video files: stored as evidence with their capture metadata; the transmissions
themselves come later, from ``overheard process`` (segment → transcribe → gloss → analyse).

Nothing here loads the file whole: the hash and the evidence copy are streamed, and the
probe reads only the container header.
"""

from __future__ import annotations

import re
from pathlib import Path

from ..store import Store, sha256_file
from .original import Original, store_original

NAME, VERSION = "audio", "1"
AUDIO_EXTS = {".wav", ".flac", ".mp3", ".ogg", ".opus", ".oga", ".m4a", ".aac", ".wma", ".amr",
              ".mp4", ".mkv", ".webm", ".mov", ".avi", ".3gp"}
VIDEO_EXTS = {".mp4", ".mkv", ".webm", ".mov", ".avi", ".3gp"}
# formats messengers use for voice notes (WhatsApp .opus, Viber/Signal .m4a/.aac, .amr): a
# person speaking, not a radio channel, so call mode (VAD only) unless --kind says otherwise
VOICE_NOTE_EXTS = {".opus", ".m4a", ".aac", ".amr"}


def is_audio(path: Path) -> bool:
    return path.suffix.lower() in AUDIO_EXTS


def mode_for(kind: str) -> str:
    """Radio channel recordings get the squelch; calls, interviews and voice notes VAD only."""
    return "radio" if kind == "radio" else "call"


# Telegram Desktop names a voice message audio_<n>@DD-MM-YYYY_HH-MM-SS.ogg (in voice_messages/)
TELEGRAM_VOICE = re.compile(r"^audio_\d+@\d\d-\d\d-\d{4}_\d\d-\d\d-\d\d\.og[ga]$", re.I)


def default_kind(path: Path) -> str:
    suffix = path.suffix.lower()
    if suffix in VIDEO_EXTS:
        return "interview"
    if suffix in VOICE_NOTE_EXTS or TELEGRAM_VOICE.match(path.name) or path.parent.name == "voice_messages":
        return "message"
    return "radio"


def ingest_audio(store: Store, path: Path, opts, result_cls, parent: dict | None = None):
    """``parent``: the export message this file is attached to (kept in meta.parent)."""
    from ..audio.decode import AudioDecodeError, probe

    try:
        sha = sha256_file(path)
    except OSError as exc:
        return result_cls(path, "failed", f"cannot read ({exc.strerror or exc})")
    existing = store.source_by_sha(sha)
    if existing is not None:
        return result_cls(path, "present", f"already present as source {existing['id']}", sha, existing["id"])
    try:
        info = probe(path)
    except AudioDecodeError as exc:
        # the decoder's message names the file already; keep only the problem
        return result_cls(path, "failed", exc.problem, sha)
    kind = opts.kind or default_kind(path)
    meta = {"container": info.container, "codec": info.codec, "channels": info.channels,
            "mode": mode_for(kind), "lang": opts.lang}
    if parent:
        meta["parent"] = parent
    from .archive import origin
    original_path, extra = origin(path, opts)
    meta.update(extra)
    size = path.stat().st_size
    result = store_original(store, Original(
        path, sha, NAME, VERSION, meta=meta,
        columns={"size": size, "media_type": f"audio/{info.codec}", "kind": kind, "original_name": path.name,
                 "original_path": original_path, "url": opts.url, "captured_at": opts.captured_at,
                 "frequency_hz": opts.frequency_hz, "channel": opts.channel, "receiver": opts.receiver,
                 "sample_rate": info.sample_rate, "duration_s": info.duration_s, "contributor": opts.contributor,
                 "note": opts.note},
        audit={"duration_s": info.duration_s, **({"parent": parent} if parent else {})}), opts, result_cls)
    if result.status != "added":
        return result
    dur = f"{info.duration_s / 60:.1f} min" if info.duration_s else "unknown length"
    result.message = f"{info.codec} {info.sample_rate} Hz, {dur} ({kind}; `overheard process` transcribes it)"
    return result
