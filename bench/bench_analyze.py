"""Throughput and memory of the morale-indicator detector: the shipped detector (rules +
learned model), the rules alone (`analyze --fast`) and the keyword baseline, in one run.

    .venv/bin/python bench/bench_analyze.py [--n 50000] [--gold PATH]

Feeds the dev intercept texts (../shared/data/intercepts-dev/labels.jsonl, or the test
fixtures when that is absent), repeated to at least --n utterances, through
Detector.analyze_many and prints utterances/s and peak RSS (resource.getrusage).
A second pass over 20,000 NEW utterances drawn from all the real Russian text in ../shared/data
(bench/corpus.py: real words recombined and re-inflected, so most word forms are new to the
detector's caches — the count is printed) gives the cache-cold figure; the repeated texts give
the cache-warm one.
"""
from __future__ import annotations

import argparse
import json
import resource
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
try:
    import overheard.analyse.indicators  # noqa: F401
except ImportError:  # running from a checkout without an install
    sys.path.insert(0, str(ROOT / "src"))

sys.path.insert(0, str(ROOT / "bench"))
from corpus import WORD, Generator, real_lines  # noqa: E402
from overheard.analyse.baseline import KeywordBaseline  # noqa: E402
from overheard.analyse import load_detector  # noqa: E402


def peak_rss_mb() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return r / 1024 if sys.platform != "darwin" else r / 1024 / 1024


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=50_000)
    ap.add_argument("--gold", default=str(ROOT.parent / "shared" / "data" / "intercepts-dev" / "labels.jsonl"))
    a = ap.parse_args()
    gold = Path(a.gold)
    if not gold.exists():
        gold = ROOT / "tests" / "fixtures" / "indicator_cases.jsonl"
    rows = [json.loads(l) for l in gold.read_text(encoding="utf-8").splitlines() if l.strip()]
    items = [(r["text"], r.get("lang", "ru")) for r in rows]
    reps = -(-a.n // len(items))
    batch = items * reps
    print(f"source: {gold} ({len(items)} texts, x{reps} = {len(batch)} utterances, "
          f"{sum(len(t) for t, _ in batch) / len(batch):.0f} chars/utt)")

    lines, said = real_lines()
    fresh_gen = Generator(lines, seed=99)
    seen_forms = {w for t, _ in items for w in WORD.findall(t.lower())}
    for label, fast in (("rules + learned model (default)", False), ("rules alone (--fast)", True)):
        t0 = time.perf_counter()
        det = load_detector(fast=fast)
        det.analyze_many(items[:50])  # load morphology, lexicons and the model
        t_load = time.perf_counter() - t0
        print(f"== {label}: {det.version}: load+warm-up {t_load:.2f}s")

        t0 = time.perf_counter()
        res = det.analyze_many(batch)
        dt = time.perf_counter() - t0
        nf = sum(len(r.findings) for r in res)
        print(f"analyze_many (repeated texts): {len(batch) / dt:,.0f} utt/s  ({dt:.2f}s, {nf} findings)")

        uniq = [(fresh_gen.utterance(), "ru") for _ in range(20_000)]
        forms = {w for t, _ in uniq for w in WORD.findall(t.lower())}
        t0 = time.perf_counter()
        det.analyze_many(uniq)
        dt = time.perf_counter() - t0
        print(f"analyze_many (20,000 new utterances, {len(forms - seen_forms):,} of {len(forms):,} word forms "
              f"unseen so far; {said}): {len(uniq) / dt:,.0f} utt/s")
        seen_forms |= forms

        big = "Мне страшно, нас бросили. " * 40_000  # ~1 MB message
        t0 = time.perf_counter()
        r = det.analyze(big, "ru")
        print(f"1 MB message: status={r.status} in {time.perf_counter() - t0:.3f}s ({r.note})")
        print(f"peak RSS so far: {peak_rss_mb():.0f} MB")

    kb = KeywordBaseline()
    t0 = time.perf_counter()
    kb.analyze_many(batch)
    dt = time.perf_counter() - t0
    print(f"keyword baseline: {len(batch) / dt:,.0f} utt/s")
    print(f"peak RSS: {peak_rss_mb():.0f} MB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
