"""An utterance's page and everything an analyst writes: the review queue, decisions on
findings, added findings, corrected transcripts and English, tags and notes."""

from __future__ import annotations

import math
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Request

from .. import actions, auth
from ..guard import WebError, _safe_next, require
from ..queries import _codes, _stances, highlight_segments, utterance_detail
from .common import ID, detector, done, form_data, pad_seconds, page, store_of, whole_number

BULK_PAGE = 30             # queue items listed for bulk decisions (form field limit: MAX_FIELDS)

router = APIRouter()


def acting(action, *args, **kwargs):
    """Run a review action; its refusals become the page's 404 (no such item) or 422 (invalid)."""
    try:
        return action(*args, **kwargs)
    except actions.NotFound as exc:
        raise WebError(404, str(exc)) from None
    except actions.ActionError as exc:
        raise WebError(422, str(exc)) from None


@router.get("/utterance/{uid}")
def utterance_page(request: Request, uid: int = ID()):
    sess, user = require(request, "viewer")
    store = store_of(request)
    d = utterance_detail(store.conn, uid, detector(request))
    if d is None:
        raise WebError(404, f"Utterance {uid}: no such utterance.")
    current = [f for f in d["findings"] if f["current"] and f["status"] != "rejected"]
    segments, stale = highlight_segments(d["u"]["text"], current)
    # SDR transmissions play their demodulated audio (kept as the clip); only recordings
    # can be widened, since the original of a capture is IQ samples, not sound
    audio = d["src"]["reader"] in ("audio", "sdr-capture") and d["u"]["start_s"] is not None
    widen = None
    if audio and d["src"]["reader"] == "audio":
        u = d["u"]
        gaps = [u["start_s"] - d["prev"]["start_s"] if d["prev"] and d["prev"]["start_s"] is not None else 0,
                d["next"]["end_s"] - u["end_s"] if d["next"] and d["next"]["end_s"] is not None else 0]
        widen = min(60.0, math.ceil(max(gaps + [2.0]) * 2) / 2)
    pad = pad_seconds(request.query_params.get("pad")) if widen else 0.0
    versions = d["versions"]
    return page(request, "utterance.html", {
        **d, "segments": segments, "stale": stale, "audio": audio, "pad": pad, "widen": widen,
        "codes": _codes(), "stances": _stances(), "detector": detector(request),
        "version_now": versions[0]["version"] if versions else 1,
        "can_review": auth.RANK[user["role"]] >= auth.RANK["analyst"],
    })


def _back(uid: int) -> str:
    return f"/utterance/{uid}#review"


# ------------------------------------------------------------------ review queue (analyst)
def queue_filter(request: Request):
    from ...review import QueueFilter
    qp = request.query_params
    code = (qp.get("code") or "").strip()
    if code and code not in _codes():
        raise WebError(422, f"code: {code!r} is not one of {', '.join(_codes())}")
    src = (qp.get("source") or "").strip()[:64]
    sid = None
    if src:
        try:
            sid = store_of(request).resolve_source(src)["id"]
        except Exception as exc:
            raise WebError(422, f"source: {exc}") from None
    return QueueFilter(code=code or None, source_id=sid)


def queue_url(qf, i: int = 0) -> str:
    params = {k: v for k, v in (("code", qf.code), ("source", qf.source_id), ("i", i or None)) if v}
    return "/review" + (f"?{urlencode(params)}" if params else "")


