import json

import pytest

from overheard.index.search import Filters, SearchError, search
from overheard.ingest import ingest_paths, IngestOptions

from conftest import EXAMPLES, TEXT_EXAMPLES


@pytest.fixture
def loaded(store, tmp_path):
    ingest_paths(store, TEXT_EXAMPLES)
    extra = tmp_path / "extra.jsonl"
    rows = [
        {"time": "2022-04-01T10:00:00Z", "text": "Страх был такой, что ноги не держали."},
        {"time": "2022-04-02T10:00:00Z", "text": "Вчера убили двоих наших у моста."},
        {"time": "2022-04-03T10:00:00Z", "text": "Страхование машины истекло."},
        {"time": "2022-04-04T10:00:00Z", "text": "Мені дуже страшно, нас обстрілюють."},
    ]
    extra.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows) + "\n")
    ingest_paths(store, [extra], IngestOptions(kind="message"))
    return store


def texts(hits):
    return [h.text for h in hits]


def test_scared_finds_the_seed_sentence(loaded):
    hits = search(loaded.conn, "scared")
    assert any("I'm scared" in t for t in texts(hits))
    hit = next(h for h in hits if "I'm scared" in h.text)
    assert hit.snippet.count("**scared**") == 1
    assert hit.text[hit.highlights[0][0]:hit.highlights[0][1]] == "scared"


def test_fear_noun_finds_frightened_adverb_but_not_insurance(loaded):
    found = texts(search(loaded.conn, "страх"))
    assert "Мама, мне страшно, нас обстреливают третий день." in found
    assert any(t.startswith("Страх был такой") for t in found)
    assert "Страхование машины истекло." not in found


def test_short_participle_finds_past_tense(loaded):
    found = texts(search(loaded.conn, "убит"))
    assert "Вчера убили двоих наших у моста." in found
    hit = next(h for h in search(loaded.conn, "убит") if h.text.startswith("Вчера"))
    assert "**убили**" in hit.snippet


def test_ukrainian_word_forms(loaded):
    found = texts(search(loaded.conn, "обстрілювати", Filters(lang="uk")))
    assert any("обстрілюють" in t for t in found)
    assert all(h.lang == "uk" for h in search(loaded.conn, "страшно", Filters(lang="uk")))


def test_filters_kind_and_time(loaded):
    assert all(h.kind == "article" for h in search(loaded.conn, "soldiers", Filters(kind="article")))
    only_april_2 = search(loaded.conn, "убили", Filters(since="2022-04-02T00:00:00Z",
                                                        until="2022-04-02T23:59:59Z"))
    assert len(only_april_2) == 1
    assert search(loaded.conn, "убили", Filters(since="2022-04-03T00:00:00Z")) == []


def test_source_filter_and_boilerplate_hidden(loaded):
    src = loaded.conn.execute("SELECT id FROM sources WHERE reader = 'news-record'").fetchone()[0]
    hits = search(loaded.conn, "newsletter", Filters(source_id=src))
    assert hits == []
    assert len(search(loaded.conn, "newsletter", Filters(source_id=src), include_boilerplate=True)) == 1


def test_phrase_and_empty_query(loaded):
    assert texts(search(loaded.conn, '"real war"')) and all("real war" in t for t in texts(search(loaded.conn, '"real war"')))
    with pytest.raises(SearchError):
        search(loaded.conn, "  ,,, ")


def test_cli_search_json(cli):
    cli("ingest", *TEXT_EXAMPLES)
    r = cli("search", "scared", "--json")
    assert r.exit_code == 0
    hits = [json.loads(line) for line in r.stdout.splitlines()]
    assert len(hits) == 1
    assert {"utterance_id", "source_sha256", "text", "snippet"} <= hits[0].keys()
    assert "I'm scared" in hits[0]["text"] and len(hits[0]["source_sha256"]) == 64


def test_finding_filters_combine_on_one_finding(loaded):
    from overheard.analyse import load_detector
    from overheard.analyse.apply import analyze_store
    analyze_store(loaded, load_detector())
    fear = search(loaded.conn, "страшно", Filters(code="fear"))
    assert any(h.text.startswith("Мама, мне страшно") for h in fear)
    fid = loaded.conn.execute(
        "SELECT f.id FROM findings f JOIN utterances u ON u.id = f.utterance_id"
        " WHERE f.code = 'fear' AND u.text LIKE 'Мама%'").fetchone()[0]
    with loaded.transaction() as conn:
        conn.execute("INSERT INTO reviews(finding_id, decision, actor, at) VALUES (?, 'rejected', 't', 'now')", (fid,))
    rejected = search(loaded.conn, "страшно", Filters(code="fear", status="rejected"))
    assert [h.text[:4] for h in rejected] == ["Мама"]
    machine = search(loaded.conn, "страшно", Filters(code="fear", status="machine"))
    assert "Мама" not in [h.text[:4] for h in machine] and machine
    assert search(loaded.conn, "страшно", Filters(code="fear", stance="narration")) == []


