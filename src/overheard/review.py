"""The review queue: machine findings no analyst has decided on, most serious first, each with
the conversation around it — and decisions one by one or in bulk (one audit row per finding).

Priority: the code's severity (self-harm and harm to civilians first, resolve last), then the
detector's score, then the newest material. Findings of retracted sources are not in the queue.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .store import Store
from .store.retract import NOT_RETRACTED

# most urgent first: what a reviewer must not leave for tomorrow
SEVERITY = ("self_harm", "civilian_harm", "coercion", "infighting", "casualties", "deceived", "unwilling",
            "distress", "fear", "neglect", "resolve")
CONTEXT_TURNS = 2


@dataclass
class QueueFilter:
    code: str | None = None
    source_id: int | None = None
    detector_version: str | None = None      # None: the latest analyze run's


@dataclass
class QueueItem:
    finding: dict
    utterance: dict
    source: dict
    before: list[dict] = field(default_factory=list)    # the turns before it, oldest first
    after: list[dict] = field(default_factory=list)


def _where(store: Store, f: QueueFilter, *, pending_only: bool = True) -> tuple[str, list]:
    from .analyse.apply import latest_detector_version
    version = f.detector_version or latest_detector_version(store)
    where = (["fs.status = 'machine'"] if pending_only else []) + [NOT_RETRACTED, "f.detector_version = ?"]
    params: list = [version]
    if f.code:
        where.append("f.code = ?"); params.append(f.code)
    if f.source_id is not None:
        where.append("u.source_id = ?"); params.append(f.source_id)
    return " AND ".join(where), params


_ORDER = ("CASE f.code " + " ".join(f"WHEN '{c}' THEN {i}" for i, c in enumerate(SEVERITY))
          + f" ELSE {len(SEVERITY)} END, f.score DESC, u.captured_at DESC, f.id DESC")


def pending_ids(store: Store, f: QueueFilter | None = None, *, limit: int = 50, offset: int = 0) -> list[int]:
    """Finding ids of the queue, in priority order."""
    where, params = _where(store, f or QueueFilter())
    return [r[0] for r in store.conn.execute(
        "SELECT f.id FROM findings f JOIN finding_status fs ON fs.finding_id = f.id"
        f" JOIN utterances u ON u.id = f.utterance_id WHERE {where} ORDER BY {_ORDER} LIMIT ? OFFSET ?",
        (*params, limit, offset))]


def progress(store: Store, f: QueueFilter | None = None) -> tuple[int, int]:
    """(reviewed, total) over this detector's findings under the filter (retracted sources left out)."""
    f = f or QueueFilter()
    where, params = _where(store, f, pending_only=False)
    total, pending = store.conn.execute(
        "SELECT count(*), sum(fs.status = 'machine') FROM findings f JOIN finding_status fs ON fs.finding_id = f.id"
        f" JOIN utterances u ON u.id = f.utterance_id WHERE {where}", params).fetchone()
    return total - (pending or 0), total


def item(store: Store, finding_id: int) -> QueueItem | None:
    """A finding with its utterance, source and the turns around it (speakers, times)."""
    c = store.conn
    f = c.execute("SELECT f.*, fs.status FROM findings f JOIN finding_status fs ON fs.finding_id = f.id"
                  " WHERE f.id = ?", (finding_id,)).fetchone()
    if f is None:
        return None
    u = c.execute("SELECT * FROM utterances WHERE id = ?", (f["utterance_id"],)).fetchone()
    s = c.execute("SELECT id, sha256, original_name, title, kind, reader, channel, frequency_hz, duration_s"
                  " FROM sources WHERE id = ?", (u["source_id"],)).fetchone()
    cols = "id, seq, speaker, captured_at, start_s, end_s, text, lang"
    before = c.execute(f"SELECT {cols} FROM utterances WHERE source_id = ? AND seq < ? AND seq >= ?"
                       " ORDER BY seq", (u["source_id"], u["seq"], u["seq"] - CONTEXT_TURNS)).fetchall()
    after = c.execute(f"SELECT {cols} FROM utterances WHERE source_id = ? AND seq > ? AND seq <= ?"
                      " ORDER BY seq", (u["source_id"], u["seq"], u["seq"] + CONTEXT_TURNS)).fetchall()
    return QueueItem(dict(f), dict(u), dict(s), [dict(r) for r in before], [dict(r) for r in after])


def decide(store: Store, finding_ids: list[int], decision: str, *, actor: str, note: str = "") -> list[dict]:
    """Confirm or reject each finding: one transaction and one audit row per finding (so a bulk
    decision reads in the log exactly like the single ones it stands for)."""
    from .web.actions import ActionError, review_finding
    if decision not in ("confirmed", "rejected"):
        raise ActionError(f"decision {decision!r}: expected confirmed or rejected")
    marks = ",".join("?" * len(finding_ids))
    known = {r[0] for r in store.conn.execute(f"SELECT id FROM findings WHERE id IN ({marks})", finding_ids)}
    missing = [i for i in finding_ids if i not in known]
    if missing:             # nothing is decided when any id is wrong: no half-applied bulk
        raise ActionError(f"finding {missing[0]}: no such finding" + (f" (and {len(missing) - 1} more)"
                                                                      if len(missing) > 1 else ""))
    return [review_finding(store, fid, decision, actor=actor, note=note) for fid in dict.fromkeys(finding_ids)]
