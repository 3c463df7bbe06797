"""Read-side queries for the workbench: search with the page's filters, utterance detail,
source timeline, filter options.

Search reuses ``overheard.index.search`` (query parsing into the lemma/root FTS5 clauses,
highlight spans, snippets, bm25 weights) and adds the filters the page offers beyond the CLI's
(stance, review status, channel, frequency, detector version) plus bounded paging:

* ``order=rank``: bm25 relevance among the newest ``RANK_WINDOW`` matches, pages by offset
  inside that window only (the offset is bounded, so no page costs more than the first);
* ``order=newest``: newest first, keyset paging (``after`` = the last id shown), so page 5,000
  costs what page 1 costs.

Without query words it browses the utterances that pass the filters, newest first (keyset).
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

from ..index.search import (RANK_WINDOW, Filters, Hit, SearchError, count_matches, load_hits,
                            parse_query, search_ids)

KINDS = ("radio", "call", "interview", "message", "article")
REVIEW_STATUSES = ("machine", "confirmed", "rejected")
ORDERS = ("rank", "newest")
PAGE_SIZES = (20, 50, 100)
MARK = ("\ue000", "\ue001")          # private-use markers, replaced by <mark> after escaping


def _codes() -> tuple[str, ...]:
    from ..analyse.indicators import CODES
    return CODES


def _stances() -> tuple[str, ...]:
    from ..analyse.indicators import STANCES
    return STANCES


TOTAL_BOUND = 1000


class BadQuery(ValueError):
    """A filter value the page cannot use; the message names the field."""


@dataclass
class SearchParams:
    q: str = ""
    code: str = ""
    stance: str = ""
    status: str = ""
    kind: str = ""
    lang: str = ""
    channel: str = ""
    freq_mhz: float | None = None
    source_id: int | None = None
    since: str = ""
    until: str = ""
    detector: str = ""
    order: str = "rank"
    size: int = 20
    offset: int = 0
    after: int | None = None

    def has_filters(self) -> bool:
        return any([self.code, self.stance, self.status, self.kind, self.lang, self.channel,
                    self.freq_mhz is not None, self.source_id is not None, self.since, self.until,
                    self.detector])


@dataclass
class SearchResult:
    hits: list[Hit]
    more: bool                     # another page exists
    next_offset: int | None = None
    next_after: int | None = None
    window_capped: bool = False    # rank order: paging stops at the rank window
    elapsed_ms: float = 0.0
    total: int | None = None       # matches in all, exact up to TOTAL_BOUND (TOTAL_BOUND + 1: more)


def normalise_time(value: str, field_name: str, *, end: bool = False) -> str:
    """ISO 8601 date or date-time → the store's UTC 'YYYY-MM-DDTHH:MM:SSZ' form ('' stays '')."""
    value = (value or "").strip()
    if not value:
        return ""
    try:
        if len(value) == 10:
            day = datetime.strptime(value, "%Y-%m-%d")
            if end:
                return day.strftime("%Y-%m-%dT23:59:59Z")
            return day.strftime("%Y-%m-%dT00:00:00Z")
        dt = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise BadQuery(f"{field_name}: {value!r} is not a date (YYYY-MM-DD) or ISO 8601 time") from None
    if dt.tzinfo is not None:
        dt = (dt - dt.utcoffset()).replace(tzinfo=None)
    return dt.strftime("%Y-%m-%dT%H:%M:%SZ")


def _filters(p: SearchParams) -> Filters:
    return Filters(kind=p.kind or None, lang=p.lang or None, channel=p.channel or None,
                   frequency_hz=p.freq_mhz * 1e6 if p.freq_mhz is not None else None,
                   source_id=p.source_id, since=p.since or None, until=p.until or None,
                   code=p.code or None, stance=p.stance or None, status=p.status or None,
                   detector=p.detector or None)


