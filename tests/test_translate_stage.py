"""`overheard translate` with the real embedded model (Qwen2.5-1.5B GGUF through llama.cpp):
provenance, incremental runs, stale glosses after a transcript correction, analyst
corrections, English search through the gloss, and the report."""

import json

import pytest

from overheard import Store
from overheard.ingest import IngestOptions, ingest_paths

from conftest import EXAMPLES

LINES = [
    {"time": "2022-03-04T06:00:00Z", "sender": "A", "channel": "unit chat", "text": "Доброе утро, как дела?"},
    {"time": "2022-03-04T06:12:00Z", "sender": "A", "channel": "unit chat",
     "text": "Нет воды, третий день, патроны заканчиваются."},
    {"time": "2022-03-04T06:20:00Z", "sender": "B", "channel": "unit chat", "text": "Понял тебя, приём."},
    {"time": "2022-03-04T07:00:00Z", "sender": "B", "channel": "unit chat", "text": "Погода хорошая, солнце."},
    {"time": "2022-03-04T08:00:00Z", "sender": "C", "channel": "unit chat", "text": "Завтра поедем в город."},
    {"time": "2022-03-04T09:00:00Z", "sender": "C", "channel": "unit chat", "text": "Ладно, до вечера."},
]


@pytest.fixture(scope="module")
def translator():
    from overheard.translate import Translator, embedded_model
    return Translator(embedded_model())


@pytest.fixture
def chat_store(tmp_path):
    path = tmp_path / "chat.jsonl"
    path.write_text("\n".join(json.dumps(x, ensure_ascii=False) for x in LINES) + "\n", encoding="utf-8")
    with Store(tmp_path / "store") as store:
        ingest_paths(store, [path], IngestOptions(contributor="tests"))
        from overheard.analyse.apply import analyze_store
        analyze_store(store)
        yield store


def uid_of(store, text_start):
    return store.conn.execute("SELECT id FROM utterances WHERE text LIKE ?", (text_start + "%",)).fetchone()[0]


def test_findings_and_their_context_first_with_provenance(chat_store, translator):
    from overheard.translate import plan, translate_store
    water = uid_of(chat_store, "Нет воды")
    assert chat_store.conn.execute("SELECT count(*) FROM findings WHERE utterance_id = ?", (water,)).fetchone()[0]
    order, stale = plan(chat_store, translator.version, scope="context")
    assert order[0] == water and stale == 0
    assert uid_of(chat_store, "Ладно") not in order          # far from any finding: only with --all
    assert len(order) < len(LINES)

    report = translate_store(chat_store, translator, scope="findings")
    assert report.translated == 1 and report.run_id
    g = chat_store.conn.execute("SELECT * FROM glosses WHERE utterance_id = ?", (water,)).fetchone()
    english = g["text"].lower()
    assert "water" in english and ("no" in english.split() or "not" in english or "without" in english)
    assert g["translator_version"] == translator.version and g["method"] == "llm"
    assert "not a human translation" in g["label"]
    assert json.loads(g["flags"]) == []                        # negation and the number kept
    run = chat_store.conn.execute("SELECT * FROM runs WHERE id = ?", (g["run_id"],)).fetchone()
    assert run["stage"] == "translate" and run["component_version"] == translator.version
    assert json.loads(run["params"])["backend"]["sha256"].startswith("cc324af0")
    assert g["seconds"] > 0
    audit = chat_store.conn.execute("SELECT details FROM audit_log WHERE action = 'gloss'").fetchall()
    assert len(audit) == 1 and json.loads(audit[0][0])["gloss_id"] == g["id"]

    # incremental: nothing left in that scope for this translator version
    assert translate_store(chat_store, translator, scope="findings").translated == 0


