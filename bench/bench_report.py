"""`overheard analyze` throughput and `overheard report` time on a store of ≥ 1,000,000 utterances.

Builds (or reuses, with --store DIR of an earlier run) the corpus of bench_store.py — the real
dev intercept lines varied into 1,000,000 dated utterances on 8 channels — runs the real
indicator analysis over it through ``analyze_store`` and writes the real HTML report.

    .venv/bin/python bench/bench_report.py [--utterances 1000000] [--store DIR]

Targets: analyze ≥ 300 utterances/s with the learned model and ≥ 2,000 with the rules alone,
≤ 1 GB resident (issues 3 and 10); report ≤ 30 s (issue 6).
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
    from overheard.analyse.apply import analyze_store, pending_count
    from overheard.report.data import ReportOptions
    from overheard.report.html import write_report

    work = Path(tempfile.mkdtemp(prefix="overheard-bench-report-"))
    store_dir = args.store or work / "store"
    with Store(store_dir) as store:
        built = fill_store(store, work, args.utterances)
        if built is not None:
            print(f"built store: {store.counts()['utterances']:,} utterances in {built:.0f} s")
        n = store.counts()["utterances"]
        for label, fast in (("rules + learned model", False), ("rules alone (--fast)", True)):
            det = load_detector(fast=fast)
            todo = pending_count(store, det.version)
            rss_before = rss_mb()
            t = time.perf_counter()
            rep = analyze_store(store, det)
            el = time.perf_counter() - t
            if todo:
                print(f"ANALYZE [{label}, {det.version}] {rep.analysed:,} utterances in {el:.1f} s = "
                      f"{rep.analysed / el:,.0f} utterances/s, {rep.findings:,} findings; peak RSS {rss_mb():.0f} MB "
                      f"(before {rss_before:.0f} MB; target ≤ 1,000 MB)")
            else:
                print(f"analyze: nothing pending for {det.version}")
        out = work / "report.html"
        t = time.perf_counter()
        data = write_report(store, ReportOptions(by="week"), out)
        el = time.perf_counter() - t
        print(f"REPORT over {n:,} utterances ({data.corpus['sources']} sources) in {el:.1f} s (target ≤ 30 s); "
              f"{out.stat().st_size / 1e3:.0f} kB HTML; peak RSS {rss_mb():.0f} MB")
    if args.store is None:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