def run_search(conn: sqlite3.Connection, p: SearchParams, *, detector_version: str | None) -> SearchResult:
    t0 = time.perf_counter()
    size = p.size
    parsed = None
    if p.q.strip():
        try:
            parsed = parse_query(p.q, p.lang or None)
        except SearchError as exc:
            raise BadQuery(str(exc)) from None
    order = p.order if parsed is not None else "newest"
    try:
        ids = search_ids(conn, parsed, _filters(p), order=order, limit=size + 1,
                         offset=p.offset if order == "rank" else 0,
                         before_id=p.after if order != "rank" else None)
    except SearchError as exc:
        raise BadQuery(f"query {p.q!r}: {exc}") from None
    more = len(ids) > size
    ids = ids[:size]
    hits = _load_hits(conn, ids, parsed, detector_version)
    result = SearchResult(hits, more)
    if parsed is not None:
        try:
            result.total = count_matches(conn, parsed, _filters(p), bound=TOTAL_BOUND)
        except SearchError as exc:
            raise BadQuery(f"query {p.q!r}: {exc}") from None
    if order == "rank":
        if more and p.offset + size < RANK_WINDOW:
            result.next_offset = p.offset + size
        elif p.offset + len(ids) >= RANK_WINDOW:      # the last page of a full window: more may lie beyond
            result.more, result.window_capped = False, True
    elif more and ids:
        result.next_after = ids[-1]
    result.elapsed_ms = (time.perf_counter() - t0) * 1000
    return result


def _load_hits(conn, ids: list[int], parsed, detector_version: str | None) -> list[Hit]:
    hits = load_hits(conn, ids, parsed, width=220, mark=MARK)
    badges: dict[int, list[dict]] = {}
    for f in findings_for(conn, [h.utterance_id for h in hits], detector_version):
        badges.setdefault(f["utterance_id"], []).append(f)
    for hit in hits:
        hit.badges = badges.get(hit.utterance_id, [])
    return hits


def findings_for(conn, utterance_ids: list[int], detector_version: str | None,
                 *, all_versions: bool = False) -> list[dict]:
    """Findings of these utterances with their review status: the given detector version's
    and every analyst-added one (all versions when ``all_versions``)."""
    if not utterance_ids:
        return []
    marks = ",".join("?" * len(utterance_ids))
    params: list = list(utterance_ids)
    version_clause = ""
    if not all_versions:
        version_clause = " AND (f.detector_version = ? OR f.method LIKE 'analyst:%')"
        params.append(detector_version or "")
    rows = conn.execute(
        "SELECT f.*, coalesce((SELECT r.decision FROM reviews r WHERE r.finding_id = f.id"
        " ORDER BY r.id DESC LIMIT 1), CASE WHEN f.method LIKE 'analyst:%' THEN 'confirmed'"
        " ELSE 'machine' END) AS status"
        f" FROM findings f WHERE f.utterance_id IN ({marks}){version_clause}"
        " ORDER BY f.utterance_id, f.span_start, f.id", params).fetchall()
    return [dict(r) for r in rows]


def _gloss_view(row, text: str) -> dict | None:
    """A gloss row with its checks, glossary terms and staleness ready for the page."""
    if row is None:
        return None
    import hashlib
    g = dict(row)
    g["flags"] = json.loads(g.get("flags") or "[]")
    g["terms"] = json.loads(g.get("terms") or "[]")
    g["by_analyst"] = (g["method"] or "").startswith("analyst")
    g["stale"] = bool(g.get("source_sha256")) and g["source_sha256"] != hashlib.sha256(text.encode()).hexdigest()
    return g


# --------------------------------------------------------------------------- filter options
class OptionCache:
    """Distinct languages and channels, for the filter form; refreshed at most every ``ttl_s``
    (a DISTINCT over a million utterances is too slow for every page view)."""

    def __init__(self, ttl_s: float = 300):
        self.ttl_s = ttl_s
        self._at = 0.0
        self._value: dict | None = None
        self._lock = threading.Lock()

    def get(self, conn) -> dict:
        with self._lock:
            if self._value is None or time.monotonic() - self._at > self.ttl_s:
                langs = [r[0] for r in conn.execute("SELECT DISTINCT lang FROM utterances ORDER BY lang")]
                channels = sorted({r[0] for r in conn.execute(
                    "SELECT DISTINCT channel FROM sources WHERE channel IS NOT NULL")}
                    | {r[0] for r in conn.execute(
                        "SELECT DISTINCT channel FROM utterances WHERE channel IS NOT NULL")})
                freqs = [r[0] for r in conn.execute(
                    "SELECT DISTINCT frequency_hz FROM sources WHERE frequency_hz IS NOT NULL ORDER BY 1")]
                self._value = {"langs": langs, "channels": channels, "freqs_mhz": [f / 1e6 for f in freqs]}
                self._at = time.monotonic()
            return self._value

    def invalidate(self) -> None:
        with self._lock:
            self._value = None


