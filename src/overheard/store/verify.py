"""`overheard verify`: re-hash every original, walk the audit chain, recompute every sealed row
and check the chain's head against the copies kept of it."""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from .audit import verify_chain
from .db import Store
from .evidence import sha256_file
from .seal import verify_seals


@dataclass
class VerifyReport:
    problems: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    evidence_checked: int = 0
    audit_rows: int = 0
    audit_head: str = ""
    rows_checked: int = 0          # sealed rows recomputed
    anchors_checked: int = 0       # copies of the head (audit-head.json, --anchor) compared

    @property
    def ok(self) -> bool:
        return not self.problems


class AnchorError(ValueError):
    """An --anchor value that is neither ROW:HASH nor a readable head file or package."""


def read_anchor(value: str) -> tuple[int, str]:
    """An audit head kept elsewhere: ``ROW:HASH``, a copy of audit-head.json, a package's
    manifest.json, or an evidence package (its manifest's ``store_audit_head``)."""
    import zipfile
    from pathlib import Path

    row, _, digest = value.partition(":")
    if row.isdigit() and len(digest) == 64 and all(c in "0123456789abcdef" for c in digest.lower()):
        return int(row), digest.lower()
    path = Path(value)
    try:
        if zipfile.is_zipfile(path):
            with zipfile.ZipFile(path) as z:
                data = json.loads(z.read("manifest.json")).get("store_audit_head")
        else:
            data = json.loads(path.read_text(encoding="utf-8"))
            data = data.get("store_audit_head", data) if isinstance(data, dict) else None
        return int(data["row"]), str(data["hash"]).lower()
    except (OSError, KeyError, TypeError, ValueError, zipfile.BadZipFile) as exc:
        raise AnchorError(f"{value}: not ROW:HASH, an audit-head.json or an evidence package"
                          f" ({type(exc).__name__})") from None


def check_anchor(store: Store, row: int, digest: str, where: str, last_row: int) -> str | None:
    """A head recorded earlier must still be in the chain, with the same hash."""
    if row > last_row:
        return (f"audit log cut: {where} records row {row}, but the log ends at row {last_row}"
                " (the newest rows were deleted)")
    now = store.conn.execute("SELECT hash FROM audit_log WHERE id = ?", (row,)).fetchone()
    if row > 0 and (now is None or now[0] != digest):
        return f"audit row {row}: its hash differs from the one {where} records (the log was rewritten)"
    return None


def verify_store(store: Store, anchors: list[tuple[int, str, str]] | None = None) -> VerifyReport:
    """``anchors``: (row, hash, where) heads kept outside the store, checked like audit-head.json."""
    report = VerifyReport()

    def check(label: str, sha: str) -> None:
        path = store.evidence.path_for(sha)
        label = f"{label}, evidence/{sha[:2]}/{sha[2:]})"
        if not path.exists():
            report.problems.append(f"{label}: evidence file missing")
            return
        actual = sha256_file(path)
        report.evidence_checked += 1
        if actual != sha:
            report.problems.append(f"{label}: evidence file altered (now hashes to {actual[:16]}…)")

    primaries = set()
    for row in store.conn.execute("SELECT id, sha256, original_name FROM sources ORDER BY id"):
        primaries.add(row["sha256"])
        check(f"source {row['id']} ({row['original_name']}", row["sha256"])
    known = set(primaries)
    for row in store.conn.execute("SELECT source_id, sha256, original_name, role FROM source_files"):
        known.add(row["sha256"])
        check(f"source {row['source_id']} {row['role']} ({row['original_name']}", row["sha256"])
    for sha, path in store.evidence.iter_files():
        if sha not in known:
            report.warnings.append(f"evidence/{sha[:2]}/{sha[2:]}: file not referenced by any source")
    for f in store.evidence.partial_files():
        report.warnings.append(f"evidence/{f.parent.name}/{f.name}: partial write of an interrupted ingest"
                               " (not evidence; the next ingest removes it once an hour old)")

    problems, n, head = verify_chain(store.conn)
    report.problems += [str(p) for p in problems]
    report.audit_rows, report.audit_head = n, head
    last_row = store.conn.execute("SELECT coalesce(max(id), 0) FROM audit_log").fetchone()[0]
    heads = list(anchors or [])
    if store.head_path.exists():
        try:
            kept = json.loads(store.head_path.read_text(encoding="utf-8"))
            heads.insert(0, (int(kept["row"]), str(kept["hash"]), store.head_path.name))
        except (OSError, ValueError, KeyError, TypeError):
            report.problems.append(f"{store.head_path.name}: unreadable (altered?); the newest audit row"
                                   " cannot be checked against it")
    elif n:
        report.warnings.append(f"no {store.head_path.name} beside the database: deleting the newest audit rows"
                               " would not show (keep a copy of the head elsewhere and pass it with --anchor)")
    for row, digest, where in heads:
        report.anchors_checked += 1
        problem = check_anchor(store, row, digest, where, last_row)
        if problem:
            report.problems.append(problem)

    sealed = verify_seals(store.conn)
    report.problems += sealed.problems
    report.rows_checked = sealed.rows_checked

    # Every source must have been entered through the audited path, and still be the source
    # its ingest row describes: the same id, and the same companion files.
    ingested: dict[str, dict] = {}
    for (details,) in store.conn.execute("SELECT details FROM audit_log WHERE action = 'ingest'"):
        try:
            d = json.loads(details)
        except json.JSONDecodeError:
            continue   # an altered row is already reported by the chain check
        ingested[d.get("sha256")] = d
    companions: dict[int, dict[str, str]] = {}
    for row in store.conn.execute("SELECT source_id, role, sha256 FROM source_files"):
        companions.setdefault(row["source_id"], {})[row["role"]] = row["sha256"]
    for row in store.conn.execute("SELECT id, sha256 FROM sources ORDER BY id"):
        d = ingested.get(row["sha256"])
        if d is None:
            report.problems.append(f"source {row['sha256'][:16]}…: no ingest entry in the audit log")
            continue
        if d.get("source_id") != row["id"]:
            report.problems.append(f"source {row['id']}: its file hash belongs to source {d.get('source_id')} "
                                   "in the audit log (rows swapped or altered)")
        recorded = {k: v for k, v in (d.get("files") or {}).items() if k != "primary"}
        if recorded != companions.get(row["id"], {}):
            report.problems.append(f"source {row['id']}: its companion files differ from those recorded at ingest")
    return report