@router.get("/review")
def review_page(request: Request):
    require(request, "analyst")
    from ...review import item, pending_ids, progress
    store = store_of(request)
    qf = queue_filter(request)
    i = whole_number(dict(request.query_params), "i", required=False, hi=10**6) or 0
    done_n, total = progress(store, qf)
    ids = pending_ids(store, qf, limit=BULK_PAGE + i + 1)
    i = min(i, max(len(ids) - 1, 0))
    current = item(store, ids[i]) if ids else None
    segments = None
    if current:
        segments, _ = highlight_segments(current.utterance["text"], [current.finding])
    upcoming = [item(store, fid) for fid in ids[i:i + BULK_PAGE]]
    return page(request, "review.html", {
        "done": done_n, "total": total, "current": current, "segments": segments, "i": i,
        "prev_url": queue_url(qf, i - 1) if i > 0 else None,
        "next_url": queue_url(qf, i + 1) if i + 1 < len(ids) else None,
        "here": queue_url(qf, i), "qf": qf, "codes": _codes(), "upcoming": upcoming})


@router.post("/review/decide")
def review_decide(request: Request, form: dict = Depends(form_data)):
    sess, user = require(request, "analyst", form)
    from ...review import decide
    back = _safe_next(form.get("next") or "/review")
    if form.get("bulk"):
        ids = [int(k[1:]) for k, v in form.items() if k[:1] == "f" and k[1:].isdigit() and v]
        if not ids:
            raise WebError(422, "Tick the findings to decide first.")
    else:
        ids = [whole_number(form, "finding_id", lo=1, hi=2**62)]
    results = acting(decide, store_of(request), ids, form.get("decision", ""), actor=user["name"],
                     note=form.get("note", ""))
    word = results[0]["after"] if results else form.get("decision")
    return done(request, back, f"{len(results)} finding(s) {word}." if len(results) > 1
                else f"Finding {ids[0]}: {results[0]['before']} → {results[0]['after']}.")


@router.post("/finding/{fid}/review")
def review(request: Request, fid: int = ID(), form: dict = Depends(form_data)):
    sess, user = require(request, "analyst", form)
    decision = form.get("decision", "")
    r = acting(actions.review_finding, store_of(request), fid, decision, actor=user["name"], note=form.get("note", ""))
    return done(request, _back(r["utterance_id"]), f"Finding {fid}: {r['before']} → {r['after']}.")


@router.post("/utterance/{uid}/finding")
def add_finding(request: Request, uid: int = ID(), form: dict = Depends(form_data)):
    sess, user = require(request, "analyst", form)
    start = whole_number(form, "span_start", required=False)
    end = whole_number(form, "span_end", required=False)
    fid = acting(actions.add_finding, store_of(request), uid, actor=user["name"], code=form.get("code", ""),
                 stance=form.get("stance", ""), span_start=start, span_end=end,
                 evidence=form.get("evidence", ""), note=form.get("note", ""))
    return done(request, _back(uid), f"Finding {fid} added.")


@router.post("/utterance/{uid}/transcript")
def correct(request: Request, uid: int = ID(), form: dict = Depends(form_data)):
    sess, user = require(request, "analyst", form)
    base = whole_number(form, "base_version", required=False, lo=1)
    version = acting(actions.correct_transcript, store_of(request), uid, form.get("text", ""), actor=user["name"],
                     reason=form.get("reason", ""), base_version=base)
    return done(request, _back(uid), f"Transcript saved as version {version}.")


@router.post("/utterance/{uid}/gloss")
def correct_gloss(request: Request, uid: int = ID(), form: dict = Depends(form_data)):
    sess, user = require(request, "analyst", form)
    base = whole_number(form, "base_gloss", required=False, lo=1)
    gid = acting(actions.correct_gloss, store_of(request), uid, form.get("text", ""), actor=user["name"],
                 reason=form.get("reason", ""), base_gloss_id=base)
    return done(request, _back(uid), f"English saved as analyst translation (gloss {gid}).")


@router.post("/utterance/{uid}/annotate")
def annotate(request: Request, uid: int = ID(), form: dict = Depends(form_data)):
    sess, user = require(request, "analyst", form)
    acting(actions.annotate, store_of(request), uid, form.get("kind", ""), form.get("value", ""), actor=user["name"])
    return done(request, _back(uid), f"{form.get('kind', '').capitalize()} added.")
