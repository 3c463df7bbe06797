"""The store: one SQLite file (WAL) plus a content-addressed evidence folder.

A store directory looks like::

    overheard-store/
      overheard.db        SQLite, WAL mode, schema version in PRAGMA user_version
      evidence/ab/cdef…   originals by SHA-256, written once, read-only
      derived/            clips and other derived files (never evidence)

Every write happens inside ``Store.transaction()`` (BEGIN IMMEDIATE), so concurrent
writers queue on SQLite's lock instead of interleaving, and a failure rolls back
everything the unit of work wrote, audit rows included.
"""

from __future__ import annotations

import json
import os
import sqlite3
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterator

from .. import __version__
from .audit import append as append_audit, default_actor
from .seal import seal as seal_rows, source_rows, unsealed
from .evidence import EvidenceStore
from .schema import MIGRATIONS, SCHEMA_VERSION

DB_NAME = "overheard.db"
HEAD_NAME = "audit-head.json"     # the newest audit row, kept beside the database (see verify)
DEFAULT_STORE = "overheard-store"


class StoreError(Exception):
    """The store cannot be opened or used; the message is one line for the user."""


def utc_now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")


def default_store_path() -> Path:
    return Path(os.environ.get("OVERHEARD_STORE") or DEFAULT_STORE)


