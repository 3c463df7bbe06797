"""The search page and what a selection can be taken away as: CSV/JSONL, a report, a package."""

from __future__ import annotations

import json
import math

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, Response

from ...index.search import SearchError, parse_query
from ..guard import WebError, require
from ..queries import (KINDS, ORDERS, PAGE_SIZES, REVIEW_STATUSES, BadQuery, SearchParams, _codes, _stances,
                       normalise_time, run_search)
from .common import detector, page, store_of

EXPORT_LIMIT = 50_000      # utterances a download from the workbench may hold

router = APIRouter()


@router.get("/search")
def search_page(request: Request):
    require(request, "viewer")
    store = store_of(request)
    qp = request.query_params
    error, result = "", None
    p = SearchParams()
    try:
        p = parse_search(qp, store)
        result = run_search(store.conn, p, detector_version=detector(request))
    except BadQuery as exc:
        error = str(exc)
    base = {k: v for k, v in qp.multi_items() if k not in ("offset", "after") and v}
    return page(request, "search.html", {
        "p": p, "q": qp, "result": result, "error": error, "base": base,
        "options": request.app.state.options.get(store.conn), "codes": _codes(), "stances": _stances(),
        "statuses": REVIEW_STATUSES, "kinds": KINDS, "orders": ORDERS, "sizes": PAGE_SIZES,
        "detector": detector(request),
    }, status=422 if error else 200)


# ------------------------------------------------------------------ the selection, taken away
def selection(request: Request) -> tuple[SearchParams, list[int]]:
    """The utterance ids the current search selects (every match, up to EXPORT_LIMIT)."""
    from ...index.search import search_ids
    from ..queries import _filters
    store = store_of(request)
    try:
        p = parse_search(request.query_params, store)
        parsed = parse_query(p.q, p.lang or None) if p.q.strip() else None
        ids = search_ids(store.conn, parsed, _filters(p), order="newest", limit=EXPORT_LIMIT + 1)
    except (BadQuery, SearchError) as exc:
        raise WebError(422, str(exc)) from None
    if len(ids) > EXPORT_LIMIT:
        raise WebError(422, f"The selection has more than {EXPORT_LIMIT:,} utterances; narrow it"
                            " (filters, dates) or use overheard export.")
    return p, ids


def selection_sources(request: Request, what: str) -> tuple[SearchParams, list[int]]:
    """The source ids the current search touches (for a report or a package of them)."""
    p, ids = selection(request)
    sources = sorted({r[0] for r in store_of(request).conn.execute(
        "SELECT DISTINCT source_id FROM utterances WHERE id IN (SELECT value FROM json_each(?))",
        (json.dumps(ids),))})
    if not sources:
        raise WebError(422, f"The selection is empty: nothing to {what}.")
    return p, sources


@router.get("/search/export")
def search_export(request: Request):
    require(request, "viewer")
    from ...outputs.export import iter_utterances, write_csv, write_jsonl
    fmt = request.query_params.get("format", "csv")
    if fmt not in ("csv", "jsonl"):
        raise WebError(422, "format: expected csv or jsonl")
    _, ids = selection(request)
    import io
    buf = io.StringIO()
    rows = iter_utterances(store_of(request), utterance_ids=ids)
    (write_csv if fmt == "csv" else write_jsonl)(rows, buf)
    media = "text/csv; charset=utf-8" if fmt == "csv" else "application/x-ndjson; charset=utf-8"
    return Response(buf.getvalue(), media_type=media,
                    headers={"Content-Disposition": f'attachment; filename="overheard-search.{fmt}"'})


@router.get("/search/report")
def search_report(request: Request):
    require(request, "viewer")
    from ...report.data import ReportOptions
    from ...report.html import ReportError, render_html
    p, sources = selection_sources(request, "report")
    store = store_of(request)
    opts = ReportOptions(since=p.since or None, until=p.until or None, source_ids=sources,
                         channels=[p.channel] if p.channel else [], detector_version=p.detector or None)
    try:
        body, _ = render_html(store, opts)
    except ReportError as exc:
        raise WebError(422, str(exc)) from None
    return Response(body, media_type="text/html; charset=utf-8",
                    headers={"Content-Disposition": 'attachment; filename="overheard-report.html"'})


@router.get("/search/package")
def search_package(request: Request):
    sess, user = require(request, "analyst")
    import tempfile
    from pathlib import Path as _Path
    from ...outputs.package import PackageError, build_package
    _, sources = selection_sources(request, "package")
    store = store_of(request)
    out = _Path(tempfile.mkdtemp(prefix="overheard-pkg-")) / "evidence-package.zip"
    try:
        build_package(store, out, source_ids=sources)
    except PackageError as exc:
        raise WebError(422, str(exc)) from None
    from starlette.background import BackgroundTask
    import shutil
    return FileResponse(out, media_type="application/zip", filename="evidence-package.zip",
                        background=BackgroundTask(shutil.rmtree, out.parent, ignore_errors=True))


def parse_search(qp, store) -> SearchParams:
    def one(key: str, limit: int = 200) -> str:
        values = qp.getlist(key)
        if len(values) > 1:
            raise BadQuery(f"{key}: given {len(values)} times")
        value = (values[0] if values else "").strip()
        if len(value) > limit:
            raise BadQuery(f"{key}: longer than {limit} characters")
        return value

    p = SearchParams(q=one("q", 500))
    p.code, p.stance, p.status, p.kind = one("code"), one("stance"), one("status"), one("kind")
    for key, value, allowed in (("code", p.code, _codes()), ("stance", p.stance, _stances()),
                                ("status", p.status, REVIEW_STATUSES), ("kind", p.kind, KINDS)):
        if value and value not in allowed:
            raise BadQuery(f"{key}: {value!r} is not one of {', '.join(allowed)}")
    p.lang, p.channel, p.detector = one("lang", 10), one("channel"), one("detector")
    freq = one("freq", 20)
    if freq:
        try:
            p.freq_mhz = float(freq)
        except ValueError:
            raise BadQuery(f"freq: {freq!r} is not a frequency in MHz") from None
        if not (0 < p.freq_mhz < 1e6) or math.isnan(p.freq_mhz):
            raise BadQuery(f"freq: {freq!r} is out of range")
    src = one("source", 64)
    if src:
        try:
            p.source_id = store.resolve_source(src)["id"]
        except Exception as exc:
            raise BadQuery(f"source: {exc}") from None
    p.since = normalise_time(one("since", 40), "since")
    p.until = normalise_time(one("until", 40), "until", end=True)
    p.order = one("order", 10) or "rank"
    if p.order not in ORDERS:
        raise BadQuery(f"order: {p.order!r} is not one of {', '.join(ORDERS)}")
    size = one("size", 4) or "20"
    if not size.isdigit() or int(size) not in PAGE_SIZES:
        raise BadQuery(f"size: expected one of {', '.join(map(str, PAGE_SIZES))}")
    p.size = int(size)
    offset = one("offset", 6) or "0"
    if not offset.isdigit() or int(offset) >= 2000:
        raise BadQuery("offset: a whole number below 2,000 (rank order pages through the newest "
                       "2,000 matches; use order=newest to go further)")
    p.offset = int(offset)
    after = one("after", 19)
    if after:
        if not after.isdigit():
            raise BadQuery("after: not an utterance id")
        p.after = int(after)
    return p
