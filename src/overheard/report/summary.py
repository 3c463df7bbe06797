"""Morale summary: rate of each indicator per 100 analysed utterances, per group and time
bucket, with Wilson 95% intervals. ``resolve`` is reported beside the low-morale codes and
never netted against them into a single score.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from ..store import Store

POSITIONS = ("self", "reported", "narration")     # the finding's stance
LOW_MORALE = ("fear", "distress", "self_harm", "deceived", "unwilling", "coercion",
              "casualties", "infighting", "civilian_harm", "neglect")
CODES = LOW_MORALE + ("resolve",)
BUCKETS = {"day": "substr({col}, 1, 10)",
           # a week is named by its Monday (ISO weeks run Monday–Sunday): no week 00/53 split at new year
           "week": "date({col}, 'weekday 0', '-6 days')",
           "month": "substr({col}, 1, 7)",
           "all": "'all'"}
GROUPS = {"source": "CASE WHEN s.reader = 'transcript-lines' THEN s.title ELSE s.original_name END || ' #' || s.id", "channel": "coalesce(u.channel, s.channel, '(no channel)')",
          "kind": "u.kind", "all": "'all'"}


def wilson(k: int, n: int, z: float = 1.96) -> tuple[float, float]:
    """Wilson score interval for k successes in n trials, as proportions."""
    if n == 0:
        return (0.0, 0.0)
    p = k / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    lo = 0.0 if k == 0 else max(0.0, centre - half)   # exact ends: no float residue at 0 and n
    hi = 1.0 if k == n else min(1.0, centre + half)
    return (min(lo, p), max(hi, p))


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
                   since: str | None = None, until: str | None = None,
                   source_ids: list[int] | None = None, channels: list[str] | None = None,
                   reviewed_only: bool = False, positions: tuple[str, ...] | None = None) -> list[Cell]:
    """Cells of (group, time bucket). Denominator: utterances the detector actually read
    (status ok or truncated) — boilerplate, empty and unsupported-language rows excluded.
    ``reviewed_only`` counts only findings an analyst confirmed (or added)."""
    if by not in BUCKETS:
        raise ValueError(f"--by {by!r}: expected one of {', '.join(BUCKETS)}")
    if group not in GROUPS:
        raise ValueError(f"--group {group!r}: expected one of {', '.join(GROUPS)}")
    bucket_sql = f"coalesce({BUCKETS[by].format(col='u.captured_at')}, 'undated')"
    from ..store.retract import NOT_RETRACTED
    where, params = ["a.detector_version = ?", "a.status IN ('ok', 'truncated')", NOT_RETRACTED], [detector_version]
    if since:
        from ..index.search import since_bound
        where.append("u.captured_at >= ?"); params.append(since_bound(since))
    if until:
        where.append("u.captured_at <= ?"); params.append(until)
    if source_ids:
        where.append(f"u.source_id IN ({','.join('?' * len(source_ids))})"); params += list(source_ids)
    if channels:
        where.append(f"coalesce(u.channel, s.channel) IN ({','.join('?' * len(channels))})"); params += list(channels)
    base = (f"FROM analyses a JOIN utterances u ON u.id = a.utterance_id JOIN sources s ON s.id = u.source_id"
            f" WHERE {' AND '.join(where)}")
    cells: dict[tuple[str, str], Cell] = {}
    for g, b, n in store.conn.execute(
            f"SELECT {GROUPS[group]} AS g, {bucket_sql} AS b, count(*) {base} GROUP BY g, b", params):
        cells[(g, b)] = Cell(g, b, n, {c: Rate(0, n) for c in CODES})
    # an utterance counts once per code, however many spans of that code it has;
    # analyst-added findings count with the detector's (they were read by an analyst)
    join = ("JOIN findings f ON f.utterance_id = u.id AND (f.detector_version = a.detector_version"
            " OR f.method LIKE 'analyst:%')")
    if positions:       # speaker position: own words (self), reported by a speaker, narration
        bad = [p for p in positions if p not in POSITIONS]
        if bad:
            raise ValueError(f"position {bad[0]!r}: expected one of {', '.join(POSITIONS)}")
        join += f" AND f.stance IN ({','.join(repr(p) for p in positions)})"
    if reviewed_only:
        join += " JOIN finding_status fs ON fs.finding_id = f.id AND fs.status = 'confirmed'"
    else:
        join += " LEFT JOIN finding_status fs ON fs.finding_id = f.id"
        where_rejected = " AND coalesce(fs.status, 'machine') != 'rejected'"
    for g, b, code, k in store.conn.execute(
            f"SELECT {GROUPS[group]} AS g, {bucket_sql} AS b, f.code, count(DISTINCT f.utterance_id)"
            f" {base.replace('WHERE', join + ' WHERE', 1)}{'' if reviewed_only else where_rejected}"
            " GROUP BY g, b, f.code", params):
        if (g, b) in cells and code in cells[(g, b)].rates:
            cells[(g, b)].rates[code].count = k
    return sorted(cells.values(), key=lambda c: (c.group, c.bucket))


def exclusions(store: Store, detector_version: str) -> dict[str, int]:
    """What the rates' denominators leave out, and why: utterances of retracted sources, ones
    this detector has not read, site boilerplate, unsupported language or empty lines; and of the
    analysed ones, how many have no date (they fall in the 'undated' bucket, not in any trend)."""
    from ..store.retract import NOT_RETRACTED
    q = lambda sql, *p: store.conn.execute(sql, p).fetchone()[0]  # noqa: E731
    status = dict(store.conn.execute(
        "SELECT a.status, count(*) FROM analyses a JOIN utterances u ON u.id = a.utterance_id"
        f" WHERE a.detector_version = ? AND {NOT_RETRACTED} GROUP BY a.status", (detector_version,)).fetchall())
    return {
        "analysed": status.get("ok", 0) + status.get("truncated", 0),
        "retracted": q("SELECT count(*) FROM utterances u WHERE NOT (" + NOT_RETRACTED + ")"),
        "not_analysed": q("SELECT count(*) FROM utterances u WHERE " + NOT_RETRACTED + " AND NOT EXISTS"
                          " (SELECT 1 FROM analyses a WHERE a.utterance_id = u.id AND a.detector_version = ?)",
                          detector_version),
        "boilerplate": status.get("skipped", 0),
        "unsupported_language": status.get("unsupported", 0),
        "empty": status.get("empty", 0),
        "undated": q("SELECT count(*) FROM analyses a JOIN utterances u ON u.id = a.utterance_id"
                     " WHERE a.detector_version = ? AND a.status IN ('ok', 'truncated') AND u.captured_at IS NULL"
                     " AND " + NOT_RETRACTED, detector_version),
    }
