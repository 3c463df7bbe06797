"""Content seals: verify recomputes every evidence/analysis row and names what was changed
behind the tool's back (issue 13, High 2). Tampering is done the way an attacker with the
SQLite file would: plain SQL, dropping the append-only triggers where needed."""

import hashlib
import json
import shutil
import sqlite3
import zipfile

import pytest

from overheard import Store
from overheard.outputs.package import build_package, verify_package
from overheard.store import seal as seals
from overheard.store.verify import read_anchor, verify_store
from overheard.web.actions import annotate, correct_transcript, review_finding

from conftest import TEXT_EXAMPLES


def _sql(store_dir, *statements):
    con = sqlite3.connect(store_dir / "overheard.db")
    for trigger in ("audit_log_no_update", "audit_log_no_delete", "seals_no_update", "seals_no_delete"):
        con.execute(f"DROP TRIGGER IF EXISTS {trigger}")
    for s in statements:
        con.execute(*s) if isinstance(s, tuple) else con.execute(s)
    con.commit()
    con.close()


@pytest.fixture
def reviewed(demo_store):
    """The demo store with every kind of analyst row: a review, a corrected transcript (two
    versions), a tag, a corrected gloss, and a retraction undone."""
    from overheard.translate.stage import correct_gloss
    st = demo_store
    fid, uid = st.conn.execute("SELECT id, utterance_id FROM findings ORDER BY id LIMIT 1").fetchone()
    review_finding(st, fid, "confirmed", actor="ana", note="clear")
    audio_uid = st.conn.execute("SELECT id FROM utterances WHERE start_s IS NOT NULL ORDER BY id LIMIT 1").fetchone()[0]
    correct_transcript(st, audio_uid, "Приём, как слышишь", actor="ana", reason="heard again")
    annotate(st, uid, "tag", "priority", actor="ana")
    correct_gloss(st, audio_uid, "Over, how do you hear me", actor="ana", reason="better")
    from overheard.store.retract import restore, retract
    retract(st, "1", reason="looked like a duplicate", actor="ana")
    restore(st, "1", reason="it was not", actor="ana")
    return st


def _problems(store_dir, anchors=None):
    with Store(store_dir) as st:
        return verify_store(st, anchors).problems


def test_every_derived_table_is_sealed_and_verify_passes(reviewed):
    rep = verify_store(reviewed)
    assert rep.ok, rep.problems
    for table in seals.SEALED:
        n = reviewed.conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
        assert n > 0, f"fixture has no {table} rows"
    total = sum(reviewed.conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in seals.SEALED)
    assert rep.rows_checked == total
    # every audit row that sealed something records exactly its seal rows
    for audit_id, (action, claim) in seals.sealing_claims(reviewed.conn).items():
        n = reviewed.conn.execute("SELECT count(*) FROM seals WHERE audit_id = ?", (audit_id,)).fetchone()[0]
        assert n == claim["rows"], action


@pytest.mark.parametrize("sql,expect", [
    ("UPDATE utterances SET text = 'всё хорошо' WHERE id = (SELECT min(id) FROM utterances)",
     "utterances row {u}: field text changed"),
    ("UPDATE utterances SET start_s = start_s + 1, end_s = end_s + 1 WHERE id = {a}",
     "utterances row {a}: field start_s, end_s changed"),
    ("UPDATE findings SET code = 'resolve' WHERE id = {f}", "findings row {f}: field code changed"),
    ("DELETE FROM findings WHERE id = {f2}", "findings row {f2}: deleted"),
    ("DELETE FROM reviews", "reviews row 1: deleted"),
    ("DELETE FROM transcript_versions WHERE version = 1", "transcript_versions row 1: deleted"),
    ("UPDATE sources SET captured_at = '2020-01-01T00:00:00Z' WHERE id = 1", "sources row 1: field captured_at changed"),
    ("UPDATE sources SET frequency_hz = 150000000 WHERE frequency_hz IS NOT NULL",
     "sources row {s}: field frequency_hz changed"),
    ("UPDATE sources SET contributor = 'someone else' WHERE id = 1", "sources row 1: field contributor changed"),
    ("UPDATE annotations SET value = 'ignore'", "annotations row 1: field value changed"),
    ("UPDATE glosses SET text = 'All is well' WHERE id = (SELECT max(id) FROM glosses)",
     "glosses row {g}: field text changed"),
    ("UPDATE asr SET raw_text = 'x' WHERE utterance_id = {a}", "asr row {a}: field raw_text changed"),
    ("INSERT INTO findings(utterance_id, code, stance, score, span_start, span_end, evidence, method,"
     " detector_version, run_id) VALUES ({u}, 'fear', 'own', 1, 0, 1, 'x', 'rule', 'v', 1)",
     "findings row {nf}: not sealed by any audit row"),
], ids=["utt-text", "utt-times", "recode", "delete-finding", "delete-reviews", "delete-version", "captured_at",
        "frequency", "contributor", "annotation", "gloss", "asr", "inserted-finding"])
