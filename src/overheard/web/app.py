"""The analyst workbench: a FastAPI app over one store.

``create_app(store_path)`` returns the ASGI app; ``overheard serve`` runs it under uvicorn.
Pages are rendered on the server (Jinja2) and readable without JavaScript; HTMX and
wavesurfer.js (vendored under ``static/vendor``, never fetched from elsewhere) add partial
updates, span selection and the waveform player.
"""

from __future__ import annotations

import logging
import secrets
import threading
import time
from pathlib import Path
from urllib.parse import urlencode

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from markupsafe import Markup, escape
from starlette.exceptions import HTTPException as StarletteHTTPException

from .. import __version__
from ..store import Store
from .auth import LoginLimiter, Sessions
from .guard import LOGIN_COOKIE, BodyTooLarge, WebError, _safe_next
from .queries import MARK, OptionCache

log = logging.getLogger("overheard.web")

HERE = Path(__file__).resolve().parent
CSP = ("default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
       "media-src 'self' blob:; connect-src 'self'; object-src 'none'; frame-ancestors 'none'; "
       "form-action 'self'; base-uri 'none'")


class LimitsMiddleware:
    """Refuses oversized query strings (414) and bodies (413) before any route runs, and adds
    the security headers to every response."""

    def __init__(self, app, *, max_body: int, max_query: int):
        self.app, self.max_body, self.max_query = app, max_body, max_query

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        if len(scope.get("query_string", b"")) > self.max_query or len(scope.get("raw_path", b"")) > 2048:
            return await _plain(send, 414, "The address is too long (query string over "
                                           f"{self.max_query:,} bytes). Narrow the request.")
        headers = dict(scope.get("headers") or [])
        length = headers.get(b"content-length")
        if length is not None:
            if not length.isdigit():
                return await _plain(send, 400, "Malformed Content-Length header.")
            if int(length) > self.max_body:
                return await _plain(send, 413, f"The request body is too large (over {self.max_body:,} bytes).")
        seen = 0
        started = time.perf_counter()

        async def limited_receive():
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_body:
                    # parsers may wrap this exception in their own; the flag keeps the cause
                    scope["overheard.body_too_large"] = True
                    raise BodyTooLarge()
            return message

        async def send_with_headers(message):
            if message["type"] == "http.response.start":
                extra = [(b"x-content-type-options", b"nosniff"), (b"x-frame-options", b"DENY"),
                         (b"referrer-policy", b"no-referrer"), (b"content-security-policy", CSP.encode()),
                         (b"cross-origin-opener-policy", b"same-origin")]
                dur = (time.perf_counter() - started) * 1000
                extra.append((b"server-timing", f"app;dur={dur:.1f}".encode()))
                names = {k.lower() for k, _ in message.get("headers", [])}
                if b"cache-control" not in names:
                    extra.append((b"cache-control", b"no-store"))
                message = {**message, "headers": list(message.get("headers", [])) + extra}
            await send(message)

        await self.app(scope, limited_receive, send_with_headers)


async def _plain(send, status: int, text: str) -> None:
    body = (f"<!doctype html><meta charset=utf-8><title>{status}</title>"
            f"<p class=error-message>{escape(text)}</p>").encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"text/html; charset=utf-8"),
                            (b"content-length", str(len(body)).encode()),
                            (b"x-content-type-options", b"nosniff")]})
    await send({"type": "http.response.body", "body": body})


