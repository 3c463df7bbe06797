"""Workbench search page time on a store of 1,000,000 utterances.

Builds (or reuses) bench_store's store: a corpus drawn from all the real Russian text in
../shared/data with a vocabulary that grows like real text's (bench/corpus.py), ingested through
the real ``ingest_paths``. Then, in a fresh process, signs in and requests the /search page
(server-side: query, filters, badges, template) through the ASGI app in-process. Every case is
measured on queries the process has not run before — first "cold" (the first requests of the
process, OS page cache dropped where allowed), then, after a warm-up on other queries, "unseen"
— and the unseen set once more as "repeated" (the warm-cache figure). Cases: plain queries,
filtered queries, deep keyset pages, the last rank-window page, filter-only browsing, 100 per
page. Each request's time is the app's own Server-Timing header (time to the response head).

    .venv/bin/python bench/bench_web.py [--utterances 1000000] [--store DIR] [--keep] [--rounds 3]

Target (issue 5): search page p95 ≤ 200 ms on 1,000,000 utterances.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import statistics
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))
sys.path.insert(0, str(REPO / "bench"))

from bench_store import build_store, drop_os_cache, pct, run_fresh, sidecar  # noqa: E402

PASSWORD = "bench-password-123"


def cases(queries: list[str], max_id: int) -> dict[str, list[dict]]:
    k = max(1, len(queries) // 5)
    q1, q2, q3, q4, q5 = (queries[i * k:(i + 1) * k] for i in range(5))
    return {
        "query, rank": [{"q": q} for q in queries],
        "query + lang + since": [{"q": q, "lang": "ru", "since": "2022-03-20"} for q in q1],
        "query + channel": [{"q": q, "channel": "ch3"} for q in q2],
        "query + code/status": [{"q": q, "code": "fear", "status": "machine"} for q in q3],
        "query, newest, deep keyset page": [{"q": q, "order": "newest", "after": str(max_id // 3)} for q in q4],
        "query, last rank-window page": [{"q": q, "offset": "1980"} for q in q5],
        "100 per page": [{"q": q, "size": "100"} for q in q1],
    }


BROWSE = [{}, {"channel": "ch5"}, {"since": "2022-03-10", "until": "2022-03-12"}, {"lang": "ru", "channel": "ch1"}]


def measure(store_dir: Path, rounds: int) -> dict:
    """In a fresh process: per phase and case, the server times of the /search requests."""
    cache = drop_os_cache()
    from fastapi.testclient import TestClient

    from overheard import Store
    from overheard.web import create_app
    sets = json.loads(sidecar(store_dir).read_text(encoding="utf-8"))["queries"]
    with Store(store_dir, create=False) as store:
        max_id = store.conn.execute("SELECT max(id) FROM utterances").fetchone()[0]
    app = create_app(store_dir)
    c = TestClient(app)
    token = re.search(r'name="login_csrf" value="([^"]+)"', c.get("/login").text).group(1)
    r = c.post("/login", data={"name": "bench", "password": PASSWORD, "login_csrf": token}, follow_redirects=False)
    assert r.status_code == 303

    def run(plist: list[dict]) -> list[float]:
        out = []
        for params in plist:
            r = c.get("/search", params=params)
            assert r.status_code == 200, (params, r.status_code, r.text[:300])
            out.append(float(re.search(r"dur=([\d.]+)", r.headers["server-timing"]).group(1)))
        return out

    res: dict = {"cache": cache}
    cold = cases(sets["cold"], max_id)
    cold["browse: filters only"] = BROWSE[:2]
    res["cold"] = {name: run(pl) for name, pl in cold.items()}
    for pl in cases(sets["warmup"], max_id).values():
        run(pl)
    unseen = cases(sets["unseen"], max_id)
    unseen["browse: filters only"] = BROWSE[2:] + [{"after": str(max_id // 2)}]
    res["unseen"] = {name: run(pl) for name, pl in unseen.items()}
    res["repeated"] = {name: [x for _ in range(rounds) for x in run(pl)] for name, pl in unseen.items()}
    return res


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--utterances", type=int, default=1_000_000)
    ap.add_argument("--store", type=Path, default=None, help="reuse (or build and keep) this store")
    ap.add_argument("--keep", action="store_true")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--measure", action="store_true", help=argparse.SUPPRESS)   # the fresh process
    args = ap.parse_args()
    if args.measure:
        print("RESULT " + json.dumps(measure(args.store, args.rounds)))
        return 0
    from overheard import Store
    from overheard.web.auth import add_user

    tmp = Path(tempfile.mkdtemp(prefix="overheard-webbench-"))
    store_dir = args.store or tmp / "store"
    build_store(store_dir, args.utterances, tmp)
    with Store(store_dir) as store:
        n = store.counts()["utterances"]
        if not store.conn.execute("SELECT 1 FROM users WHERE name = 'bench'").fetchone():
            add_user(store, "bench", "viewer", PASSWORD, actor="bench")
    res = run_fresh(__file__, "--measure", "--store", str(store_dir), "--rounds", str(args.rounds))
    print(f"\nsearch page on {n:,} utterances, fresh process, server time from Server-Timing; {res.pop('cache')}")
    for phase, by_case in res.items():
        print(f"\n{phase}:\n  {'case':<36} {'n':>4} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8}")
        every = []
        for name, times in by_case.items():
            every += times
            print(f"  {name:<36} {len(times):>4} {pct(times, .5):>8.1f} {pct(times, .95):>8.1f} {max(times):>8.1f}")
        print(f"SEARCH PAGE {phase:<8} {len(every)} requests: p50 {pct(every, .5):.1f} ms, p95 {pct(every, .95):.1f} ms, "
              f"max {max(every):.1f} ms, mean {statistics.mean(every):.1f} ms (target p95 ≤ 200 ms)")
    if args.store is None and not args.keep:
        shutil.rmtree(tmp, ignore_errors=True)
    elif args.store is None:
        print(f"store kept: {store_dir}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
