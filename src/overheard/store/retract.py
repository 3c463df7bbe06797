"""Retraction: take a wrongly ingested source — and everything derived from it — out of search,
analysis, summaries, reports and exports, without deleting anything.

The evidence file and every row stay (``verify`` still passes); a ``retractions`` row says who
took it out, when and why, sealed with its audit row. ``restore`` undoes it the same way. The
newest action per source holds (view ``retracted``). Sources attached to it (the voice messages
of a messenger export, whose ``meta.parent`` names it) go with it.

Queries that count or show material add ``NOT_RETRACTED`` (over the alias ``u`` of utterances).
"""

from __future__ import annotations

from .db import Store, StoreError, utc_now

NOT_RETRACTED = "u.source_id NOT IN (SELECT source_id FROM retracted)"
MAX_REASON = 2000


def retracted(store: Store, source_id: int) -> dict | None:
    """The retraction in force for this source (reason, actor, at), or None."""
    row = store.conn.execute("SELECT reason, actor, at FROM retracted WHERE source_id = ?", (source_id,)).fetchone()
    return dict(row) if row else None


def _children(store: Store, source_id: int) -> list[int]:
    return [r[0] for r in store.conn.execute(
        "SELECT id FROM sources WHERE json_extract(meta, '$.parent.source_id') = ? ORDER BY id", (source_id,))]


def _change(store: Store, ref: str, action: str, reason: str, actor: str) -> list[int]:
    reason = (reason or "").strip()
    if not reason:
        raise StoreError(f"{action}: give a reason (--reason)")
    if len(reason) > MAX_REASON or "\x00" in reason:
        raise StoreError(f"{action}: the reason must be under {MAX_REASON:,} characters, without NUL")
    src = store.resolve_source(ref)
    state = retracted(store, src["id"])
    if action == "retract" and state:
        raise StoreError(f"source {src['id']} ({src['original_name']}): already retracted by {state['actor']}"
                         f" at {state['at']}")
    if action == "restore" and not state:
        raise StoreError(f"source {src['id']} ({src['original_name']}): not retracted")
    changed = []
    with store.transaction() as conn:
        for sid in [src["id"], *_children(store, src["id"])]:
            if (retracted(store, sid) is not None) == (action == "retract"):
                continue              # a child already in the wanted state keeps its own record
            why = reason if sid == src["id"] else f"with source {src['id']}: {reason}"
            rid = conn.execute("INSERT INTO retractions(source_id, action, reason, actor, at) VALUES (?,?,?,?,?)",
                               (sid, action, why, actor, utc_now())).lastrowid
            sha = conn.execute("SELECT sha256 FROM sources WHERE id = ?", (sid,)).fetchone()[0]
            store.audit(f"source.{action}", f"source:{sha}", {"source_id": sid, "reason": why},
                        actor=actor, seal={"retractions": [rid]})
            changed.append(sid)
    return changed


def retract(store: Store, ref: str, *, reason: str, actor: str) -> list[int]:
    """Retract a source (by id, SHA-256 prefix or unique name) and its attached sources; returns
    the ids changed. Raises StoreError with one line for the user."""
    return _change(store, ref, "retract", reason, actor)


def restore(store: Store, ref: str, *, reason: str, actor: str) -> list[int]:
    return _change(store, ref, "restore", reason, actor)


def retracted_summary(store: Store) -> list[dict]:
    """Every source retracted now, for reports' and summaries' exclusion notes."""
    return [dict(r) | {"name": r["original_name"]} for r in store.conn.execute(
        "SELECT t.source_id, t.reason, t.actor, t.at, s.original_name FROM retracted t"
        " JOIN sources s ON s.id = t.source_id ORDER BY t.source_id")]