def test_each_edit_behind_the_tools_back_is_named(reviewed, sql, expect):
    c = reviewed.conn
    ids = {"u": c.execute("SELECT min(id) FROM utterances").fetchone()[0],
           "a": c.execute("SELECT min(id) FROM utterances WHERE start_s IS NOT NULL").fetchone()[0],
           "f": c.execute("SELECT min(id) FROM findings").fetchone()[0],
           "f2": c.execute("SELECT max(id) FROM findings").fetchone()[0],
           "nf": c.execute("SELECT max(id) + 1 FROM findings").fetchone()[0],
           "g": c.execute("SELECT max(id) FROM glosses").fetchone()[0],
           "s": c.execute("SELECT id FROM sources WHERE frequency_hz IS NOT NULL").fetchone()[0]}
    assert verify_store(reviewed).ok
    _sql(reviewed.root, sql.format(**ids))
    problems = _problems(reviewed.root)
    assert any(p.startswith(expect.format(**ids)) for p in problems), problems
    assert len(problems) <= 2, problems     # named precisely, not a flood


def test_resealing_a_forged_row_breaks_the_digest_in_the_chain(reviewed):
    """An attacker who also writes a fresh seal for the edited row (computed with the tool's own
    function) is caught by the digest the audit row recorded."""
    c = reviewed.conn
    fid = c.execute("SELECT min(id) FROM findings").fetchone()[0]
    audit_id = c.execute("SELECT max(audit_id) FROM seals WHERE tbl = 'findings' AND row_id = ?", (fid,)).fetchone()[0]
    _sql(reviewed.root, ("UPDATE findings SET code = 'resolve' WHERE id = ?", (fid,)))
    with Store(reviewed.root) as st:
        key, *values = next(seals.select_rows(st.conn, "findings", [fid]))
    forged = (seals.row_hash("findings", key, values), seals.fingerprints(values))
    _sql(reviewed.root, ("UPDATE seals SET hash = ?, fields = ? WHERE tbl = 'findings' AND row_id = ? AND audit_id = ?",
                         (*forged, fid, audit_id)))
    problems = _problems(reviewed.root)
    assert any(p.startswith(f"seals of audit row {audit_id} (analyze)") and "seal table edited" in p
               for p in problems), problems
    assert not any(p.startswith(f"findings row {fid}") for p in problems)   # the row now matches its forged seal


def test_seal_rows_without_their_audit_row_are_named(reviewed):
    _sql(reviewed.root, ("INSERT INTO seals(audit_id, tbl, row_id, hash, fields) VALUES (999999, 'findings', 1, ?, ?)",
                         (b"\0" * 32, b"")))
    assert any("seals of audit row 999999: no audit row recorded them" in p for p in _problems(reviewed.root))


def test_deleting_the_newest_audit_rows_is_caught_by_the_head_kept_beside_the_db(reviewed):
    head = json.loads(reviewed.head_path.read_text())
    last = reviewed.conn.execute("SELECT max(id), hash FROM audit_log").fetchone()
    assert (head["row"], head["hash"]) == tuple(last)
    _sql(reviewed.root, f"DELETE FROM audit_log WHERE id = {last[0]}")
    problems = _problems(reviewed.root)
    assert any(f"audit log cut: audit-head.json records row {last[0]}, but the log ends at row {last[0] - 1}" in p
               for p in problems), problems


