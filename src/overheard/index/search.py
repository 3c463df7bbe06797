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
    """One matching utterance, as the CLI, the Python API and the workbench show it."""
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
    channel: str | None            # the utterance's channel, else its source's
    frequency_hz: float | None     # the source's frequency
    text: str
    snippet: str = ""
    highlights: list[tuple[int, int]] = field(default_factory=list)
    via: str = "text"              # "gloss": matched through the English gloss only
    gloss: str | None = None       # the current gloss (machine or analyst translation)
    badges: list[dict] = field(default_factory=list)   # findings shown beside it (the workbench fills them)

    def to_dict(self) -> dict:
        return asdict(self)


def _quote(term: str) -> str:
    return '"' + term.replace('"', '""') + '"'


@dataclass
class ParsedQuery:
    match: str
    words: list[tuple[str, set[str], set[str]]]   # (surface, lemmas, roots) of the wanted words
    phrases: list[str]
    gloss_match: str | None = None                # FTS5 query over gloss_fts (Latin-script queries)
    prefixes: list[str] = field(default_factory=list)


# "phrase"(*), word(*), -word, OR, NOT, AND (implicit between terms)
TOKEN_RE = re.compile(r'(-?)"([^"]*)"(\*?)|(\S+)')


def _tokens(query: str) -> list[tuple[str, str, bool, bool]]:
    """(kind, text, negated, prefix) with kind word|phrase|OR|NOT|AND."""
    if query.count('"') % 2:
        raise SearchError(f"query {query!r}: a quotation mark is not closed")
    out = []
    for m in TOKEN_RE.finditer(query):
        neg, phrase, star, bare = m.groups()
        if bare is None:
            out.append(("phrase", phrase, bool(neg), bool(star)))
        elif bare in ("OR", "NOT", "AND"):
            out.append((bare, bare, False, False))
        else:
            negated = bare.startswith("-") and len(bare) > 1
            body = bare[1:] if negated else bare
            out.append(("word", body.rstrip("*"), negated, body.endswith("*") and len(body) > 1))
    return out


def _term(kind: str, text: str, prefix: bool, lang: str | None, words: list, phrases: list, prefixes: list,
          wanted: bool) -> tuple[str | None, str | None]:
    """(FTS5 clause over utterances_fts, clause over gloss_fts) for one term; None when it has no words."""
    tokens = [m.group().lower() for m in WORD_RE.finditer(text)]
    if not tokens:
        return None, None
    star = " *" if prefix else ""
    if kind == "phrase" or len(tokens) > 1:
        if wanted:
            phrases.append(text)
        q = _quote(" ".join(tokens))
        return f"text : {q}{star}", f"{q}{star}"
    word = tokens[0]
    if prefix:
        if wanted:
            prefixes.append(word)
        return f"(text : {_quote(word)} * OR search_lemmas : {_quote(word)} *)", f"{_quote(word)} *"
    lemmas, roots = word_terms(word, lang or "")
    if wanted:
        words.append((word, set(lemmas), set(roots)))
    alts = [f"text : {_quote(word)}", "search_lemmas : (" + " OR ".join(_quote(x) for x in lemmas) + ")"]
    if roots:
        alts.append("search_roots : (" + " OR ".join(_quote(x) for x in roots) + ")")
    return "(" + " OR ".join(alts) + ")", _quote(word)


def parse_query(query: str, lang: str | None = None) -> ParsedQuery:
    """Words match any inflected form; "a phrase" matches literally; word* matches a prefix;
    terms are all required (AND); ``OR`` between terms gives alternatives (AND binds tighter);
    ``NOT term`` or ``-term`` excludes. A malformed query raises SearchError naming the problem."""
    words: list = []
    phrases: list = []
    prefixes: list = []
    groups: list[tuple[list, list]] = [([], [])]       # per OR-group: (wanted, excluded) clause pairs
    negate_next = False
    tokens = _tokens(query)
    for i, (kind, text, negated, prefix) in enumerate(tokens):
        if kind == "OR":
            if negate_next or not (groups[-1][0] or groups[-1][1]) or i == len(tokens) - 1:
                raise SearchError(f"query {query!r}: OR needs a term on each side")
            groups.append(([], []))
            continue
        if kind == "NOT":
            if negate_next or i == len(tokens) - 1:
                raise SearchError(f"query {query!r}: NOT needs a term after it")
            negate_next = True
            continue
        if kind == "AND":
            continue
        excluded = negated or negate_next
        negate_next = False
        clause, gloss = _term(kind, text, prefix, lang, words, phrases, prefixes, not excluded)
        if clause is None:
            continue
        groups[-1][1 if excluded else 0].append((clause, gloss))
    groups = [g for g in groups if g[0] or g[1]]
    if not groups:
        raise SearchError(f"query {query!r} has no words to search for")
    for wanted, excluded in groups:
        if not wanted:
            raise SearchError(f"query {query!r}: a part with only excluded words (NOT/-) matches nothing;"
                              " add a word to look for")

    def expression(pick: int) -> str:
        parts = []
        for wanted, excluded in groups:
            expr = " AND ".join(c[pick] for c in wanted)
            for c in excluded:
                expr = f"({expr}) NOT ({c[pick]})"
            parts.append(f"({expr})" if len(groups) > 1 else expr)
        return " OR ".join(parts)

    gloss_match = expression(1) if LATIN_ONLY.match(query) else None
    return ParsedQuery(expression(0), words, phrases, gloss_match, prefixes)


