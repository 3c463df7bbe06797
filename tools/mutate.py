"""Mutation testing of the core with mutmut, on every mutant or on a fixed sample per module.

mutmut makes ~6,000 mutants of the modules in pyproject.toml [tool.mutmut]; on 2 cores the whole
set takes many hours (each surviving mutant re-runs every test that reaches its function). A
sample of N mutants per module (the same N for each, drawn with a fixed seed, so two runs test
the same mutants) gives each module's kill rate with a stated margin in about an hour.

    .venv/bin/python tools/mutate.py                 # sample: 30 mutants per module (make mutate)
    .venv/bin/python tools/mutate.py --per-module 0  # every mutant
    .venv/bin/python tools/mutate.py --report        # only print the table of the last run

Prints tools/mutation_report.py's table (killed / survived / no tests per module) and the
survivors, to copy into docs/testing.md.
"""

from __future__ import annotations

import argparse
import json
import random
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))
from mutation_report import collect, survivors, table, with_status  # noqa: E402

MUTMUT = [sys.executable, "-m", "mutmut"]


def all_mutants() -> dict[str, list[str]]:
    """Mutant names per module, from mutmut's generated files (generating them first if needed)."""
    metas = sorted((ROOT / "mutants" / "src").rglob("*.py.meta"))
    if not metas:
        # generates every mutant and collects which tests reach which function; runs none
        subprocess.run(MUTMUT + ["run", "--max-children", "2", "no-such-mutant"], cwd=ROOT, check=False)
        metas = sorted((ROOT / "mutants" / "src").rglob("*.py.meta"))
    out = {}
    for meta in metas:
        keys = list(json.loads(meta.read_text(encoding="utf-8")).get("exit_code_by_key", {}))
        if keys:
            out[str(meta.relative_to(ROOT / "mutants"))[: -len(".meta")]] = keys
    return out


def sample(per_module: int, seed: int) -> dict[str, list[str]]:
    """The mutants to run per module: all, or ``per_module`` drawn with a fixed seed."""
    out = {}
    for module, keys in all_mutants().items():
        if per_module and len(keys) > per_module:
            keys = random.Random(f"{seed}:{module}").sample(keys, per_module)
        out[module] = keys
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--per-module", type=int, default=30, help="mutants drawn per module (0: all; a smaller N draws the first N of a larger N's sample)")
    ap.add_argument("--seed", type=int, default=20261203)
    ap.add_argument("--report", action="store_true", help="print the last run's table only")
    ap.add_argument("--rerun", default="", metavar="STATUSES",
                    help="run again the sample's mutants with these results, comma-separated"
                         " (e.g. survived,timeout after adding tests); the rest keep their results")
    args = ap.parse_args()
    chosen = sample(args.per_module, args.seed)
    names = {k for keys in chosen.values() for k in keys}
    # mutants already run keep their result (mutmut's cache); --rerun names results to run again
    done = set(with_status(ROOT, names, {"killed", "survived", "timeout", "no tests", "suspicious", "skipped",
                                          "segfault", "caught by type check"}))
    again = set(with_status(ROOT, names, set(args.rerun.split(",")))) if args.rerun else set()
    chosen = {m: [k for k in keys if k not in done or k in again] for m, keys in chosen.items()}
    chosen = {m: keys for m, keys in chosen.items() if keys}
    if not args.report:
        # one mutmut run per module: a smaller set of tests per run, and a module whose run
        # fails does not stop the others
        for module, keys in chosen.items():
            print(f"{module}: {len(keys)} mutants to run", flush=True)
            done = subprocess.run(MUTMUT + ["run", "--max-children", "2", *keys], cwd=ROOT, check=False,
                                  capture_output=True, text=True)
            if done.returncode:
                print(f"  mutmut failed on {module}: {done.stderr.strip().splitlines()[-1][:300]}", flush=True)
    stats = collect(ROOT, checked_only=True, names=names)
    if not stats:
        print("no results: run without --report first")
        return 1
    print(table(stats))
    for key, status in survivors(ROOT, names):
        print(f"{status:>10}  {key}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
