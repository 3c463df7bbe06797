"""Tests for behaviours that a planted-bug review found unguarded (issue 17): each asserts what a
specific small bug would break, with expectations from an independent truth."""

import hashlib
import sqlite3
import subprocess
import sys

import pytest

from overheard import Store
from overheard.ingest import ingest_file
from overheard.store.audit import GENESIS, row_hash, verify_chain

from conftest import REPO


def _raw(store_dir):
    con = sqlite3.connect(store_dir / "overheard.db")
    con.execute("DROP TRIGGER IF EXISTS audit_log_no_update")
    return con


def test_row_hash_is_sha256_of_every_field_including_details():
    """An independent computation of the documented formula: details are part of it."""
    fields = ["7", "2022-03-05T14:00:00Z", "cli:ana", "ingest", "source:ab", '{"a":1}', GENESIS]
    expect = hashlib.sha256("\x1f".join(fields).encode()).hexdigest()
    assert row_hash(7, *fields[1:]) == expect
    assert row_hash(7, *fields[1:5], '{"a":2}', GENESIS) != expect


def test_a_consistently_rehashed_row_with_a_wrong_link_is_caught(store, tmp_path):
    """Editing a row and recomputing its own hash (but not the link) must break the chain at the
    link: the previous-hash check, not the content check, is what catches it."""
    for i in range(3):
        (tmp_path / f"f{i}.txt").write_text(f"Текст {i}\n", encoding="utf-8")
        ingest_file(store, tmp_path / f"f{i}.txt")
    store.close()
    con = _raw(store.root)
    row = con.execute("SELECT id, at, actor, action, target, details FROM audit_log WHERE id = 2").fetchone()
    forged_prev = "f" * 64
    con.execute("UPDATE audit_log SET prev_hash = ?, hash = ? WHERE id = 2",
                (forged_prev, row_hash(*row, forged_prev)))
    con.commit()
    problems, n, _ = verify_chain(con)
    assert n == 3
    assert [str(p) for p in problems] == [
        "audit_log row 2: previous-hash link broken (a row before it was removed, altered or reordered)",
        "audit_log row 3: previous-hash link broken (a row before it was removed, altered or reordered)"]


def test_details_edited_with_the_hash_left_alone_is_caught(store, tmp_path):
    (tmp_path / "a.txt").write_text("Текст\n", encoding="utf-8")
    ingest_file(store, tmp_path / "a.txt")
    store.close()
    con = _raw(store.root)
    con.execute("UPDATE audit_log SET details = replace(details, 'a.txt', 'b.txt') WHERE id = 1")
    con.commit()
    problems, _, _ = verify_chain(con)
    assert [str(p) for p in problems] == ["audit_log row 1: content altered (ingest source:"
                                          + con.execute("SELECT target FROM audit_log").fetchone()[0][7:] + ")"]


def test_a_transaction_failing_after_the_blob_was_written_leaves_no_blob(store, tmp_path, monkeypatch):
    """The failure comes after the evidence file is placed (at the audit row), so only the
    clean-up can remove it."""
    src = tmp_path / "late.txt"
    src.write_text("Нас тут осталось пятеро.\n", encoding="utf-8")

    def boom(*a, **k):
        assert list(store.evidence.iter_files()), "the blob should exist when the audit row is written"
        raise RuntimeError("disk gone")

    monkeypatch.setattr(store, "audit", boom)
    with pytest.raises(RuntimeError, match="disk gone"):
        ingest_file(store, src)
    monkeypatch.undo()
    assert list(store.evidence.iter_files()) == []
    assert store.counts()["sources"] == 0 and store.counts()["utterances"] == 0
    assert ingest_file(store, src).status == "added"          # and nothing blocks a retry


def test_the_installed_command_registers_serve():
    """The console script itself (not a test-side register() call) must offer `serve`."""
    out = subprocess.run([sys.executable, "-m", "overheard", "--help"], capture_output=True, text=True,
                         cwd=REPO, timeout=120)
    assert out.returncode == 0
    assert "serve" in out.stdout and "user" in out.stdout



# -- negation scope (rules) ---------------------------------------------------------------------

@pytest.fixture(scope="module")
def rules():
    from overheard.analyse import load_detector
    return load_detector(fast=True)


def _codes(det, text):
    return [f.code for f in det.analyze(text, "ru").findings]


@pytest.mark.parametrize("text", ["Мне не очень страшно.",          # negator 2 words back
                                  "Мне не было сильно страшно.",    # 3 words back
                                  "Мы не особо сильно боимся."])
def test_a_negator_up_to_three_words_back_cancels_the_cue(rules, text):
    assert _codes(rules, text) == []


def test_a_negator_further_back_does_not(rules):
    assert _codes(rules, "Я не так уж сильно боюсь.") == ["fear"]      # 4 words back: out of reach


@pytest.mark.parametrize("text", ["Нет, мне страшно.", "Не знаю, мне страшно.", "Не спал, боюсь."])
def test_negation_stops_at_a_clause_boundary(rules, text):
    assert _codes(rules, text) == ["fear"]


