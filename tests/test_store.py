import sqlite3

import pytest

from overheard import Store, StoreError
from overheard.store.schema import SCHEMA_VERSION


def test_new_store_is_wal_and_migrated(tmp_path):
    with Store(tmp_path / "s") as store:
        assert store.schema_version == SCHEMA_VERSION
        assert store.conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        tables = {r[0] for r in store.conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        assert {"sources", "utterances", "runs", "audit_log", "findings"} <= tables
    # reopening an existing store does not re-run migrations
    with Store(tmp_path / "s", create=False) as store:
        assert store.schema_version == SCHEMA_VERSION


def test_directory_that_is_not_a_store_is_refused(tmp_path):
    (tmp_path / "photos").mkdir()
    (tmp_path / "photos" / "cat.jpg").write_bytes(b"\xff\xd8")
    with pytest.raises(StoreError, match="not an overheard store"):
        Store(tmp_path / "photos")


def test_foreign_sqlite_file_is_refused(tmp_path):
    d = tmp_path / "s"
    d.mkdir()
    con = sqlite3.connect(d / "overheard.db")
    con.execute("CREATE TABLE other(x)")
    con.commit()
    con.close()
    with pytest.raises(StoreError, match="foreign tables"):
        Store(d)


def test_garbage_database_file_is_refused(tmp_path):
    d = tmp_path / "s"
    d.mkdir()
    (d / "overheard.db").write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(StoreError, match="not an overheard store"):
        Store(d)


def test_missing_store_without_create(tmp_path):
    with pytest.raises(StoreError, match="no store here"):
        Store(tmp_path / "nothing", create=False)


def test_audit_log_refuses_updates_and_deletes(store):
    with store.transaction():
        store.audit("test", "x", {"a": 1})
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        store.conn.execute("UPDATE audit_log SET actor = 'mallory'")
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        store.conn.execute("DELETE FROM audit_log")


def test_evidence_is_written_once_and_read_only(store, tmp_path):
    sha, created = store.evidence.put_bytes(b"original bytes")
    assert created
    path = store.evidence.path_for(sha)
    assert path.read_bytes() == b"original bytes"
    assert path.stat().st_mode & 0o222 == 0        # no write bits
    assert store.evidence.put_bytes(b"original bytes") == (sha, False)
    assert path.parent.name == sha[:2] and path.name == sha[2:]


def test_an_unusable_database_file_is_not_called_foreign(tmp_path):
    """Issue 13, Low 14: an I/O problem (here: overheard.db is a folder, so SQLite cannot
    open it — as with a full or failing disk) is reported as such, not as "not an overheard
    store database"."""
    from overheard import Store, StoreError
    root = tmp_path / "s"
    (root / "overheard.db").mkdir(parents=True)
    with pytest.raises(StoreError) as ei:
        Store(root)
    assert "cannot use the store database" in str(ei.value) and "not an overheard store" not in str(ei.value)
    (tmp_path / "t").mkdir()
    (tmp_path / "t" / "overheard.db").write_bytes(b"this is not SQLite at all" * 100)
    with pytest.raises(StoreError, match="not an overheard store database"):
        Store(tmp_path / "t")
