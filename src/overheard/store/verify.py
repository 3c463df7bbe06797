"""`overheard verify`: re-hash every original and walk the audit chain."""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from .audit import verify_chain
from .db import Store
from .evidence import sha256_file


@dataclass
class VerifyReport:
    problems: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    evidence_checked: int = 0
    audit_rows: int = 0
    audit_head: str = ""

    @property
    def ok(self) -> bool:
        return not self.problems


def verify_store(store: Store) -> VerifyReport:
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
