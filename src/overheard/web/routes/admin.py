"""Admin pages: the audit log with the store's verification, and user accounts."""

from __future__ import annotations

import json

from fastapi import APIRouter, Depends, Request

from .. import auth
from ..guard import WebError, require
from .common import ID, done, form_data, page, store_of, whole_number

router = APIRouter()


@router.get("/audit")
def audit_page(request: Request):
    require(request, "admin")
    from ...store.verify import verify_store
    store = store_of(request)
    before = whole_number(dict(request.query_params), "before", required=False, lo=1, hi=2**62)
    rows = store.conn.execute("SELECT * FROM audit_log WHERE id < ? ORDER BY id DESC LIMIT 101",
                              (before or 2**62,)).fetchall()
    entries = []
    for r in rows[:100]:
        try:
            details = json.dumps(json.loads(r["details"]), ensure_ascii=False, indent=1)
        except ValueError:
            details = r["details"]
        entries.append({**dict(r), "pretty": details})
    report = verify_store(store)
    return page(request, "audit.html", {"entries": entries, "report": report,
                                        "next_before": rows[99]["id"] if len(rows) > 100 else None})


# ------------------------------------------------------------------ users (admin)
@router.get("/admin/users")
def users_page(request: Request):
    require(request, "admin")
    return page(request, "users.html", {"users": auth.list_users(store_of(request).conn), "roles": auth.ROLES})


@router.post("/admin/users")
def users_add(request: Request, form: dict = Depends(form_data)):
    sess, user = require(request, "admin", form)
    try:
        auth.add_user(store_of(request), (form.get("name") or "").strip(), form.get("role", ""),
                      form.get("password") or "", actor=f"web:{user['name']}")
    except auth.AccountError as exc:
        raise WebError(422, str(exc)) from None
    return done(request, "/admin/users", f"User {form.get('name')} added.")


@router.post("/admin/users/{user_id}")
def users_update(request: Request, user_id: int = ID(), form: dict = Depends(form_data)):
    sess, user = require(request, "admin", form)
    role = form.get("role") or None
    disabled = {"1": True, "0": False}.get(form.get("disabled", ""), None)
    try:
        r = auth.update_user(store_of(request), user_id, actor=f"web:{user['name']}", role=role, disabled=disabled)
    except LookupError as exc:
        raise WebError(404, str(exc)) from None
    except auth.AccountError as exc:
        raise WebError(422, str(exc)) from None
    if r["after"]["disabled"]:
        request.app.state.sessions.drop_user(user_id, "This account has been disabled by an administrator;"
                                              " ask them to enable it.")
    return done(request, "/admin/users", f"User {user_id}: {r['before']} → {r['after']}.")

