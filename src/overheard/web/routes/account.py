"""Signing in and out."""

from __future__ import annotations

import math

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse

from .. import auth
from ..guard import LOGIN_COOKIE, SESSION_COOKIE, _safe_next, require
from .common import form_data, store_of

router = APIRouter()


@router.get("/", include_in_schema=False)
def home():
    return RedirectResponse("/search", status_code=303)


@router.get("/login")
def login_form(request: Request):
    return request.app.state.login_page(request)


@router.post("/login")
def login(request: Request, form: dict = Depends(form_data)):
    name = (form.get("name") or "").strip()[:64]
    password = form.get("password") or ""
    nxt = _safe_next(form.get("next"))
    if not auth.tokens_match(form.get("login_csrf"), request.cookies.get(LOGIN_COOKIE)):
        return request.app.state.login_page(request, status=403, name=name,
                                    message="The sign-in form expired; try again.")
    client = request.client.host if request.client else "unknown"
    limiter = request.app.state.limiter
    wait = limiter.retry_after(name, client)
    if wait:
        return request.app.state.login_page(request, status=429, name=name, headers={"Retry-After": str(wait)},
                                    message=f"Too many failed sign-ins; try again in {math.ceil(wait / 60)} min.")
    if not name or not password:
        return request.app.state.login_page(request, status=422, name=name, message="Give your name and password.")
    user = auth.authenticate(store_of(request).conn, name, password)
    if user is None:
        limiter.failed(name, client)
        return request.app.state.login_page(request, status=401, name=name, message="Wrong name or password.")
    limiter.succeeded(name)
    token = request.app.state.sessions.create(user["id"], user["name"])
    resp = RedirectResponse(nxt, status_code=303)
    resp.set_cookie(SESSION_COOKIE, token, httponly=True, samesite="strict",
                    secure=request.app.state.secure_cookies, path="/")
    resp.delete_cookie(LOGIN_COOKIE, path="/login")
    return resp


@router.post("/logout")
def logout(request: Request, form: dict = Depends(form_data)):
    require(request, "viewer", form)
    request.app.state.sessions.drop(request.cookies.get(SESSION_COOKIE))
    resp = RedirectResponse("/login", status_code=303)
    resp.delete_cookie(SESSION_COOKIE, path="/")
    return resp