def test_an_anchor_kept_elsewhere_catches_a_cut_even_without_the_sidecar(reviewed, tmp_path):
    row, digest = reviewed.conn.execute("SELECT max(id), hash FROM audit_log").fetchone()
    kept = tmp_path / "head-copy.json"
    shutil.copy(reviewed.head_path, kept)
    pkg = tmp_path / "p.zip"
    build_package(reviewed, pkg)          # its manifest records the head too (row + 1 is the export row)
    assert read_anchor(f"{row}:{digest}") == (row, digest)
    assert read_anchor(str(kept)) == (row, digest)
    assert read_anchor(str(pkg)) == (row, digest)
    reviewed.head_path.unlink()
    _sql(reviewed.root, f"DELETE FROM audit_log WHERE id >= {row}")
    problems = _problems(reviewed.root, [(row, digest, "anchor")])
    assert any(f"audit log cut: anchor records row {row}" in p for p in problems), problems
    # a rewritten log (same length, other hashes) differs at the anchored row
    _sql(reviewed.root, ("INSERT INTO audit_log(id, at, actor, action, target, details, prev_hash, hash)"
                         " VALUES (?, 'x', 'x', 'x', 'x', '{}', 'x', ?)", (row, "f" * 64)))
    problems = _problems(reviewed.root, [(row, digest, "anchor")])
    assert any(f"audit row {row}: its hash differs from the one anchor records" in p for p in problems), problems


def test_cli_anchor_option(cli, tmp_path):
    assert cli("ingest", *TEXT_EXAMPLES).exit_code == 0
    with Store(cli.store_dir) as st:
        row, digest = st.conn.execute("SELECT max(id), hash FROM audit_log").fetchone()
    ok = cli("verify", "--anchor", f"{row}:{digest}")
    assert ok.exit_code == 0, ok.output
    assert cli("verify", "--anchor", f"{row + 5}:{digest}").exit_code == 1
    bad = cli("verify", "--anchor", str(tmp_path / "nothing.json"))
    assert bad.exit_code == 2 and "not ROW:HASH" in bad.output


def test_a_store_from_before_seals_is_sealed_once_on_upgrade(tmp_path, monkeypatch):
    from overheard.ingest import ingest_paths
    from overheard.store import db
    root = tmp_path / "old"
    # write it as the schema-7 code did: no seals table, audit rows without seals, no head sidecar
    monkeypatch.setattr(db, "SCHEMA_VERSION", 7)
    plain = Store.audit
    monkeypatch.setattr(Store, "audit", lambda self, action, target, details, actor=None, seal=None:
                        plain(self, action, target, details, actor))
    with Store(root) as st:
        ingest_paths(st, TEXT_EXAMPLES)
        assert st.schema_version == 7
        assert not st.conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'seals'").fetchone()
        n_rows = sum(st.conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in seals.SEALED
                     if t != "retractions")          # a later table (schema 9)
    monkeypatch.undo()
    (root / "audit-head.json").unlink()
    with Store(root) as st:
        from overheard.store.schema import SCHEMA_VERSION
        assert st.schema_version == SCHEMA_VERSION
        backfill = st.conn.execute("SELECT count(*), min(actor) FROM audit_log WHERE action = 'seal.existing'").fetchone()
        assert backfill[0] == st.conn.execute("SELECT count(*) FROM sources").fetchone()[0] and backfill[1] == "overheard:upgrade"
        rep = verify_store(st)
        assert rep.ok, rep.problems
        assert rep.rows_checked == n_rows
    with Store(root) as st:      # opening again does not seal again
        assert st.conn.execute("SELECT count(*) FROM audit_log WHERE action = 'seal.existing'").fetchone()[0] == backfill[0]


# -- packages ----------------------------------------------------------------------------------

def _repack(src, dst, edit):
    """Rewrite members with edit(name, bytes) and recompute the manifest, as a forger would."""
    with zipfile.ZipFile(src) as zin:
        data = {i.filename: zin.read(i.filename) for i in zin.infolist()}
    manifest = json.loads(data["manifest.json"])
    for name in list(data):
        data[name] = edit(name, data[name])
    for m in manifest["members"]:
        m["sha256"] = hashlib.sha256(data[m["path"]]).hexdigest()
        m["size"] = len(data[m["path"]])
    body = json.dumps(manifest).encode()
    with zipfile.ZipFile(dst, "w") as z:
        for name, b in data.items():
            if name not in ("manifest.json", "manifest.sha256"):
                z.writestr(name, b)
        z.writestr("manifest.json", body)
        z.writestr("manifest.sha256", f"{hashlib.sha256(body).hexdigest()}  manifest.json\n")


def test_package_carries_seals_and_passes(reviewed, tmp_path):
    out = tmp_path / "p.zip"
    build_package(reviewed, out)
    rep = verify_package(out)
    assert rep.ok, rep.problems
    total = sum(reviewed.conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in seals.SEALED)
    assert rep.rows_checked == total      # the whole store was packaged: every row is in it


