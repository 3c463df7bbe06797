"""Evidence store: SQLite (WAL) + content-addressed originals + hash-chained audit log."""

from .db import Store, StoreError, default_store_path, utc_now
from .evidence import sha256_file

__all__ = ["Store", "StoreError", "default_store_path", "utc_now", "sha256_file"]
