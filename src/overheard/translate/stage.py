"""`overheard translate`: an English gloss for every line that needs one, with provenance.

What needs one: a Russian/Ukrainian utterance whose current gloss is missing, was made by
another translator version, or was made from text that has since been corrected (stale).
An analyst's own translation is never overwritten unless its text went stale.

Order, cheapest insight first: utterances with findings, then their neighbouring turns
(the context a reader of a finding needs), then — with ``scope="all"`` — everything else.
Each gloss is committed on its own with an audit row, so a killed run loses one line and
the next run carries on.
"""

from __future__ import annotations

import hashlib
import json
import statistics
from dataclasses import asdict, dataclass, field
from typing import Callable, Iterable

from ..store import Store, utc_now
from .engine import Gloss, Translator

SCOPES = ("findings", "context", "all")   # findings only; + neighbouring turns; everything
TRANSLATABLE = ("ru", "uk", "und")
DEFAULT_S_PER_LINE = 2.5     # local 1.5B model on 2 cores, measured (docs/translation.md)


def text_sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def gloss_label(method: str, identity: dict | None = None, actor: str | None = None) -> str:
    if method.startswith("analyst"):
        return f"analyst translation ({actor or method.split(':', 1)[-1]})"
    if method == "whisper-translate":
        return "machine translation (Whisper translate of the audio), not a human translation"
    model = (identity or {}).get("model") or "language model"
    return f"machine translation ({model}), not a human translation"


@dataclass
class TranslateReport:
    run_id: int | None
    translator_version: str
    candidates: int = 0
    translated: int = 0
    flagged: int = 0
    retried: int = 0
    seconds: float = 0.0
    stale: int = 0
    per_line_s: list[float] = field(default_factory=list, repr=False)

    def to_dict(self) -> dict:
        d = asdict(self)
        d.pop("per_line_s")
        d["median_s_per_line"] = round(statistics.median(self.per_line_s), 3) if self.per_line_s else None
        return d


def current_gloss(conn, utterance_id: int):
    return conn.execute("SELECT * FROM glosses WHERE utterance_id = ? ORDER BY id DESC LIMIT 1",
                        (utterance_id,)).fetchone()


def is_stale(gloss, text: str) -> bool:
    """The transcript changed after this gloss was made."""
    return gloss is not None and gloss["source_sha256"] is not None and gloss["source_sha256"] != text_sha256(text)


def _needs(row, version: str) -> tuple[bool, bool]:
    """(needs a new gloss, because its text went stale)"""
    if row["g_id"] is None:
        return True, False
    stale = row["g_sha"] is not None and row["g_sha"] != text_sha256(row["text"])
    if stale:
        return True, True
    if (row["g_method"] or "").startswith("analyst"):
        return False, False
    return row["g_version"] != version, False


def plan(store: Store, version: str, *, scope: str = "context", source_ids: list[int] | None = None,
         utterance_ids: Iterable[int] | None = None) -> tuple[list[int], int]:
    """Utterance ids to translate, in order (findings, their neighbours, the rest), and how many
    of them are stale."""
    if scope not in SCOPES:
        raise ValueError(f"scope {scope!r}: expected one of {', '.join(SCOPES)}")
    where = ["u.is_boilerplate = 0", "u.text != ''", f"u.lang IN ({','.join('?' * len(TRANSLATABLE))})"]
    params: list = list(TRANSLATABLE)
    if source_ids:
        where.append(f"u.source_id IN ({','.join('?' * len(source_ids))})"); params += list(source_ids)
    if utterance_ids is not None:
        ids = list(utterance_ids)
        if not ids:
            return [], 0
        where.append(f"u.id IN ({','.join('?' * len(ids))})"); params += ids
    rows = store.conn.execute(
        "SELECT u.id, u.source_id, u.seq, u.text, g.id AS g_id, g.translator_version AS g_version,"
        " g.source_sha256 AS g_sha, g.method AS g_method,"
        " EXISTS (SELECT 1 FROM findings f WHERE f.utterance_id = u.id) AS has_finding"
        " FROM utterances u LEFT JOIN glosses g ON g.id = (SELECT max(id) FROM glosses x WHERE x.utterance_id = u.id)"
        f" WHERE {' AND '.join(where)} AND u.source_id NOT IN (SELECT source_id FROM retracted)"
        " ORDER BY u.id", params).fetchall()
    by_pos = {(r["source_id"], r["seq"]): r for r in rows}
    finding_rows = [r for r in rows if r["has_finding"]]
    tiers: list[list] = [finding_rows]
    if scope in ("context", "all"):
        near = []
        for r in finding_rows:
            for d in (-1, 1, -2, 2):
                n = by_pos.get((r["source_id"], r["seq"] + d))
                if n is not None:
                    near.append(n)
        tiers.append(near)
    if scope == "all":
        tiers.append(rows)
    if utterance_ids is not None:       # asked for by id: all of them
        tiers.append(rows)
    order, seen, stale = [], set(), 0
    for tier in tiers:
        for r in tier:
            if r["id"] in seen:
                continue
            seen.add(r["id"])
            needs, was_stale = _needs(r, version)
            if needs:
                order.append(r["id"])
                stale += was_stale
    return order, stale


def typical_seconds(store: Store, version: str) -> float:
    """Seconds per line this translator took before in this store (median), else the default."""
    rows = [r[0] for r in store.conn.execute(
        "SELECT seconds FROM glosses WHERE translator_version = ? AND seconds IS NOT NULL ORDER BY id DESC LIMIT 200",
        (version,))]
    return statistics.median(rows) if rows else DEFAULT_S_PER_LINE