def test_english_search_finds_russian_through_the_gloss(chat_store, translator):
    from overheard.index.search import search
    from overheard.translate import translate_store
    translate_store(chat_store, translator, scope="findings")
    hits = search(chat_store.conn, "water")
    assert [h.text for h in hits] == ["Нет воды, третий день, патроны заканчиваются."]
    assert hits[0].via == "gloss" and "**" in hits[0].snippet
    assert search(chat_store.conn, "вода")[0].via == "text"   # a Russian query still reads the text


def test_corrected_transcript_makes_the_gloss_stale_and_it_is_remade(chat_store, translator):
    from overheard.translate import plan, translate_store
    from overheard.web.actions import correct_transcript
    ok = uid_of(chat_store, "Понял")
    translate_store(chat_store, translator, utterance_ids=[ok])
    correct_transcript(chat_store, ok, "Понял тебя, отходим, приём.", actor="ana", reason="misheard")
    order, stale = plan(chat_store, translator.version, utterance_ids=[ok])
    assert order == [ok] and stale == 1
    report = translate_store(chat_store, translator, utterance_ids=[ok])
    assert report.translated == 1 and report.stale == 1
    rows = chat_store.conn.execute("SELECT text, terms FROM glosses WHERE utterance_id = ? ORDER BY id", (ok,)).fetchall()
    assert len(rows) == 2                                      # the old gloss stays in the history
    assert {t["ru"] for t in json.loads(rows[-1]["terms"])} >= {"понял", "приём"}
    assert "over" in rows[-1]["text"].lower()                  # radio procedure from the glossary


def test_analyst_gloss_is_versioned_audited_and_never_overwritten(chat_store, translator):
    from overheard.translate import correct_gloss, plan, translate_store
    water = uid_of(chat_store, "Нет воды")
    translate_store(chat_store, translator, scope="findings")
    machine_id = chat_store.conn.execute("SELECT max(id) FROM glosses WHERE utterance_id = ?", (water,)).fetchone()[0]
    with pytest.raises(ValueError, match="reason"):
        correct_gloss(chat_store, water, "No water for three days; ammunition running out.", actor="ana", reason="")
    with pytest.raises(ValueError, match="changed meanwhile"):
        correct_gloss(chat_store, water, "x", actor="ana", reason="r", base_gloss_id=machine_id + 99)
    gid = correct_gloss(chat_store, water, "No water for the third day; ammunition running out.",
                        actor="ana", reason="tense", base_gloss_id=machine_id)
    row = chat_store.conn.execute("SELECT * FROM glosses WHERE id = ?", (gid,)).fetchone()
    assert row["method"] == "analyst:ana" and row["label"].startswith("analyst translation")
    audit = json.loads(chat_store.conn.execute(
        "SELECT details FROM audit_log WHERE action = 'review.correct_gloss'").fetchone()[0])
    assert audit["before"]["gloss_id"] == machine_id and audit["after"]["gloss_id"] == gid
    # a new translator version would re-make machine glosses, never the analyst's
    order, _ = plan(chat_store, "some-other-version", scope="findings")
    assert water not in order


def test_cli_translate_and_gloss(cli, translator):
    assert cli("ingest", EXAMPLES / "messages.jsonl").exit_code == 0
    assert cli("analyze").exit_code == 0
    r = cli("translate", "--only-findings", "--limit", "2", "--json")
    assert r.exit_code == 0, r.output
    report = json.loads(r.stdout.strip().splitlines()[-1])
    assert report["translated"] == 2 and report["median_s_per_line"] > 0
    with Store(cli.store_dir) as store:
        uid = store.conn.execute("SELECT utterance_id FROM glosses ORDER BY id LIMIT 1").fetchone()[0]
    r = cli("gloss", uid, "--set", "My own English.", "--reason", "checked with a speaker")
    assert r.exit_code == 0 and "My own English." in r.stdout and "analyst translation" in r.stdout
    bad = cli("translate", "--model", "/nonexistent.gguf")
    assert bad.exit_code == 2 and "no such model file" in bad.output
    assert cli("translate", "--all", "--only-findings").exit_code == 2
