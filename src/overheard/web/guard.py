"""What every route shares: the error a route raises for the user, the session cookies, the
redirect guard, and ``require`` — the one place that checks sign-in, role, CSRF token and Origin.
Kept apart from ``app`` so that routes never import the module that installs them."""

from __future__ import annotations

from urllib.parse import urlsplit

from fastapi import Request

from . import auth
from .auth import RANK

SESSION_COOKIE = "overheard_session"
LOGIN_COOKIE = "overheard_login"


class WebError(Exception):
    """An error page: status, one-line message for the user, optional extra headers."""

    def __init__(self, status: int, message: str, headers: dict | None = None):
        super().__init__(message)
        self.status, self.message, self.headers = status, message, headers or {}


class BodyTooLarge(Exception):
    pass


def _safe_next(value: str | None) -> str:
    """Only local paths: never an absolute or scheme-relative URL (open redirect)."""
    if not value or not value.startswith("/") or value.startswith("//") or "\\" in value:
        return "/search"
    parts = urlsplit(value)
    if parts.scheme or parts.netloc:
        return "/search"
    return value


def require(request: Request, role: str, form: dict | None = None):
    """The signed-in user's (session, user row), checking role and — for state-changing
    requests — the CSRF token and Origin. Raises WebError 401/403."""
    app = request.app
    token = request.cookies.get(SESSION_COOKIE)
    sess, expired = app.state.sessions.get(token)
    if sess is None:
        reason = app.state.sessions.revoked_reason(token)
        raise WebError(401, reason or ("Your session has expired; sign in again." if expired
                                       else "Sign in to use the workbench."))
    user = app.state.get_store().conn.execute("SELECT id, name, role, disabled FROM users WHERE id = ?",
                                              (sess.user_id,)).fetchone()
    if user is None or user["disabled"]:
        app.state.sessions.drop(token)
        raise WebError(401, "This account is disabled or no longer exists.")
    request.state.session, request.state.user = sess, user
    if request.method not in ("GET", "HEAD"):
        origin = request.headers.get("origin")
        if origin and origin != "null" and urlsplit(origin).netloc != request.headers.get("host"):
            raise WebError(403, "Cross-site request refused.")
        sent = (form or {}).get("csrf") or request.headers.get("x-csrf-token")
        if not auth.tokens_match(sent, sess.csrf):
            raise WebError(403, "The form's security token is missing or stale; reload the page and try again.")
    if RANK[user["role"]] < RANK[role]:
        raise WebError(403, f"Your role ({user['role']}) may not do this; it needs {role}.")
    return sess, user