# -- search terms ---------------------------------------------------------------------------------

def test_every_dictionary_reading_is_indexed_and_searchable(store, tmp_path):
    """'стали' is both сталь (steel, genitive) and стать (became): both readings are indexed, so
    a search for either lemma finds it (pymorphy3's dictionary lists both)."""
    from overheard.index.search import Filters, search
    from overheard.index.terms import lemmas_of
    assert lemmas_of("стали", "ru") == ("сталь", "стать")
    (tmp_path / "a.txt").write_text("Запасы стали кончились.\n", encoding="utf-8")
    ingest_file(store, tmp_path / "a.txt")
    for query in ("сталь", "стать"):
        assert [h.text for h in search(store.conn, query, Filters(lang="ru"))] == ["Запасы стали кончились."]


@pytest.mark.parametrize("word,lemmas", [
    ("обстреливают", ("обстреливать",)),     # Ukrainian dictionary only guesses "обстреливаюта"
    ("сбежали", ("сбежать",)),               # … "сбежати"
    ("командиры", ("командир",)),
])
def test_guessed_readings_never_join_dictionary_ones(word, lemmas):
    """A word of unknown language is looked up in both dictionaries; the other language's guess
    must not be added to a real reading (it would make common words match junk)."""
    from overheard.index.terms import lemmas_of
    assert lemmas_of(word, "") == lemmas


# -- segmentation ---------------------------------------------------------------------------------

def _audio_blocks(a, block_s=30.0):
    import numpy as np
    from overheard.audio.decode import SAMPLE_RATE, AudioBlock
    n = int(block_s * SAMPLE_RATE)
    for i in range(0, len(a), n):
        yield AudioBlock(i / SAMPLE_RATE, a[i:i + n].astype(np.float32))


@pytest.fixture(scope="module")
def clean_lines():
    from overheard.audio.decode import decode_all
    return decode_all(REPO / "examples" / "audio" / "demo_lines_clean.ogg")   # 16 lines, 0.5 s apart


def test_merged_speech_never_exceeds_one_whisper_window(clean_lines):
    """92 s of speech with 0.5 s pauses (shorter than the merge gap): merged islands are capped at
    max_transmission_s, so each transmission fits one 30 s Whisper window."""
    from overheard.audio.segment import SegmentOptions, segment_blocks
    o = SegmentOptions(mode="call")
    txs = [t for t, _ in segment_blocks(_audio_blocks(clean_lines), o)]
    assert len(txs) >= 4
    assert max(t.end_s - t.start_s for t in txs) <= o.max_transmission_s
    assert sum(t.end_s - t.start_s for t in txs) > 85                # nothing lost to the cap


def test_key_up_and_squelch_tail_bursts_are_trimmed(clean_lines):
    """A 0.3 s white-noise burst before and after one line (squelch only, no VAD): the
    transmission starts and ends with the speech, not with the bursts."""
    import numpy as np
    from overheard.audio.decode import SAMPLE_RATE
    from overheard.audio.segment import SegmentOptions, segment_blocks
    line = clean_lines[int(10.25 * SAMPLE_RATE):int(16.48 * SAMPLE_RATE)]
    burst = (np.random.default_rng(0).standard_normal(int(0.3 * SAMPLE_RATE)) * 0.3).astype(np.float32)
    silence = np.zeros(2 * SAMPLE_RATE, dtype=np.float32)
    audio = np.concatenate([silence, burst, line, burst, silence])
    [(t, _)] = list(segment_blocks(_audio_blocks(audio), SegmentOptions(use_vad=False)))
    speech_start, speech_end = 2.3, 2.3 + len(line) / SAMPLE_RATE
    assert speech_start - 0.05 <= t.start_s <= speech_start + 0.2
    assert speech_end - 0.2 <= t.end_s <= speech_end + 0.05


def test_a_click_never_reaches_the_vad(monkeypatch):
    """A 0.1 s carrier click opens the squelch for less than min_transmission_s: it is dropped
    before the VAD runs — one Silero pass per click on a busy channel is what that check saves.
    (A separate min_open_s check did the same earlier and could never change a result, since
    min_transmission_s is longer: it was removed as dead code.)"""
    import numpy as np
    from overheard.audio import segment
    from overheard.audio.decode import SAMPLE_RATE
    calls = []
    real = segment._vad_islands
    monkeypatch.setattr(segment, "_vad_islands", lambda a, o: calls.append(len(a)) or real(a, o))
    click = (np.random.default_rng(1).standard_normal(int(0.1 * SAMPLE_RATE)) * 0.3).astype(np.float32)
    silence = np.zeros(2 * SAMPLE_RATE, dtype=np.float32)
    out = list(segment.segment_blocks(_audio_blocks(np.concatenate([silence, click, silence])),
                                      segment.SegmentOptions()))
    assert out == [] and calls == []
