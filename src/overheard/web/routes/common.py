"""What the route families share: form parsing with limits, whole-number fields, the page and
redirect helpers, and the store of the request's thread. Every helper takes the request, so a
family's router works on any app that ``create_app`` set up (tests mount one family alone)."""

from __future__ import annotations

import math

from fastapi import Path as PathParam, Request
from fastapi.responses import RedirectResponse, Response

from ...store import Store
from ..guard import BodyTooLarge, WebError

MAX_FIELDS = 40
MAX_FIELD = 20_000


def ID():
    return PathParam(ge=1, le=2**62)


def store_of(request: Request) -> Store:
    """This thread's connection to the app's store."""
    return request.app.state.get_store()


def detector(request: Request) -> str | None:
    """The newest detector version that has run on the store (pages show its findings)."""
    from ...analyse.apply import latest_detector_version
    return latest_detector_version(store_of(request))


def page(request: Request, name: str, ctx: dict, status: int = 200) -> Response:
    sess = getattr(request.state, "session", None)
    flash = []
    if sess is not None:
        flash, sess.flash = sess.flash, []
    return request.app.state.templates.TemplateResponse(request, name, {
        "user": getattr(request.state, "user", None), "csrf": sess.csrf if sess else "",
        "flash": flash, **ctx}, status_code=status)


def done(request: Request, url: str, message: str, level: str = "ok") -> Response:
    """After a POST: the message for the next page, and a 303 back to it."""
    request.state.session.flash.append((level, message))
    return RedirectResponse(url, status_code=303)


async def form_data(request: Request) -> dict[str, str]:
    """The request's form fields, with limits; malformed or unexpected bodies → 400/413/415."""
    ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if ctype not in ("application/x-www-form-urlencoded", "multipart/form-data"):
        raise WebError(415 if ctype else 400, "Send the form as application/x-www-form-urlencoded.")
    try:
        form = await request.form(max_files=0, max_fields=MAX_FIELDS, max_part_size=MAX_FIELD)
    except BodyTooLarge:
        raise WebError(413, "The request body is too large.") from None
    except Exception as exc:   # python-multipart / starlette parse errors
        if request.scope.get("overheard.body_too_large"):    # a chunked body past the limit
            raise WebError(413, "The request body is too large.") from None
        if "maximum size" in str(getattr(exc, "detail", "")):   # starlette's per-field cap
            raise WebError(413, "A form field is too large.") from None
        raise WebError(400, f"Malformed form data ({type(exc).__name__}).") from None
    values: dict[str, str] = {}
    for key, value in form.multi_items():
        if not isinstance(value, str):
            raise WebError(400, "File uploads are not accepted here.")
        if len(value) > MAX_FIELD:
            raise WebError(413, f"Field {key!r} is too long.")
        values[key] = value
    return values


def whole_number(form: dict, key: str, *, required: bool = True, lo: int = 0, hi: int = 2**31) -> int | None:
    raw = (form.get(key) or "").strip()
    if not raw:
        if required:
            raise WebError(422, f"{key}: required")
        return None
    if not raw.lstrip("-").isdigit() or len(raw) > 12:
        raise WebError(422, f"{key}: {raw[:20]!r} is not a whole number")
    value = int(raw)
    if not lo <= value <= hi:
        raise WebError(422, f"{key}: {value} is out of range")
    return value


def pad_seconds(raw: str | None) -> float:
    if raw in (None, ""):
        return 0.0
    try:
        value = float(raw)
    except ValueError:
        raise WebError(422, "pad: not a number of seconds") from None
    if math.isnan(value) or not 0 <= value <= 60:
        raise WebError(422, "pad: between 0 and 60 seconds")
    return round(value * 2) / 2          # half-second steps: a bounded set of cached clips