def test_package_exported_after_a_db_edit_fails(reviewed, tmp_path):
    fid = reviewed.conn.execute("SELECT max(id) FROM findings").fetchone()[0]
    _sql(reviewed.root, "UPDATE sources SET contributor = 'someone else' WHERE id = 1",
         f"DELETE FROM findings WHERE id = {fid}")
    out = tmp_path / "p.zip"
    with Store(reviewed.root) as st:
        build_package(st, out)
    problems = verify_package(out).problems
    assert any(p.startswith("sources row 1: field contributor changed") for p in problems), problems
    assert any(p.startswith(f"findings row {fid}: deleted") for p in problems), problems


@pytest.mark.parametrize("member,edit,expect", [
    ("transcripts/", lambda r: {**r, "text": "всё спокойно"}, "text differs from the sealed row"),
    ("transcripts/", lambda r: {**r, "gloss_en": "All quiet"} if r.get("gloss_en") else r,
     "gloss_en differs from the sealed gloss"),
    ("findings.jsonl", lambda r: {**r, "code": "resolve"}, "code differs from the sealed row"),
    ("findings.jsonl", lambda r: {**r, "review_status": "rejected"}, "differs from the sealed reviews"),
], ids=["transcript-text", "gloss", "finding-code", "review-status"])
def test_forged_package_files_contradict_the_sealed_rows(reviewed, tmp_path, member, edit, expect):
    out, forged = tmp_path / "p.zip", tmp_path / "forged.zip"
    build_package(reviewed, out)

    def rewrite(name, data):
        if not name.startswith(member) or name.endswith(".ogg"):
            return data
        lines = [json.loads(line) for line in data.decode().splitlines()]
        return "".join(json.dumps(edit(r), ensure_ascii=False) + "\n" for r in lines).encode()

    _repack(out, forged, rewrite)
    problems = verify_package(forged).problems
    assert any(expect in p for p in problems), problems


def test_forging_the_sealed_rows_too_breaks_their_seals(reviewed, tmp_path):
    out, forged = tmp_path / "p.zip", tmp_path / "forged.zip"
    build_package(reviewed, out)

    def rewrite(name, data):
        if name != "sealed.jsonl":
            return data
        rows = [json.loads(line) for line in data.decode().splitlines()]
        for r in rows:
            if r["table"] == "findings":
                r["values"]["code"] = "resolve"
        return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows).encode()

    _repack(out, forged, rewrite)
    problems = verify_package(forged).problems
    assert any("findings row" in p and "field code changed" in p for p in problems), problems


def test_old_format_packages_still_verify_without_seals(reviewed, tmp_path):
    out, old = tmp_path / "p.zip", tmp_path / "old.zip"
    build_package(reviewed, out)

    with zipfile.ZipFile(out) as zin:
        manifest = json.loads(zin.read("manifest.json"))
    manifest["format"] = "overheard-evidence-package/1"
    manifest["members"] = [m for m in manifest["members"] if m["path"] not in ("sealed.jsonl", "seals.jsonl")]
    body = json.dumps(manifest).encode()
    with zipfile.ZipFile(out) as zin, zipfile.ZipFile(old, "w") as z:
        for i in zin.infolist():
            if i.filename not in ("manifest.json", "manifest.sha256", "sealed.jsonl", "seals.jsonl"):
                z.writestr(i, zin.read(i.filename))
        z.writestr("manifest.json", body)
        z.writestr("manifest.sha256", f"{hashlib.sha256(body).hexdigest()}  manifest.json\n")
    rep = verify_package(old)
    assert rep.ok, rep.problems
    assert rep.rows_checked == 0
    # a new-format package without them is refused
    manifest["format"] = "overheard-evidence-package/2"
    body = json.dumps(manifest).encode()
    new = tmp_path / "new.zip"
    with zipfile.ZipFile(old) as zin, zipfile.ZipFile(new, "w") as z:
        for i in zin.infolist():
            if i.filename not in ("manifest.json", "manifest.sha256"):
                z.writestr(i, zin.read(i.filename))
        z.writestr("manifest.json", body)
        z.writestr("manifest.sha256", f"{hashlib.sha256(body).hexdigest()}  manifest.json\n")
    assert any("sealed.jsonl missing" in p for p in verify_package(new).problems)
