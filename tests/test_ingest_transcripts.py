from overheard.ingest import discover, ingest_paths

from conftest import EXAMPLES, shared_path


def test_transcript_layout_and_kind_from_data_source(store):
    results = ingest_paths(store, [EXAMPLES / "intercepts"])
    added = [r for r in results if r.status == "added"]
    assert len(added) == 4
    kinds = dict(store.conn.execute(
        "SELECT json_extract(meta, '$.recording'), kind FROM sources").fetchall())
    assert kinds == {"rc003": "call", "rc006": "radio", "rc009": "radio", "rc016": "call"}
    first = store.conn.execute(
        "SELECT u.text, u.line_no, u.lang FROM utterances u JOIN sources s ON s.id = u.source_id"
        " WHERE json_extract(s.meta, '$.recording') = 'rc006' ORDER BY u.seq LIMIT 1").fetchone()
    assert first["line_no"] == 1 and first["lang"] == "ru"


def test_companion_files_are_skipped_with_a_reason():
    rc = shared_path("data", "intercepts-dev", "rc001")
    reasons = {p.name: why for p, why in discover([rc])}
    assert reasons["final_ru.txt"] is None
    assert "translation" in reasons["final_en.txt"]
    assert reasons["whisper_large_v2_ru.txt"] and reasons["corrected_ru.txt"]


def test_whole_dev_set_ingests_every_line(store):
    dev = shared_path("data", "intercepts-dev")
    results = ingest_paths(store, [dev])
    assert not [r for r in results if r.status == "failed"]
    n_lines = sum(1 for _ in open(dev / "labels.jsonl"))
    assert store.counts()["utterances"] == n_lines == 284
