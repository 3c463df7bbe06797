"""Accounts, server-side sessions, CSRF tokens and login rate limiting.

* Passwords: argon2id (argon2-cffi defaults); a login for an unknown name still runs one
  argon2 verification so that timing does not tell which names exist.
* Sessions live in server memory, keyed by the SHA-256 of a random 256-bit token; the cookie
  holds the token only (HttpOnly, SameSite=Strict). A session ends after ``idle_s`` without a
  request or ``ttl_s`` after login, whichever comes first, and on logout or server restart.
  The user's role and ``disabled`` flag are read from the store on every request, so a change
  takes effect at once.
* CSRF: every session has its own random token; every state-changing request must carry it
  (form field ``csrf`` or header ``X-CSRF-Token``). The login form uses a double-submit
  cookie instead (there is no session yet).
* Rate limiting: failed logins are counted per name and per client address in a sliding
  window; over the limit, further attempts are refused (429) without checking the password.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import sqlite3
import threading
import time
from collections import defaultdict, deque
from dataclasses import dataclass, field
from typing import Callable

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from ..store import Store, utc_now

ROLES = ("viewer", "analyst", "admin")
RANK = {r: i for i, r in enumerate(ROLES)}
NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
MIN_PASSWORD = 10
MAX_PASSWORD = 1024

_hasher = PasswordHasher()
_DUMMY_HASH = _hasher.hash("overheard-dummy-password")


class AccountError(ValueError):
    """A user-facing one-line reason an account operation was refused."""


def hash_password(password: str) -> str:
    check_password(password)
    return _hasher.hash(password)


def check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise AccountError(f"password too short: at least {MIN_PASSWORD} characters")
    if len(password) > MAX_PASSWORD:
        raise AccountError(f"password too long: at most {MAX_PASSWORD} characters")


def check_name(name: str) -> str:
    if not NAME_RE.match(name or ""):
        raise AccountError("user name: 1–64 characters, letters, digits, '.', '_' or '-', "
                           "starting with a letter or digit")
    return name


def check_role(role: str) -> str:
    if role not in ROLES:
        raise AccountError(f"role {role!r}: expected one of {', '.join(ROLES)}")
    return role


def add_user(store: Store, name: str, role: str, password: str, *, actor: str) -> int:
    """Create an account (one transaction, audited; the hash never enters the audit log)."""
    check_name(name)
    check_role(role)
    digest = hash_password(password)
    with store.transaction() as conn:
        if conn.execute("SELECT 1 FROM users WHERE name = ?", (name,)).fetchone():
            raise AccountError(f"user {name!r} already exists")
        uid = conn.execute("INSERT INTO users(name, role, password_hash, created_at) VALUES (?,?,?,?)",
                           (name, role, digest, utc_now())).lastrowid
        store.audit("user.add", f"user:{name}", {"user_id": uid, "name": name, "role": role}, actor=actor)
    return uid


def update_user(store: Store, user_id: int, *, actor: str, role: str | None = None,
                disabled: bool | None = None) -> dict:
    """Change a user's role or disabled flag; returns {before, after}."""
    if role is not None:
        check_role(role)
    with store.transaction() as conn:
        row = conn.execute("SELECT * FROM users WHERE id = ?", (user_id,)).fetchone()
        if row is None:
            raise LookupError(f"user {user_id}: no such user")
        before = {"role": row["role"], "disabled": bool(row["disabled"])}
        after = dict(before)
        if role is not None:
            after["role"] = role
        if disabled is not None:
            after["disabled"] = bool(disabled)
        if after == before:
            return {"before": before, "after": after}
        if before["role"] == "admin" and (after["role"] != "admin" or after["disabled"]):
            admins = conn.execute("SELECT count(*) FROM users WHERE role = 'admin' AND disabled = 0"
                                  " AND id != ?", (user_id,)).fetchone()[0]
            if admins == 0:
                raise AccountError("refused: this is the last active admin")
        conn.execute("UPDATE users SET role = ?, disabled = ? WHERE id = ?",
                     (after["role"], int(after["disabled"]), user_id))
        store.audit("user.update", f"user:{row['name']}", {"user_id": user_id, "before": before,
                                                             "after": after}, actor=actor)
    return {"before": before, "after": after}


def set_password(store: Store, name: str, password: str, *, actor: str) -> None:
    digest = hash_password(password)
    with store.transaction() as conn:
        row = conn.execute("SELECT id FROM users WHERE name = ?", (name,)).fetchone()
        if row is None:
            raise AccountError(f"user {name!r}: no such user")
        conn.execute("UPDATE users SET password_hash = ? WHERE id = ?", (digest, row["id"]))
        store.audit("user.password", f"user:{name}", {"user_id": row["id"]}, actor=actor)


def list_users(conn: sqlite3.Connection) -> list[sqlite3.Row]:
    return conn.execute("SELECT id, name, role, created_at, disabled FROM users ORDER BY name").fetchall()


