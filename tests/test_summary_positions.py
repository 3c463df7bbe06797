"""Honest numbers (issue 15): rates by speaker position, and what every denominator leaves out.
Expected values come from a second, plain-Python count over the rows, not from the summary's SQL."""

from collections import defaultdict

import pytest

from overheard.analyse.apply import analyze_store
from overheard.ingest import ingest_paths
from overheard.report.summary import exclusions, morale_summary
from overheard.store.retract import retract

from conftest import TEXT_EXAMPLES


@pytest.fixture
def analysed(store):
    ingest_paths(store, TEXT_EXAMPLES)
    rep = analyze_store(store)
    store.version = rep.detector_version
    return store


def _python_rates(store, stances):
    """utterance counts per code, for findings with these stances, over read utterances."""
    read = {r[0] for r in store.conn.execute(
        "SELECT utterance_id FROM analyses WHERE status IN ('ok', 'truncated') AND detector_version = ?",
        (store.version,))}
    per_code = defaultdict(set)
    for uid, code, stance in store.conn.execute("SELECT utterance_id, code, stance FROM findings"):
        if uid in read and stance in stances:
            per_code[code].add(uid)
    return len(read), {c: len(u) for c, u in per_code.items()}


@pytest.mark.parametrize("positions", [("self",), ("reported",), ("narration",), ("self", "reported", "narration")])
def test_rates_by_speaker_position(analysed, positions):
    [cell] = morale_summary(analysed, analysed.version, by="all", group="all",
                            positions=None if len(positions) == 3 else positions)
    n, counts = _python_rates(analysed, positions)
    assert cell.n == n
    assert {c: r.count for c, r in cell.rates.items() if r.count} == counts


def test_narration_does_not_enter_own_words(analysed):
    [own] = morale_summary(analysed, analysed.version, by="all", group="all", positions=("self",))
    [all_] = morale_summary(analysed, analysed.version, by="all", group="all")
    narrated = analysed.conn.execute("SELECT count(*) FROM findings WHERE stance = 'narration'").fetchone()[0]
    assert narrated > 0          # the news record narrates
    assert sum(r.count for r in own.rates.values()) < sum(r.count for r in all_.rates.values())
    with pytest.raises(ValueError, match="position 'mine'"):
        morale_summary(analysed, analysed.version, positions=("mine",))


def test_exclusions_say_what_each_denominator_leaves_out(analysed):
    e = exclusions(analysed, analysed.version)
    # examples: 1 boilerplate sentence in the news record, 2 lines in an unsupported language
    assert (e["boilerplate"], e["unsupported_language"], e["empty"], e["not_analysed"], e["retracted"]) == (1, 2, 0, 0, 0)
    total = analysed.conn.execute("SELECT count(*) FROM utterances").fetchone()[0]
    assert e["analysed"] + e["boilerplate"] + e["unsupported_language"] + e["empty"] == total
    sid, n = analysed.conn.execute("SELECT source_id, count(*) FROM utterances GROUP BY source_id"
                                   " ORDER BY 2 DESC LIMIT 1").fetchone()
    retract(analysed, str(sid), reason="test", actor="x")
    after = exclusions(analysed, analysed.version)
    assert after["retracted"] == n and after["analysed"] < e["analysed"]


def test_cli_summary_states_its_denominator(cli):
    cli("ingest", *TEXT_EXAMPLES)
    cli("analyze")
    r = cli("summary", "--by", "all", "--group", "kind", "--position", "own")
    assert r.exit_code == 0
    out = " ".join(r.output.split())
    assert "findings: speakers' own words only" in out
    assert "Left out of every n: 1 site boilerplate, 2 in a language the detector does not read" in out
    assert cli("summary", "--position", "mine").exit_code == 2
