"""Audio through the store: ingest → process (segment, transcribe, gloss, cues) → analyse →
export, with the real Whisper base model and real decoding. Includes a real kill and resume."""

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
import wave

import numpy as np
import pytest

from overheard import Store
from overheard.ingest import IngestOptions, ingest_file
from overheard.process import process_store

from conftest import EXAMPLES, REPO

DEMO = EXAMPLES / "audio" / "demo_radio.ogg"
TRUTH = json.loads((EXAMPLES / "audio" / "demo_radio.truth.json").read_text())


@pytest.fixture(scope="module")
def short_radio(tmp_path_factory):
    """The first 36 s of the shipped demo recording: three transmissions."""
    from overheard.audio.clips import cut_clip
    out = tmp_path_factory.mktemp("audio") / "radio36.ogg"
    cut_clip(DEMO, 0.0, 36.0, out)
    return out


def test_audio_ingest_stores_evidence_and_waits_for_process(store, short_radio):
    r = ingest_file(store, short_radio, IngestOptions(captured_at="2022-03-05T14:00:00Z", frequency_hz=148.5e6,
                                                      channel="VHF 148.500", lang="ru"))
    assert r.status == "added", r.message
    src = store.source_by_sha(r.sha256)
    assert src["reader"] == "audio" and src["kind"] == "radio" and 35 < src["duration_s"] < 37
    assert store.evidence.path_for(r.sha256).read_bytes() == short_radio.read_bytes()
    assert store.conn.execute("SELECT status FROM processing").fetchone()[0] == "pending"
    assert store.counts()["utterances"] == 0


def test_process_transmissions_times_text_gloss_cues_and_export(cli, short_radio):
    assert cli("ingest", short_radio, "--captured-at", "2022-03-05T14:00:00Z", "--lang", "ru",
               "--channel", "VHF 148.500").exit_code == 0
    r = cli("process", "--json")
    assert r.exit_code == 0, r.output
    report = json.loads(r.stdout)
    assert report["transmissions"] >= 3
    rows = [json.loads(x) for x in cli("export", "--format", "jsonl").stdout.splitlines()]
    truth = [e for e in TRUTH["events"] if e["kind"] == "speech" and e["end_s"] < 35.5]
    assert len([x for x in rows if x["text"]]) == len(truth)
    for want, got in zip(truth, [x for x in rows if x["text"]]):
        assert abs(got["start_s"] - want["start_s"]) < 0.75 and abs(got["end_s"] - want["end_s"]) < 0.75
    first = rows[0]
    assert first["captured_at"].startswith("2022-03-05T14:00:0") and first["time_basis"] == "captured"
    assert "прием" in first["text"].lower() or "приём" in first["text"].lower()
    assert first["gloss_en"] and "machine" in first["gloss_label"]
    assert first["lang"] == "ru" and len(first["source_sha256"]) == 64 and "findings" in first
    with Store(cli.store_dir) as store:
        cues = store.conn.execute("SELECT * FROM voice_cues").fetchall()
        assert len(cues) == report["transmissions"]
        assert all(c["loudness_dbfs"] is not None and c["relative"] for c in cues)
        assert store.conn.execute("SELECT count(*) FROM analyses").fetchone()[0] == report["transmissions"]
        lineage = json.loads(store.conn.execute("SELECT params FROM runs WHERE stage='process'").fetchone()[0])
        assert lineage["model"]["model_sha256"] and lineage["model"]["faster_whisper"]
        # how it was decoded travels with the run: the preset and every option
        assert lineage["preset"] == "accurate" and lineage["transcribe"]["beam_size"] == 5
        assert lineage["transcribe"]["lang"] == "ru" and lineage["transcribe"]["audio_ctx_s"] == 30.0
    # searchable like any text, and the transcript view names the gloss as machine output
    assert "Береза" in cli("search", "берёза").output or "береза" in cli("search", "берёза").output.lower()
    view = cli("transcript", "1")
    assert view.exit_code == 0 and "machine" in view.output
    # a clip is cut into derived/, never into evidence/
    c = cli("clip", str(rows[0]["utterance_id"]), "--pad", "0.5")
    assert c.exit_code == 0
    clip_path = c.stdout.strip().replace("\n", "")
    assert "/derived/clips/" in clip_path and os.path.getsize(clip_path) > 1000
    assert cli("process").exit_code == 0   # nothing pending: idempotent
    with Store(cli.store_dir) as store:
        assert store.conn.execute("SELECT count(*) FROM utterances").fetchone()[0] == report["transmissions"]


