"""The sources list, a source's page (transcript, timeline, runs, attached media) and its
retraction by an admin."""

from __future__ import annotations

import json

from fastapi import APIRouter, Depends, Request

from ..guard import WebError, require
from .common import ID, done, form_data, page, store_of, whole_number

router = APIRouter()


@router.get("/sources")
def sources_page(request: Request):
    require(request, "viewer")
    before = whole_number(dict(request.query_params), "before", required=False, lo=1, hi=2**62)
    rows = store_of(request).conn.execute(
        "SELECT s.id, s.sha256, s.original_name, s.title, s.kind, s.reader, s.captured_at, s.frequency_hz,"
        " s.channel, s.contributor, s.duration_s, s.ingested_at,"
        " (SELECT count(*) FROM utterances u WHERE u.source_id = s.id) AS n"
        " FROM sources s WHERE s.id < ? ORDER BY s.id DESC LIMIT 51", (before or 2**62,)).fetchall()
    return page(request, "sources.html", {"rows": rows[:50],
                                          "next_before": rows[49]["id"] if len(rows) > 50 else None})


@router.get("/source/{sid}")
def source_page(request: Request, sid: int = ID()):
    require(request, "viewer")
    conn = store_of(request).conn
    src = conn.execute("SELECT * FROM sources WHERE id = ?", (sid,)).fetchone()
    if src is None:
        raise WebError(404, f"Source {sid}: no such source.")
    after = whole_number(dict(request.query_params), "after", required=False, hi=2**62) or 0
    rows = conn.execute(
        "SELECT u.id, u.seq, u.line_no, u.start_s, u.end_s, u.captured_at, u.lang, u.speaker, u.text,"
        " u.is_boilerplate, (SELECT group_concat(DISTINCT f.code) FROM findings f WHERE f.utterance_id = u.id)"
        " AS codes FROM utterances u WHERE u.source_id = ? AND u.seq > ? ORDER BY u.seq LIMIT 201",
        (sid, after)).fetchall()
    total = conn.execute("SELECT count(*) FROM utterances WHERE source_id = ?", (sid,)).fetchone()[0]
    runs = conn.execute("SELECT * FROM runs WHERE id = ? OR id IN (SELECT DISTINCT run_id FROM utterances"
                        " WHERE source_id = ?) OR id = (SELECT run_id FROM processing WHERE source_id = ?)"
                        " ORDER BY id", (src["run_id"], sid, sid)).fetchall()
    processing = conn.execute("SELECT * FROM processing WHERE source_id = ?", (sid,)).fetchone()
    timeline = _timeline(src, rows[:200]) if src["duration_s"] else ""
    # a messenger export's media are sources of their own: their transcripts shown in the thread
    attached: dict[int, list[dict]] = {}
    for child in conn.execute(
            "SELECT c.id, c.original_name, json_extract(c.meta, '$.parent.utterance_id') AS uid,"
            " json_extract(c.meta, '$.parent.media_type') AS media,"
            " (SELECT group_concat(u.text, ' / ') FROM (SELECT text FROM utterances WHERE source_id = c.id"
            "  ORDER BY seq) u) AS transcript,"
            " (SELECT status FROM processing WHERE source_id = c.id) AS pstatus"
            " FROM sources c WHERE json_extract(c.meta, '$.parent.source_id') = ? ORDER BY c.id", (sid,)):
        attached.setdefault(child["uid"], []).append(dict(child))
    retractions = conn.execute("SELECT * FROM retractions WHERE source_id = ? ORDER BY id", (sid,)).fetchall()
    return page(request, "source.html", {
        "src": src, "rows": rows[:200], "total": total, "runs": runs, "processing": processing,
        "meta": json.loads(src["meta"] or "{}"), "timeline": timeline, "attached": attached,
        "retractions": retractions, "retracted": retractions and retractions[-1]["action"] == "retract",
        "next_after": rows[199]["seq"] if len(rows) > 200 else None})


@router.post("/admin/source/{sid}/{action}")
def source_retraction(request: Request, sid: int = ID(), action: str = "", form: dict = Depends(form_data)):
    sess, user = require(request, "admin", form)
    from ...store import StoreError
    from ...store import retract as retraction
    if action not in ("retract", "restore"):
        raise WebError(404, f"{action}: not an action on a source")
    try:
        changed = getattr(retraction, action)(store_of(request), str(sid), reason=form.get("reason") or "",
                                              actor=f"web:{user['name']}")
    except StoreError as exc:
        raise WebError(422, str(exc)) from None
    word = "retracted" if action == "retract" else "restored"
    return done(request, f"/source/{sid}", f"Source {', '.join(map(str, changed))} {word}.")


def _timeline(src, rows) -> str:
    """An SVG strip: each transmission a bar at its place in the recording, linked."""
    from html import escape
    dur = src["duration_s"] or 1.0
    w, h = 900, 36
    parts = [f'<svg class="timeline" viewBox="0 0 {w} {h}" width="100%" role="img" '
             f'aria-label="transmissions over the recording">',
             f'<rect class="tl-bg" x="0" y="8" width="{w}" height="20"/>']
    for r in rows:
        if r["start_s"] is None:
            continue
        x = w * r["start_s"] / dur
        bw = max(2.0, w * (r["end_s"] - r["start_s"]) / dur)
        cls = "tl-tx tl-find" if r["codes"] else "tl-tx"
        title = f"#{r['seq']} {r['start_s']:.1f}–{r['end_s']:.1f} s: {(r['text'] or '')[:80]}"
        parts.append(f'<a href="/utterance/{r["id"]}"><rect class="{cls}" x="{x:.1f}" y="8" width="{bw:.1f}" '
                     f'height="20"><title>{escape(title)}</title></rect></a>')
    parts.append("</svg>")
    return "".join(parts)
