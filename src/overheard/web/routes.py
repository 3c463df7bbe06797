"""Routes. GET pages are plain server-rendered HTML; every POST carries the session's CSRF
token and answers with a redirect (303) back to the page, so it works with and without HTMX."""

from __future__ import annotations

import json
import math
from urllib.parse import urlencode

from fastapi import Depends, FastAPI, Path as PathParam, Request
from fastapi.responses import FileResponse, RedirectResponse, Response

from ..report.summary import CODES as SUMMARY_CODES, morale_summary
from . import actions, auth
from .guard import LOGIN_COOKIE, SESSION_COOKIE, BodyTooLarge, WebError, _safe_next, require
from ..index.search import SearchError, parse_query
from .queries import (KINDS, ORDERS, PAGE_SIZES, REVIEW_STATUSES, BadQuery, SearchParams, _codes, _stances,
                      highlight_segments, normalise_time, run_search, utterance_detail)

EXPORT_LIMIT = 50_000      # utterances a download from the workbench may hold
# speaker position of the findings counted (their stance): narration never inflates own words
POSITION_CHOICES = {"all": None, "own": ("self",), "reported": ("reported",), "narration": ("narration",)}
BULK_PAGE = 30             # queue items listed for bulk decisions (form field limit: MAX_FIELDS)

def ID():
    return PathParam(ge=1, le=2**62)
MAX_FIELDS = 40
MAX_FIELD = 20_000


async def form_data(request: Request) -> dict[str, str]:
    """The request's form fields, with limits; malformed or unexpected bodies → 400/413/415."""
    ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if ctype not in ("application/x-www-form-urlencoded", "multipart/form-data"):
        raise WebError(415 if ctype else 400, "Send the form as application/x-www-form-urlencoded.")
    try:
        form = await request.form(max_files=0, max_fields=MAX_FIELDS, max_part_size=MAX_FIELD)
    except BodyTooLarge:
        raise WebError(413, "The request body is too large.") from None
    except Exception as exc:   # python-multipart / starlette parse errors
        if request.scope.get("overheard.body_too_large"):    # a chunked body past the limit
            raise WebError(413, "The request body is too large.") from None
        if "maximum size" in str(getattr(exc, "detail", "")):   # starlette's per-field cap
            raise WebError(413, "A form field is too large.") from None
        raise WebError(400, f"Malformed form data ({type(exc).__name__}).") from None
    values: dict[str, str] = {}
    for key, value in form.multi_items():
        if not isinstance(value, str):
            raise WebError(400, "File uploads are not accepted here.")
        if len(value) > MAX_FIELD:
            raise WebError(413, f"Field {key!r} is too long.")
        values[key] = value
    return values


def _int(form: dict, key: str, *, required: bool = True, lo: int = 0, hi: int = 2**31) -> int | None:
    raw = (form.get(key) or "").strip()
    if not raw:
        if required:
            raise WebError(422, f"{key}: required")
        return None
    if not raw.lstrip("-").isdigit() or len(raw) > 12:
        raise WebError(422, f"{key}: {raw[:20]!r} is not a whole number")
    value = int(raw)
    if not lo <= value <= hi:
        raise WebError(422, f"{key}: {value} is out of range")
    return value


