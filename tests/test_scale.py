"""Executors (issue 16): `process` on a real local Ray cluster — a head and a second worker node
started with `ray start` — gives the same transmissions and text as the local executor, records
where each source ran, retries a job whose worker process died, reports a failing source while
the rest continue, and an interrupted run resumes without duplicates."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import EXAMPLES

DEMO = EXAMPLES / "audio" / "demo_radio.ogg"
CLIPS = [(0.0, 32.0), (32.0, 60.0), (60.0, 90.0)]     # three sources, a few transmissions each


def _store(root: Path) -> Path:
    from overheard import Store
    from overheard.audio.clips import cut_clip
    from overheard.ingest import IngestOptions, ingest_paths
    path = root / "store"
    clips = []
    for i, (a, b) in enumerate(CLIPS):
        clip = root / f"radio_{i}.ogg"
        cut_clip(DEMO, a, b, clip)
        clips.append(clip)
    with Store(path) as store:
        ingest_paths(store, clips, IngestOptions(kind="radio", lang="ru", captured_at="2022-03-05T14:00:00Z"))
    return path


def _rows(store_path: Path) -> list[tuple]:
    from overheard import Store
    with Store(store_path, create=False) as s:
        return [tuple(r) for r in s.conn.execute(
            "SELECT s.original_name, u.seq, u.start_s, u.end_s, u.text FROM utterances u"
            " JOIN sources s ON s.id = u.source_id ORDER BY s.original_name, u.seq")]


def _process(store_path: Path, executor=None, **kw):
    from overheard import Store
    from overheard.process import process_store
    with Store(store_path, create=False) as s:
        return process_store(s, gloss=False, analyze=False, executor=executor, **kw)


@pytest.fixture(scope="module")
def fresh(tmp_path_factory):
    """A store with three pending radio sources; copy before processing."""
    return _store(tmp_path_factory.mktemp("scale"))


def _copy(fresh: Path, tmp_path: Path) -> Path:
    dst = tmp_path / "store"
    shutil.copytree(fresh, dst)
    return dst


@pytest.fixture(scope="module")
def local_rows(fresh, tmp_path_factory):
    from overheard.scale import LocalExecutor
    path = _copy(fresh, tmp_path_factory.mktemp("local"))
    report = _process(path, LocalExecutor(threads_per_job=1))
    assert report.sources == 3 and not report.failed and report.transmissions >= 5
    return _rows(path)


def test_the_local_executor_matches_the_plain_run(fresh, local_rows, tmp_path):
    path = _copy(fresh, tmp_path)
    _process(path)                                  # no executor: today's streaming path
    assert _rows(path) == local_rows


# ------------------------------------------------------------------ a real Ray cluster
def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    pytest.importorskip("ray", reason="Ray is an optional extra (pip install 'overheard[ray]')")
    ray_bin = Path(sys.executable).with_name("ray")
    port = _free_port()
    temp = Path("/tmp") / f"ovh-ray-{os.getpid()}"          # short: Ray's socket paths are length-limited
    env = {**os.environ, "RAY_USAGE_STATS_ENABLED": "0"}
    head = subprocess.run([str(ray_bin), "start", "--head", f"--port={port}", "--num-cpus=1",
                           "--include-dashboard=false", "--disable-usage-stats", f"--temp-dir={temp}"],
                          capture_output=True, text=True, env=env, timeout=120)
    if head.returncode:
        pytest.fail(f"ray start --head failed: {head.stderr[-1500:]}")
    address = f"127.0.0.1:{port}"
    worker = subprocess.run([str(ray_bin), "start", f"--address={address}", "--num-cpus=1", "--disable-usage-stats"],
                            capture_output=True, text=True, env=env, timeout=120)
    try:
        assert worker.returncode == 0, worker.stderr[-1500:]
        yield address
    finally:
        import ray
        if ray.is_initialized():
            ray.shutdown()
        subprocess.run([str(ray_bin), "stop", "--force"], capture_output=True, env=env, timeout=120)
        shutil.rmtree(temp, ignore_errors=True)


def test_ray_gives_the_same_transmissions_and_says_where_each_source_ran(cluster, fresh, local_rows, tmp_path):
    import json

    from overheard import Store
    from overheard.scale.executors import RayExecutor
    ex = RayExecutor(cluster)
    assert ex.describe()["nodes"] == 2 and ex.describe()["cpus"] == 2
    assert ex.evidence_shared()                         # both nodes on this machine: paths, not bytes
    path = _copy(fresh, tmp_path)
    seen = []
    report = _process(path, ex, on_result=lambda src, r: seen.append(r.node))
    assert report.sources == 3 and not report.failed
    assert _rows(path) == local_rows
    assert len(seen) == 3 and all(n.startswith("ray:") for n in seen)
    with Store(path, create=False) as s:
        audits = [json.loads(r[0]) for r in s.conn.execute(
            "SELECT details FROM audit_log WHERE action = 'process' ORDER BY id")]
        params = [json.loads(r[0]) for r in s.conn.execute("SELECT params FROM runs WHERE stage = 'process'")]
        from overheard.store.verify import verify_store
        assert verify_store(s).ok                       # the writes are sealed like a local run's
    assert [a["executor"] for a in audits] == ["ray"] * 3 and all(a["ran_on"].startswith("ray:") for a in audits)
    assert all(p["executor"] == "ray" and p["nodes"] == 2 and p["evidence"] == "shared path" for p in params)


def test_ray_retries_a_job_whose_worker_died(cluster, fresh, tmp_path):
    from overheard.scale import run_audio_job
    from overheard.scale.executors import AudioJob, RayExecutor
    from overheard.audio.transcribe import preset_options
    marker = tmp_path / "died-once"

    def dies_once(job):                       # a local function: Ray ships it by value
        if not marker.exists():
            marker.touch()
            os._exit(1)                       # the worker process is gone mid-task
        return run_audio_job(job)

    clip = tmp_path / "c.ogg"
    from overheard.audio.clips import cut_clip
    cut_clip(DEMO, 0.0, 15.0, clip)
    job = AudioJob(1, "c.ogg", "x" * 64, ".ogg", "radio", "ru", None, False, 0.0, preset_options("accurate", lang="ru"),
                   cpu_threads=1, path=str(clip))
    (result,) = list(RayExecutor(cluster).map(dies_once, [job]))
    assert marker.exists() and result.error is None and result.transmissions


def test_a_source_failing_on_a_worker_is_reported_and_the_rest_continue(cluster, fresh, tmp_path):
    from overheard.scale import run_audio_job
    from overheard.scale.executors import RayExecutor

    def second_fails(job):
        if job.name == "radio_1.ogg":
            raise ValueError("this source is broken")
        return run_audio_job(job)

    class Failing(RayExecutor):
        def map(self, fn, jobs):
            return super().map(second_fails, jobs)

    path = _copy(fresh, tmp_path)
    report = _process(path, Failing(cluster))
    assert len(report.failed) == 1 and "radio_1.ogg" in report.failed[0] and "this source is broken" in report.failed[0]
    names = {r[0] for r in _rows(path)}
    assert names == {"radio_0.ogg", "radio_2.ogg"}


def test_an_interrupted_run_resumes_without_duplicates(fresh, local_rows, tmp_path):
    from overheard.scale import LocalExecutor

    class StopsAfterOne(LocalExecutor):
        def map(self, fn, jobs):
            for i, r in enumerate(super().map(fn, jobs)):
                if i == 1:
                    raise KeyboardInterrupt
                yield r

    path = _copy(fresh, tmp_path)
    with pytest.raises(KeyboardInterrupt):
        _process(path, StopsAfterOne(threads_per_job=1))
    first = _rows(path)
    assert first and {r[0] for r in first} == {"radio_0.ogg"}
    report = _process(path, LocalExecutor(threads_per_job=1))
    assert report.sources == 2 and _rows(path) == local_rows


def test_cli_process_with_ray(cluster, fresh, local_rows, tmp_path, cli):
    path = _copy(fresh, tmp_path)
    r = cli("process", "--ray", cluster, "--no-gloss", "--no-analyze", store_dir=path)
    assert r.exit_code == 0, r.output
    assert "Ray cluster at" in r.output and "2 node(s), 2 CPU(s); evidence by shared path" in r.output
    assert "3 audio source(s)" in r.output
    assert _rows(path) == local_rows
