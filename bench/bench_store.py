"""Ingest throughput and search latency on a store of ≥ 1,000,000 utterances.

The corpus is built from the real intercept transcripts in ../shared/data/intercepts-dev
(every final_ru.txt line), varied so that no two utterances are the same: lines are
recombined, call signs and numbers swapped, word order rotated. It is written as JSONL
message files of 20,000 lines and ingested through the real ``ingest_paths``.

    .venv/bin/python bench/bench_store.py [--utterances 1000000] [--store DIR] [--keep]

Targets (issue 2): ingest ≥ 5,000 utterances/s, search p95 ≤ 50 ms, on 2 cores.
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DEV = REPO.parent / "shared" / "data" / "intercepts-dev"
FALLBACK = REPO / "examples" / "intercepts"

CALLSIGNS = ["Шестой", "Первый", "Гром", "Сокол", "Берёза", "Ромашка", "Кедр", "Урал", "Восток",
             "Тайга", "Буран", "Пчела", "Лиса", "Ветер", "Кама", "Волга"]
QUERIES = ["страх", "убит", "приём", "трёхсотых", "двухсотый", "миномёт", "школа", "понял",
           "боеприпасы", "пиздец", "командир", "раненый", "вода", "танк", "работать", "квадрат",
           "Шестой", "Гром", "отход", "связь", '"как принял"', "деревня", "помощь", "техника"]


def source_lines() -> list[str]:
    root = DEV if DEV.exists() else FALLBACK
    lines = []
    for f in sorted(root.glob("rc*/final_ru.txt")):
        lines += [ln.strip() for ln in f.read_text(encoding="utf-8").splitlines() if ln.strip()]
    return lines


def vary(lines: list[str], rng: random.Random, n: int):
    for i in range(n):
        a = rng.choice(lines)
        words = a.split()
        mode = i % 4
        if mode == 1 and len(words) > 3:
            k = rng.randrange(1, len(words))
            words = words[k:] + words[:k]
        elif mode == 2:
            words = words + rng.choice(lines).split()[:6]
        elif mode == 3:
            words = [rng.choice(CALLSIGNS) + ","] + words
        text = " ".join(words) + f" {rng.randrange(1, 999)}"
        yield text


def build_corpus(folder: Path, total: int, per_file: int = 20_000) -> list[Path]:
    rng = random.Random(20261126)
    lines = source_lines()
    files = []
    start = 1646092800  # 2022-03-01T00:00:00Z
    written = 0
    while written < total:
        n = min(per_file, total - written)
        path = folder / f"traffic_{len(files):04d}.jsonl"
        with open(path, "w", encoding="utf-8") as fh:
            for j, text in enumerate(vary(lines, rng, n)):
                fh.write(json.dumps({"time": start + (written + j) * 7, "channel": f"ch{(written + j) % 8}",
                                     "text": text}, ensure_ascii=False) + "\n")
        files.append(path)
        written += n
    return files


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def fill_store(store, work: Path, total: int) -> float | None:
    """Top ``store`` up to ``total`` utterances with the bench corpus (written under ``work``,
    one ingest per file, kind radio); returns the seconds it took, None if already full."""
    import time
    from overheard.ingest import IngestOptions, ingest_paths
    have = store.counts()["utterances"]
    if have >= total:
        return None
    t = time.perf_counter()
    for path in build_corpus(work, total - have):
        ingest_paths(store, [path], IngestOptions(kind="radio"))
    return time.perf_counter() - t


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--utterances", type=int, default=1_000_000)
    ap.add_argument("--store", type=Path, default=None)
    ap.add_argument("--keep", action="store_true")
    ap.add_argument("--rounds", type=int, default=5, help="times each query is run")
    args = ap.parse_args()
    sys.path.insert(0, str(REPO / "src"))
    from overheard import Store
    from overheard.index.search import Filters, search
    from overheard.ingest import IngestOptions, ingest_paths

    work = Path(tempfile.mkdtemp(prefix="overheard-bench-"))
    store_dir = args.store or work / "store"
    print(f"corpus from {'dev transcripts' if DEV.exists() else 'examples (shared data absent)'}: "
          f"{len(source_lines())} real lines, varied to {args.utterances:,} utterances")
    t = time.perf_counter()
    files = build_corpus(work, args.utterances)
    print(f"corpus written: {len(files)} JSONL files in {time.perf_counter() - t:.1f} s")

    with Store(store_dir) as store:
        t = time.perf_counter()
        done = 0
        for i, path in enumerate(files):
            r = ingest_paths(store, [path], IngestOptions(kind="radio"))[0]
            assert r.status == "added", r.line()
            done += r.utterances
            if (i + 1) % 10 == 0:
                el = time.perf_counter() - t
                print(f"  {done:>9,} utterances  {done / el:8,.0f} utt/s", flush=True)
        ingest_s = time.perf_counter() - t
        print(f"INGEST {done:,} utterances in {ingest_s:.1f} s = {done / ingest_s:,.0f} utterances/s "
              f"(target ≥ 5,000); peak RSS {rss_mb():.0f} MB")

        cases = [(q, Filters()) for q in QUERIES]
        cases += [(q, Filters(lang="ru", since="2022-03-20T00:00:00Z")) for q in QUERIES[:8]]
        cases += [(q, Filters(kind="radio")) for q in QUERIES[8:16]]
        for q, f in cases:           # warm the page cache once
            search(store.conn, q, f)
        times, counts = [], {}
        for _ in range(args.rounds):
            for q, f in cases:
                t = time.perf_counter()
                hits = search(store.conn, q, f, limit=20)
                times.append((time.perf_counter() - t) * 1000)
                counts[q] = len(hits)
        times.sort()
        p = lambda x: times[min(len(times) - 1, int(len(times) * x))]  # noqa: E731
        print(f"SEARCH {len(times)} queries ({len(cases)} distinct, top 20 by rank): p50 {p(0.5):.1f} ms, "
              f"p95 {p(0.95):.1f} ms, max {times[-1]:.1f} ms (target p95 ≤ 50 ms); "
              f"mean {statistics.mean(times):.1f} ms")
        size = sum(f.stat().st_size for f in store_dir.glob("overheard.db*"))
        print(f"store: {size / 1e6:.0f} MB database for {done:,} utterances")
    if not args.keep:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
