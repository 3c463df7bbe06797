"""Full-text search over utterances (SQLite FTS5), aware of Russian/Ukrainian word forms.

Each query word matches when any of these hold: the same surface token in the text,
a shared dictionary lemma, or a shared word-family root. Surface matches rank above
lemma matches, which rank above root matches (bm25 column weights). "Quoted phrases"
match the text literally.

A query in Latin script also searches the English gloss of each utterance (its current
machine or analyst translation, Porter-stemmed): ``water`` finds "нет воды" through the
gloss "no water", and the hit says it was found that way (``via="gloss"``).
"""

from __future__ import annotations

import re
import sqlite3
from dataclasses import asdict, dataclass, field

from ..store.retract import NOT_RETRACTED
from .terms import WORD_RE, word_terms

PHRASE_RE = re.compile(r'"([^"]+)"|(\S+)')
# bm25 weights for (text, search_lemmas, search_roots)
RANK = "bm25(utterances_fts, 10.0, 4.0, 1.0)"  # FTS5 table aliased as f below


LATIN_ONLY = re.compile(r"^[^\u0400-\u04FF]*$")


class SearchError(ValueError):
    pass


@dataclass
class Filters:
    """What a search may be narrowed to. Finding filters (code, stance, status, detector)
    combine on the same finding: "a confirmed fear finding", not "some fear, some confirmed"."""
    kind: str | None = None
    source_id: int | None = None
    lang: str | None = None
    since: str | None = None
    until: str | None = None
    channel: str | None = None
    frequency_hz: float | None = None   # matches sources within ±500 Hz
    code: str | None = None             # has a finding with this indicator code…
    stance: str | None = None           # …and this stance
    status: str | None = None           # …and this review status (confirmed|rejected|machine)
    detector: str | None = None         # …by this detector version
    include_boilerplate: bool = False


def since_bound(stamp: str) -> str:
    """A lower time bound that compares right against stored times of either precision:
    '…T14:00:00Z' sorts after '…T14:00:00.060Z' as text, '…T14:00:00' sorts before both."""
    return stamp[:-1] if stamp.endswith("Z") else stamp


def filter_sql(conn: sqlite3.Connection, f: Filters) -> tuple[list[str], list]:
    """WHERE clauses over ``u`` (utterances) and ``s`` (sources) for these filters."""
    where, params = [NOT_RETRACTED], []      # a retracted source is out of every search
    if not f.include_boilerplate:
        where.append("u.is_boilerplate = 0")
    if f.kind:
        where.append("u.kind = ?"); params.append(f.kind)
    if f.lang:
        where.append("u.lang = ?"); params.append(f.lang)
    if f.channel:
        where.append("coalesce(u.channel, s.channel, '(no channel)') = ?"); params.append(f.channel)
    if f.frequency_hz is not None:
        where.append("s.frequency_hz BETWEEN ? AND ?"); params += [f.frequency_hz - 500, f.frequency_hz + 500]
    if f.source_id is not None:
        # a source's utterances are inserted together, so their ids form one range
        # that FTS5 can seek to instead of filtering every match
        lo, hi = conn.execute("SELECT min(id), max(id) FROM utterances WHERE source_id = ?",
                              (f.source_id,)).fetchone()
        where.append("u.id BETWEEN ? AND ?"); params += [lo or 0, hi or -1]
        where.append("u.source_id = ?"); params.append(f.source_id)
    if f.since:
        where.append("u.captured_at >= ?"); params.append(since_bound(f.since))
    if f.until:
        where.append("u.captured_at <= ?"); params.append(f.until)
    if f.code or f.stance or f.status or f.detector:
        cond = ["x.utterance_id = u.id"]
        for column, value in (("x.code", f.code), ("x.stance", f.stance), ("x.detector_version", f.detector)):
            if value:
                cond.append(f"{column} = ?"); params.append(value)
        if f.status:
            cond.append("x.id IN (SELECT finding_id FROM finding_status WHERE status = ?)"); params.append(f.status)
        where.append(f"EXISTS (SELECT 1 FROM findings x WHERE {' AND '.join(cond)})")
    return where, params


@dataclass
class Hit:
    utterance_id: int
    source_id: int
    source_sha256: str
    source_name: str
    kind: str
    lang: str
    seq: int
    captured_at: str | None
    start_s: float | None
    end_s: float | None
    text: str
    snippet: str
    highlights: list[tuple[int, int]] = field(default_factory=list)
    via: str = "text"              # "gloss": matched through the English gloss only
    gloss: str | None = None       # the current gloss (machine or analyst translation)

    def to_dict(self) -> dict:
        return asdict(self)


def _quote(term: str) -> str:
    return '"' + term.replace('"', '""') + '"'


@dataclass
class ParsedQuery:
    match: str
    words: list[tuple[str, set[str], set[str]]]   # (surface, lemmas, roots)
    phrases: list[str]
    gloss_match: str | None = None                # FTS5 query over gloss_fts (Latin-script queries)