# --------------------------------------------------------------------------- detail
def utterance_detail(conn, utterance_id: int, detector_version: str | None) -> dict | None:
    u = conn.execute("SELECT * FROM utterances WHERE id = ?", (utterance_id,)).fetchone()
    if u is None:
        return None
    src = conn.execute("SELECT * FROM sources WHERE id = ?", (u["source_id"],)).fetchone()
    findings = findings_for(conn, [utterance_id], detector_version, all_versions=True)
    for f in findings:
        f["current"] = f["detector_version"] == detector_version or f["method"].startswith("analyst:")
        f["reviews"] = [dict(r) for r in conn.execute(
            "SELECT decision, actor, at, note FROM reviews WHERE finding_id = ? ORDER BY id", (f["id"],))]
    gloss_rows = conn.execute("SELECT * FROM glosses WHERE utterance_id = ? ORDER BY id DESC",
                              (utterance_id,)).fetchall()
    gloss = gloss_rows[0] if gloss_rows else None
    asr = conn.execute("SELECT * FROM asr WHERE utterance_id = ?", (utterance_id,)).fetchone()
    cues = conn.execute("SELECT * FROM voice_cues WHERE utterance_id = ?", (utterance_id,)).fetchone()
    prev = conn.execute("SELECT id, start_s, end_s FROM utterances WHERE source_id = ? AND seq < ?"
                        " ORDER BY seq DESC LIMIT 1", (u["source_id"], u["seq"])).fetchone()
    nxt = conn.execute("SELECT id, start_s, end_s FROM utterances WHERE source_id = ? AND seq > ?"
                       " ORDER BY seq LIMIT 1", (u["source_id"], u["seq"])).fetchone()
    versions = [dict(r) for r in conn.execute(
        "SELECT version, text, actor, at, reason FROM transcript_versions WHERE utterance_id = ?"
        " ORDER BY version DESC", (utterance_id,))]
    notes = [dict(r) for r in conn.execute(
        "SELECT id, kind, value, actor, at FROM annotations WHERE utterance_id = ? ORDER BY id",
        (utterance_id,))]
    run_ids = {u["run_id"], src["run_id"]} | {f["run_id"] for f in findings}
    for row in (gloss, asr, cues):
        if row is not None:
            run_ids.add(row["run_id"])
    clip_runs = [r[0] for r in conn.execute("SELECT run_id FROM clips WHERE utterance_id = ?", (utterance_id,))]
    run_ids |= set(clip_runs)
    analysis_runs = [r[0] for r in conn.execute("SELECT run_id FROM analyses WHERE utterance_id = ?",
                                                (utterance_id,))]
    run_ids |= set(analysis_runs)
    marks = ",".join("?" * len(run_ids))
    runs = [dict(r) for r in conn.execute(f"SELECT * FROM runs WHERE id IN ({marks}) ORDER BY id",
                                          sorted(run_ids))]
    produced = {u["run_id"]: ["utterance text (ingest)"] if u["start_s"] is None else ["transmission + transcript"]}
    produced.setdefault(src["run_id"], []).append("source record + evidence")
    for label, row in (("English gloss", gloss), ("ASR details", asr), ("voice cues", cues)):
        if row is not None:
            produced.setdefault(row["run_id"], []).append(label)
    for f in findings:
        produced.setdefault(f["run_id"], []).append(f"finding #{f['id']} ({f['code']})")
    for r in clip_runs:
        produced.setdefault(r, []).append("audio clip")
    for r in analysis_runs:
        produced.setdefault(r, []).append("analysis status")
    for r in runs:
        r["produced"] = sorted(set(produced.get(r["id"], [])))
    return {
        "u": dict(u), "src": dict(src), "findings": findings, "gloss": _gloss_view(gloss, u["text"]),
        "gloss_history": [_gloss_view(g, u["text"]) for g in gloss_rows[1:]],
        "asr": dict(asr) if asr else None, "cues": _cues(cues), "prev": dict(prev) if prev else None,
        "next": dict(nxt) if nxt else None, "versions": versions, "annotations": notes, "runs": runs,
        "meta": json.loads(u["meta"] or "{}"),
    }


