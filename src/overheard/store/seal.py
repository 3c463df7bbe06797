"""Content seals: every row that carries evidence or analysis is hashed when it is written or
changed, and the hash is tied into the audit chain.

A seal is one row of ``seals``: (audit row, table, row id, SHA-256 of the row's fields, a 2-byte
fingerprint per field). The audit row written in the same transaction records how many rows it
sealed and one SHA-256 over their seals (``details.sealed``), so the seal table cannot be edited
either without breaking the chain. A row changed through the tool (a corrected transcript) gets a
new seal with the audit row of the change; the newest seal of a row is the one it must match.

``verify_seals`` recomputes every sealed row and names the table, row and field that no longer
match, rows deleted behind the tool's back, rows that were never sealed, and seal rows that no
longer match the digest their audit row recorded. The fingerprints only name the field; the
proof is the full row hash.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from dataclasses import dataclass, field
from typing import Iterable, Iterator

# The fields sealed per table, in a fixed order (a column added later is not sealed until it is
# listed here, in a new position at the end). Search columns (search_lemmas, search_roots) are not
# sealed: they are rebuilt from the text by the indexer.
SEALED: dict[str, tuple[str, ...]] = {
    "sources": ("sha256", "size", "media_type", "reader", "kind", "original_name", "original_path", "title",
                "url", "published_at", "captured_at", "frequency_hz", "channel", "receiver", "sample_rate",
                "duration_s", "contributor", "note", "meta", "ingested_at", "run_id"),
    "utterances": ("source_id", "seq", "line_no", "kind", "text", "lang", "start_s", "end_s", "captured_at",
                   "time_basis", "channel", "speaker", "speaker_role", "quote_start", "quote_end",
                   "is_boilerplate", "meta", "run_id"),
    "asr": ("raw_text", "lang_prob", "avg_logprob", "no_speech_prob", "mean_word_logprob", "hallucination",
            "hallucination_reason", "words", "segment", "run_id"),
    "glosses": ("utterance_id", "lang", "text", "label", "method", "run_id", "translator_version",
                "source_sha256", "flags", "terms", "seconds", "meta", "actor", "at", "reason"),
    "findings": ("utterance_id", "code", "stance", "score", "span_start", "span_end", "evidence", "method",
                 "detector_version", "run_id"),
    "reviews": ("finding_id", "decision", "actor", "at", "note"),
    "transcript_versions": ("utterance_id", "version", "text", "actor", "at", "reason"),
    "annotations": ("utterance_id", "kind", "value", "actor", "at"),
    "retractions": ("source_id", "action", "reason", "actor", "at"),
}
KEY: dict[str, str] = {"asr": "utterance_id"}     # every other sealed table: id
MAX_NAMED = 20        # problems named per table and kind; the rest are counted


def key_of(table: str) -> str:
    return KEY.get(table, "id")


def row_hash(table: str, key: int, values: Iterable) -> bytes:
    body = json.dumps([table, key, *values], ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(body.encode("utf-8")).digest()


def fingerprints(values: Iterable) -> bytes:
    return b"".join(hashlib.sha256(json.dumps(v, ensure_ascii=False).encode("utf-8")).digest()[:2]
                    for v in values)


def digest(entries: Iterable[tuple[str, int, bytes]]) -> str:
    """One SHA-256 over (table, row id, row hash) in (table, row id) order: what the audit row records."""
    h = hashlib.sha256()
    for table, key, row in entries:
        h.update(f"{table}\x1f{key}\x1f".encode() + row + b"\n")
    return h.hexdigest()


def select_rows(conn: sqlite3.Connection, table: str, ids) -> Iterator[tuple]:
    """(key, *sealed fields) of the given rows, by key; ``ids`` a range or any iterable."""
    cols = ", ".join((key_of(table),) + SEALED[table])
    key = key_of(table)
    if isinstance(ids, range):
        if len(ids):
            yield from conn.execute(f"SELECT {cols} FROM {table} WHERE {key} BETWEEN ? AND ? ORDER BY {key}",
                                    (ids.start, ids[-1]))
        return
    ids = sorted(set(ids))
    for i in range(0, len(ids), 500):
        chunk = ids[i:i + 500]
        yield from conn.execute(f"SELECT {cols} FROM {table} WHERE {key} IN ({','.join('?' * len(chunk))})"
                                f" ORDER BY {key}", chunk)


def seal(conn: sqlite3.Connection, audit_id: int, rows: dict[str, Iterable[int]]) -> dict:
    """Seal the given rows (read back from the database, as verify will read them) under the audit
    row about to be written as ``audit_id``; returns what that row records."""
    entries = []
    for table in sorted(rows):
        if table not in SEALED:
            raise ValueError(f"{table}: not a sealed table")
        wanted = rows[table]
        found = 0
        for key, *values in select_rows(conn, table, wanted):
            entries.append((table, key, row_hash(table, key, values), fingerprints(values)))
            found += 1
        expected = len(wanted) if isinstance(wanted, range) else len(set(wanted))
        if found != expected:      # a caller sealing rows it did not write: a bug, not user input
            raise ValueError(f"seal: {expected - found} of the {table} rows to seal do not exist")
    conn.executemany("INSERT INTO seals(audit_id, tbl, row_id, hash, fields) VALUES (?,?,?,?,?)",
                     [(audit_id, t, k, h, f) for t, k, h, f in entries])
    return {"rows": len(entries), "sha256": digest((t, k, h) for t, k, h, _ in entries)}


def source_rows(conn: sqlite3.Connection, source_id: int) -> dict[str, list[int]]:
    """Every sealed row that belongs to one source (its row and all derived from its utterances)."""
    q = lambda sql: [r[0] for r in conn.execute(sql, (source_id,))]  # noqa: E731
    in_source = "SELECT id FROM utterances WHERE source_id = ?"
    return {
        "sources": [source_id],
        "utterances": q(in_source),
        "asr": q(f"SELECT utterance_id FROM asr WHERE utterance_id IN ({in_source})"),
        "glosses": q(f"SELECT id FROM glosses WHERE utterance_id IN ({in_source})"),
        "findings": q(f"SELECT id FROM findings WHERE utterance_id IN ({in_source})"),
        "reviews": q(f"SELECT r.id FROM reviews r JOIN findings f ON f.id = r.finding_id"
                     f" WHERE f.utterance_id IN ({in_source})"),
        "transcript_versions": q(f"SELECT id FROM transcript_versions WHERE utterance_id IN ({in_source})"),
        "annotations": q(f"SELECT id FROM annotations WHERE utterance_id IN ({in_source})"),
        "retractions": q("SELECT id FROM retractions WHERE source_id = ?"),
    }


def unsealed(conn: sqlite3.Connection) -> bool:
    """Whether any row of a sealed table has no seal (a store written before seals existed)."""
    for table in SEALED:
        key = key_of(table)
        if conn.execute(f"SELECT 1 FROM {table} t WHERE NOT EXISTS (SELECT 1 FROM seals s"
                        f" WHERE s.tbl = ? AND s.row_id = t.{key}) LIMIT 1", (table,)).fetchone():
            return True
    return False


# -- verification -----------------------------------------------------------------------------

@dataclass
class SealReport:
    problems: list[str] = field(default_factory=list)
    rows_checked: int = 0
    seals_checked: int = 0


class _Named:
    """Collects problems of one kind, naming the first MAX_NAMED and counting the rest."""

    def __init__(self, report: SealReport, what: str):
        self.report, self.what, self.n = report, what, 0

    def add(self, line: str) -> None:
        self.n += 1
        if self.n <= MAX_NAMED:
            self.report.problems.append(line)

    def close(self) -> None:
        if self.n > MAX_NAMED:
            self.report.problems.append(f"… and {self.n - MAX_NAMED:,} more {self.what}")


def sealing_claims(conn: sqlite3.Connection) -> dict[int, tuple[str, dict]]:
    """audit row id -> (action, its ``sealed`` record), for every audit row that sealed rows."""
    claims = {}
    for row_id, action, details in conn.execute(
            "SELECT id, action, details FROM audit_log WHERE instr(details, '\"sealed\":') > 0"):
        try:
            sealed = json.loads(details).get("sealed")
        except (json.JSONDecodeError, AttributeError):
            continue      # an altered row: the chain check reports it
        if isinstance(sealed, dict):
            claims[row_id] = (action, sealed)
    return claims


def check_digests(seal_rows: Iterable[tuple[int, str, int, bytes]], claims: dict[int, tuple[str, dict]],
                  report: SealReport) -> None:
    """Seal rows (ordered by audit row, table, row id) against the digests their audit rows record."""
    named = _Named(report, "seal-table problems")

    def close_group(audit_id, entries):
        claim = claims.get(audit_id)
        if claim is None:
            named.add(f"seals of audit row {audit_id}: no audit row recorded them (seal rows added behind the tool's back)")
            return
        action, sealed = claim
        if len(entries) != sealed.get("rows") or digest(entries) != sealed.get("sha256"):
            named.add(f"seals of audit row {audit_id} ({action}): {len(entries)} seal rows no longer match the "
                      f"{sealed.get('rows')} row hashes recorded in the chain (seal table edited)")

    seen, current, entries = set(), None, []
    for audit_id, table, key, row in seal_rows:
        report.seals_checked += 1
        if audit_id != current:
            if current is not None:
                close_group(current, entries)
                seen.add(current)
            current, entries = audit_id, []
        entries.append((table, key, row))
    if current is not None:
        close_group(current, entries)
        seen.add(current)
    for audit_id in sorted(set(claims) - seen):
        action, sealed = claims[audit_id]
        if sealed.get("rows"):
            named.add(f"seals of audit row {audit_id} ({action}): all {sealed['rows']} are missing from the seal table")
    named.close()


def check_rows(table: str, rows: Iterable[tuple], latest: Iterable[tuple[int, int, bytes, bytes]],
               actions: dict[int, str], report: SealReport) -> None:
    """Rows of one table (key, *fields; ordered by key) against their newest seals
    ((key, audit id, hash, fingerprints); ordered by key, then audit id)."""
    fields = SEALED[table]
    changed = _Named(report, f"changed {table} rows")
    missing = _Named(report, f"unsealed {table} rows")
    deleted = _Named(report, f"deleted {table} rows")

    def newest(seals):
        it = iter(seals)
        prev = next(it, None)
        for s in it:
            if s[0] != prev[0]:
                yield prev
            prev = s
        if prev is not None:
            yield prev

    seals = newest(latest)
    s = next(seals, None)
    for key, *values in rows:
        report.rows_checked += 1
        while s is not None and s[0] < key:
            deleted.add(f"{table} row {s[0]}: deleted (it was sealed by audit row {s[1]}, {actions.get(s[1], '?')})")
            s = next(seals, None)
        if s is None or s[0] != key:
            missing.add(f"{table} row {key}: not sealed by any audit row (written behind the tool's back)")
            continue
        if row_hash(table, key, values) != s[2]:
            now = fingerprints(values)
            names = [f for i, f in enumerate(fields) if now[2 * i:2 * i + 2] != s[3][2 * i:2 * i + 2]]
            what = ("field " + ", ".join(names)) if names else "its content"
            changed.add(f"{table} row {key}: {what} changed since it was sealed by audit row {s[1]}"
                        f" ({actions.get(s[1], '?')})")
        s = next(seals, None)
    while s is not None:
        deleted.add(f"{table} row {s[0]}: deleted (it was sealed by audit row {s[1]}, {actions.get(s[1], '?')})")
        s = next(seals, None)
    for n in (changed, missing, deleted):
        n.close()


def verify_seals(conn: sqlite3.Connection) -> SealReport:
    report = SealReport()
    claims = sealing_claims(conn)
    check_digests(conn.execute("SELECT audit_id, tbl, row_id, hash FROM seals ORDER BY audit_id, tbl, row_id"),
                  claims, report)
    actions = {k: v[0] for k, v in claims.items()}
    for table, cols in SEALED.items():
        key = key_of(table)
        rows = conn.execute(f"SELECT {key}, {', '.join(cols)} FROM {table} ORDER BY {key}")
        latest = conn.execute("SELECT row_id, audit_id, hash, fields FROM seals INDEXED BY seals_row"
                              " WHERE tbl = ? ORDER BY row_id, audit_id", (table,))
        check_rows(table, rows, latest, actions, report)
    return report
