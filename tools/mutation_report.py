"""Kill rate per mutated module after `mutmut run` (what `make mutate` prints).

Reads mutmut's own result files (mutants/**/*.py.meta) and its exit-code → status table, so
the figures are mutmut's. Killed = killed by a test, or by a timeout (a mutant that makes the
code hang is caught too). "No tests" are mutants in code no selected test reaches; they count as
not killed.

    .venv/bin/python tools/mutation_report.py [--survivors]
"""

from __future__ import annotations

import argparse
import json
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
KILLED = {"killed", "timeout", "caught by type check", "segfault"}


def collect(root: Path = ROOT, checked_only: bool = False, names: set[str] | None = None) -> dict[str, Counter]:
    """Statuses per module; ``checked_only`` leaves out mutants not run; ``names``: only these."""
    from mutmut.stats import status_by_exit_code
    out: dict[str, Counter] = {}
    for meta in sorted((root / "mutants" / "src").rglob("*.py.meta")):
        data = json.loads(meta.read_text(encoding="utf-8"))
        module = str(meta.relative_to(root / "mutants"))[: -len(".meta")]
        c = out.setdefault(module, Counter())
        for key, code in data.get("exit_code_by_key", {}).items():
            if (code is None and checked_only) or (names is not None and key not in names):
                continue
            c[status_by_exit_code[code]] += 1
    return out


def with_status(root: Path, names: set[str] | None, statuses: set[str]) -> list[str]:
    """The mutants (of ``names``) whose last result is one of ``statuses``."""
    from mutmut.stats import status_by_exit_code
    out = []
    for meta in sorted((root / "mutants" / "src").rglob("*.py.meta")):
        for key, code in json.loads(meta.read_text(encoding="utf-8")).get("exit_code_by_key", {}).items():
            if (names is None or key in names) and code is not None and status_by_exit_code[code] in statuses:
                out.append(key)
    return out


def survivors(root: Path = ROOT, names: set[str] | None = None) -> list[tuple[str, str]]:
    from mutmut.stats import status_by_exit_code
    rows = []
    for meta in sorted((root / "mutants" / "src").rglob("*.py.meta")):
        data = json.loads(meta.read_text(encoding="utf-8"))
        for key, code in data.get("exit_code_by_key", {}).items():
            status = status_by_exit_code[code]
            if names is not None and key not in names:
                continue
            if code is not None and status not in KILLED:
                rows.append((key, status))
    return rows


def wilson(k: int, n: int, z: float = 1.96) -> tuple[float, float]:
    """95 % Wilson interval of a proportion: what a sample of n mutants says of the whole module."""
    if not n:
        return 0.0, 1.0
    p = k / n
    mid = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * ((p * (1 - p) / n + z * z / (4 * n * n)) ** 0.5) / (1 + z * z / n)
    return max(0.0, mid - half), min(1.0, mid + half)


def table(stats: dict[str, Counter]) -> str:
    lines = ["| module | mutants run | killed | of which by timeout | survived | no tests | other | kill rate (95 % interval) |",
             "|---|---:|---:|---:|---:|---:|---:|---:|"]
    tot = Counter()
    for module, c in stats.items():
        n = sum(c.values())
        if not n:
            continue
        killed = sum(c[s] for s in KILLED)
        other = n - killed - c["survived"] - c["no tests"]
        tot.update({"n": n, "killed": killed, "timeout": c["timeout"], "survived": c["survived"],
                    "no tests": c["no tests"], "other": other})
        lo, hi = wilson(killed, n)
        lines.append(f"| `{module}` | {n} | {killed} | {c['timeout']} | {c['survived']} | {c['no tests']} | {other} | "
                     f"{killed / n:.0%} ({lo:.0%}–{hi:.0%}) |")
    if tot["n"]:
        lo, hi = wilson(tot["killed"], tot["n"])
        lines.append(f"| **all** | {tot['n']} | {tot['killed']} | {tot['timeout']} | {tot['survived']} | "
                     f"{tot['no tests']} | {tot['other']} | **{tot['killed'] / tot['n']:.0%}** ({lo:.0%}–{hi:.0%}) |")
    return "\n".join(lines)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--survivors", action="store_true", help="also list every mutant not killed")
    args = ap.parse_args()
    stats = collect(checked_only=True)
    if not stats:
        print("no mutmut results under mutants/ — run `make mutate` (or `mutmut run`) first")
        return 1
    print(table(stats))
    if args.survivors:
        for key, status in survivors():
            print(f"{status:>10}  {key}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
