"""Review actions. Each is one transaction that writes its rows and one audit_log entry
(who, when, what, before → after); any failure rolls back all of it."""

from __future__ import annotations

from ..index.terms import index_terms
from ..store import Store, utc_now

MAX_NOTE = 2000
MAX_TAG = 64
MAX_TEXT = 20_000


class ActionError(ValueError):
    """The request cannot be applied; the message is shown to the user (422)."""


class NotFound(LookupError):
    pass


def _finding(conn, finding_id: int):
    row = conn.execute("SELECT * FROM findings WHERE id = ?", (finding_id,)).fetchone()
    if row is None:
        raise NotFound(f"finding {finding_id}: no such finding")
    return row


def _status(conn, finding_id: int) -> str:
    return conn.execute("SELECT status FROM finding_status WHERE finding_id = ?", (finding_id,)).fetchone()[0]


def review_finding(store: Store, finding_id: int, decision: str, *, actor: str, note: str = "") -> dict:
    if decision not in ("confirmed", "rejected"):
        raise ActionError(f"decision {decision!r}: expected confirmed or rejected")
    note = _clean(note, "note", MAX_NOTE)
    with store.transaction() as conn:
        f = _finding(conn, finding_id)
        before = _status(conn, finding_id)
        at = utc_now()
        rid = conn.execute("INSERT INTO reviews(finding_id, decision, actor, at, note) VALUES (?,?,?,?,?)",
                           (finding_id, decision, actor, at, note or None)).lastrowid
        store.audit("review.finding", f"finding:{finding_id}", {
            "utterance_id": f["utterance_id"], "code": f["code"], "stance": f["stance"],
            "evidence": f["evidence"], "before": before, "after": decision, "note": note or None},
            actor=f"web:{actor}", seal={"reviews": [rid]})
    return {"finding_id": finding_id, "before": before, "after": decision, "utterance_id": f["utterance_id"]}


def add_finding(store: Store, utterance_id: int, *, actor: str, code: str, stance: str,
                span_start: int | None, span_end: int | None, evidence: str = "", note: str = "") -> int:
    from ..analyse.indicators import CODES, STANCES
    if code not in CODES:
        raise ActionError(f"code {code!r}: expected one of {', '.join(CODES)}")
    if stance not in STANCES:
        raise ActionError(f"stance {stance!r}: expected one of {', '.join(STANCES)}")
    note = _clean(note, "note", MAX_NOTE)
    with store.transaction() as conn:
        u = conn.execute("SELECT id, text FROM utterances WHERE id = ?", (utterance_id,)).fetchone()
        if u is None:
            raise NotFound(f"utterance {utterance_id}: no such utterance")
        text = u["text"]
        evidence = (evidence or "").strip()
        if span_start is not None and span_end is not None and evidence and text[span_start:span_end] != evidence:
            span_start = span_end = None     # the browser counted differently: trust the words
        if span_start is None or span_end is None:
            if not evidence:
                raise ActionError("select the words that show the indicator (or type them exactly)")
            pos = text.find(evidence)
            if pos < 0:
                raise ActionError(f"evidence {evidence!r} does not occur in the transcript")
            if text.find(evidence, pos + 1) >= 0:
                raise ActionError(f"evidence {evidence!r} occurs more than once; select it in the transcript")
            span_start, span_end = pos, pos + len(evidence)
        if not (0 <= span_start < span_end <= len(text)):
            raise ActionError(f"span {span_start}–{span_end} is outside the transcript (0–{len(text)})")
        evidence = text[span_start:span_end]
        if not evidence.strip():
            raise ActionError("the selected span is blank")
        run_id = store.start_run("review", component="overheard.web", component_version="1",
                                 params={"action": "add_finding", "actor": actor, "utterance_id": utterance_id})
        fid = conn.execute(
            "INSERT INTO findings(utterance_id, code, stance, score, span_start, span_end, evidence, method,"
            " detector_version, run_id) VALUES (?,?,?,?,?,?,?,?,?,?)",
            (utterance_id, code, stance, 1.0, span_start, span_end, evidence, f"analyst:{actor}",
             "analyst", run_id)).lastrowid
        sealed = {"findings": [fid]}
        if note:
            sealed["annotations"] = [conn.execute(
                "INSERT INTO annotations(utterance_id, kind, value, actor, at) VALUES (?,?,?,?,?)",
                (utterance_id, "note", f"finding #{fid}: {note}", actor, utc_now())).lastrowid]
        store.finish_run(run_id)
        store.audit("review.add_finding", f"finding:{fid}", {
            "utterance_id": utterance_id, "before": None,
            "after": {"code": code, "stance": stance, "span": [span_start, span_end], "evidence": evidence},
            "run_id": run_id, "note": note or None}, actor=f"web:{actor}", seal=sealed)
    return fid