def gloss_spans(gloss: str, parsed: ParsedQuery) -> list[tuple[int, int]]:
    """Spans of the gloss's words that a Latin-script query matched (same stem)."""
    from .terms import lemmas_of
    wanted = {lemmas_of(w, "en")[0] for w, _, _ in parsed.words}
    spans = [m.span() for m in WORD_RE.finditer(gloss) if lemmas_of(m.group().lower(), "en")[0] in wanted]
    spans += [s for phrase in parsed.phrases for s in phrase_spans(gloss, phrase)]
    return sorted(set(spans))


def phrase_spans(text: str, phrase: str) -> list[tuple[int, int]]:
    """Where the phrase's words stand in ``text`` in order, whatever punctuation or spacing lies
    between them (the full-text index matched them that way: "мама мне" in "Мама, мне")."""
    words = [m.group() for m in WORD_RE.finditer(phrase)]
    if not words:
        return []
    pattern = r"(?<!\w)" + r"\W+".join(re.escape(w) for w in words) + r"(?!\w)"
    return [m.span() for m in re.finditer(pattern, text, re.IGNORECASE)]


def current_glosses(conn: sqlite3.Connection, ids: list[int]) -> dict[int, str]:
    if not ids:
        return {}
    return {r[0]: r[1] for r in conn.execute(
        "SELECT g.utterance_id, g.text FROM glosses g WHERE g.id IN (SELECT max(id) FROM glosses"
        f" WHERE utterance_id IN ({','.join('?' * len(ids))}) GROUP BY utterance_id)", ids)}


def highlight_spans(text: str, lang: str, parsed: ParsedQuery) -> list[tuple[int, int]]:
    """Character spans of the words in ``text`` that the query matched (any way)."""
    spans = [s for phrase in parsed.phrases for s in phrase_spans(text, phrase)]
    if parsed.prefixes:
        for match in WORD_RE.finditer(text):
            if match.group().lower().startswith(tuple(parsed.prefixes)):
                spans.append(match.span())
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


SCOPES = ("both", "text", "gloss")


def _scoped(parsed: ParsedQuery | None, scope: str) -> ParsedQuery | None:
    """The query as it applies to ``scope``: text only drops the gloss side; gloss only keeps it."""
    if scope not in SCOPES:
        raise SearchError(f"--in {scope!r}: expected one of {', '.join(SCOPES)}")
    if parsed is None or scope == "both":
        return parsed
    if scope == "text":
        return ParsedQuery(parsed.match, parsed.words, parsed.phrases, None, parsed.prefixes)
    gloss = parsed.gloss_match or _gloss_expression(parsed)
    return ParsedQuery("", parsed.words, parsed.phrases, gloss, parsed.prefixes)


def _gloss_expression(parsed: ParsedQuery) -> str:
    """A gloss query for a non-Latin query searched in the gloss only: its words, all required."""
    parts = [_quote(w) for w, _, _ in parsed.words] + [_quote(p) for p in parsed.phrases]
    return " AND ".join(parts) or '""'


def count_matches(conn: sqlite3.Connection, parsed: ParsedQuery, filters: Filters, *, scope: str = "both",
                  bound: int = 1000) -> int:
    """How many utterances match, counted exactly up to ``bound``; ``bound + 1`` means more."""
    parsed = _scoped(parsed, scope)
    where, params = filter_sql(conn, filters)
    sources = []
    if parsed.match:
        sources.append(("SELECT rowid AS id FROM utterances_fts WHERE utterances_fts MATCH ?", parsed.match))
    if parsed.gloss_match:
        sources.append(("SELECT rowid AS id FROM gloss_fts WHERE gloss_fts MATCH ?", parsed.gloss_match))
    union = " UNION ".join(sql for sql, _ in sources)
    sql = (f"SELECT count(*) FROM (SELECT m.id FROM ({union}) m JOIN utterances u ON u.id = m.id"
           f" JOIN sources s ON s.id = u.source_id WHERE {' AND '.join(where) or '1'} LIMIT ?)")
    try:
        return conn.execute(sql, (*[q for _, q in sources], *params, bound + 1)).fetchone()[0]
    except sqlite3.OperationalError as exc:
        raise SearchError(f"query: {exc}") from None


