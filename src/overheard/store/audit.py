"""Append-only, hash-chained audit log.

Each row's hash covers its own fields and the previous row's hash, so editing,
deleting or reordering any row breaks the chain from that row on. ``verify_chain``
walks it and names the first row that does not fit.
"""

from __future__ import annotations

import getpass
import hashlib
import json
import os
import sqlite3
from dataclasses import dataclass
from typing import Any

GENESIS = "0" * 64


def default_actor() -> str:
    try:
        user = getpass.getuser()
    except Exception:  # no passwd entry in some containers
        user = "unknown"
    return os.environ.get("OVERHEARD_ACTOR") or f"cli:{user}"


def canonical(details: dict[str, Any]) -> str:
    return json.dumps(details, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def row_hash(row_id: int, at: str, actor: str, action: str, target: str, details: str,
             prev_hash: str) -> str:
    payload = "\x1f".join([str(row_id), at, actor, action, target, details, prev_hash])
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def append(conn: sqlite3.Connection, *, action: str, target: str, details: dict[str, Any],
           actor: str, at: str) -> str:
    last = conn.execute("SELECT id, hash FROM audit_log ORDER BY id DESC LIMIT 1").fetchone()
    row_id = (last[0] + 1) if last else 1
    prev = last[1] if last else GENESIS
    body = canonical(details)
    digest = row_hash(row_id, at, actor, action, target, body, prev)
    conn.execute(
        "INSERT INTO audit_log(id, at, actor, action, target, details, prev_hash, hash)"
        " VALUES (?,?,?,?,?,?,?,?)", (row_id, at, actor, action, target, body, prev, digest))
    return digest


@dataclass
class ChainProblem:
    row_id: int
    problem: str

    def __str__(self) -> str:
        return f"audit_log row {self.row_id}: {self.problem}"


def verify_chain(conn: sqlite3.Connection) -> tuple[list[ChainProblem], int, str]:
    """Returns (problems, rows checked, head hash)."""
    problems: list[ChainProblem] = []
    prev_hash, expected_id, n = GENESIS, 1, 0
    for row in conn.execute("SELECT id, at, actor, action, target, details, prev_hash, hash"
                            " FROM audit_log ORDER BY id"):
        n += 1
        row_id, at, actor, action, target, details, stored_prev, stored_hash = tuple(row)
        if row_id != expected_id:
            problems.append(ChainProblem(row_id, f"rows {expected_id}..{row_id - 1} are missing"))
        if stored_prev != prev_hash:
            problems.append(ChainProblem(
                row_id, "previous-hash link broken (a row before it was removed, altered or reordered)"))
        if row_hash(row_id, at, actor, action, target, details, stored_prev) != stored_hash:
            problems.append(ChainProblem(row_id, f"content altered ({action} {target})"))
        prev_hash, expected_id = stored_hash, row_id + 1
    return problems, n, prev_hash
