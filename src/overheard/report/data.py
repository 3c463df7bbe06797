"""Everything a morale report shows, gathered from the store in a handful of SQL queries
(so a report over a million utterances takes seconds, not minutes)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from importlib import resources

from .. import __version__
from ..store import Store, utc_now
from .summary import CODES, LOW_MORALE, POSITIONS, Cell, exclusions, morale_summary

EVIDENCE_PER_CODE = 5


@dataclass
class ReportOptions:
    since: str | None = None
    until: str | None = None
    by: str = "week"
    source_ids: list[int] = field(default_factory=list)
    channels: list[str] = field(default_factory=list)
    reviewed_only: bool = False
    detector_version: str | None = None


@dataclass
class Evidence:
    finding_id: int
    utterance_id: int
    code: str
    stance: str
    score: float
    method: str
    status: str                # confirmed | rejected | machine
    text: str
    span: tuple[int, int]
    lang: str
    gloss: str | None
    gloss_label: str | None
    source_id: int
    source_sha256: str
    source_name: str
    kind: str
    captured_at: str | None
    time_basis: str | None
    start_s: float | None
    end_s: float | None
    line_no: int | None
    channel: str | None
    speaker_role: str | None
    gloss_flags: list[str] = field(default_factory=list)     # meaning checks that failed
    gloss_terms: list[dict] = field(default_factory=list)    # glossary terms in the line
    gloss_stale: bool = False                                 # made before the transcript was corrected
    gloss_by_analyst: bool = False


@dataclass
class ReportData:
    options: ReportOptions
    generated_at: str
    tool_version: str
    detector_version: str | None
    corpus: dict
    by_channel: list[Cell]
    by_source: list[Cell]
    overall: list[Cell]
    evidence: dict[str, list[Evidence]]
    lineage: dict
    evaluation: dict | None
    empty: bool
    by_position: dict[str, dict[str, int]] = field(default_factory=dict)  # position → code → utterances
    left_out: dict[str, int] = field(default_factory=dict)                # what every n leaves out


def _filters(opts: ReportOptions) -> tuple[str, list]:
    from ..store.retract import NOT_RETRACTED
    where, params = [NOT_RETRACTED], []
    if opts.since:
        from ..index.search import since_bound
        where.append("u.captured_at >= ?"); params.append(since_bound(opts.since))
    if opts.until:
        where.append("u.captured_at <= ?"); params.append(opts.until)
    if opts.source_ids:
        where.append(f"u.source_id IN ({','.join('?' * len(opts.source_ids))})"); params += opts.source_ids
    if opts.channels:
        where.append(f"coalesce(u.channel, s.channel) IN ({','.join('?' * len(opts.channels))})")
        params += opts.channels
    return " AND ".join(where), params


def corpus_stats(store: Store, opts: ReportOptions) -> dict:
    where, params = _filters(opts)
    base = f"FROM utterances u JOIN sources s ON s.id = u.source_id WHERE {where}"
    row = store.conn.execute(
        f"SELECT count(*), count(DISTINCT u.source_id), min(u.captured_at), max(u.captured_at),"
        f" sum(u.start_s IS NOT NULL), sum(u.kind = 'message'), sum(u.is_boilerplate)"
        f" {base}", params).fetchone()
    langs = dict(store.conn.execute(f"SELECT u.lang, count(*) {base} GROUP BY u.lang ORDER BY 2 DESC",
                                    params).fetchall())
    kinds = dict(store.conn.execute(f"SELECT u.kind, count(*) {base} GROUP BY u.kind ORDER BY 2 DESC",
                                    params).fetchall())
    audio_s = store.conn.execute(
        f"SELECT coalesce(sum(s.duration_s), 0) FROM sources s WHERE s.reader IN ('audio', 'sdr-capture') AND s.id IN"
        f" (SELECT DISTINCT u.source_id {base})", params).fetchone()[0]
    speech_s = store.conn.execute(
        f"SELECT coalesce(sum(u.end_s - u.start_s), 0) {base} AND u.start_s IS NOT NULL", params).fetchone()[0]
    sources = [dict(r) for r in store.conn.execute(
        "SELECT s.id, s.sha256, s.original_name, s.kind, s.reader, s.title, s.url, s.captured_at,"
        " s.published_at, s.frequency_hz, s.channel, s.contributor, s.duration_s,"
        f" (SELECT count(*) FROM utterances u WHERE u.source_id = s.id) AS utterances"
        f" FROM sources s WHERE s.id IN (SELECT DISTINCT u.source_id {base}) ORDER BY s.id", params)]
    return {"utterances": row[0], "sources": row[1], "period": [row[2], row[3]],
            "transmissions": row[4] or 0, "messages": row[5] or 0, "boilerplate": row[6] or 0,
            "languages": langs, "kinds": kinds, "audio_hours": audio_s / 3600, "speech_hours": speech_s / 3600,
            "source_list": sources, "media_messages": _media_messages(store, [s["id"] for s in sources]),
            "undated_sources": [dict(r) for r in store.conn.execute(
                f"SELECT s.id, s.original_name, count(*) AS n {base} AND u.captured_at IS NULL"
                " GROUP BY s.id ORDER BY s.id", params)],
            "retracted": [dict(r) for r in store.conn.execute(
                "SELECT t.source_id, s.original_name, s.sha256, t.reason, t.actor, t.at FROM retracted t"
                " JOIN sources s ON s.id = t.source_id ORDER BY t.source_id")]}


def _media_messages(store: Store, source_ids: list[int]) -> list[dict]:
    """Voice and video messages of messenger exports in the selection: the message they were
    attached to, and what was said in them (transcript and English gloss), in time order."""
    if not source_ids:
        return []
    out = []
    for r in store.conn.execute(
            "SELECT s.id, s.sha256, s.original_name, s.captured_at, s.meta FROM sources s"
            f" WHERE s.id IN ({','.join('?' * len(source_ids))})"
            " AND json_extract(s.meta, '$.parent.source_id') IS NOT NULL ORDER BY s.captured_at, s.id", source_ids):
        parent = json.loads(r["meta"])["parent"]
        lines = store.conn.execute(
            "SELECT u.text, (SELECT g.text FROM glosses g WHERE g.utterance_id = u.id ORDER BY g.id DESC LIMIT 1)"
            " FROM utterances u WHERE u.source_id = ? ORDER BY u.seq", (r["id"],)).fetchall()
        out.append({"id": r["id"], "sha256": r["sha256"], "name": r["original_name"], "at": r["captured_at"],
                    "export": parent.get("name"), "message": parent.get("message_id") or parent.get("line_no"),
                    "sender": parent.get("sender"), "chat": parent.get("chat"), "media": parent.get("media_type"),
                    "transcript": " ".join(t for t, _ in lines if t),
                    "gloss": " ".join(g for _, g in lines if g) or None})
    return out


def strongest_evidence(store: Store, opts: ReportOptions, version: str) -> dict[str, list[Evidence]]:
    """Per code: analyst-confirmed first, then machine-only by score; never rejected ones."""
    where, params = _filters(opts)
    status_filter = "= 'confirmed'" if opts.reviewed_only else "!= 'rejected'"
    sql = (
        "SELECT f.id, f.utterance_id, f.code, f.stance, f.score, f.method, fs.status, u.text,"
        " f.span_start, f.span_end, u.lang,"
        " (SELECT g.text FROM glosses g WHERE g.utterance_id = u.id ORDER BY g.id DESC LIMIT 1),"
        " (SELECT g.label FROM glosses g WHERE g.utterance_id = u.id ORDER BY g.id DESC LIMIT 1),"
        " s.id, s.sha256, s.original_name, u.kind, u.captured_at, u.time_basis, u.start_s, u.end_s,"
        " u.line_no, coalesce(u.channel, s.channel), u.speaker_role"
        " FROM findings f JOIN finding_status fs ON fs.finding_id = f.id"
        " JOIN utterances u ON u.id = f.utterance_id JOIN sources s ON s.id = u.source_id"
        f" WHERE {where} AND f.code = ? AND (f.detector_version = ? OR f.method LIKE 'analyst:%')"
        f" AND fs.status {status_filter}"
        " ORDER BY (fs.status = 'confirmed') DESC, f.score DESC, f.id LIMIT ?")
    out: dict[str, list[Evidence]] = {}
    for code in CODES:
        rows = store.conn.execute(sql, (*params, code, version, EVIDENCE_PER_CODE)).fetchall()
        out[code] = [Evidence(r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7], (r[8], r[9]), *tuple(r)[10:])
                     for r in rows]
    _gloss_details(store, [e for ev in out.values() for e in ev])
    return out


def _gloss_details(store: Store, evidence: list[Evidence]) -> None:
    """What a reader must know about each quote's gloss: who made it, what the checks flagged,
    which glossary terms it rests on, and whether the transcript changed since."""
    import hashlib
    ids = sorted({e.utterance_id for e in evidence})
    if not ids:
        return
    rows = {r["utterance_id"]: r for r in store.conn.execute(
        "SELECT g.utterance_id, g.flags, g.terms, g.method, g.source_sha256 FROM glosses g WHERE g.id IN"
        f" (SELECT max(id) FROM glosses WHERE utterance_id IN ({','.join('?' * len(ids))}) GROUP BY utterance_id)", ids)}
    for e in evidence:
        g = rows.get(e.utterance_id)
        if g is None:
            continue
        e.gloss_flags = json.loads(g["flags"] or "[]")
        e.gloss_terms = json.loads(g["terms"] or "[]")
        e.gloss_by_analyst = (g["method"] or "").startswith("analyst")
        e.gloss_stale = bool(g["source_sha256"]) and g["source_sha256"] != hashlib.sha256(e.text.encode()).hexdigest()


def lineage(store: Store, version: str | None) -> dict:
    models = []
    for (params,) in store.conn.execute("SELECT DISTINCT params FROM runs WHERE stage = 'process'"):
        m = json.loads(params).get("model", {})
        entry = {k: m.get(k) for k in ("model", "model_sha256", "faster_whisper", "ctranslate2", "compute_type")}
        if entry not in models:
            models.append(entry)
    readers = [dict(r) for r in store.conn.execute(
        "SELECT component, component_version, count(*) AS runs FROM runs WHERE stage = 'ingest'"
        " GROUP BY component, component_version ORDER BY component")]
    analyze_runs = store.conn.execute(
        "SELECT count(*), min(started_at), max(finished_at) FROM runs WHERE stage = 'analyze'"
        " AND component_version = ?", (version,)).fetchone() if version else (0, None, None)
    reviews = store.conn.execute("SELECT decision, count(*) FROM reviews GROUP BY decision").fetchall()
    head = store.conn.execute("SELECT id, hash FROM audit_log ORDER BY id DESC LIMIT 1").fetchone()
    translators = [{"version": r[0], "glosses": r[1]} for r in store.conn.execute(
        "SELECT coalesce(translator_version, method), count(*) FROM glosses GROUP BY 1 ORDER BY 2 DESC")]
    return {"asr_models": models, "translators": translators, "readers": readers, "detector_version": version,
            "analyze_runs": analyze_runs[0], "reviews": dict(reviews),
            "audit_head": {"row": head[0], "hash": head[1]} if head else None,
            "schema_version": store.schema_version}


def detector_evaluation() -> dict | None:
    """Measured figures shipped with the detector (written by tools/write_detector_evaluation.py), if present."""
    try:
        text = resources.files("overheard.analyse").joinpath("evaluation.json").read_text(encoding="utf-8")
    except (FileNotFoundError, ModuleNotFoundError, OSError):
        return None
    return json.loads(text)


def gather(store: Store, opts: ReportOptions) -> ReportData:
    from ..analyse.apply import latest_detector_version

    version = opts.detector_version or latest_detector_version(store)
    corpus = corpus_stats(store, opts)
    kw = dict(since=opts.since, until=opts.until, source_ids=opts.source_ids or None,
              channels=opts.channels or None, reviewed_only=opts.reviewed_only)
    if version:
        overall = morale_summary(store, version, by=opts.by, group="all", **kw)
        by_channel = morale_summary(store, version, by=opts.by, group="channel", **kw)
        by_source = morale_summary(store, version, by="all", group="source", **kw)
        evidence = strongest_evidence(store, opts, version)
        by_position = {}
        for position in POSITIONS:
            cells = morale_summary(store, version, by="all", group="all", positions=(position,), **kw)
            by_position[position] = {c: sum(cell.rates[c].count for cell in cells) for c in CODES}
        left_out = exclusions(store, version)
    else:
        overall, by_channel, by_source, evidence = [], [], [], {c: [] for c in CODES}
        by_position, left_out = {}, {}
    return ReportData(options=opts, generated_at=utc_now(), tool_version=__version__,
                      detector_version=version, corpus=corpus, by_channel=by_channel,
                      by_source=by_source, overall=overall, evidence=evidence,
                      lineage=lineage(store, version), evaluation=detector_evaluation(),
                      empty=corpus["utterances"] == 0, by_position=by_position, left_out=left_out)


__all__ = ["ReportOptions", "ReportData", "Evidence", "gather", "LOW_MORALE", "CODES"]