def parse_query(query: str, lang: str | None = None) -> ParsedQuery:
    clauses, words, phrases = [], [], []
    for phrase, bare in PHRASE_RE.findall(query):
        if phrase:
            tokens = [m.group().lower() for m in WORD_RE.finditer(phrase)]
            if tokens:
                phrases.append(phrase)
                clauses.append("text : " + _quote(" ".join(tokens)))
            continue
        for match in WORD_RE.finditer(bare):
            word = match.group().lower()
            lemmas, roots = word_terms(word, lang or "")
            words.append((word, set(lemmas), set(roots)))
            alts = [f"text : {_quote(word)}",
                    "search_lemmas : (" + " OR ".join(_quote(x) for x in lemmas) + ")"]
            if roots:
                alts.append("search_roots : (" + " OR ".join(_quote(x) for x in roots) + ")")
            clauses.append("(" + " OR ".join(alts) + ")")
    if not clauses:
        raise SearchError(f"query {query!r} has no words to search for")
    gloss_match = None
    if LATIN_ONLY.match(query):
        parts = [_quote(" ".join(m.group().lower() for m in WORD_RE.finditer(p))) for p in phrases]
        parts += [_quote(w) for w, _, _ in words]
        gloss_match = " AND ".join(x for x in parts if x != '""') or None
    return ParsedQuery(" AND ".join(clauses), words, phrases, gloss_match)


def gloss_spans(gloss: str, parsed: ParsedQuery) -> list[tuple[int, int]]:
    """Spans of the gloss's words that a Latin-script query matched (same stem)."""
    from .terms import lemmas_of
    wanted = {lemmas_of(w, "en")[0] for w, _, _ in parsed.words}
    spans = [m.span() for m in WORD_RE.finditer(gloss) if lemmas_of(m.group().lower(), "en")[0] in wanted]
    lowered = gloss.lower()
    for phrase in parsed.phrases:
        start = lowered.find(phrase.lower())
        if start >= 0:
            spans.append((start, start + len(phrase)))
    return sorted(set(spans))


def current_glosses(conn: sqlite3.Connection, ids: list[int]) -> dict[int, str]:
    if not ids:
        return {}
    return {r[0]: r[1] for r in conn.execute(
        "SELECT g.utterance_id, g.text FROM glosses g WHERE g.id IN (SELECT max(id) FROM glosses"
        f" WHERE utterance_id IN ({','.join('?' * len(ids))}) GROUP BY utterance_id)", ids)}


def highlight_spans(text: str, lang: str, parsed: ParsedQuery) -> list[tuple[int, int]]:
    """Character spans of the words in ``text`` that the query matched (any way)."""
    spans: list[tuple[int, int]] = []
    lowered = text.lower()
    for phrase in parsed.phrases:
        start = lowered.find(phrase.lower())
        if start >= 0:
            spans.append((start, start + len(phrase)))
    if parsed.words:
        for match in WORD_RE.finditer(text):
            word = match.group().lower()
            lemmas, roots = word_terms(word, lang)
            for surface, q_lemmas, q_roots in parsed.words:
                if word == surface or q_lemmas & set(lemmas) or q_roots & set(roots):
                    spans.append(match.span())
                    break
    return sorted(set(spans))


