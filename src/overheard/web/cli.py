"""CLI commands for the workbench: ``overheard serve`` and ``overheard user …``.

Registered from ``overheard.cli`` with ``register(app)``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer


def register(app: typer.Typer) -> None:
    """Add ``serve`` and the ``user`` sub-app to the main Typer app."""
    app.command("serve")(serve)
    user_app = typer.Typer(no_args_is_help=True, help="Workbench accounts (viewer, analyst, admin).")
    user_app.command("add")(user_add)
    user_app.command("list")(user_list)
    user_app.command("passwd")(user_passwd)
    app.add_typer(user_app, name="user")


def _store(create: bool = False):
    from ..cli_support import State, fail
    from ..store import Store, StoreError
    try:
        return Store(State.store_path, create=create)
    except StoreError as exc:
        raise fail(str(exc))


def _password(password_file: Optional[Path]) -> str:
    from ..cli_support import fail
    if password_file is not None:
        try:
            text = password_file.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise fail(f"{password_file}: cannot read the password file ({exc})", 2)
        lines = text.splitlines()
        return lines[0] if lines else ""
    return typer.prompt("Password", hide_input=True, confirmation_prompt=True)


def serve(
    host: str = typer.Option("127.0.0.1", "--host", help="Address to bind (default: this machine only)."),
    port: int = typer.Option(8000, "--port", help="TCP port."),
    idle_minutes: float = typer.Option(30.0, "--idle-minutes", help="Sign out after this long without a request."),
    trust_proxy: str = typer.Option("", "--trust-proxy", help="Comma-separated addresses of reverse proxies whose"
                                    " X-Forwarded-For/-Proto headers are believed (default: none)."),
):
    """Run the analyst web workbench over the store (search, review, dashboard, audit)."""
    import uvicorn

    from ..cli_support import State, err, fail
    from ..store import StoreError
    from .app import create_app

    store = _store()
    users = store.conn.execute("SELECT count(*) FROM users WHERE disabled = 0").fetchone()[0]
    store.close()
    if users == 0:
        err.print("[yellow]warning:[/] no accounts yet; add one with "
                  "`overheard user add NAME --role admin`")
    if host not in ("127.0.0.1", "localhost", "::1"):
        err.print(f"[yellow]warning:[/] binding {host}: anyone who can reach this address can try to sign in; "
                  "the workbench speaks plain HTTP — put it behind TLS")
    try:
        app = create_app(State.store_path, session_idle_s=idle_minutes * 60)
    except StoreError as exc:
        raise fail(str(exc))
    err.print(f"overheard workbench on http://{host}:{port}/  store: {State.store_path}")
    uvicorn.run(app, **server_options(host, port, trust_proxy))


def server_options(host: str, port: int, trust_proxy: str = "") -> dict:
    """uvicorn settings of `overheard serve`. Proxy headers are off unless proxies are named:
    uvicorn would otherwise believe X-Forwarded-For from 127.0.0.1, and anyone rotating that
    header through a local port would escape the per-client sign-in limit."""
    proxies = ",".join(p.strip() for p in trust_proxy.split(",") if p.strip())
    return {"host": host, "port": port, "log_level": "warning", "server_header": False,
            "limit_concurrency": 64, "timeout_keep_alive": 5,
            "proxy_headers": bool(proxies), "forwarded_allow_ips": proxies or None}


def user_add(
    name: str = typer.Argument(..., help="Account name (letters, digits, . _ -)."),
    role: str = typer.Option(..., "--role", help="viewer | analyst | admin."),
    password_file: Optional[Path] = typer.Option(None, "--password-file",
                                                 help="Read the password from the first line of this file "
                                                      "(otherwise prompted)."),
):
    """Create a workbench account (argon2 hash; audited)."""
    from ..cli_support import console, fail
    from .auth import AccountError, add_user, check_name, check_role

    try:
        check_name(name)
        check_role(role)
    except AccountError as exc:
        raise fail(str(exc), 2)
    password = _password(password_file)
    store = _store(create=True)
    try:
        uid = add_user(store, name, role, password, actor=_actor())
    except AccountError as exc:
        raise fail(str(exc), 2)
    finally:
        store.close()
    console.print(f"user {name} ({role}) added, id {uid}")


def user_list(as_json: bool = typer.Option(False, "--json", help="One JSON object per user.", metavar=" ")):
    """List workbench accounts (never their password hashes)."""
    import json

    from ..cli_support import console
    from .auth import list_users

    store = _store()
    rows = list_users(store.conn)
    store.close()
    for r in rows:
        if as_json:
            print(json.dumps({"id": r["id"], "name": r["name"], "role": r["role"],
                              "created_at": r["created_at"], "disabled": bool(r["disabled"])}))
        else:
            console.print(f"{r['name']:<24} {r['role']:<8} {'disabled' if r['disabled'] else 'active':<9} "
                          f"since {r['created_at']}")
    if not rows and not as_json:
        console.print("no accounts")


def user_passwd(
    name: str = typer.Argument(..., help="Account name."),
    password_file: Optional[Path] = typer.Option(None, "--password-file",
                                                 help="Read the new password from the first line of this file "
                                                      "(otherwise prompted)."),
):
    """Set a workbench account's password (audited)."""
    from ..cli_support import console, fail
    from .auth import AccountError, set_password

    password = _password(password_file)
    store = _store()
    try:
        set_password(store, name, password, actor=_actor())
    except AccountError as exc:
        raise fail(str(exc), 2)
    finally:
        store.close()
    console.print(f"password of {name} changed")


def _actor() -> str:
    from ..store.audit import default_actor
    return default_actor()
