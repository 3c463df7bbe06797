"""`overheard verify` (store) on a store of ≥ 1,000,000 utterances: time and peak memory.

Builds the corpus of bench_store.py (the real dev intercept lines varied into 1,000,000
utterances in 50 files), ingests it, analyses it with the rules (audit rows per batch), then
times `verify_store` — re-hashing every original, walking the audit chain and recomputing every
sealed row (store/seal.py) — and reports what the seals cost in disk.

    .venv/bin/python bench/bench_verify.py [--utterances 1000000] [--store DIR]
"""
from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))
sys.path.insert(0, str(Path(__file__).resolve().parent))


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--utterances", type=int, default=1_000_000)
    ap.add_argument("--store", type=Path, default=None, help="reuse or keep the store here")
    args = ap.parse_args()
    from bench_store import fill_store, rss_mb
    from overheard import Store
    from overheard.analyse import load_detector
    from overheard.analyse.apply import analyze_store
    from overheard.store.verify import verify_store

    work = Path(tempfile.mkdtemp(prefix="overheard-bench-verify-"))
    store_dir = args.store or work / "store"
    with Store(store_dir) as store:
        t = time.perf_counter()
        if fill_store(store, work, args.utterances) is not None:
            analyze_store(store, load_detector(fast=True))
            print(f"built store: {store.counts()['utterances']:,} utterances, analysed, in "
                  f"{time.perf_counter() - t:.0f} s")
        c = store.counts()
        t = time.perf_counter()
        rep = verify_store(store)
        el = time.perf_counter() - t
        print(f"VERIFY over {c['utterances']:,} utterances, {c['sources']} sources, {rep.audit_rows:,} audit rows,"
              f" {rep.rows_checked:,} sealed rows (ok={rep.ok}) in {el:.1f} s; peak RSS {rss_mb():.0f} MB")
        db_mb = store.db_path.stat().st_size / 2**20
        try:
            seal_mb = store.conn.execute("SELECT sum(pgsize) FROM dbstat WHERE name IN ('seals', 'seals_row')"
                                         ).fetchone()[0] / 2**20
            print(f"DISK database {db_mb:,.0f} MB, of which seals {seal_mb:,.0f} MB ({seal_mb / db_mb:.0%})")
        except Exception as exc:   # dbstat is an optional SQLite module
            print(f"DISK database {db_mb:,.0f} MB (seal share unknown: {exc})")
        from overheard.store.seal import verify_seals
        t = time.perf_counter()
        verify_seals(store.conn)
        print(f"SEALS alone: {time.perf_counter() - t:.1f} s")
    if args.store is None:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