def make_snippet(text: str, spans: list[tuple[int, int]], *, width: int = 160,
                 mark: tuple[str, str] = ("**", "**")) -> str:
    """A window of ``text`` around the first highlight, with highlights marked."""
    if len(text) <= width or not spans:
        lo, hi = 0, min(len(text), width)
    else:
        centre = spans[0][0]
        lo = max(0, centre - width // 3)
        hi = min(len(text), lo + width)
    out, pos = [], lo
    for start, end in spans:
        if start < lo or end > hi:
            continue
        out += [text[pos:start], mark[0], text[start:end], mark[1]]
        pos = end
    out.append(text[pos:hi])
    return ("…" if lo > 0 else "") + "".join(out) + ("…" if hi < len(text) else "")


RANK_WINDOW = 2000
ORDERS = ("rank", "newest", "time")


def search_ids(conn: sqlite3.Connection, parsed: ParsedQuery | None, filters: Filters, *,
               order: str = "rank", limit: int = 20, offset: int = 0,
               before_id: int | None = None) -> list[int]:
    """Utterance ids, best first. Without a query: every utterance the filters allow, newest
    first. ``order``: ``rank`` — bm25 relevance among the newest ``RANK_WINDOW`` matches
    (ranking every match of a word said in a third of a million transmissions costs
    seconds, and the newest material is what an analyst reviews first); ``newest`` — most
    recently ingested first, with keyset paging by ``before_id``; ``time`` — by capture
    time, newest first (sorts every match)."""
    if order not in ORDERS:
        raise SearchError(f"unknown order {order!r} (rank, newest or time)")
    where, params = filter_sql(conn, filters)
    if parsed is None:
        if before_id is not None:
            where.append("u.id < ?"); params.append(before_id)
        key = "u.captured_at DESC, u.id DESC" if order == "time" else "u.id DESC"
        sql = (f"SELECT u.id FROM utterances u JOIN sources s ON s.id = u.source_id"
               f" WHERE {' AND '.join(where) or '1'} ORDER BY {key} LIMIT ? OFFSET ?")
        return [r[0] for r in conn.execute(sql, (*params, limit, offset))]
    if parsed.gloss_match:
        return _search_with_gloss(conn, parsed, where, params, order, limit, offset, before_id)
    where.insert(0, "utterances_fts MATCH ?"); params.insert(0, parsed.match)
    if before_id is not None and order == "newest":
        where.append("f.rowid < ?"); params.append(before_id)
    inner_order, window, outer_order = _order_terms("f.rowid", order, limit, offset)
    sql = (f"SELECT c.id FROM (SELECT f.rowid AS id, {RANK} AS score, u.captured_at AS at"
           " FROM utterances_fts f JOIN utterances u ON u.id = f.rowid JOIN sources s ON s.id = u.source_id"
           f" WHERE {' AND '.join(where)} ORDER BY {inner_order} LIMIT {int(window)})"
           f" c ORDER BY {outer_order} LIMIT ? OFFSET ?")
    return _ids(conn, sql, (*params, limit, offset))


def _order_terms(id_col: str, order: str, limit: int, offset: int) -> tuple[str, int, str]:
    """(inner ORDER BY over the matches, how many matches to keep, outer ORDER BY) for an order."""
    return {
        "rank": (f"{id_col} DESC", RANK_WINDOW, "c.score, c.id DESC"),
        "newest": (f"{id_col} DESC", limit + offset, "c.id DESC"),
        "time": (f"u.captured_at DESC, {id_col} DESC", limit + offset, "c.at DESC, c.id DESC"),
    }[order]


def _ids(conn: sqlite3.Connection, sql: str, params: tuple) -> list[int]:
    try:
        return [r[0] for r in conn.execute(sql, params)]
    except sqlite3.OperationalError as exc:
        raise SearchError(f"query: {exc}") from None


def _search_with_gloss(conn, parsed: ParsedQuery, where: list[str], params: list, order: str, limit: int,
                       offset: int, before_id: int | None) -> list[int]:
    """Matches in the text or in the current English gloss, ranked together (a gloss match
    counts half: it rests on a machine translation)."""
    if before_id is not None and order == "newest":
        where.append("m.id < ?"); params.append(before_id)
    inner_order, window, outer_order = _order_terms("m.id", order, limit, offset)
    sql = ("SELECT c.id FROM (SELECT m.id AS id, min(m.score) AS score, u.captured_at AS at FROM ("
           f"SELECT rowid AS id, {RANK} AS score FROM utterances_fts"
           " WHERE utterances_fts MATCH ?"
           " UNION ALL SELECT rowid AS id, 0.5 * bm25(gloss_fts) AS score FROM gloss_fts WHERE gloss_fts MATCH ?"
           ") m JOIN utterances u ON u.id = m.id JOIN sources s ON s.id = u.source_id"
           f" WHERE {' AND '.join(where) or '1'} GROUP BY m.id ORDER BY {inner_order} LIMIT {int(window)})"
           f" c ORDER BY {outer_order} LIMIT ? OFFSET ?")
    return _ids(conn, sql, (parsed.match, parsed.gloss_match, *params, limit, offset))


def search(conn: sqlite3.Connection, query: str, filters: Filters | None = None, *,
           limit: int = 20, offset: int = 0, order: str = "rank",
           include_boilerplate: bool = False) -> list[Hit]:
    """Search utterances; returns at most ``limit`` hits (see ``search_ids`` for ``order``)."""
    filters = filters or Filters()
    if include_boilerplate:
        filters.include_boilerplate = True
    parsed = parse_query(query, filters.lang)
    ids = search_ids(conn, parsed, filters, order=order, limit=limit, offset=offset)
    if not ids:
        return []
    rows = {r[0]: r for r in conn.execute(
        "SELECT u.id, u.source_id, s.sha256, s.original_name, u.kind, u.lang, u.seq,"
        " u.captured_at, u.start_s, u.end_s, u.text FROM utterances u JOIN sources s ON s.id = u.source_id"
        f" WHERE u.id IN ({','.join('?' * len(ids))})", ids)}
    glosses = current_glosses(conn, ids)
    hits = []
    for uid in ids:
        row = rows[uid]
        spans = highlight_spans(row[10], row[5], parsed)
        hit = Hit(*tuple(row), snippet=make_snippet(row[10], spans), highlights=spans, gloss=glosses.get(uid))
        if not spans and hit.gloss and parsed.gloss_match:
            hit.via = "gloss"
            hit.snippet = make_snippet(hit.gloss, gloss_spans(hit.gloss, parsed))
        hits.append(hit)
    return hits
