"""Audio: a transmission's clip (optionally widened) and a recording's original file."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse

from ..guard import WebError, require
from .common import ID, pad_seconds, store_of

router = APIRouter()


@router.get("/audio/utterance/{uid}")
def audio_clip(request: Request, uid: int = ID()):
    require(request, "viewer")
    from ...outputs.clips import ClipError, clip_for
    pad = pad_seconds(request.query_params.get("pad"))
    try:
        with request.app.state.clip_lock:          # two requests for a new clip must not cut it twice at once
            path = clip_for(store_of(request), uid, pad_s=pad)
    except ClipError as exc:
        raise WebError(404, str(exc)) from None
    return FileResponse(path, media_type="audio/ogg", headers={"Cache-Control": "private, max-age=3600"})


@router.get("/audio/source/{sid}")
def audio_source(request: Request, sid: int = ID()):
    require(request, "viewer")
    store = store_of(request)
    src = store.conn.execute("SELECT sha256, media_type, reader FROM sources WHERE id = ?", (sid,)).fetchone()
    if src is None or src["reader"] != "audio":
        raise WebError(404, f"Source {sid}: no such audio source.")
    path = store.evidence.path_for(src["sha256"])
    if not path.is_file():
        raise WebError(404, f"Source {sid}: the evidence file is missing (run overheard verify).")
    return FileResponse(path, media_type=src["media_type"] or "application/octet-stream",
                        headers={"Cache-Control": "private, max-age=3600"})
