"""Retracting a wrongly ingested source: out of search, analysis, summaries, reports and
exports; kept, audited, sealed, restorable (issue 14)."""

import json

import pytest

from overheard import Store
from overheard.analyse.apply import analyze_store
from overheard.outputs.export import iter_findings, iter_utterances
from overheard.index.search import Filters, search
from overheard.ingest import IngestOptions, ingest_paths
from overheard.report.summary import morale_summary
from overheard.store import StoreError
from overheard.store.retract import restore, retract, retracted
from overheard.store.verify import verify_store

from conftest import EXAMPLES, REPO, TEXT_EXAMPLES


@pytest.fixture
def analysed(store):
    ingest_paths(store, TEXT_EXAMPLES)
    analyze_store(store)
    return store


def _with_findings(store):
    """The source with the most findings, and its count."""
    return store.conn.execute(
        "SELECT u.source_id, count(*) FROM findings f JOIN utterances u ON u.id = f.utterance_id"
        " GROUP BY u.source_id ORDER BY 2 DESC LIMIT 1").fetchone()


def _total_n(store, version):
    return sum(c.n for c in morale_summary(store, version, by="all", group="kind"))


def test_retract_takes_a_source_out_everywhere_and_restore_puts_it_back(analysed):
    st = analysed
    sid, n_findings = _with_findings(st)
    n_utt = st.conn.execute("SELECT count(*) FROM utterances WHERE source_id = ?", (sid,)).fetchone()[0]
    version = st.conn.execute("SELECT component_version FROM runs WHERE stage = 'analyze'").fetchone()[0]
    word = st.conn.execute("SELECT evidence FROM findings f JOIN utterances u ON u.id = f.utterance_id"
                           " WHERE u.source_id = ? LIMIT 1", (sid,)).fetchone()[0].split()[0]
    before = {"utt": len(list(iter_utterances(st))), "find": len(list(iter_findings(st))),
              "n": _total_n(st, version),
              "hits": {h.source_id for h in search(st.conn, word, Filters(), limit=1000)}}
    assert sid in before["hits"]

    assert retract(st, str(sid), reason="duplicate of a file already in the case", actor="cli:ana") == [sid]
    assert retracted(st, sid)["reason"] == "duplicate of a file already in the case"
    assert len(list(iter_utterances(st))) == before["utt"] - n_utt
    assert len(list(iter_findings(st))) == before["find"] - n_findings
    assert _total_n(st, version) < before["n"]
    assert sid not in {h.source_id for h in search(st.conn, word, Filters(), limit=1000)}
    # nothing deleted: rows and evidence stay, and verify passes (the retraction is sealed)
    assert st.conn.execute("SELECT count(*) FROM utterances WHERE source_id = ?", (sid,)).fetchone()[0] == n_utt
    rep = verify_store(st)
    assert rep.ok, rep.problems
    row = st.conn.execute("SELECT actor, details FROM audit_log WHERE action = 'source.retract'").fetchone()
    assert row["actor"] == "cli:ana" and json.loads(row["details"])["reason"].startswith("duplicate")

    assert restore(st, str(sid), reason="it was not a duplicate", actor="cli:ana") == [sid]
    assert retracted(st, sid) is None
    assert len(list(iter_utterances(st))) == before["utt"] and _total_n(st, version) == before["n"]
    assert verify_store(st).ok


def test_retraction_needs_a_reason_and_a_state_change(analysed):
    with pytest.raises(StoreError, match="give a reason"):
        retract(analysed, "1", reason="  ", actor="x")
    with pytest.raises(StoreError, match="not retracted"):
        restore(analysed, "1", reason="why", actor="x")
    retract(analysed, "1", reason="wrong case", actor="x")
    with pytest.raises(StoreError, match="already retracted by x"):
        retract(analysed, "1", reason="again", actor="x")
    with pytest.raises(StoreError, match="no such source"):
        retract(analysed, "999", reason="why", actor="x")


def test_a_retracted_source_is_not_analysed_until_restored(store):
    [r] = ingest_paths(store, [EXAMPLES / "messages.jsonl"])
    retract(store, str(r.source_id), reason="not ours", actor="x")
    rep = analyze_store(store)
    assert rep.analysed == 0
    restore(store, str(r.source_id), reason="ours after all", actor="x")
    assert analyze_store(store).analysed == 5


def test_an_exports_media_go_with_it(store):
    results = ingest_paths(store, [REPO / "examples" / "telegram"])
    export = next(r for r in results if r.path.name == "result.json")
    changed = retract(store, export.sha256[:12], reason="channel is a known fake", actor="x")
    assert len(changed) == 3 and changed[0] == export.source_id          # the export and its two media
    reasons = [r[0] for r in store.conn.execute("SELECT reason FROM retractions ORDER BY id")]
    assert reasons[1] == f"with source {export.source_id}: channel is a known fake"
    from overheard.process import pending_sources
    assert pending_sources(store) == []                                  # not transcribed while retracted
    assert len(restore(store, str(export.source_id), reason="verified", actor="x")) == 3


def test_package_leaves_retracted_sources_out(analysed, tmp_path):
    from overheard.outputs.package import build_package, verify_package
    retract(analysed, "1", reason="wrong case", actor="x")
    manifest = build_package(analysed, tmp_path / "p.zip")
    assert 1 not in [s["id"] for s in manifest["sources"]]
    assert verify_package(tmp_path / "p.zip").ok


def test_cli_retract_restore_and_info(cli):
    assert cli("ingest", *TEXT_EXAMPLES).exit_code == 0
    no_reason = cli("retract", "1")
    assert no_reason.exit_code == 2
    r = cli("retract", "1", "--reason", "wrong case")
    assert r.exit_code == 0 and "retracted: source 1" in r.output
    info = json.loads(cli("info", "--json").stdout)
    assert info["retracted_sources"] == [1]
    again = cli("retract", "1", "--reason", "x")
    assert again.exit_code == 2 and "already retracted" in again.output
    assert cli("restore", "1", "--reason", "right case").exit_code == 0
    assert json.loads(cli("info", "--json").stdout)["retracted_sources"] == []
    assert cli("verify").exit_code == 0