def install(app: FastAPI) -> None:
    templates = app.state.templates
    get_store = app.state.get_store

    def page(request: Request, name: str, ctx: dict, status: int = 200) -> Response:
        sess = getattr(request.state, "session", None)
        flash = []
        if sess is not None:
            flash, sess.flash = sess.flash, []
        return templates.TemplateResponse(request, name, {
            "user": getattr(request.state, "user", None), "csrf": sess.csrf if sess else "",
            "flash": flash, **ctx}, status_code=status)

    def done(request: Request, url: str, message: str, level: str = "ok") -> Response:
        request.state.session.flash.append((level, message))
        return RedirectResponse(url, status_code=303)

    def detector():
        from ..analyse.apply import latest_detector_version
        return latest_detector_version(get_store())

    # ------------------------------------------------------------------ auth
    @app.get("/", include_in_schema=False)
    def home():
        return RedirectResponse("/search", status_code=303)

    @app.get("/login")
    def login_form(request: Request):
        return app.state.login_page(request)

    @app.post("/login")
    def login(request: Request, form: dict = Depends(form_data)):
        name = (form.get("name") or "").strip()[:64]
        password = form.get("password") or ""
        nxt = _safe_next(form.get("next"))
        if not auth.tokens_match(form.get("login_csrf"), request.cookies.get(LOGIN_COOKIE)):
            return app.state.login_page(request, status=403, name=name,
                                        message="The sign-in form expired; try again.")
        client = request.client.host if request.client else "unknown"
        limiter = app.state.limiter
        wait = limiter.retry_after(name, client)
        if wait:
            return app.state.login_page(request, status=429, name=name, headers={"Retry-After": str(wait)},
                                        message=f"Too many failed sign-ins; try again in {math.ceil(wait / 60)} min.")
        if not name or not password:
            return app.state.login_page(request, status=422, name=name, message="Give your name and password.")
        user = auth.authenticate(get_store().conn, name, password)
        if user is None:
            limiter.failed(name, client)
            return app.state.login_page(request, status=401, name=name, message="Wrong name or password.")
        limiter.succeeded(name)
        token = app.state.sessions.create(user["id"], user["name"])
        resp = RedirectResponse(nxt, status_code=303)
        resp.set_cookie(SESSION_COOKIE, token, httponly=True, samesite="strict",
                        secure=app.state.secure_cookies, path="/")
        resp.delete_cookie(LOGIN_COOKIE, path="/login")
        return resp

    @app.post("/logout")
    def logout(request: Request, form: dict = Depends(form_data)):
        require(request, "viewer", form)
        app.state.sessions.drop(request.cookies.get(SESSION_COOKIE))
        resp = RedirectResponse("/login", status_code=303)
        resp.delete_cookie(SESSION_COOKIE, path="/")
        return resp

    # ------------------------------------------------------------------ search
    @app.get("/search")
    def search_page(request: Request):
        require(request, "viewer")
        store = get_store()
        qp = request.query_params
        error, result = "", None
        p = SearchParams()
        try:
            p = parse_search(qp, store)
            result = run_search(store.conn, p, detector_version=detector())
        except BadQuery as exc:
            error = str(exc)
        base = {k: v for k, v in qp.multi_items() if k not in ("offset", "after") and v}
        return page(request, "search.html", {
            "p": p, "q": qp, "result": result, "error": error, "base": base,
            "options": app.state.options.get(store.conn), "codes": _codes(), "stances": _stances(),
            "statuses": REVIEW_STATUSES, "kinds": KINDS, "orders": ORDERS, "sizes": PAGE_SIZES,
            "detector": detector(),
        }, status=422 if error else 200)

    # ------------------------------------------------------------------ the selection, taken away
    def selection(request: Request) -> tuple[SearchParams, list[int]]:
        """The utterance ids the current search selects (every match, up to EXPORT_LIMIT)."""
        from ..index.search import search_ids
        from .queries import _filters
        store = get_store()
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
        sources = sorted({r[0] for r in get_store().conn.execute(
            "SELECT DISTINCT source_id FROM utterances WHERE id IN (SELECT value FROM json_each(?))",
            (json.dumps(ids),))})
        if not sources:
            raise WebError(422, f"The selection is empty: nothing to {what}.")
        return p, sources

    @app.get("/search/export")
    def search_export(request: Request):
        require(request, "viewer")
        from ..outputs.export import iter_utterances, write_csv, write_jsonl
        fmt = request.query_params.get("format", "csv")
        if fmt not in ("csv", "jsonl"):
            raise WebError(422, "format: expected csv or jsonl")
        _, ids = selection(request)
        import io
        buf = io.StringIO()
        rows = iter_utterances(get_store(), utterance_ids=ids)
        (write_csv if fmt == "csv" else write_jsonl)(rows, buf)
        media = "text/csv; charset=utf-8" if fmt == "csv" else "application/x-ndjson; charset=utf-8"
        return Response(buf.getvalue(), media_type=media,
                        headers={"Content-Disposition": f'attachment; filename="overheard-search.{fmt}"'})

    @app.get("/search/report")
    def search_report(request: Request):
        require(request, "viewer")
        from ..report.data import ReportOptions
        from ..report.html import ReportError, render_html
        p, sources = selection_sources(request, "report")
        store = get_store()
        opts = ReportOptions(since=p.since or None, until=p.until or None, source_ids=sources,
                             channels=[p.channel] if p.channel else [], detector_version=p.detector or None)
        try:
            body, _ = render_html(store, opts)
        except ReportError as exc:
            raise WebError(422, str(exc)) from None
        return Response(body, media_type="text/html; charset=utf-8",
                        headers={"Content-Disposition": 'attachment; filename="overheard-report.html"'})

    @app.get("/search/package")
    def search_package(request: Request):
        sess, user = require(request, "analyst")
        import tempfile
        from pathlib import Path as _Path
        from ..outputs.package import PackageError, build_package
        _, sources = selection_sources(request, "package")
        store = get_store()
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

    # ------------------------------------------------------------------ utterance
    @app.get("/utterance/{uid}")
    def utterance_page(request: Request, uid: int = ID()):
        sess, user = require(request, "viewer")
        store = get_store()
        d = utterance_detail(store.conn, uid, detector())
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
        pad = _pad(request.query_params.get("pad")) if widen else 0.0
        versions = d["versions"]
        return page(request, "utterance.html", {
            **d, "segments": segments, "stale": stale, "audio": audio, "pad": pad, "widen": widen,
            "codes": _codes(), "stances": _stances(), "detector": detector(),
            "version_now": versions[0]["version"] if versions else 1,
            "can_review": auth.RANK[user["role"]] >= auth.RANK["analyst"],
        })

    def _back(uid: int) -> str:
        return f"/utterance/{uid}#review"

    # ------------------------------------------------------------------ review queue (analyst)
    def queue_filter(qp):
        from ..review import QueueFilter
        code = (qp.get("code") or "").strip()
        if code and code not in _codes():
            raise WebError(422, f"code: {code!r} is not one of {', '.join(_codes())}")
        src = (qp.get("source") or "").strip()[:64]
        sid = None
        if src:
            try:
                sid = get_store().resolve_source(src)["id"]
            except Exception as exc:
                raise WebError(422, f"source: {exc}") from None
        return QueueFilter(code=code or None, source_id=sid)

    def queue_url(qf, i: int = 0) -> str:
        params = {k: v for k, v in (("code", qf.code), ("source", qf.source_id), ("i", i or None)) if v}
        return "/review" + (f"?{urlencode(params)}" if params else "")

    @app.get("/review")
    def review_page(request: Request):
        require(request, "analyst")
        from ..review import item, pending_ids, progress
        store = get_store()
        qf = queue_filter(request.query_params)
        i = _int(dict(request.query_params), "i", required=False, hi=10**6) or 0
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

    @app.post("/review/decide")
    def review_decide(request: Request, form: dict = Depends(form_data)):
        sess, user = require(request, "analyst", form)
        from ..review import decide
        back = _safe_next(form.get("next") or "/review")
        if form.get("bulk"):
            ids = [int(k[1:]) for k, v in form.items() if k[:1] == "f" and k[1:].isdigit() and v]
            if not ids:
                raise WebError(422, "Tick the findings to decide first.")
        else:
            ids = [_int(form, "finding_id", lo=1, hi=2**62)]
        try:
            results = decide(get_store(), ids, form.get("decision", ""), actor=user["name"], note=form.get("note", ""))
        except actions.NotFound as exc:
            raise WebError(404, str(exc)) from None
        except actions.ActionError as exc:
            raise WebError(422, str(exc)) from None
        word = results[0]["after"] if results else form.get("decision")
        return done(request, back, f"{len(results)} finding(s) {word}." if len(results) > 1
                    else f"Finding {ids[0]}: {results[0]['before']} → {results[0]['after']}.")

    @app.post("/finding/{fid}/review")
    def review(request: Request, fid: int = ID(), form: dict = Depends(form_data)):
        sess, user = require(request, "analyst", form)
        decision = form.get("decision", "")
        try:
            r = actions.review_finding(get_store(), fid, decision, actor=user["name"], note=form.get("note", ""))
        except actions.NotFound as exc:
            raise WebError(404, str(exc)) from None
        except actions.ActionError as exc:
            raise WebError(422, str(exc)) from None
        return done(request, _back(r["utterance_id"]), f"Finding {fid}: {r['before']} → {r['after']}.")

    @app.post("/utterance/{uid}/finding")
    def add_finding(request: Request, uid: int = ID(), form: dict = Depends(form_data)):
        sess, user = require(request, "analyst", form)
        start = _int(form, "span_start", required=False)
        end = _int(form, "span_end", required=False)
        try:
            fid = actions.add_finding(get_store(), uid, actor=user["name"], code=form.get("code", ""),
                                      stance=form.get("stance", ""), span_start=start, span_end=end,
                                      evidence=form.get("evidence", ""), note=form.get("note", ""))
        except actions.NotFound as exc:
            raise WebError(404, str(exc)) from None
        except actions.ActionError as exc:
            raise WebError(422, str(exc)) from None
        return done(request, _back(uid), f"Finding {fid} added.")

    @app.post("/utterance/{uid}/transcript")
    def correct(request: Request, uid: int = ID(), form: dict = Depends(form_data)):
        sess, user = require(request, "analyst", form)
        base = _int(form, "base_version", required=False, lo=1)
        try:
            version = actions.correct_transcript(get_store(), uid, form.get("text", ""), actor=user["name"],
                                                 reason=form.get("reason", ""), base_version=base)
        except actions.NotFound as exc:
            raise WebError(404, str(exc)) from None
        except actions.ActionError as exc:
            raise WebError(422, str(exc)) from None
        return done(request, _back(uid), f"Transcript saved as version {version}.")

    @app.post("/utterance/{uid}/gloss")
    def correct_gloss(request: Request, uid: int = ID(), form: dict = Depends(form_data)):
        sess, user = require(request, "analyst", form)
        base = _int(form, "base_gloss", required=False, lo=1)
        try:
            gid = actions.correct_gloss(get_store(), uid, form.get("text", ""), actor=user["name"],
                                        reason=form.get("reason", ""), base_gloss_id=base)
        except actions.NotFound as exc:
            raise WebError(404, str(exc)) from None
        except actions.ActionError as exc:
            raise WebError(422, str(exc)) from None
        return done(request, _back(uid), f"English saved as analyst translation (gloss {gid}).")

    @app.post("/utterance/{uid}/annotate")
    def annotate(request: Request, uid: int = ID(), form: dict = Depends(form_data)):
        sess, user = require(request, "analyst", form)
        try:
            actions.annotate(get_store(), uid, form.get("kind", ""), form.get("value", ""), actor=user["name"])
        except actions.NotFound as exc:
            raise WebError(404, str(exc)) from None
        except actions.ActionError as exc:
            raise WebError(422, str(exc)) from None
        return done(request, _back(uid), f"{form.get('kind', '').capitalize()} added.")

    # ------------------------------------------------------------------ audio
    def _pad(raw: str | None) -> float:
        if raw in (None, ""):
            return 0.0
        try:
            value = float(raw)
        except ValueError:
            raise WebError(422, "pad: not a number of seconds") from None
        if math.isnan(value) or not 0 <= value <= 60:
            raise WebError(422, "pad: between 0 and 60 seconds")
        return round(value * 2) / 2          # half-second steps: a bounded set of cached clips

    @app.get("/audio/utterance/{uid}")
    def audio_clip(request: Request, uid: int = ID()):
        require(request, "viewer")
        from ..outputs.clips import ClipError, clip_for
        pad = _pad(request.query_params.get("pad"))
        try:
            with app.state.clip_lock:          # two requests for a new clip must not cut it twice at once
                path = clip_for(get_store(), uid, pad_s=pad)
        except ClipError as exc:
            raise WebError(404, str(exc)) from None
        return FileResponse(path, media_type="audio/ogg", headers={"Cache-Control": "private, max-age=3600"})

    @app.get("/audio/source/{sid}")
    def audio_source(request: Request, sid: int = ID()):
        require(request, "viewer")
        store = get_store()
        src = store.conn.execute("SELECT sha256, media_type, reader FROM sources WHERE id = ?", (sid,)).fetchone()
        if src is None or src["reader"] != "audio":
            raise WebError(404, f"Source {sid}: no such audio source.")
        path = store.evidence.path_for(src["sha256"])
        if not path.is_file():
            raise WebError(404, f"Source {sid}: the evidence file is missing (run overheard verify).")
        return FileResponse(path, media_type=src["media_type"] or "application/octet-stream",
                            headers={"Cache-Control": "private, max-age=3600"})

    # ------------------------------------------------------------------ sources
    @app.get("/sources")
    def sources_page(request: Request):
        require(request, "viewer")
        before = _int(dict(request.query_params), "before", required=False, lo=1, hi=2**62)
        rows = get_store().conn.execute(
            "SELECT s.id, s.sha256, s.original_name, s.title, s.kind, s.reader, s.captured_at, s.frequency_hz,"
            " s.channel, s.contributor, s.duration_s, s.ingested_at,"
            " (SELECT count(*) FROM utterances u WHERE u.source_id = s.id) AS n"
            " FROM sources s WHERE s.id < ? ORDER BY s.id DESC LIMIT 51", (before or 2**62,)).fetchall()
        return page(request, "sources.html", {"rows": rows[:50],
                                              "next_before": rows[49]["id"] if len(rows) > 50 else None})

    @app.get("/source/{sid}")
    def source_page(request: Request, sid: int = ID()):
        require(request, "viewer")
        conn = get_store().conn
        src = conn.execute("SELECT * FROM sources WHERE id = ?", (sid,)).fetchone()
        if src is None:
            raise WebError(404, f"Source {sid}: no such source.")
        after = _int(dict(request.query_params), "after", required=False, hi=2**62) or 0
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

    @app.post("/admin/source/{sid}/{action}")
    def source_retraction(request: Request, sid: int = ID(), action: str = "", form: dict = Depends(form_data)):
        sess, user = require(request, "admin", form)
        from ..store import StoreError
        from ..store import retract as retraction
        if action not in ("retract", "restore"):
            raise WebError(404, f"{action}: not an action on a source")
        try:
            changed = getattr(retraction, action)(get_store(), str(sid), reason=form.get("reason") or "",
                                                  actor=f"web:{user['name']}")
        except StoreError as exc:
            raise WebError(422, str(exc)) from None
        word = "retracted" if action == "retract" else "restored"
        return done(request, f"/source/{sid}", f"Source {', '.join(map(str, changed))} {word}.")

    # ------------------------------------------------------------------ dashboard
    @app.get("/dashboard")
    def dashboard(request: Request):
        require(request, "viewer")
        from .charts import trend_svg
        qp = request.query_params
        by = qp.get("by") or "day"
        group = qp.get("group") or "channel"
        if by not in ("day", "week", "month"):
            raise WebError(422, "by: expected day, week or month")
        if group not in ("channel", "kind", "source", "all"):
            raise WebError(422, "group: expected channel, kind, source or all")
        position = qp.get("position") or "all"
        if position not in POSITION_CHOICES:
            raise WebError(422, f"position: expected one of {', '.join(POSITION_CHOICES)}")
        version = qp.get("detector") or detector()
        charts = []
        if version:
            cells = morale_summary(get_store(), version, by=by, group=group, positions=POSITION_CHOICES[position])
            groups = sorted({c.group for c in cells})[:8]
            for code in SUMMARY_CODES:
                series = {}
                for g in groups:
                    pts = []
                    for c in cells:
                        if c.group != g or c.bucket == "undated":
                            continue
                        r = c.rates[code]
                        lo, hi = r.ci95
                        pts.append({"bucket": c.bucket, "k": r.count, "n": r.n, "per100": r.per100,
                                    "lo": lo, "hi": hi})
                    if pts:
                        series[g] = pts
                total = sum(p["k"] for ps in series.values() for p in ps)
                if total:
                    charts.append({"code": code, "k": total, "svg": trend_svg(
                        code, series, by, link_params=lambda g: _group_filter(group, g, version))})
        from .charts import PALETTE
        legend = [(g, PALETTE[i % len(PALETTE)]) for i, g in enumerate(groups)] if version else []
        from ..report.summary import exclusions
        left_out = exclusions(get_store(), version) if version else {}
        return page(request, "dashboard.html", {"charts": charts, "by": by, "group": group, "position": position,
                                                "left_out": left_out,
                                                "detector": version, "legend": legend})

    # ------------------------------------------------------------------ audit (admin)
    @app.get("/audit")
    def audit_page(request: Request):
        require(request, "admin")
        from ..store.verify import verify_store
        store = get_store()
        before = _int(dict(request.query_params), "before", required=False, lo=1, hi=2**62)
        rows = store.conn.execute("SELECT * FROM audit_log WHERE id < ? ORDER BY id DESC LIMIT 101",
                                  (before or 2**62,)).fetchall()
        entries = []
        for r in rows[:100]:
            try:
                details = json.dumps(json.loads(r["details"]), ensure_ascii=False, indent=1)
            except ValueError:
                details = r["details"]
            entries.append({**dict(r), "pretty": details})
        report = verify_store(store)
        return page(request, "audit.html", {"entries": entries, "report": report,
                                            "next_before": rows[99]["id"] if len(rows) > 100 else None})

    # ------------------------------------------------------------------ users (admin)
    @app.get("/admin/users")
    def users_page(request: Request):
        require(request, "admin")
        return page(request, "users.html", {"users": auth.list_users(get_store().conn), "roles": auth.ROLES})

    @app.post("/admin/users")
    def users_add(request: Request, form: dict = Depends(form_data)):
        sess, user = require(request, "admin", form)
        try:
            auth.add_user(get_store(), (form.get("name") or "").strip(), form.get("role", ""),
                          form.get("password") or "", actor=f"web:{user['name']}")
        except auth.AccountError as exc:
            raise WebError(422, str(exc)) from None
        return done(request, "/admin/users", f"User {form.get('name')} added.")

    @app.post("/admin/users/{user_id}")
    def users_update(request: Request, user_id: int = ID(), form: dict = Depends(form_data)):
        sess, user = require(request, "admin", form)
        role = form.get("role") or None
        disabled = {"1": True, "0": False}.get(form.get("disabled", ""), None)
        try:
            r = auth.update_user(get_store(), user_id, actor=f"web:{user['name']}", role=role, disabled=disabled)
        except LookupError as exc:
            raise WebError(404, str(exc)) from None
        except auth.AccountError as exc:
            raise WebError(422, str(exc)) from None
        if r["after"]["disabled"]:
            app.state.sessions.drop_user(user_id, "This account has been disabled by an administrator;"
                                                  " ask them to enable it.")
        return done(request, "/admin/users", f"User {user_id}: {r['before']} → {r['after']}.")


def _group_filter(group: str, g: str, version: str) -> dict:
    params = {"detector": version, "order": "newest"}
    if group == "channel":
        params["channel"] = g
    elif group == "kind":
        params["kind"] = g
    elif group == "source":
        params["source"] = g.rsplit("#", 1)[-1]
    return params


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
