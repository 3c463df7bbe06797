"""The workbench's routes, one router per page family. GET pages are plain server-rendered
HTML; every POST carries the session's CSRF token and answers with a redirect (303) back to the
page, so it works with and without HTMX. ``create_app(..., families=[...])`` mounts a subset,
so a family can be tested alone."""

from __future__ import annotations

from fastapi import FastAPI

from . import account, admin, dashboard, media, review, search, sources

FAMILIES = {
    "account": account.router,      # /, /login, /logout
    "search": search.router,        # /search and its downloads
    "review": review.router,        # /utterance/…, /review, /finding/…
    "media": media.router,          # /audio/…
    "sources": sources.router,      # /sources, /source/…, /admin/source/…
    "dashboard": dashboard.router,  # /dashboard
    "admin": admin.router,          # /audit, /admin/users
}


def install(app: FastAPI, families: list[str] | tuple[str, ...] | None = None) -> None:
    unknown = set(families or ()) - set(FAMILIES)
    if unknown:
        raise ValueError(f"unknown route families: {', '.join(sorted(unknown))} (known: {', '.join(FAMILIES)})")
    for name in families or FAMILIES:
        app.include_router(FAMILIES[name])
