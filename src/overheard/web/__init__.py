"""The analyst web workbench (``overheard serve``)."""

from .app import create_app

__all__ = ["create_app"]
