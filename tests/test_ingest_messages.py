import json

import pytest

from overheard.ingest import IngestOptions, ingest_file
from overheard.ingest.readers.messages import Columns

from conftest import EXAMPLES


def test_jsonl_messages_with_auto_detected_columns(store):
    result = ingest_file(store, EXAMPLES / "messages.jsonl")
    assert result.status == "added" and result.utterances == 5
    rows = store.conn.execute("SELECT * FROM utterances ORDER BY seq").fetchall()
    assert rows[0]["captured_at"] == "2022-03-04T06:12:00Z" and rows[0]["time_basis"] == "sent"
    assert rows[0]["speaker"] == "Soldier A" and rows[0]["channel"] == "family chat"
    assert [r["lang"] for r in rows] == ["ru", "ru", "ru", "uk", "ru"]
    assert rows[0]["kind"] == "message"


def test_csv_with_other_column_names_and_semicolons(store, tmp_path):
    f = tmp_path / "chat.csv"
    f.write_text("Date;Author;Body;Chat\n2022-05-01 10:00;Ivan;Нет воды третий день;42 брigade\n"
                 "2022-05-01 11:00;Petro;Тримаємося;42\n", encoding="utf-8")
    result = ingest_file(store, f)
    assert result.status == "added", result.message
    rows = store.conn.execute("SELECT * FROM utterances ORDER BY seq").fetchall()
    assert rows[0]["text"] == "Нет воды третий день" and rows[0]["speaker"] == "Ivan"
    assert rows[0]["captured_at"] == "2022-05-01T10:00:00Z"


def test_explicit_columns(store, tmp_path):
    f = tmp_path / "x.csv"
    f.write_text("a,b\nhello there,zzz\n")
    result = ingest_file(store, f, IngestOptions(columns=Columns(text="b")))
    assert result.status == "added"
    assert store.conn.execute("SELECT text FROM utterances").fetchone()[0] == "zzz"


def test_csv_without_text_column_fails_with_reason(store, tmp_path):
    f = tmp_path / "numbers.csv"
    f.write_text("a,b\n1,2\n")
    result = ingest_file(store, f)
    assert result.status == "failed" and "no text column" in result.message


def test_invalid_json_line_names_the_line(store, tmp_path):
    f = tmp_path / "m.jsonl"
    f.write_text(json.dumps({"text": "ok"}) + "\n{not json\n")
    result = ingest_file(store, f)
    assert result.status == "failed" and "line 2: invalid JSON" in result.message
    assert store.counts()["utterances"] == 0


def test_bad_time_value(store, tmp_path):
    f = tmp_path / "m.jsonl"
    f.write_text(json.dumps({"text": "ok", "time": "yesterday-ish"}) + "\n")
    result = ingest_file(store, f)
    assert result.status == "failed" and "not an ISO 8601" in result.message


def test_plain_text_paragraphs(store, tmp_path):
    f = tmp_path / "notes.txt"
    f.write_text("First paragraph\ncontinues here.\n\nSecond one.\n\n\nThird.\n")
    result = ingest_file(store, f, IngestOptions(kind="interview"))
    assert result.utterances == 3
    texts = [r[0] for r in store.conn.execute("SELECT text FROM utterances ORDER BY seq")]
    assert texts[0] == "First paragraph continues here."


def test_bad_kind_is_rejected():
    with pytest.raises(ValueError, match="--kind"):
        IngestOptions(kind="telepathy")


def test_unix_times_in_milliseconds_and_nonsense_times(store, tmp_path):
    ms = tmp_path / "ms.jsonl"
    ms.write_text(json.dumps({"text": "hello there", "ts": 1646092800000}) + "\n")
    assert ingest_file(store, ms).status == "added"
    assert store.conn.execute("SELECT captured_at FROM utterances").fetchone()[0] == "2022-03-01T00:00:00Z"
    for value in (10 ** 20, True):
        bad = tmp_path / f"bad{value}.jsonl"
        bad.write_text(json.dumps({"text": "x y", "ts": value}) + "\n")
        r = ingest_file(store, bad)
        assert r.status == "failed" and "time" in r.message
