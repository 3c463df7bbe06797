import os
import sqlite3

from overheard import Store

from conftest import EXAMPLES, TEXT_EXAMPLES


def _tamper_db(store_dir, sql):
    con = sqlite3.connect(store_dir / "overheard.db")
    con.execute("DROP TRIGGER IF EXISTS audit_log_no_update")
    con.execute("DROP TRIGGER IF EXISTS audit_log_no_delete")
    con.execute(sql)
    con.commit()
    con.close()


def _flip_one_byte(path):
    os.chmod(path, 0o644)
    data = bytearray(path.read_bytes())
    data[10] ^= 0x01
    path.write_bytes(bytes(data))


def test_verify_passes_then_names_the_altered_evidence_file(cli):
    assert cli("ingest", *TEXT_EXAMPLES).exit_code == 0
    ok = cli("verify")
    assert ok.exit_code == 0 and "OK" in ok.output
    with Store(cli.store_dir) as store:
        row = store.conn.execute("SELECT sha256, original_name FROM sources WHERE original_name LIKE '000_%'").fetchone()
        _flip_one_byte(store.evidence.path_for(row["sha256"]))
    bad = cli("verify")
    assert bad.exit_code == 1
    assert f"evidence/{row['sha256'][:2]}/{row['sha256'][2:]}" in bad.output
    assert "000_8507744cc2eb13bf.txt" in bad.output and "altered" in bad.output


def test_verify_reports_missing_evidence(cli):
    cli("ingest", EXAMPLES / "messages.jsonl")
    with Store(cli.store_dir) as store:
        sha = store.conn.execute("SELECT sha256 FROM sources").fetchone()[0]
        path = store.evidence.path_for(sha)
    path.unlink()
    r = cli("verify")
    assert r.exit_code == 1 and "evidence file missing" in r.output


def test_verify_names_an_altered_audit_row(cli):
    cli("ingest", *TEXT_EXAMPLES)
    _tamper_db(cli.store_dir, "UPDATE audit_log SET actor = 'someone else' WHERE id = 2")
    r = cli("verify")
    assert r.exit_code == 1 and "audit_log row 2: content altered" in r.output


def test_verify_names_a_deleted_audit_row(cli):
    cli("ingest", *TEXT_EXAMPLES)
    _tamper_db(cli.store_dir, "DELETE FROM audit_log WHERE id = 3")
    r = cli("verify")
    assert r.exit_code == 1
    assert "audit_log row 4: rows 3..3 are missing" in r.output
    assert "no ingest entry in the audit log" in r.output


def test_verify_detects_reordered_rows(cli):
    cli("ingest", *TEXT_EXAMPLES)
    with Store(cli.store_dir) as store:
        rows = store.conn.execute("SELECT * FROM audit_log WHERE id IN (2, 3) ORDER BY id").fetchall()
    # swap the content of rows 2 and 3 while keeping their ids
    cols = ["at", "actor", "action", "target", "details", "prev_hash", "hash"]
    for row, other in ((rows[0], rows[1]), (rows[1], rows[0])):
        sets = ", ".join(f"{c} = '{str(other[c])}'".replace("\n", " ") for c in cols if c != "details")
        _tamper_db(cli.store_dir, f"UPDATE audit_log SET {sets} WHERE id = {row['id']}")
    r = cli("verify")
    assert r.exit_code == 1 and "audit_log row 2" in r.output


def test_audit_chain_links_each_row_to_the_previous(store, tmp_path):
    for i in range(3):
        f = tmp_path / f"f{i}.txt"
        f.write_text(f"text {i}\n")
        from overheard.ingest import ingest_file
        ingest_file(store, f)
    rows = store.conn.execute("SELECT prev_hash, hash FROM audit_log ORDER BY id").fetchall()
    assert rows[0]["prev_hash"] == "0" * 64
    assert all(rows[i]["prev_hash"] == rows[i - 1]["hash"] for i in range(1, 3))


def test_verify_catches_sources_swapped_behind_the_audit_log(cli):
    cli("ingest", *TEXT_EXAMPLES)
    with Store(cli.store_dir) as store:
        a, b = store.conn.execute("SELECT id, sha256 FROM sources ORDER BY id LIMIT 2").fetchall()
    for sql in (f"UPDATE sources SET sha256 = 'x' WHERE id = {a['id']}",
                f"UPDATE sources SET sha256 = '{a['sha256']}' WHERE id = {b['id']}",
                f"UPDATE sources SET sha256 = '{b['sha256']}' WHERE id = {a['id']}"):
        _tamper_db(cli.store_dir, sql)
    r = cli("verify")
    assert r.exit_code == 1 and "belongs to source" in r.output


def test_evidence_refuses_bytes_that_are_not_the_hashed_ones(store, tmp_path):
    from overheard.store.evidence import EvidenceChanged
    f = tmp_path / "growing.wav"
    f.write_bytes(b"RIFF" + b"\0" * 100)
    import hashlib
    stale = hashlib.sha256(b"RIFF" + b"\0" * 50).hexdigest()    # hashed before the recorder wrote more
    import pytest
    with pytest.raises(EvidenceChanged, match="changed while being ingested"):
        store.evidence.put_file(f, stale)
    assert not store.evidence.path_for(stale).exists() and not list(store.evidence.iter_files())


def test_partial_writes_of_a_killed_ingest_are_reported_then_cleaned(tmp_path):
    """A kill -9 between the temp write and the link leaves evidence/xx/.tmp-* (issue 13,
    Low 9): verify names it; the next ingest removes it once it is surely stale."""
    import os
    import time
    from overheard import Store
    from overheard.store.verify import verify_store
    with Store(tmp_path / "s") as store:
        sub = store.evidence.root / "ab"
        sub.mkdir(parents=True)
        fresh, stale = sub / ".tmp-fresh", sub / ".tmp-stale"
        fresh.write_bytes(b"half")
        stale.write_bytes(b"half")
        old = time.time() - 7200
        os.utime(stale, (old, old))
        rep = verify_store(store)
        assert any(".tmp-stale: partial write" in w for w in rep.warnings), rep.warnings
        assert any(".tmp-fresh: partial write" in w for w in rep.warnings)
    from overheard.ingest import ingest_paths
    note = tmp_path / "note.txt"
    note.write_text("Воды нет третий день.", encoding="utf-8")
    with Store(tmp_path / "s") as store:
        assert stale.exists()                            # opening alone walks nothing
        ingest_paths(store, [note])
        assert not stale.exists() and fresh.exists()     # a young one may be another ingest's
        assert [p.name for p in store.evidence.partial_files()] == [".tmp-fresh"]