class Store:
    """An open store. Use as a context manager or call ``close()``."""

    def __init__(self, path: str | os.PathLike | None = None, *, create: bool = True):
        self.path = Path(path) if path is not None else default_store_path()
        # shown as given; every file path below it is absolute, resolved once here, so that
        # links and temp folders made from them work whatever the working directory
        self.root = self.path.absolute()
        self.db_path = self.root / DB_NAME
        self.head_path = self.root / HEAD_NAME
        self._head: tuple[int, str] | None = None
        self._check_directory(create)
        self.path.mkdir(parents=True, exist_ok=True)
        try:
            self.conn = sqlite3.connect(self.db_path, timeout=60, isolation_level=None,
                                        check_same_thread=False)
            self.conn.row_factory = sqlite3.Row
            self.conn.execute("PRAGMA busy_timeout = 60000")
            self.conn.execute("PRAGMA journal_mode = WAL")
            self.conn.execute("PRAGMA synchronous = NORMAL")
            self.conn.execute("PRAGMA foreign_keys = ON")
            before = self._migrate()
            if 0 < before < 8:
                self._seal_existing()
        except sqlite3.OperationalError as exc:
            # disk full, I/O error, cannot open: the file may be fine; say what happened
            raise StoreError(f"{self.db_path}: cannot use the store database ({exc})") from None
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"{self.db_path}: not an overheard store database ({exc})") from None
        self.evidence = EvidenceStore(self.root / "evidence")
        self.derived_dir = self.root / "derived"

    # -- opening -----------------------------------------------------------------
    def _check_directory(self, create: bool) -> None:
        if self.path.exists() and not self.path.is_dir():
            raise StoreError(f"{self.path}: store path exists and is not a directory")
        if self.path.is_dir() and not self.db_path.exists():
            # Refuse to scatter a store into a folder that holds something else.
            foreign = [p.name for p in self.path.iterdir() if not p.name.startswith(".")]
            if foreign:
                raise StoreError(f"{self.path}: not an overheard store (no {DB_NAME}, "
                                 f"but holds {len(foreign)} other entries, e.g. {foreign[0]!r})")
        if not self.db_path.exists() and not create:
            raise StoreError(f"{self.path}: no store here (missing {DB_NAME}); ingest something first")

    def _migrate(self) -> int:
        """Apply pending migrations; returns the schema version the file had."""
        version = self.conn.execute("PRAGMA user_version").fetchone()[0]
        if version == 0:
            tables = self.conn.execute(
                "SELECT count(*) FROM sqlite_master WHERE type='table'").fetchone()[0]
            if tables:
                raise StoreError(f"{self.db_path}: SQLite file with foreign tables, not an overheard store")
        if version > SCHEMA_VERSION:
            raise StoreError(f"{self.db_path}: schema version {version} is newer than this "
                             f"overheard ({SCHEMA_VERSION}); upgrade overheard")
        for number in range(version, SCHEMA_VERSION):
            with self.transaction():
                # Re-check inside the lock: another process may have migrated meanwhile.
                if self.conn.execute("PRAGMA user_version").fetchone()[0] != number:
                    continue
                for statement in MIGRATIONS[number]:
                    self.conn.execute(statement)
                self.conn.execute(f"PRAGMA user_version = {number + 1}")
        return version

    def _seal_existing(self) -> None:
        """A store written before seals existed: seal its rows as they are now, one audit row per
        source, saying so (what changed before this moment cannot be shown)."""
        if not unsealed(self.conn):
            return
        with self.transaction():
            for (source_id,) in self.conn.execute("SELECT id FROM sources ORDER BY id").fetchall():
                rows = source_rows(self.conn, source_id)
                self.audit("seal.existing", f"source:{source_id}",
                           {"source_id": source_id, "note": "rows sealed as found when the store was upgraded"},
                           actor="overheard:upgrade", seal=rows)

    def close(self) -> None:
        self.conn.close()

    def __enter__(self) -> "Store":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # -- units of work -------------------------------------------------------------
    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """BEGIN IMMEDIATE … COMMIT, rolled back on any exception. Not re-entrant."""
        self.conn.execute("BEGIN IMMEDIATE")
        try:
            yield self.conn
        except BaseException:
            self._head = None
            self.conn.execute("ROLLBACK")
            raise
        else:
            self.conn.execute("COMMIT")
            if self._head is not None:
                self._write_head()

    def _write_head(self) -> None:
        """Keep the newest audit row beside the database, so that deleting the newest rows of the
        log shows in verify. Written after the commit: at worst it lags one row (harmless)."""
        row, digest = self._head
        self._head = None
        tmp = self.head_path.with_name(f".{HEAD_NAME}.{os.getpid()}.tmp")
        try:
            tmp.write_text(json.dumps({"row": row, "hash": digest, "at": utc_now()}) + "\n")
            os.replace(tmp, self.head_path)
        except OSError:
            tmp.unlink(missing_ok=True)    # the commit stands; verify then sees an older head

    @property
    def schema_version(self) -> int:
        return self.conn.execute("PRAGMA user_version").fetchone()[0]

    # -- lineage -------------------------------------------------------------------
    def start_run(self, stage: str, *, component: str | None = None,
                  component_version: str | None = None, params: dict | None = None) -> int:
        """Record a run (what produced the rows that follow). Call inside a transaction."""
        cur = self.conn.execute(
            "INSERT INTO runs(stage, tool_version, component, component_version, params, started_at)"
            " VALUES (?,?,?,?,?,?)",
            (stage, __version__, component, component_version,
             json.dumps(params or {}, sort_keys=True, ensure_ascii=False), utc_now()))
        return cur.lastrowid

    def finish_run(self, run_id: int, status: str = "done") -> None:
        self.conn.execute("UPDATE runs SET finished_at = ?, status = ? WHERE id = ?",
                          (utc_now(), status, run_id))

    # -- audit -----------------------------------------------------------------------
    def audit(self, action: str, target: str, details: dict[str, Any], actor: str | None = None,
              seal: dict[str, Any] | None = None) -> str:
        """Append one hash-chained audit row. Call inside a transaction. ``seal`` names the rows this
        unit of work wrote or changed ({table: ids or a range}): they are hashed now, and the row
        records their digest (store/seal.py)."""
        # inside the write lock (a transaction), so the row written below is last + 1
        last = self.conn.execute("SELECT max(id) FROM audit_log").fetchone()[0] or 0
        if seal:
            details = {**details, "sealed": seal_rows(self.conn, last + 1, seal)}
        digest = append_audit(self.conn, action=action, target=target, details=details,
                              actor=actor or default_actor(), at=utc_now())
        self._head = (last + 1, digest)
        return digest

    # -- small queries used across the package ---------------------------------------
    def source_by_sha(self, sha256: str) -> sqlite3.Row | None:
        return self.conn.execute("SELECT * FROM sources WHERE sha256 = ?", (sha256,)).fetchone()

    def resolve_source(self, ref: str) -> sqlite3.Row:
        """A source by numeric id, (a unique prefix of) its SHA-256, or its unique file name."""
        named = self.conn.execute("SELECT * FROM sources WHERE original_name = ? LIMIT 2", (ref,)).fetchall()
        if len(named) == 1:
            return named[0]
        if len(named) > 1:
            raise StoreError(f"source {ref!r}: several sources have this name; give the id or SHA-256")
        if ref.isascii() and ref.isdigit() and int(ref) < 2**63:   # beyond SQLite's INTEGER: a hex prefix
            row = self.conn.execute("SELECT * FROM sources WHERE id = ?", (int(ref),)).fetchone()
        else:
            ref_hex = ref.lower()
            if not ref_hex or any(c not in "0123456789abcdef" for c in ref_hex):
                raise StoreError(f"source {ref!r}: not an id, a SHA-256 prefix or a source file name")
            rows = self.conn.execute("SELECT * FROM sources WHERE substr(sha256, 1, ?) = ? LIMIT 2",
                                     (len(ref_hex), ref_hex)).fetchall()
            if len(rows) > 1:
                raise StoreError(f"source {ref!r}: prefix matches several sources; give more characters")
            row = rows[0] if rows else None
        if row is None:
            raise StoreError(f"source {ref!r}: no such source in {self.path}")
        return row

    def counts(self) -> dict[str, int]:
        q = lambda sql: self.conn.execute(sql).fetchone()[0]  # noqa: E731
        return {
            "sources": q("SELECT count(*) FROM sources"),
            "utterances": q("SELECT count(*) FROM utterances"),
            "boilerplate": q("SELECT count(*) FROM utterances WHERE is_boilerplate = 1"),
            "findings": q("SELECT count(*) FROM findings"),
            "runs": q("SELECT count(*) FROM runs"),
            "audit_rows": q("SELECT count(*) FROM audit_log"),
        }
