import csv
import io
import json

from conftest import EXAMPLES, TEXT_EXAMPLES


def test_export_jsonl_carries_provenance(cli):
    cli("ingest", *TEXT_EXAMPLES, "--contributor", "desk B")
    r = cli("export", "--format", "jsonl")
    assert r.exit_code == 0
    rows = [json.loads(line) for line in r.stdout.splitlines()]
    # counted independently: non-empty lines of each example (news: after the 3 header lines)
    turns = sum(1 for f in (EXAMPLES / "intercepts").glob("rc*/final_ru.txt")
                for line in f.read_text().splitlines() if line.strip())
    news = [ln for ln in (EXAMPLES / "news" / "000_8507744cc2eb13bf.txt").read_text().splitlines()[3:] if ln.strip()]
    assert len(rows) == 5 + len(news) + turns
    row = next(x for x in rows if "I'm scared" in x["text"])
    assert len(row["source_sha256"]) == 64 and row["contributor"] == "desk B"
    assert row["reader"] == "news-record" and row["line_no"] >= 4 and row["run_id"] and row["run_stage"] == "ingest"
    assert row["quote"].startswith("Mum, I'm in Ukraine")


def test_export_csv_to_file(cli, tmp_path):
    cli("ingest", EXAMPLES / "messages.jsonl")
    out = tmp_path / "u.csv"
    r = cli("export", "--format", "csv", "--out", out)
    assert r.exit_code == 0
    rows = list(csv.DictReader(io.StringIO(out.read_text())))
    assert len(rows) == 5 and rows[0]["speaker"] == "Soldier A" and rows[0]["lang"] == "ru"


def test_export_rejects_unknown_format(cli):
    cli("ingest", EXAMPLES / "messages.jsonl")
    r = cli("export", "--format", "xml")
    assert r.exit_code == 2 and "expected jsonl, csv, vtt, srt, package or sigmf" in r.output


def test_output_into_a_missing_folder_is_one_line(cli, tmp_path):
    cli("ingest", EXAMPLES / "messages.jsonl")
    for args in (["export", "--out", tmp_path / "nope" / "u.jsonl"],
                 ["report", "--out", tmp_path / "nope" / "r.html"]):
        r = cli(*args)
        assert r.exit_code == 2 and "does not exist" in r.output and "Traceback" not in r.output
