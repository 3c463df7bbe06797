"""Ingest throughput and search latency on a store of ≥ 1,000,000 utterances.

The corpus (bench/corpus.py) is drawn from every real Russian sentence in ../shared/data —
intercepts, the Radio-Analyzer recordings kept for development, CEDR, ru-goemotions — so its
vocabulary grows as real text's does (the figures printed: distinct utterances, distinct word
forms, Heaps' exponent). It is written as JSONL message files of 20,000 lines and ingested
through the real ``ingest_paths``.

Search is measured in a fresh process on the closed store, four ways, never reusing a query
between them (query sets share no lemma):
  cold      first queries of the process (SQLite cache empty; the OS page cache dropped when
            this machine allows it, said in the output);
  warm-up   another set, not measured;
  unseen    a third set, measured on its first run after the warm-up;
  repeated  that third set again (the flattering figure earlier versions reported alone).

    .venv/bin/python bench/bench_store.py [--utterances 1000000] [--store DIR] [--keep]

Targets (issue 2): ingest ≥ 5,000 utterances/s, search p95 ≤ 50 ms, on 2 cores.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "bench"))

from corpus import CorpusStats, query_sets, real_lines, write_corpus  # noqa: E402


def build_corpus(folder: Path, total: int, per_file: int = 20_000) -> list[Path]:
    """The bench corpus's files (see corpus.write_corpus); kept for the benches that only need files."""
    return write_corpus(folder, total, per_file)[0]


def sidecar(store_dir: Path) -> Path:
    """Where a kept store's corpus figures and query sets live (beside it, not in it)."""
    return store_dir.with_name(store_dir.name + ".bench.json")


def drop_os_cache() -> str:
    try:
        os.sync()
        Path("/proc/sys/vm/drop_caches").write_text("3\n")
        return "OS page cache dropped"
    except OSError as exc:
        return f"OS page cache NOT dropped ({exc.strerror or exc}): 'cold' is a cold process on a warm disk cache"


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def fill_store(store, work: Path, total: int) -> float | None:
    """Top ``store`` up to ``total`` utterances with the bench corpus (written under ``work``,
    one ingest per file, kind radio); returns the seconds it took, None if already full."""
    from overheard.ingest import IngestOptions, ingest_paths
    have = store.counts()["utterances"]
    if have >= total:
        return None
    t = time.perf_counter()
    for path in build_corpus(work, total - have):
        ingest_paths(store, [path], IngestOptions(kind="radio"))
    return time.perf_counter() - t


def run_fresh(script: str, *args: str) -> dict:
    """Run a bench script in a new Python process; the dict it printed on its "RESULT " line."""
    run = subprocess.run([sys.executable, script, *args], capture_output=True, text=True)
    line = next((ln for ln in run.stdout.splitlines() if ln.startswith("RESULT ")), None)
    if line is None:
        raise SystemExit(f"{script} {' '.join(args)} gave no result:\n{run.stdout[-3000:]}\n{run.stderr[-3000:]}")
    return json.loads(line[len("RESULT "):])


def pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(len(values) * q))]


def cases_of(queries: list[str]):
    """Each query plain; a third also with language + date, a third with kind (first runs each)."""
    from overheard.index.search import Filters
    k = len(queries) // 3
    return ([(q, Filters()) for q in queries]
            + [(q, Filters(lang="ru", since="2022-03-20T00:00:00Z")) for q in queries[:k]]
            + [(q, Filters(kind="radio")) for q in queries[k:2 * k]])


def measure_search(store_dir: Path, sets: dict, rounds: int) -> dict:
    """Run in a fresh process (see the module's docstring); returns the figures per phase."""
    cache = drop_os_cache()
    from overheard import Store
    from overheard.index.search import search
    out = {"cache": cache}
    with Store(store_dir, create=False) as store:
        def timed(cases, label):
            times, hits = [], 0
            for q, f in cases:
                t = time.perf_counter()
                hits += len(search(store.conn, q, f, limit=20))
                times.append((time.perf_counter() - t) * 1000)
            out[label] = {"n": len(times), "p50": pct(times, .5), "p95": pct(times, .95), "max": max(times),
                          "mean": statistics.mean(times), "hits": hits}
        timed(cases_of(sets["cold"]), "cold")
        for q, f in cases_of(sets["warmup"]):
            search(store.conn, q, f, limit=20)
        timed(cases_of(sets["unseen"]), "unseen")
        timed(cases_of(sets["unseen"]) * rounds, "repeated")
    return out