def create_app(store_path: str | Path, *, session_ttl_s: float = 8 * 3600, session_idle_s: float = 30 * 60,
               max_body: int = 64 * 1024, max_query: int = 4096, login_per_name: int = 5,
               login_per_client: int = 20, login_window_s: float = 900,
               secure_cookies: bool = False, families: list[str] | None = None) -> FastAPI:
    """The workbench over the store at ``store_path`` (which must exist); ``families`` mounts only
    those route families (see ``routes.FAMILIES``), all by default."""
    store_path = Path(store_path)
    Store(store_path, create=False).close()        # fail now, not on the first request
    app = FastAPI(title="overheard workbench", version=__version__, docs_url=None, redoc_url=None,
                  openapi_url=None)
    app.state.store_path = store_path
    app.state.sessions = Sessions(ttl_s=session_ttl_s, idle_s=session_idle_s)
    app.state.limiter = LoginLimiter(per_name=login_per_name, per_client=login_per_client,
                                     window_s=login_window_s)
    app.state.options = OptionCache()
    app.state.secure_cookies = secure_cookies
    app.state.clip_lock = threading.Lock()
    local = threading.local()

    def get_store() -> Store:
        s = getattr(local, "store", None)
        if s is None:
            s = local.store = Store(store_path, create=False)
        return s

    app.state.get_store = get_store
    templates = Jinja2Templates(directory=str(HERE / "templates"))
    templates.env.filters["snippet"] = _snippet_html
    templates.env.filters["mhz"] = lambda hz: f"{hz / 1e6:.4f} MHz" if hz else ""
    templates.env.filters["secs"] = lambda s: "" if s is None else f"{s:.1f} s"
    templates.env.globals["qs"] = _qs
    app.state.templates = templates

    app.add_middleware(LimitsMiddleware, max_body=max_body, max_query=max_query)
    app.mount("/static", StaticFiles(directory=str(HERE / "static")), name="static")

    # ------------------------------------------------------------------ errors
    def render_error(request: Request, status: int, message: str, headers: dict | None = None) -> Response:
        if status == 401:
            # being asked to sign in is not an error; an expired or revoked session is said plainly
            return login_page(request, message=message, status=401, headers=headers,
                              notice=message == "Sign in to use the workbench.")
        sess = getattr(request.state, "session", None)
        user = getattr(request.state, "user", None)
        return templates.TemplateResponse(request, "error.html", {
            "status": status, "message": message, "user": user,
            "csrf": sess.csrf if sess else "", "flash": []}, status_code=status, headers=headers)

    @app.exception_handler(WebError)
    async def web_error(request: Request, exc: WebError):
        return render_error(request, exc.status, exc.message, exc.headers)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException):
        messages = {404: "No such page.", 405: "That method is not allowed here."}
        message = exc.detail if isinstance(exc.detail, str) and exc.detail not in ("Not Found", "Method Not Allowed") \
            else messages.get(exc.status_code, "Request refused.")
        return render_error(request, exc.status_code, message, getattr(exc, "headers", None))

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError):
        errors = exc.errors()
        if any(e.get("loc", [""])[0] == "path" for e in errors):
            return render_error(request, 404, "No such page (the id in the address is not valid).")
        parts = [f"{'.'.join(str(x) for x in e.get('loc', [])[1:]) or 'input'}: {e.get('msg')}" for e in errors]
        return render_error(request, 422, "Invalid input — " + "; ".join(parts))

    @app.exception_handler(Exception)
    async def crash(request: Request, exc: Exception):
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return render_error(request, 500, "Internal error; it has been logged. Nothing was saved.")

    # ------------------------------------------------------------------ login page
    def login_page(request: Request, *, message: str = "", status: int = 200, headers: dict | None = None,
                   name: str = "", notice: bool = False) -> Response:
        token = request.cookies.get(LOGIN_COOKIE)
        if not token or len(token) > 100:
            token = secrets.token_urlsafe(24)
        nxt = request.url.path + (("?" + request.url.query) if request.url.query else "")
        if request.method != "GET" or request.url.path in ("/login", "/logout"):
            nxt = request.query_params.get("next", "/search") if request.method == "GET" else "/search"
        resp = templates.TemplateResponse(request, "login.html", {
            "message": message, "notice": notice, "login_csrf": token, "next": _safe_next(nxt), "name": name,
            "user": None, "csrf": "", "flash": []}, status_code=status, headers=headers)
        resp.set_cookie(LOGIN_COOKIE, token, httponly=True, samesite="strict", secure=secure_cookies,
                        max_age=3600, path="/login")
        return resp

    app.state.login_page = login_page
    from .routes import install
    install(app, families)
    return app


def _qs(base: dict | None = None, **overrides) -> str:
    merged = {**(base or {}), **overrides}
    return urlencode({k: v for k, v in merged.items() if v not in (None, "")})


def _snippet_html(snippet: str) -> Markup:
    return Markup(str(escape(snippet)).replace(MARK[0], "<mark>").replace(MARK[1], "</mark>"))


