"""What every CLI command module shares: the consoles, the store option's state, the one-line
failure, opening the store. Kept apart from ``cli`` so that command modules registered into the
main app (``web.cli``) never import the module that registers them."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console
from rich.markup import escape

from .store import Store, StoreError, default_store_path

console = Console()
err = Console(stderr=True, soft_wrap=True)  # error lines stay one line each


class State:
    store_path: Path = default_store_path()


def fail(message: str, code: int = 1) -> "typer.Exit":
    err.print(f"[red]error:[/] {escape(message)}")
    return typer.Exit(code)


def check_out(path: Path | None) -> None:
    """An output path whose folder is missing gets one line, not a traceback."""
    if path is not None and not path.resolve().parent.is_dir():
        raise fail(f"{path}: folder {path.resolve().parent} does not exist", 2)


def open_store(create: bool = False) -> Store:
    try:
        return Store(State.store_path, create=create)
    except StoreError as exc:
        raise fail(str(exc))