CUE_LABELS = [
    ("f0_median_hz", "median pitch (F0)", "Hz"),
    ("f0_iqr_semitones", "pitch spread (IQR)", "semitones"),
    ("loudness_dbfs", "loudness", "dBFS"),
    ("loudness_range_db", "loudness range", "dB"),
    ("voiced_fraction", "voiced fraction", ""),
    ("syllables_per_s", "speaking rate", "syllables/s"),
    ("words_per_s", "word rate", "words/s"),
    ("duration_s", "duration", "s"),
]


def _cues(row) -> dict | None:
    if row is None:
        return None
    values = json.loads(row["cues"] or "{}")
    rel = json.loads(row["relative"] or "null") or {}
    items = []
    for key, label, unit in CUE_LABELS:
        if values.get(key) is not None:
            items.append({"key": key, "label": label, "unit": unit, "value": values[key], "z": rel.get(key)})
    return {"items": items, "baseline_n": rel.get("baseline_n")}


def highlight_segments(text: str, findings: list[dict]) -> tuple[list[dict], list[int]]:
    """Split ``text`` into segments for display, each with the findings covering it.
    Findings whose span no longer holds their evidence (the transcript was corrected since)
    are relocated by their evidence text when it occurs once, else left out; their ids are
    returned as the second value."""
    spans, stale = [], []
    for f in findings:
        s, e = f["span_start"], f["span_end"]
        if not (0 <= s < e <= len(text)) or text[s:e] != f["evidence"]:
            pos = text.find(f["evidence"]) if f["evidence"] else -1
            if pos < 0 or text.find(f["evidence"], pos + 1) >= 0:
                stale.append(f["id"])
                continue
            s, e = pos, pos + len(f["evidence"])
        spans.append((s, e, f))
    cuts = sorted({0, len(text)} | {s for s, _, _ in spans} | {e for _, e, _ in spans})
    segments = []
    for a, b in zip(cuts, cuts[1:]):
        covering = [f for s, e, f in spans if s <= a and b <= e]
        segments.append({"text": text[a:b], "findings": covering})
    return segments, stale


# --------------------------------------------------------------------------- dashboard links
def bucket_range(by: str, bucket: str) -> tuple[str, str] | None:
    """The since/until (inclusive, ISO) of a summary bucket label."""
    try:
        if by == "day":
            d = datetime.strptime(bucket, "%Y-%m-%d")
            return d.strftime("%Y-%m-%dT00:00:00Z"), d.strftime("%Y-%m-%dT23:59:59Z")
        if by == "month":
            d = datetime.strptime(bucket, "%Y-%m")
            nxt = (d.replace(day=28) + timedelta(days=4)).replace(day=1)
            return d.strftime("%Y-%m-%dT00:00:00Z"), (nxt - timedelta(seconds=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
        if by == "week":                     # labelled by the week's Monday (report.summary)
            d = datetime.strptime(bucket, "%Y-%m-%d")
            return d.strftime("%Y-%m-%dT00:00:00Z"), (d + timedelta(days=7, seconds=-1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    except ValueError:
        return None
    return None


def bucket_start(by: str, bucket: str) -> datetime | None:
    r = bucket_range(by, bucket)
    return datetime.strptime(r[0], "%Y-%m-%dT%H:%M:%SZ") if r else None