def test_browse_without_query_and_keyset_paging(loaded):
    from overheard.index.search import search_ids
    first = search_ids(loaded.conn, None, Filters(kind="message"), order="newest", limit=3)
    rest = search_ids(loaded.conn, None, Filters(kind="message"), order="newest", limit=50, before_id=first[-1])
    assert first == sorted(first, reverse=True) and not set(first) & set(rest)
    total = loaded.conn.execute("SELECT count(*) FROM utterances WHERE kind = 'message'").fetchone()[0]
    assert len(first) + len(rest) == total


def test_one_hit_type_for_the_api_cli_and_workbench(store, tmp_path):
    """The workbench pages and the Python API return the same Hit, with the source's channel and
    frequency (an utterance's own channel first)."""
    from overheard.index.search import Hit
    from overheard.web.queries import SearchParams, run_search
    extra = tmp_path / "radio-log.jsonl"
    extra.write_text(json.dumps({"time": "2022-04-01T10:00:00Z", "text": "Страх был такой, что ноги не держали."},
                                ensure_ascii=False) + "\n")
    ingest_paths(store, [extra], IngestOptions(kind="radio", channel="VHF 148.500", frequency_hz=148.5e6))
    api = search(store.conn, "страх")
    web = run_search(store.conn, SearchParams(q="страх"), detector_version=None).hits
    assert len(api) == len(web) == 1
    assert type(api[0]) is type(web[0]) is Hit
    for hit in (api[0], web[0]):
        assert (hit.channel, hit.frequency_hz, hit.kind) == ("VHF 148.500", 148.5e6, "radio")
    assert api[0].snippet == "**Страх** был такой, что ноги не держали."
    assert web[0].snippet == "\ue000Страх\ue001 был такой, что ноги не держали."   # the workbench's marks


def test_since_bound_includes_a_time_with_milliseconds_at_the_bound(store, tmp_path):
    """Stored times of transmissions carry milliseconds ('…T10:00:00.060Z'); as text that sorts
    before '…T10:00:00Z', so the bound must compare without its Z."""
    extra = tmp_path / "ms.jsonl"
    rows = [{"time": "2022-04-01T10:00:00.060Z", "text": "Страх на рассвете."},
            {"time": "2022-04-01T09:59:59.940Z", "text": "Страх перед рассветом."}]
    extra.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows) + "\n")
    ingest_paths(store, [extra], IngestOptions(kind="message"))
    # messages keep whole seconds; a radio transmission's time (capture time + offset) keeps ms
    for text, at in ((r["text"], r["time"]) for r in rows):
        store.conn.execute("UPDATE utterances SET captured_at = ? WHERE text = ?", (at, text))
    after = search(store.conn, "страх", Filters(since="2022-04-01T10:00:00Z"))
    assert texts(after) == ["Страх на рассвете."]


def test_frequency_filter_is_the_channel_within_half_a_kilohertz(store, tmp_path):
    for name, hz in (("on.jsonl", 148_500_500.0), ("off.jsonl", 148_500_501.0)):
        f = tmp_path / name
        f.write_text(json.dumps({"time": "2022-04-01T10:00:00Z", "text": f"Страх на {name}"}, ensure_ascii=False) + "\n")
        ingest_paths(store, [f], IngestOptions(kind="radio", frequency_hz=hz))
    assert texts(search(store.conn, "страх", Filters(frequency_hz=148.5e6))) == ["Страх на on.jsonl"]


def test_count_matches_with_a_source_filter(loaded):
    from overheard.index.search import count_matches, parse_query
    sid = loaded.conn.execute("SELECT source_id FROM utterances WHERE text LIKE 'Страх был%'").fetchone()[0]
    parsed = parse_query("страх", None)
    # by hand: "Страх был такой…" and "Мені дуже страшно…" (not "Страхование…")
    assert count_matches(loaded.conn, parsed, Filters(source_id=sid)) == 2
    assert count_matches(loaded.conn, parsed, Filters()) == len(search(loaded.conn, "страх", limit=100))
