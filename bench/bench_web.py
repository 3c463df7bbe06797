"""Workbench search page time on a store of 1,000,000 utterances.

Builds the corpus with bench_store's ``build_corpus`` (real intercept lines, varied) and ingests
it through the real ``ingest_paths``; then signs in and requests the /search page (server-side:
query, filters, badges, template) through the ASGI app in-process, for plain queries, filtered
queries, deep keyset pages, the last rank-window page and filter-only browsing. Each request's
time is taken from the app's own Server-Timing header (time to the response head, i.e. server
time) and, as a check, wall time around the in-process call.

    .venv/bin/python bench/bench_web.py [--utterances 1000000] [--store DIR] [--keep] [--rounds 3]

Target (issue 5): search page p95 ≤ 200 ms on 1,000,000 utterances.
"""

from __future__ import annotations

import argparse
import re
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))
sys.path.insert(0, str(REPO / "bench"))

from bench_store import QUERIES, build_corpus  # noqa: E402

PASSWORD = "bench-password-123"


def build(store_dir: Path, n: int) -> None:
    from overheard import Store
    from overheard.ingest import IngestOptions, ingest_paths
    work = Path(tempfile.mkdtemp(prefix="overheard-webbench-"))
    t = time.perf_counter()
    files = build_corpus(work, n)
    with Store(store_dir) as store:
        for i, path in enumerate(files):
            r = ingest_paths(store, [path], IngestOptions(kind="radio"))[0]
            assert r.status == "added", r.line()
            if (i + 1) % 10 == 0:
                print(f"  ingested {(i + 1) * 20_000:>9,} utterances ({time.perf_counter() - t:.0f} s)", flush=True)
    shutil.rmtree(work, ignore_errors=True)
    print(f"store built: {n:,} utterances in {time.perf_counter() - t:.0f} s")


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--utterances", type=int, default=1_000_000)
    ap.add_argument("--store", type=Path, default=None, help="reuse (or build and keep) this store")
    ap.add_argument("--keep", action="store_true")
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    from fastapi.testclient import TestClient

    from overheard import Store
    from overheard.web import create_app
    from overheard.web.auth import add_user

    tmp = None
    store_dir = args.store
    if store_dir is None:
        tmp = Path(tempfile.mkdtemp(prefix="overheard-webbench-store-"))
        store_dir = tmp / "store"
    with Store(store_dir) as store:
        have = store.counts()["utterances"]
        if not store.conn.execute("SELECT 1 FROM users WHERE name = 'bench'").fetchone():
            add_user(store, "bench", "viewer", PASSWORD, actor="bench")
    if have < args.utterances:
        if have:
            raise SystemExit(f"{store_dir} holds {have:,} utterances, fewer than {args.utterances:,}; "
                             "give an empty --store")
        build(store_dir, args.utterances)
    with Store(store_dir) as store:
        n = store.counts()["utterances"]
        max_id = store.conn.execute("SELECT max(id) FROM utterances").fetchone()[0]

    app = create_app(store_dir)
    c = TestClient(app)
    token = re.search(r'name="login_csrf" value="([^"]+)"', c.get("/login").text).group(1)
    r = c.post("/login", data={"name": "bench", "password": PASSWORD, "login_csrf": token},
               follow_redirects=False)
    assert r.status_code == 303

    cases: dict[str, list[dict]] = {
        "query, rank": [{"q": q} for q in QUERIES],
        "query + lang + since": [{"q": q, "lang": "ru", "since": "2022-03-20"} for q in QUERIES[:8]],
        "query + channel": [{"q": q, "channel": "ch3"} for q in QUERIES[8:16]],
        "query + code/status (none match)": [{"q": q, "code": "fear", "status": "machine"} for q in QUERIES[16:20]],
        "query, newest, deep keyset page": [{"q": q, "order": "newest", "after": str(max_id // 3)} for q in QUERIES[:8]],
        "query, last rank-window page": [{"q": q, "offset": "1980"} for q in QUERIES[:8]],
        "browse: filters only": [{}, {"channel": "ch5"}, {"since": "2022-03-10", "until": "2022-03-12"},
                                 {"after": str(max_id // 2)}, {"lang": "ru", "channel": "ch1"}],
        "100 per page": [{"q": q, "size": "100"} for q in QUERIES[:8]],
    }
    for params in [p for ps in cases.values() for p in ps]:     # warm the page cache once
        c.get("/search", params=params)
    all_server, all_wall = [], []
    print(f"\nsearch page on {n:,} utterances, {args.rounds} rounds (server time from Server-Timing):")
    print(f"  {'case':<36} {'n':>4} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8}")
    for name, plist in cases.items():
        server = []
        for _ in range(args.rounds):
            for params in plist:
                t = time.perf_counter()
                r = c.get("/search", params=params)
                wall = (time.perf_counter() - t) * 1000
                assert r.status_code == 200, (params, r.status_code, r.text[:300])
                dur = float(re.search(r"dur=([\d.]+)", r.headers["server-timing"]).group(1))
                server.append(dur)
                all_wall.append(wall)
        all_server += server
        server.sort()
        print(f"  {name:<36} {len(server):>4} {pct(server, .5):>8.1f} {pct(server, .95):>8.1f} {server[-1]:>8.1f}")
    all_server.sort()
    all_wall.sort()
    print(f"\nSEARCH PAGE {len(all_server)} requests: server p50 {pct(all_server, .5):.1f} ms, "
          f"p95 {pct(all_server, .95):.1f} ms, max {all_server[-1]:.1f} ms (target p95 ≤ 200 ms); "
          f"in-process wall p50 {pct(all_wall, .5):.1f} ms, p95 {pct(all_wall, .95):.1f} ms; "
          f"mean {statistics.mean(all_server):.1f} ms")
    if tmp and not args.keep:
        shutil.rmtree(tmp, ignore_errors=True)
    elif tmp:
        print(f"store kept: {store_dir}")
    return 0


def pct(values: list[float], q: float) -> float:
    return values[min(len(values) - 1, int(len(values) * q))]


if __name__ == "__main__":
    raise SystemExit(main())
