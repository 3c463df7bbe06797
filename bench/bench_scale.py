"""`overheard process` on the local executor vs a Ray cluster on the same cores (issue 16).

Four radio sources of 15 min each (60 min in all), cut from the simulated radio channels of
bench/data (`tools/make_bench_radio.py bench/data` makes them; else the demo recording is
repeated), ingested into two copies of one store. One copy is processed by the local executor
(one source after another, Whisper on every core), the other through a Ray cluster started here
(`ray start --head` + one worker node, one CPU each: two sources at a time, one Whisper thread
each). Both use the same model and options; the bench checks the transcripts are identical and
prints wall time, × real time and Ray's overhead.

    .venv/bin/python bench/bench_scale.py [--minutes 15] [--sources 4]
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def cut_sources(work: Path, n: int, minutes: float) -> list[Path]:
    from overheard.audio.clips import cut_clip
    from overheard.audio.decode import probe
    pool = [p for p in (ROOT / "bench" / "data" / "held.flac", ROOT / "bench" / "data" / "tune.flac") if p.exists()]
    pool = pool or [ROOT / "examples" / "audio" / "demo_radio.ogg"]
    spans, at, k = [], 0.0, 0
    length = minutes * 60
    while len(spans) < n:
        src = pool[k % len(pool)]
        dur = probe(src).duration_s
        if at + length <= dur:
            spans.append((src, at, at + length))
            at += length
        else:
            k, at = k + 1, 0.0
            if k > 4 * len(pool):                   # short recordings: reuse from the start
                spans.append((src, 0.0, min(dur, length)))
    out = []
    for i, (src, a, b) in enumerate(spans):
        p = work / f"radio_{i}{src.suffix}"
        cut_clip(src, a, b, p)
        out.append(p)
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--minutes", type=float, default=15.0)
    ap.add_argument("--sources", type=int, default=4)
    args = ap.parse_args()
    from overheard import Store
    from overheard.ingest import IngestOptions, ingest_paths
    from overheard.process import process_store
    from overheard.scale import LocalExecutor
    from overheard.scale.executors import RayExecutor

    work = Path(tempfile.mkdtemp(prefix="overheard-scale-"))
    clips = cut_sources(work, args.sources, args.minutes)
    base = work / "store"
    with Store(base) as s:
        ingest_paths(s, clips, IngestOptions(kind="radio", lang="ru", captured_at="2022-03-05T14:00:00Z"))
        audio_s = s.conn.execute("SELECT sum(duration_s) FROM sources").fetchone()[0]
    print(f"{len(clips)} sources, {audio_s / 60:.1f} audio min; {os.cpu_count()} CPUs")

    def run(name, executor):
        path = work / name
        shutil.copytree(base, path)
        with Store(path, create=False) as s:
            t = time.perf_counter()
            rep = process_store(s, gloss=False, analyze=False, executor=executor)
            wall = time.perf_counter() - t
            rows = [tuple(r) for r in s.conn.execute(
                "SELECT s.original_name, u.seq, u.start_s, u.end_s, u.text FROM utterances u"
                " JOIN sources s ON s.id = u.source_id ORDER BY 1, 2")]
        assert not rep.failed, rep.failed
        print(f"{name:<28} {wall:7.1f} s  {audio_s / wall:5.1f}× real time  {rep.transmissions} transmissions")
        return wall, rows

    local_wall, local_rows = run("local executor", LocalExecutor())
    ray_bin = Path(sys.executable).with_name("ray")
    env = {**os.environ, "RAY_USAGE_STATS_ENABLED": "0"}
    port, temp = _free_port(), Path("/tmp") / f"ovh-bench-ray-{os.getpid()}"
    subprocess.run([str(ray_bin), "start", "--head", f"--port={port}", "--num-cpus=1", "--include-dashboard=false",
                    "--disable-usage-stats", f"--temp-dir={temp}"], check=True, capture_output=True, env=env)
    subprocess.run([str(ray_bin), "start", f"--address=127.0.0.1:{port}", "--num-cpus=1", "--disable-usage-stats"],
                   check=True, capture_output=True, env=env)
    try:
        t = time.perf_counter()
        ex = RayExecutor(f"127.0.0.1:{port}")
        join_s = time.perf_counter() - t
        d = ex.describe()
        ray_wall, ray_rows = run(f"Ray ({d['nodes']} nodes, {d['cpus']:.0f} CPUs)", ex)
    finally:
        subprocess.run([str(ray_bin), "stop", "--force"], capture_output=True, env=env)
        shutil.rmtree(temp, ignore_errors=True)
    same = ray_rows == local_rows
    print(f"identical transcripts: {same} ({len(local_rows)} transmissions)")
    print(f"RESULT local {local_wall:.1f} s, Ray {ray_wall:.1f} s (+{join_s:.1f} s to join the cluster): "
          f"Ray/local = {ray_wall / local_wall:.2f} (overhead target ≤ 1.15)")
    shutil.rmtree(work, ignore_errors=True)
    return 0 if same else 1


if __name__ == "__main__":
    raise SystemExit(main())