def test_kill_and_resume_gives_the_same_transmissions(tmp_path):
    from overheard.audio.clips import cut_clip
    radio = tmp_path / "radio75.ogg"          # seven transmissions: room to kill between two
    cut_clip(DEMO, 0.0, 75.0, radio)
    store_dir = tmp_path / "store"
    with Store(store_dir) as store:
        ingest_file(store, radio, IngestOptions(lang="ru"))
    env = {**os.environ, "PYTHONPATH": str(REPO / "src")}
    proc = subprocess.Popen([sys.executable, "-m", "overheard", "--store", str(store_dir), "process", "--no-gloss"],
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 240
    stored = 0
    while time.time() < deadline and proc.poll() is None:
        time.sleep(0.05)
        con = sqlite3.connect(store_dir / "overheard.db", timeout=30)
        stored = con.execute("SELECT count(*) FROM utterances").fetchone()[0]
        con.close()
        if stored >= 1:
            proc.send_signal(signal.SIGKILL)
            break
    proc.wait(timeout=30)
    expected = len([e for e in TRUTH["events"] if e["kind"] == "speech" and e["end_s"] < 74.5])
    if stored == 0 or stored >= expected:
        pytest.skip("could not catch the run between transmissions on this machine")
    with Store(store_dir) as store:
        assert store.conn.execute("SELECT status FROM processing").fetchone()[0] == "running"
        report = process_store(store, gloss=False, analyze=False)
        rows = store.conn.execute("SELECT seq, start_s, end_s FROM utterances ORDER BY seq").fetchall()
    starts = [r["start_s"] for r in rows]
    assert len(starts) == len(set(round(s, 1) for s in starts)) == expected, starts   # no duplicates, none lost
    assert [r["seq"] for r in rows] == list(range(1, expected + 1))
    assert report.transmissions == expected - stored


def test_silence_is_zero_transmissions_and_bad_audio_fails_cleanly(cli, tmp_path):
    silent = tmp_path / "silence.wav"
    with wave.open(str(silent), "wb") as w:
        w.setnchannels(1), w.setsampwidth(2), w.setframerate(16000)
        w.writeframes(np.zeros(16000 * 5, dtype=np.int16).tobytes())
    fake = tmp_path / "fake.wav"
    fake.write_text("this is not audio at all, just text")
    empty = tmp_path / "empty.ogg"
    empty.write_bytes(b"")
    r = cli("ingest", silent, fake, empty)
    assert r.exit_code == 1
    assert "fake.wav:" in r.output and "empty.ogg: empty file" in r.output and "1 added" in r.output
    p = cli("process", "--json")
    assert p.exit_code == 0 and json.loads(p.stdout)["transmissions"] == 0
    with Store(cli.store_dir) as store:
        assert store.conn.execute("SELECT status FROM processing").fetchone()[0] == "done"
        assert store.counts()["sources"] == 1


def test_a_source_held_by_a_live_process_is_not_processed_twice(store, short_radio):
    import subprocess as sp
    ingest_file(store, short_radio, IngestOptions(lang="ru"))
    sleeper = sp.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        import socket
        with store.transaction() as conn:
            conn.execute("UPDATE processing SET status = 'running', claimed_by = ?",
                         (f"{socket.gethostname()}:{sleeper.pid}",))
        report = process_store(store, gloss=False, analyze=False)
        assert report.transmissions == 0 and "being processed by process" in report.failed[0]
    finally:
        sleeper.kill()
        sleeper.wait()
    report = process_store(store, gloss=False, analyze=False)     # the holder is gone: taken over
    assert report.transmissions >= 3 and not report.failed


def test_fast_preset_is_used_and_recorded(cli, short_radio):
    assert cli("ingest", short_radio, "--lang", "ru").exit_code == 0
    r = cli("process", "--fast", "--no-gloss", "--no-analyze", "--json")
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)["transmissions"] >= 3
    with Store(cli.store_dir) as store:
        params = json.loads(store.conn.execute("SELECT params FROM runs WHERE stage='process'").fetchone()[0])
        texts = [t for (t,) in store.conn.execute("SELECT text FROM utterances ORDER BY id")]
    assert params["preset"] == "fast" and params["transcribe"]["audio_ctx_s"] == 15.0
    assert sum(1 for t in texts if t) >= 3 and any("прием" in t.lower().replace("ё", "е") for t in texts)