def correct_transcript(store: Store, utterance_id: int, new_text: str, *, actor: str, reason: str,
                       base_version: int | None = None) -> int:
    """Store a corrected transcript: version 1 (the original) is saved first when absent, the new
    text becomes the next version, utterances.text and its full-text row are updated. Returns the
    new version number. ``base_version`` guards against overwriting a correction made meanwhile."""
    new_text = (new_text or "").replace("\r\n", "\n").strip()
    reason = _clean(reason, "reason", MAX_NOTE)
    if not new_text:
        raise ActionError("the corrected transcript is empty")
    if len(new_text) > MAX_TEXT:
        raise ActionError(f"the corrected transcript is longer than {MAX_TEXT:,} characters")
    if "\x00" in new_text:
        raise ActionError("the corrected transcript contains a NUL character")
    if not reason:
        raise ActionError("give a reason for the correction")
    with store.transaction() as conn:
        u = conn.execute("SELECT * FROM utterances WHERE id = ?", (utterance_id,)).fetchone()
        if u is None:
            raise NotFound(f"utterance {utterance_id}: no such utterance")
        current = conn.execute("SELECT max(version) FROM transcript_versions WHERE utterance_id = ?",
                               (utterance_id,)).fetchone()[0] or 1
        if base_version is not None and base_version != current:
            raise ActionError(f"the transcript was changed meanwhile (now version {current}, you edited "
                              f"version {base_version}); reload the page and apply your correction again")
        if new_text == u["text"]:
            raise ActionError("the text is unchanged")
        now = utc_now()
        versions = []
        if not conn.execute("SELECT 1 FROM transcript_versions WHERE utterance_id = ? AND version = 1",
                            (utterance_id,)).fetchone():
            versions.append(conn.execute("INSERT INTO transcript_versions(utterance_id, version, text, actor, at, reason)"
                         " VALUES (?,?,?,?,?,?)", (utterance_id, 1, u["text"], "original", now,
                                                   "text as first stored")).lastrowid)
        version = current + 1
        versions.append(conn.execute("INSERT INTO transcript_versions(utterance_id, version, text, actor, at, reason)"
                                     " VALUES (?,?,?,?,?,?)", (utterance_id, version, new_text, actor, now,
                                                               reason)).lastrowid)
        lemmas, roots = index_terms(new_text, u["lang"])
        quote = _moved_quote(u, new_text)
        conn.execute("INSERT INTO utterances_fts(utterances_fts, rowid, text, search_lemmas, search_roots)"
                     " VALUES ('delete', ?, ?, ?, ?)", (utterance_id, u["text"], u["search_lemmas"],
                                                        u["search_roots"]))
        conn.execute("UPDATE utterances SET text = ?, search_lemmas = ?, search_roots = ?, quote_start = ?,"
                     " quote_end = ? WHERE id = ?", (new_text, lemmas, roots, *quote, utterance_id))
        conn.execute("INSERT INTO utterances_fts(rowid, text, search_lemmas, search_roots) VALUES (?,?,?,?)",
                     (utterance_id, new_text, lemmas, roots))
        store.audit("review.correct_transcript", f"utterance:{utterance_id}", {
            "before": {"version": current, "text": u["text"]},
            "after": {"version": version, "text": new_text}, "reason": reason,
            "quote_span": {"before": [u["quote_start"], u["quote_end"]], "after": list(quote)}},
            actor=f"web:{actor}", seal={"utterances": [utterance_id], "transcript_versions": versions})
    return version


def correct_gloss(store: Store, utterance_id: int, new_text: str, *, actor: str, reason: str,
                  base_gloss_id: int | None = None) -> int:
    """An analyst's English for a line (see overheard.translate.stage.correct_gloss)."""
    from ..translate.stage import correct_gloss as _correct
    try:
        return _correct(store, utterance_id, new_text, actor=actor, reason=reason, base_gloss_id=base_gloss_id)
    except LookupError as exc:
        raise NotFound(str(exc)) from None
    except ValueError as exc:
        raise ActionError(str(exc)) from None


def _moved_quote(u, new_text: str) -> tuple[int | None, int | None]:
    if u["quote_start"] is None:
        return (None, None)
    quoted = u["text"][u["quote_start"]:u["quote_end"]]
    pos = new_text.find(quoted) if quoted else -1
    return (pos, pos + len(quoted)) if pos >= 0 else (None, None)


def annotate(store: Store, utterance_id: int, kind: str, value: str, *, actor: str) -> int:
    if kind not in ("tag", "note"):
        raise ActionError(f"annotation kind {kind!r}: expected tag or note")
    value = _clean(value, kind, MAX_TAG if kind == "tag" else MAX_NOTE)
    if not value:
        raise ActionError(f"the {kind} is empty")
    if kind == "tag":
        value = " ".join(value.split()).lower()
    with store.transaction() as conn:
        if conn.execute("SELECT 1 FROM utterances WHERE id = ?", (utterance_id,)).fetchone() is None:
            raise NotFound(f"utterance {utterance_id}: no such utterance")
        if kind == "tag" and conn.execute(
                "SELECT 1 FROM annotations WHERE utterance_id = ? AND kind = 'tag' AND value = ?",
                (utterance_id, value)).fetchone():
            raise ActionError(f"tag {value!r} is already on this utterance")
        aid = conn.execute("INSERT INTO annotations(utterance_id, kind, value, actor, at) VALUES (?,?,?,?,?)",
                           (utterance_id, kind, value, actor, utc_now())).lastrowid
        store.audit(f"review.{kind}", f"utterance:{utterance_id}",
                    {"annotation_id": aid, "before": None, "after": value}, actor=f"web:{actor}",
                    seal={"annotations": [aid]})
    return aid


def _clean(value: str | None, name: str, limit: int) -> str:
    value = (value or "").strip()
    if len(value) > limit:
        raise ActionError(f"{name} is longer than {limit:,} characters")
    if "\x00" in value:
        raise ActionError(f"{name} contains a NUL character")
    return value
