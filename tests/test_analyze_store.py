import json

from overheard.analyse import load_detector
from overheard.analyse.apply import analyze_store, pending_count
from overheard.ingest import ingest_paths

from conftest import TEXT_EXAMPLES


class Renamed:
    """The real detector under another version string: what a retrained detector looks like to the store."""

    def __init__(self, det, version):
        self._det, self.version = det, version

    def analyze_many(self, items):
        return self._det.analyze_many(items)


def test_analyze_stores_findings_with_spans_and_lineage(store):
    ingest_paths(store, TEXT_EXAMPLES)
    det = load_detector()
    report = analyze_store(store, det)
    n = store.counts()["utterances"]
    assert report.analysed == n and report.findings > 0 and report.skipped == 1   # the newsletter line
    rows = store.conn.execute(
        "SELECT f.*, u.text, r.component_version, r.stage FROM findings f"
        " JOIN utterances u ON u.id = f.utterance_id JOIN runs r ON r.id = f.run_id").fetchall()
    for r in rows:
        assert r["text"][r["span_start"]:r["span_end"]] == r["evidence"] and r["evidence"].strip()
        assert r["component_version"] == det.version == r["detector_version"] and r["stage"] == "analyze"
    scared = [r for r in rows if "I'm scared" in r["text"] and r["code"] == "fear"]
    assert scared and "scared" in scared[0]["evidence"]
    # boilerplate is never analysed
    boiler = store.conn.execute(
        "SELECT a.status FROM analyses a JOIN utterances u ON u.id = a.utterance_id"
        " WHERE u.is_boilerplate = 1").fetchone()
    assert boiler["status"] == "skipped"
    assert store.conn.execute("SELECT count(*) FROM findings f JOIN utterances u ON u.id = f.utterance_id"
                              " WHERE u.is_boilerplate = 1").fetchone()[0] == 0


def test_analyze_is_incremental_and_versions_keep_their_runs(store, tmp_path):
    ingest_paths(store, TEXT_EXAMPLES)
    det = load_detector()
    first = analyze_store(store, det)
    assert pending_count(store, det.version) == 0
    again = analyze_store(store, det)
    assert again.run_id is None and again.analysed == 0
    # a new message arrives: only it is analysed
    extra = tmp_path / "new.jsonl"
    extra.write_text(json.dumps({"text": "Мне очень страшно, нас кинули"}, ensure_ascii=False) + "\n")
    ingest_paths(store, [extra])
    third = analyze_store(store, det)
    assert third.analysed == 1 and third.findings >= 1
    # a new detector version re-analyses everything; old findings stay tied to the old run
    before = store.conn.execute("SELECT count(*) FROM findings WHERE run_id = ?", (first.run_id,)).fetchone()[0]
    newer = analyze_store(store, Renamed(det, det.version + "-retrained"))
    assert newer.analysed == store.counts()["utterances"]
    assert store.conn.execute("SELECT count(*) FROM findings WHERE run_id = ?", (first.run_id,)).fetchone()[0] == before
    versions = {r[0] for r in store.conn.execute("SELECT DISTINCT detector_version FROM findings")}
    assert versions == {det.version, det.version + "-retrained"}


def test_analyze_cli_and_audit(cli):
    cli("ingest", *TEXT_EXAMPLES)
    r = cli("analyze", "--json")
    assert r.exit_code == 0
    out = json.loads(r.stdout)
    assert out["findings"] > 0
    from overheard import Store
    with Store(cli.store_dir) as store:
        actions = [a[0] for a in store.conn.execute("SELECT action FROM audit_log ORDER BY id")]
        assert actions.count("analyze") >= 1 and actions[0] == "ingest"
        from overheard.store.verify import verify_store
        assert verify_store(store).ok


def test_bad_text_gets_a_status_and_note_not_a_crash(store, tmp_path):
    import time
    f = tmp_path / "odd.jsonl"
    huge = "Мне страшно. " + ("Длинное сообщение без смысла. " * 40_000)     # ~1.2 MB
    rows = [{"text": huge}, {"text": "Wir haben keine Munition mehr und Angst."}, {"text": "   ", "x": 1},
            {"text": "!!! ??? ..."}]
    f.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows) + "\n")
    ingest_paths(store, [f])
    t = time.perf_counter()
    analyze_store(store, load_detector())
    assert time.perf_counter() - t < 10
    status = {r["lang"]: (r["status"], r["note"]) for r in store.conn.execute(
        "SELECT u.lang, a.status, a.note FROM analyses a JOIN utterances u ON u.id = a.utterance_id")}
    # the 1.2 MB message was split at ingest into parts the detector reads whole (none cut)
    ru = store.conn.execute("SELECT length(u.text), a.status FROM analyses a JOIN utterances u"
                            " ON u.id = a.utterance_id WHERE u.lang = 'ru'").fetchall()
    assert len(ru) > 50 and max(n for n, _ in ru) <= 20_000 and {s for _, s in ru} == {"ok"}
    assert status["ru"][0] == "ok"
    assert status["de"][0] == "unsupported" and "not supported" in status["de"][1]
    assert status["und"][0] == "unsupported"
    assert store.conn.execute("SELECT count(*) FROM findings f JOIN utterances u ON u.id = f.utterance_id"
                              " WHERE u.lang = 'de'").fetchone()[0] == 0