def build_store(store_dir: Path, total: int, work: Path) -> dict:
    """Build the bench store (corpus written under ``work``, ingested, timed) unless ``store_dir``
    already holds one with its sidecar; returns the sidecar (corpus figures and query sets)."""
    from overheard import Store
    from overheard.ingest import IngestOptions, ingest_paths
    if sidecar(store_dir).exists() and (store_dir / "overheard.db").exists():
        kept = json.loads(sidecar(store_dir).read_text(encoding="utf-8"))
        print("reusing", store_dir, "—", CorpusStats(**kept["stats"]).line())
        return kept
    t = time.perf_counter()
    files, stats, freq = write_corpus(work, total)
    print(f"corpus written: {len(files)} JSONL files in {time.perf_counter() - t:.1f} s")
    print(stats.line())
    sets = query_sets(freq, real_lines()[0])
    with Store(store_dir) as store:
        if store.counts()["utterances"]:
            raise SystemExit(f"{store_dir} holds a store without its {sidecar(store_dir).name}; give an empty --store")
        t = time.perf_counter()
        done = 0
        for i, path in enumerate(files):
            r = ingest_paths(store, [path], IngestOptions(kind="radio"))[0]
            assert r.status == "added", r.line()
            done += r.utterances
            path.unlink()
            if (i + 1) % 10 == 0:
                el = time.perf_counter() - t
                print(f"  {done:>9,} utterances  {done / el:8,.0f} utt/s", flush=True)
        ingest_s = time.perf_counter() - t
    print(f"INGEST {done:,} utterances in {ingest_s:.1f} s = {done / ingest_s:,.0f} utterances/s "
          f"(target ≥ 5,000); peak RSS {rss_mb():.0f} MB")
    kept = {"stats": stats.__dict__, "queries": sets.__dict__, "ingest_s": ingest_s}
    sidecar(store_dir).write_text(json.dumps(kept, ensure_ascii=False), encoding="utf-8")
    return kept


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--utterances", type=int, default=1_000_000)
    ap.add_argument("--store", type=Path, default=None, help="reuse (or build and keep) this store")
    ap.add_argument("--keep", action="store_true")
    ap.add_argument("--rounds", type=int, default=3, help="times the repeated set is run")
    ap.add_argument("--search-only", action="store_true", help=argparse.SUPPRESS)   # the fresh process
    args = ap.parse_args()
    sys.path.insert(0, str(REPO / "src"))
    if args.search_only:
        sets = json.loads(sidecar(args.store).read_text(encoding="utf-8"))["queries"]
        print("RESULT " + json.dumps(measure_search(args.store, sets, args.rounds)))
        return 0
    from overheard import Store

    work = Path(tempfile.mkdtemp(prefix="overheard-bench-"))
    store_dir = args.store or work / "store"
    build_store(store_dir, args.utterances, work)
    with Store(store_dir) as store:
        n = store.counts()["utterances"]
    size = sum(f.stat().st_size for f in store_dir.glob("overheard.db*"))
    print(f"store: {size / 1e6:.0f} MB database for {n:,} utterances")

    res = run_fresh(__file__, "--search-only", "--store", str(store_dir), "--rounds", str(args.rounds))
    print(f"search, top 20 by rank, fresh process; {res.pop('cache')}")
    for label, r in res.items():
        print(f"SEARCH {label:<9} {r['n']:>4} queries: p50 {r['p50']:6.1f} ms  p95 {r['p95']:6.1f} ms  "
              f"max {r['max']:7.1f} ms  mean {r['mean']:6.1f} ms  ({r['hits']:,} hits)")
    print("target p95 ≤ 50 ms")
    if not args.keep and args.store is None:
        shutil.rmtree(work, ignore_errors=True)
    elif args.store is None:
        print(f"store kept: {store_dir}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
