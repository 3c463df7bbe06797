"""Storing one original as a source, all or nothing: the one transaction that the audio, capture
and zip ingests share.

Inside one transaction: a re-check that no concurrent ingest stored the same file meanwhile, the
ingest run, the ``sources`` row, the evidence files (written once, by hash; companions listed in
``source_files``), a pending ``processing`` row where the source still has to be transcribed,
and the audit row that seals the source. On any failure the transaction rolls back and the
evidence files this call created are removed, so nothing is half-written."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from ..store import Store, utc_now
from ..store.evidence import EvidenceChanged


@dataclass
class Original:
    path: Path                        # the primary file
    sha: str
    reader: str                       # the reader's name (sources.reader)
    version: str                      # the reader's version (the run's component version)
    columns: dict                     # sources columns besides sha256, reader, meta, ingested_at, run_id
    meta: dict
    audit: dict                       # details for the audit row besides the common ones
    companions: list[tuple[Path, str, str]] = field(default_factory=list)   # (file, sha256, role)
    pending: bool = True              # a processing row: `overheard process` still has work on it


def store_original(store: Store, o: Original, opts, result_cls):
    """A FileResult: "added" with the new source id, "present" when the same file is already a
    source (also when a concurrent ingest won), or "failed" when the file changed while read."""
    created: list[str] = []
    try:
        with store.transaction() as conn:
            again = store.source_by_sha(o.sha)          # a concurrent ingest may have won
            if again is not None:
                return result_cls(o.path, "present", f"already present as source {again['id']}", o.sha, again["id"])
            run_id = store.start_run("ingest", component=o.reader, component_version=o.version, params=opts.params())
            row = {"sha256": o.sha, "reader": o.reader, **o.columns, "meta": json.dumps(o.meta, sort_keys=True),
                   "ingested_at": utc_now(), "run_id": run_id}
            source_id = conn.execute(f"INSERT INTO sources({', '.join(row)}) VALUES ({', '.join('?' * len(row))})",
                                     tuple(row.values())).lastrowid
            for f, digest, role in [(o.path, o.sha, "primary"), *o.companions]:
                if store.evidence.put_file(f, digest):
                    created.append(digest)
                if role != "primary":
                    conn.execute("INSERT INTO source_files(source_id, sha256, role, original_name, size)"
                                 " VALUES (?,?,?,?,?)", (source_id, digest, role, f.name, f.stat().st_size))
            if o.pending:
                conn.execute("INSERT INTO processing(source_id, status, updated_at) VALUES (?, 'pending', ?)",
                             (source_id, utc_now()))
            store.finish_run(run_id)
            store.audit("ingest", f"source:{o.sha}", {
                "source_id": source_id, "sha256": o.sha, "size": o.columns.get("size"),
                "original_name": o.path.name, "reader": o.reader, "kind": o.columns.get("kind"), "run_id": run_id,
                "contributor": opts.contributor, **o.audit}, seal={"sources": [source_id]})
    except EvidenceChanged as exc:
        return result_cls(o.path, "failed", str(exc).replace(f"{o.path.name} ", "", 1), o.sha)
    except BaseException:
        for digest in created:
            store.evidence.remove(digest)
        raise
    return result_cls(o.path, "added", "", o.sha, source_id, 0)