def search_ids(conn: sqlite3.Connection, parsed: ParsedQuery | None, filters: Filters, *,
               order: str = "rank", limit: int = 20, offset: int = 0,
               before_id: int | None = None, scope: str = "both") -> list[int]:
    """Utterance ids, best first. Without a query: every utterance the filters allow, newest
    first. ``order``: ``rank`` — bm25 relevance among the newest ``RANK_WINDOW`` matches
    (ranking every match of a word said in a third of a million transmissions costs
    seconds, and the newest material is what an analyst reviews first); ``newest`` — most
    recently ingested first, with keyset paging by ``before_id``; ``time`` — by capture
    time, newest first (sorts every match)."""
    if order not in ORDERS:
        raise SearchError(f"unknown order {order!r} (rank, newest or time)")
    parsed = _scoped(parsed, scope)
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
    if not parsed.match:
        return []
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
    text_side = (f"SELECT rowid AS id, {RANK} AS score FROM utterances_fts WHERE utterances_fts MATCH ? UNION ALL "
                 if parsed.match else "")
    sql = ("SELECT c.id FROM (SELECT m.id AS id, min(m.score) AS score, u.captured_at AS at FROM ("
           f"{text_side}SELECT rowid AS id, 0.5 * bm25(gloss_fts) AS score FROM gloss_fts WHERE gloss_fts MATCH ?"
           # alone, the gloss side would be flattened into the grouped query, where bm25() cannot run
           f"{'' if text_side else ' LIMIT -1'}) m JOIN utterances u ON u.id = m.id JOIN sources s ON s.id = u.source_id"
           f" WHERE {' AND '.join(where) or '1'} GROUP BY m.id ORDER BY {inner_order} LIMIT {int(window)})"
           f" c ORDER BY {outer_order} LIMIT ? OFFSET ?")
    first = (parsed.match,) if parsed.match else ()
    return _ids(conn, sql, (*first, parsed.gloss_match, *params, limit, offset))


def search(conn: sqlite3.Connection, query: str, filters: Filters | None = None, *,
           limit: int = 20, offset: int = 0, order: str = "rank",
           include_boilerplate: bool = False, scope: str = "both") -> list[Hit]:
    """Search utterances; returns at most ``limit`` hits (see ``search_ids`` for ``order``).
    ``scope``: both (the text, and the English gloss for a Latin-script query), text, gloss."""
    filters = filters or Filters()
    if include_boilerplate:
        filters.include_boilerplate = True
    parsed = parse_query(query, filters.lang)
    ids = search_ids(conn, parsed, filters, order=order, limit=limit, offset=offset, scope=scope)
    if not ids:
        return []
    return load_hits(conn, ids, parsed, scope=scope)


def load_hits(conn: sqlite3.Connection, ids: list[int], parsed: ParsedQuery | None, *, scope: str = "both",
              width: int = 160, mark: tuple[str, str] = ("**", "**")) -> list[Hit]:
    """The hits of these utterance ids, in their order, with snippets around the matched words
    (or around the English gloss's, when only the gloss matched)."""
    if not ids:
        return []
    rows = {r[0]: r for r in conn.execute(
        "SELECT u.id, u.source_id, s.sha256, s.original_name, u.kind, u.lang, u.seq, u.captured_at,"
        " u.start_s, u.end_s, coalesce(u.channel, s.channel), s.frequency_hz, u.text"
        f" FROM utterances u JOIN sources s ON s.id = u.source_id WHERE u.id IN ({','.join('?' * len(ids))})",
        ids)}
    glosses = current_glosses(conn, ids)
    scoped = _scoped(parsed, scope) if parsed else None
    hits = []
    for uid in ids:
        row = rows.get(uid)
        if row is None:           # deleted between the id query and this one
            continue
        spans = highlight_spans(row[12], row[5], parsed) if parsed else []
        hit = Hit(*tuple(row), snippet=make_snippet(row[12], spans, width=width, mark=mark), highlights=spans,
                  gloss=glosses.get(uid))
        if hit.gloss and scoped and scoped.gloss_match and (not spans or scope == "gloss"):
            hit.via = "gloss"
            hit.snippet = make_snippet(hit.gloss, gloss_spans(hit.gloss, parsed), width=width, mark=mark)
        hits.append(hit)
    return hits