def store_gloss(store: Store, utterance_id: int, text: str, gloss: Gloss, *, method: str, label: str,
                run_id: int) -> int:
    """One gloss row, its search entry and its audit row, in one transaction."""
    with store.transaction() as conn:
        gid = conn.execute(
            "INSERT INTO glosses(utterance_id, lang, text, label, method, run_id, translator_version, source_sha256,"
            " flags, terms, seconds, meta) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
            (utterance_id, "en", gloss.text, label, method, run_id, gloss.translator, text_sha256(text),
             json.dumps(gloss.flags), json.dumps(gloss.terms, ensure_ascii=False), gloss.seconds,
             json.dumps({**gloss.meta, "attempts": gloss.attempts}, ensure_ascii=False, sort_keys=True))).lastrowid
        set_search_text(conn, utterance_id, gloss.text)
        store.audit("gloss", f"utterance:{utterance_id}", {
            "gloss_id": gid, "run_id": run_id, "method": method, "translator_version": gloss.translator,
            "source_sha256": text_sha256(text), "text_sha256": text_sha256(gloss.text), "flags": gloss.flags},
            seal={"glosses": [gid]})
    return gid


def set_search_text(conn, utterance_id: int, text: str) -> None:
    conn.execute("DELETE FROM gloss_fts WHERE rowid = ?", (utterance_id,))
    conn.execute("INSERT INTO gloss_fts(rowid, text) VALUES (?, ?)", (utterance_id, text))


def translate_store(store: Store, translator: Translator, *, scope: str = "context",
                    source_ids: list[int] | None = None, utterance_ids: Iterable[int] | None = None,
                    limit: int | None = None,
                    on_plan: Callable[[int, float], None] | None = None,
                    on_line: Callable[[int, Gloss], None] | None = None) -> TranslateReport:
    """Translate what needs it (see :func:`plan`). ``on_plan(n_lines, estimated_s)`` before the
    work starts; ``on_line(utterance_id, gloss)`` after each committed gloss."""
    version = translator.version
    report = TranslateReport(None, version)
    todo, report.stale = plan(store, version, scope=scope, source_ids=source_ids, utterance_ids=utterance_ids)
    if limit is not None:
        todo = todo[:limit]
    report.candidates = len(todo)
    if on_plan:
        on_plan(len(todo), len(todo) * typical_seconds(store, version))
    if not todo:
        return report
    with store.transaction():
        report.run_id = store.start_run("translate", component=f"overheard.translate:{translator.method}",
                                        component_version=version, params={
                                            "scope": scope, "source_ids": source_ids, "backend": translator.backend.identity,
                                            "glossary": None if translator.plain else translator.glossary.sources,
                                            "lines": len(todo)})
    label = gloss_label(translator.method, translator.backend.identity)
    status = "interrupted"
    try:
        for uid in todo:
            row = store.conn.execute("SELECT text, lang FROM utterances WHERE id = ?", (uid,)).fetchone()
            gloss = translator.translate(row["text"], row["lang"])
            store_gloss(store, uid, row["text"], gloss, method=translator.method, label=label, run_id=report.run_id)
            report.translated += 1
            report.flagged += bool(gloss.flags)
            report.retried += gloss.attempts > 1
            report.seconds += gloss.seconds
            report.per_line_s.append(gloss.seconds)
            if on_line:
                on_line(uid, gloss)
        status = "done"
    finally:
        with store.transaction():
            store.finish_run(report.run_id, status)
    return report


def correct_gloss(store: Store, utterance_id: int, new_text: str, *, actor: str, reason: str,
                  base_gloss_id: int | None = None) -> int:
    """An analyst's English for a line: a new gloss row (the machine's stays in the history),
    audited before → after. ``base_gloss_id`` guards against overwriting a change made meanwhile."""
    new_text = " ".join((new_text or "").split())
    reason = (reason or "").strip()
    if not new_text:
        raise ValueError("the corrected gloss is empty")
    if len(new_text) > 20_000 or "\x00" in new_text:
        raise ValueError("the corrected gloss is too long or contains a NUL character")
    if not reason:
        raise ValueError("give a reason for the correction")
    with store.transaction() as conn:
        u = conn.execute("SELECT id, text FROM utterances WHERE id = ?", (utterance_id,)).fetchone()
        if u is None:
            raise LookupError(f"utterance {utterance_id}: no such utterance")
        before = current_gloss(conn, utterance_id)
        if base_gloss_id is not None and (before["id"] if before else None) != base_gloss_id:
            raise ValueError("the gloss was changed meanwhile; reload the page and apply your correction again")
        if before is not None and before["text"] == new_text:
            raise ValueError("the gloss is unchanged")
        run_id = store.start_run("review", component="overheard.review", component_version="1",
                                 params={"action": "correct_gloss", "actor": actor, "utterance_id": utterance_id})
        now = utc_now()
        gid = conn.execute(
            "INSERT INTO glosses(utterance_id, lang, text, label, method, run_id, translator_version, source_sha256,"
            " actor, at, reason) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
            (utterance_id, "en", new_text, gloss_label(f"analyst:{actor}", actor=actor), f"analyst:{actor}", run_id,
             "analyst", text_sha256(u["text"]), actor, now, reason)).lastrowid
        set_search_text(conn, utterance_id, new_text)
        store.finish_run(run_id)
        store.audit("review.correct_gloss", f"utterance:{utterance_id}", {
            "before": {"gloss_id": before["id"], "text": before["text"], "method": before["method"]} if before else None,
            "after": {"gloss_id": gid, "text": new_text}, "reason": reason, "run_id": run_id},
            actor=actor if ":" in actor else f"web:{actor}", seal={"glosses": [gid]})
    return gid
