"""SDR captures through the store: ingest (both SigMF files as evidence) → process (channelise,
NFM demodulate, segment, transcribe with the real Whisper model) → export SigMF annotations."""

import hashlib
import importlib.util
import json

import pytest

from overheard import Store

from conftest import REPO


def _make_capture(out_stem, **kw):
    spec = importlib.util.spec_from_file_location("make_capture", REPO / "tools" / "make_capture.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod.make_capture(out_stem, **kw)


@pytest.fixture(scope="module")
def capture_dir(tmp_path_factory):
    d = tmp_path_factory.mktemp("capture")
    truth = _make_capture(d / "tiny", rate=240_000, center=145e6, duration=8.0, channels=[-50_000.0, 37_500.0],
                          snrs=[20.0, 12.0], datatype="ci16_le", seed=3, line_ids=[7, 15])
    return d, truth


def _sha(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_capture_ingest_process_and_sigmf_export(cli, capture_dir, tmp_path):
    d, truth = capture_dir
    before = {p.name: _sha(p) for p in d.iterdir()}
    r = cli("ingest", d / "tiny.sigmf-meta", d / "tiny.sigmf-data", "--lang", "ru")
    assert r.exit_code == 0, r.output
    assert "samples of tiny.sigmf-meta" in r.output or "1 skipped" in r.output
    p = cli("process", "--json")
    assert p.exit_code == 0, p.output
    assert json.loads(p.stdout)["transmissions"] == len(truth["transmissions"])
    rows = [json.loads(x) for x in cli("export").stdout.splitlines()]
    chans = sorted({row["channel"] for row in rows})
    assert chans == sorted(f"{(145e6 + t['offset_hz']) / 1e6:.4f} MHz" for t in truth["transmissions"])
    for row in rows:
        want = next(t for t in truth["transmissions"]
                    if f"{(145e6 + t['offset_hz']) / 1e6:.4f} MHz" == row["channel"])
        assert abs(row["start_s"] - want["speech_start_s"]) < 0.6
        assert row["captured_at"].startswith(truth["datetime"][:10]) and row["text"]
        # each transmission's own RF frequency, as a number; the capture centre in its own field
        assert row["frequency_hz"] == pytest.approx(145e6 + want["offset_hz"], abs=1.0)
        assert row["capture_center_hz"] == 145e6
    with Store(cli.store_dir) as store:
        assert store.conn.execute("SELECT count(*) FROM source_files").fetchone()[0] == 1
        clips = store.conn.execute("SELECT count(*) FROM clips").fetchone()[0]
        assert clips == len(rows)                      # demodulated audio kept as derived clips
    out = tmp_path / "annotated.sigmf-meta"
    e = cli("export", "--format", "sigmf", "--source", "tiny.sigmf-meta", "--out", out)
    assert e.exit_code == 0, e.output
    meta = json.loads(out.read_text())
    anns = meta["annotations"]
    assert len(anns) == len(rows) and all(a["core:generator"] == "overheard" for a in anns)
    from overheard.sdr.annotate import validate_meta
    validate_meta(meta, out)                           # valid against the SigMF schema
    assert {p.name: _sha(p) for p in d.iterdir()} == before   # originals untouched
    assert cli("verify").exit_code == 0
    assert cli("process", "--json").exit_code == 0     # nothing pending: no duplicates
    with Store(cli.store_dir) as store:
        assert store.counts()["utterances"] == len(rows)


def test_altered_sample_file_is_named_by_verify(cli, capture_dir):
    d, _ = capture_dir
    cli("ingest", d / "tiny.sigmf-meta")
    with Store(cli.store_dir) as store:
        sha = store.conn.execute("SELECT sha256 FROM source_files").fetchone()[0]
        path = store.evidence.path_for(sha)
    import os
    os.chmod(path, 0o644)
    data = bytearray(path.read_bytes())
    data[1000] ^= 1
    path.write_bytes(bytes(data))
    r = cli("verify")
    assert r.exit_code == 1 and "sigmf-data" in r.output and "altered" in r.output


def test_bad_captures_fail_cleanly(cli, capture_dir, tmp_path):
    d, _ = capture_dir
    meta = json.loads((d / "tiny.sigmf-meta").read_text())
    # samples that do not fill a whole number of ci16 samples, and a missing data file
    (tmp_path / "trunc.sigmf-meta").write_text(json.dumps(meta))
    (tmp_path / "trunc.sigmf-data").write_bytes((d / "tiny.sigmf-data").read_bytes()[:1001])
    (tmp_path / "orphan.sigmf-meta").write_text(json.dumps(meta))
    (tmp_path / "broken.sigmf-meta").write_text("{not json")
    bad = dict(meta)
    bad["global"] = {**meta["global"], "core:datatype": "cq7_xx"}
    (tmp_path / "weird.sigmf-meta").write_text(json.dumps(bad))
    (tmp_path / "weird.sigmf-data").write_bytes(b"\0" * 4000)
    r = cli("ingest", tmp_path, "-v")
    assert r.exit_code == 1
    for name in ("trunc.sigmf-meta", "orphan.sigmf-meta", "broken.sigmf-meta", "weird.sigmf-meta"):
        assert f"{name}:" in r.output, (name, r.output)
    # the samples of a failed recording are not claimed to be "ingested with it" (issue 13, Low 12)
    assert "ingested with it" not in r.output, r.output
    assert "samples of trunc.sigmf-meta (not stored: it failed)" in r.output, r.output
    with Store(cli.store_dir) as store:
        assert store.counts()["sources"] == 0 and not list(store.evidence.iter_files())


def test_workbench_plays_the_demodulated_audio_of_an_sdr_transmission(cli, capture_dir):
    pytest.importorskip("httpx")
    from fastapi.testclient import TestClient

    from overheard.web import create_app
    from overheard.web.auth import add_user

    d, _ = capture_dir
    cli("ingest", d / "tiny.sigmf-meta", "--lang", "ru")
    assert cli("process", "--no-gloss").exit_code == 0
    with Store(cli.store_dir) as store:
        add_user(store, "ann", "analyst", "correct horse battery", actor="test")
        uid = store.conn.execute("SELECT id FROM utterances ORDER BY id LIMIT 1").fetchone()[0]
    c = TestClient(create_app(cli.store_dir), base_url="http://testserver")
    token = __import__("re").search(r'name="login_csrf" value="([^"]+)"', c.get("/login").text).group(1)
    assert c.post("/login", data={"name": "ann", "password": "correct horse battery", "login_csrf": token},
                  follow_redirects=False).status_code == 303
    page = c.get(f"/utterance/{uid}")
    assert page.status_code == 200 and f"/audio/utterance/{uid}?pad=0" in page.text
    assert "demodulated from the SDR capture" in page.text and "/audio/source/" not in page.text
    audio = c.get(f"/audio/utterance/{uid}?pad=0")
    assert audio.status_code == 200 and audio.content[:4] == b"OggS"


def test_sigmf_data_outside_the_meta_folder_is_refused(cli, capture_dir, tmp_path):
    """A crafted core:dataset ("../secret.bin") or a .sigmf-data symlink to another folder
    must not pull that file into the evidence store (issue 13, High 1)."""
    import os
    d, _ = capture_dir
    meta = json.loads((d / "tiny.sigmf-meta").read_text())
    outside = tmp_path / "private"
    outside.mkdir()
    secret = outside / "secret.bin"
    secret.write_bytes((d / "tiny.sigmf-data").read_bytes())     # a size that would pass every check
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    crafted = dict(meta)
    crafted["global"] = {**meta["global"], "core:dataset": "../private/secret.bin"}
    (inbox / "crafted.sigmf-meta").write_text(json.dumps(crafted))
    (inbox / "linked.sigmf-meta").write_text(json.dumps(meta))
    os.symlink(secret, inbox / "linked.sigmf-data")
    r = cli("ingest", inbox)
    assert r.exit_code == 1, r.output
    for name in ("crafted.sigmf-meta", "linked.sigmf-meta"):
        line = next(l for l in r.output.splitlines() if f"{name}:" in l)
        assert "outside the metadata's folder" in line, line
    with Store(cli.store_dir) as store:
        assert store.counts()["sources"] == 0 and not list(store.evidence.iter_files())
    # a Non-Conforming Dataset inside the folder is still taken
    ok = inbox / "ok"
    ok.mkdir()
    (ok / "samples.bin").write_bytes(secret.read_bytes())
    fine = dict(meta)
    fine["global"] = {**meta["global"], "core:dataset": "samples.bin"}
    (ok / "fine.sigmf-meta").write_text(json.dumps(fine))
    r = cli("ingest", ok / "fine.sigmf-meta")
    assert r.exit_code == 0, r.output
    with Store(cli.store_dir) as store:
        assert store.counts()["sources"] == 1


def test_relative_store_path_processes_and_exports_a_capture(capture_dir, tmp_path, monkeypatch):
    """The README's own `--store s` (and the default ./overheard-store) are relative: the
    capture's evidence links must still resolve (issue 13, Medium 4)."""
    from typer.testing import CliRunner
    from overheard.cli import app
    d, _ = capture_dir
    monkeypatch.chdir(tmp_path)
    run = lambda *a: CliRunner().invoke(app, ["--store", "s", *map(str, a)])  # noqa: E731
    assert run("ingest", d / "tiny.sigmf-meta", "--lang", "ru").exit_code == 0
    p = run("process", "--json", "--no-analyze")
    assert p.exit_code == 0 and not json.loads(p.stdout)["failed"], p.output
    e = run("export", "--format", "sigmf", "--source", "tiny.sigmf-meta", "--out", "annotated.sigmf-meta")
    assert e.exit_code == 0, e.output
    assert (tmp_path / "annotated.sigmf-meta").exists()


def test_absurd_sample_rates_are_refused_at_ingest(cli, capture_dir, tmp_path):
    """Issue 13, Low 10: a 0.001 S/s "capture" is refused at ingest with one line."""
    d, _ = capture_dir
    meta = json.loads((d / "tiny.sigmf-meta").read_text())
    slow = dict(meta)
    slow["global"] = {**meta["global"], "core:sample_rate": 0.001}
    (tmp_path / "slow.sigmf-meta").write_text(json.dumps(slow))
    (tmp_path / "slow.sigmf-data").write_bytes((d / "tiny.sigmf-data").read_bytes())
    (tmp_path / "raw.cu8").write_bytes(b"\x80" * 4000)
    r1 = cli("ingest", tmp_path / "slow.sigmf-meta")
    r2 = cli("ingest", tmp_path / "raw.cu8", "--sample-rate", "0.001")
    for r, name in ((r1, "slow.sigmf-meta"), (r2, "raw.cu8")):
        assert r.exit_code == 1, r.output
        assert f"{name}: sample rate 0.001 S/s is outside" in r.output, r.output
    with Store(cli.store_dir) as store:
        assert store.counts()["sources"] == 0


def test_failed_source_is_not_counted_as_processed_audio(cli, capture_dir, tmp_path):
    """Issue 13, Low 10: `process` totals count only the sources it processed."""
    import os
    d, _ = capture_dir
    assert cli("ingest", d / "tiny.sigmf-meta", "--lang", "ru").exit_code == 0
    with Store(cli.store_dir) as store:
        row = store.conn.execute("SELECT sha256 FROM source_files WHERE role = 'sigmf-data'").fetchone()
        victim = store.evidence.path_for(row[0])
    os.chmod(victim, 0o644)
    with open(victim, "r+b") as fh:                  # damage the stored samples after ingest
        fh.truncate(1001)
    p = cli("process", "--json", "--no-analyze")
    out = json.loads(p.stdout)
    assert out["failed"] and out["audio_s"] == 0.0, out
