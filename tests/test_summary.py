import json

import pytest

from overheard.analyse import load_detector
from overheard.analyse.apply import analyze_store
from overheard.ingest import ingest_paths
from overheard.report.summary import morale_summary, wilson

from conftest import TEXT_EXAMPLES


def test_wilson_known_values():
    assert wilson(0, 10) == pytest.approx((0.0, 0.2775), abs=1e-4)
    assert wilson(5, 10) == pytest.approx((0.2366, 0.7634), abs=1e-4)
    assert wilson(0, 0) == (0.0, 0.0)


def test_summary_counts_match_the_store(store):
    ingest_paths(store, TEXT_EXAMPLES)
    det = load_detector()
    analyze_store(store, det)
    cells = morale_summary(store, det.version, by="all", group="all")
    assert len(cells) == 1
    cell = cells[0]
    # independent count, in Python over plain rows (not the summary's SQL): read utterances, and
    # distinct read utterances per code
    read = {u for u, st in store.conn.execute("SELECT utterance_id, status FROM analyses") if st in ("ok", "truncated")}
    assert cell.n == len(read)
    per_code: dict[str, set] = {}
    for uid, code in store.conn.execute("SELECT utterance_id, code FROM findings"):
        if uid in read:
            per_code.setdefault(code, set()).add(uid)
    assert {c: r.count for c, r in cell.rates.items() if r.count} == {c: len(u) for c, u in per_code.items()}
    for code in per_code:
        lo, hi = cell.rates[code].ci95
        assert lo <= cell.rates[code].per100 <= hi
    assert "resolve" in cell.rates   # reported beside, never netted


def test_summary_by_day_and_channel_for_messages(store):
    ingest_paths(store, TEXT_EXAMPLES[2:])          # messages.jsonl: dated, with channels
    det = load_detector()
    analyze_store(store, det)
    cells = morale_summary(store, det.version, by="day", group="channel")
    assert {(c.group, c.bucket) for c in cells} >= {("family chat", "2022-03-04"), ("unit chat", "2022-03-05")}
    assert sum(c.n for c in cells) == 5


def test_summary_cli_json(cli):
    cli("ingest", *TEXT_EXAMPLES)
    assert cli("summary").exit_code == 1          # nothing analysed yet: clear message
    cli("analyze")
    r = cli("summary", "--by", "week", "--group", "kind", "--json")
    assert r.exit_code == 0
    rows = [json.loads(x) for x in r.stdout.splitlines()]
    assert {row["group"] for row in rows} == {"article", "radio", "call", "message"}
    assert all("resolve" in row["codes"] for row in rows)
    assert cli("summary", "--by", "fortnight").exit_code == 2


def test_weeks_are_named_by_their_monday_and_do_not_split_at_new_year(store, tmp_path):
    f = tmp_path / "ny.jsonl"
    rows = [{"time": t, "text": "Мне страшно"} for t in ("2024-12-30T10:00:00Z", "2025-01-01T09:00:00Z",
                                                         "2025-01-05T23:00:00Z", "2025-01-06T00:00:00Z")]
    f.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows) + "\n")
    ingest_paths(store, [f])
    det = load_detector()
    analyze_store(store, det)
    cells = morale_summary(store, det.version, by="week", group="all")
    assert [(c.bucket, c.n) for c in cells] == [("2024-12-30", 3), ("2025-01-06", 1)]
