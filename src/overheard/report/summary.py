"""Morale summary: rate of each indicator per 100 analysed utterances, per group and time
bucket, with Wilson 95% intervals. ``resolve`` is reported beside the low-morale codes and
never netted against them into a single score.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from ..store import Store

LOW_MORALE = ("fear", "distress", "self_harm", "deceived", "unwilling", "coercion",
              "casualties", "infighting", "civilian_harm", "neglect")
CODES = LOW_MORALE + ("resolve",)
BUCKETS = {"day": "substr({col}, 1, 10)",
           "week": "strftime('%Y-W%W', {col})",
           "month": "substr({col}, 1, 7)",
           "all": "'all'"}
GROUPS = {"source": "CASE WHEN s.reader = 'transcript-lines' THEN s.title ELSE s.original_name END || ' #' || s.id", "channel": "coalesce(u.channel, s.channel, '(none)')",
          "kind": "u.kind", "all": "'all'"}


def wilson(k: int, n: int, z: float = 1.96) -> tuple[float, float]:
    """Wilson score interval for k successes in n trials, as proportions."""
    if n == 0:
        return (0.0, 0.0)
    p = k / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return (max(0.0, centre - half), min(1.0, centre + half))


@dataclass
class Rate:
    count: int
    n: int

    @property
    def per100(self) -> float:
        return 100.0 * self.count / self.n if self.n else 0.0

    @property
    def ci95(self) -> tuple[float, float]:
        lo, hi = wilson(self.count, self.n)
        return (100 * lo, 100 * hi)


@dataclass
class Cell:
    group: str
    bucket: str
    n: int
    rates: dict[str, Rate] = field(default_factory=dict)

    def to_dict(self) -> dict:
        return {"group": self.group, "bucket": self.bucket, "utterances": self.n,
                "codes": {c: {"count": r.count, "per100": round(r.per100, 2),
                              "ci95": [round(x, 2) for x in r.ci95]} for c, r in self.rates.items()}}


def morale_summary(store: Store, detector_version: str, *, by: str = "week", group: str = "source",
                   since: str | None = None, until: str | None = None) -> list[Cell]:
    """Cells of (group, time bucket). Denominator: utterances the detector actually read
    (status ok or truncated) — boilerplate, empty and unsupported-language rows excluded."""
    if by not in BUCKETS:
        raise ValueError(f"--by {by!r}: expected one of {', '.join(BUCKETS)}")
    if group not in GROUPS:
        raise ValueError(f"--group {group!r}: expected one of {', '.join(GROUPS)}")
    bucket_sql = f"coalesce({BUCKETS[by].format(col='u.captured_at')}, 'undated')"
    where, params = ["a.detector_version = ?", "a.status IN ('ok', 'truncated')"], [detector_version]
    if since:
        where.append("u.captured_at >= ?"); params.append(since)
    if until:
        where.append("u.captured_at <= ?"); params.append(until)
    base = (f"FROM analyses a JOIN utterances u ON u.id = a.utterance_id JOIN sources s ON s.id = u.source_id"
            f" WHERE {' AND '.join(where)}")
    cells: dict[tuple[str, str], Cell] = {}
    for g, b, n in store.conn.execute(
            f"SELECT {GROUPS[group]} AS g, {bucket_sql} AS b, count(*) {base} GROUP BY g, b", params):
        cells[(g, b)] = Cell(g, b, n, {c: Rate(0, n) for c in CODES})
    # an utterance counts once per code, however many spans of that code it has
    for g, b, code, k in store.conn.execute(
            f"SELECT {GROUPS[group]} AS g, {bucket_sql} AS b, f.code, count(DISTINCT f.utterance_id)"
            f" {base.replace('WHERE', 'JOIN findings f ON f.utterance_id = u.id AND f.detector_version = a.detector_version WHERE', 1)}"
            " GROUP BY g, b, f.code", params):
        if (g, b) in cells and code in cells[(g, b)].rates:
            cells[(g, b)].rates[code].count = k
    return sorted(cells.values(), key=lambda c: (c.group, c.bucket))