def authenticate(conn: sqlite3.Connection, name: str, password: str) -> sqlite3.Row | None:
    """The user row when name and password match an enabled account, else None."""
    row = conn.execute("SELECT * FROM users WHERE name = ?", (name,)).fetchone()
    digest = row["password_hash"] if row is not None else _DUMMY_HASH
    try:
        ok = _hasher.verify(digest, password[:MAX_PASSWORD])
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        ok = False
    if not ok or row is None or row["disabled"]:
        return None
    return row


# --------------------------------------------------------------------------- sessions
@dataclass
class Session:
    user_id: int
    name: str
    csrf: str
    created: float
    last_seen: float
    flash: list[tuple[str, str]] = field(default_factory=list)   # (level, message)


class Sessions:
    """In-memory server-side sessions. Thread-safe."""

    def __init__(self, ttl_s: float = 8 * 3600, idle_s: float = 30 * 60,
                 clock: Callable[[], float] = time.time):
        self.ttl_s, self.idle_s, self.clock = ttl_s, idle_s, clock
        self._by_hash: dict[str, Session] = {}
        self._revoked: dict[str, tuple[float, str]] = {}   # token hash -> (when, why), for one message
        self._lock = threading.Lock()

    @staticmethod
    def _key(token: str) -> str:
        return hashlib.sha256(token.encode("utf-8", "replace")).hexdigest()

    def create(self, user_id: int, name: str) -> str:
        token = secrets.token_urlsafe(32)
        now = self.clock()
        with self._lock:
            self._purge(now)
            self._by_hash[self._key(token)] = Session(user_id, name, secrets.token_urlsafe(32), now, now)
        return token

    def get(self, token: str | None) -> tuple[Session | None, bool]:
        """(session, expired): expired is True when a cookie was sent but names no live session."""
        if not token:
            return None, False
        now = self.clock()
        key = self._key(token)
        with self._lock:
            sess = self._by_hash.get(key)
            if sess is None:
                return None, True
            if now - sess.created > self.ttl_s or now - sess.last_seen > self.idle_s:
                del self._by_hash[key]
                return None, True
            sess.last_seen = now
            return sess, False

    def drop(self, token: str | None) -> None:
        if token:
            with self._lock:
                self._by_hash.pop(self._key(token), None)

    def drop_user(self, user_id: int, reason: str | None = None) -> None:
        """End every session of a user; with ``reason``, the next request of each is told why
        (not that the session "expired")."""
        now = self.clock()
        with self._lock:
            for key in [k for k, s in self._by_hash.items() if s.user_id == user_id]:
                del self._by_hash[key]
                if reason:
                    self._revoked[key] = (now, reason)
            for key in [k for k, (t, _) in self._revoked.items() if now - t > self.ttl_s]:
                del self._revoked[key]

    def revoked_reason(self, token: str | None) -> str | None:
        """Why this cookie's session was ended by an administrator, if it was (said once)."""
        if not token:
            return None
        with self._lock:
            hit = self._revoked.pop(self._key(token), None)
        return hit[1] if hit else None

    def _purge(self, now: float) -> None:
        dead = [k for k, s in self._by_hash.items()
                if now - s.created > self.ttl_s or now - s.last_seen > self.idle_s]
        for k in dead:
            del self._by_hash[k]


def tokens_match(a: str | None, b: str | None) -> bool:
    return bool(a) and bool(b) and hmac.compare_digest(a.encode("utf-8", "replace"), b.encode("utf-8", "replace"))


# --------------------------------------------------------------------------- rate limiting
class LoginLimiter:
    """At most ``per_name`` failed logins per name and ``per_client`` per client address
    within ``window_s``; a success clears the name's failures."""

    def __init__(self, per_name: int = 5, per_client: int = 20, window_s: float = 900,
                 clock: Callable[[], float] = time.time):
        self.per_name, self.per_client, self.window_s, self.clock = per_name, per_client, window_s, clock
        self._fails: dict[tuple[str, str], deque] = defaultdict(deque)
        self._lock = threading.Lock()

    def _count(self, key: tuple[str, str], now: float) -> int:
        q = self._fails.get(key)
        if not q:
            return 0
        while q and now - q[0] > self.window_s:
            q.popleft()
        if not q:
            del self._fails[key]
            return 0
        return len(q)

    def retry_after(self, name: str, client: str) -> int:
        """Seconds until another attempt is allowed (0: allowed now)."""
        now = self.clock()
        with self._lock:
            waits = []
            for key, limit in ((("name", name.lower()), self.per_name), (("client", client), self.per_client)):
                if self._count(key, now) >= limit:
                    waits.append(self.window_s - (now - self._fails[key][0]))
            return int(max(waits) + 1) if waits else 0

    def failed(self, name: str, client: str) -> None:
        now = self.clock()
        with self._lock:
            self._fails[("name", name.lower())].append(now)
            self._fails[("client", client)].append(now)

    def succeeded(self, name: str) -> None:
        with self._lock:
            self._fails.pop(("name", name.lower()), None)
