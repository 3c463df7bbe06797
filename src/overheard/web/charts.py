"""Server-side SVG charts: rate per 100 utterances over time, one line per group, with the
Wilson 95% interval as a band, and every point a link to the utterances behind it."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Callable
from html import escape
from urllib.parse import urlencode

from .queries import bucket_range, bucket_start

PALETTE = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2", "#17becf"]
W, H = 640, 220
ML, MR, MT, MB = 44, 12, 12, 34


SMALL_N = 20            # a point from fewer utterances is drawn hollow, without its interval
_BUCKET_DAYS = {"day": 1, "week": 7, "month": 31}


def _runs(pts: list[tuple[datetime, dict]], by: str) -> list[list[tuple[datetime, dict]]]:
    """Consecutive buckets only: a bucket with no data breaks the line (a gap is shown as a gap)."""
    limit = _BUCKET_DAYS.get(by, 1) * 1.5
    runs: list[list] = []
    for t, p in pts:
        if runs and (t - runs[-1][-1][0]).total_seconds() <= limit * 86400:
            runs[-1].append((t, p))
        else:
            runs.append([(t, p)])
    return runs


def _ticks(t0: datetime, t1: datetime, most: int = 6) -> tuple[list[datetime], str]:
    """Dates for the x axis at a sensible step (days, weeks, months), and their label format."""
    days = max((t1 - t0).days, 1)
    for step_days, fmt in ((1, "%d %b"), (2, "%d %b"), (7, "%d %b"), (14, "%d %b"), (30, "%b %Y"),
                           (61, "%b %Y"), (91, "%b %Y"), (182, "%b %Y"), (365, "%Y")):
        if days / step_days <= most:
            break
    if step_days < 30:
        ticks = [t0 + timedelta(days=i) for i in range(0, days + 1, step_days)]
    else:
        months = max(1, round(step_days / 30.4))
        ticks, y, m = [], t0.year, t0.month + (0 if t0.day == 1 else 1)
        while True:
            y, m = y + (m - 1) // 12, (m - 1) % 12 + 1
            t = datetime(y, m, 1, tzinfo=t0.tzinfo)
            if t > t1:
                break
            ticks.append(t)
            m += months
    if (t1 - t0).days and len(ticks) < 2:
        ticks = [t0, t1]
    return ticks, fmt


def trend_svg(code: str, series: dict[str, list[dict]], by: str, *, link_params: Callable[[str], dict]) -> str:
    """``series``: group → [{bucket, k, n, per100, lo, hi}] sorted by bucket. One encoding: the
    rate as a point (filled when n ≥ SMALL_N, with its 95% interval as a whisker and, between
    adjacent well-sampled buckets, a band; hollow and without interval when n is small), lines
    only between adjacent buckets, dates labelled at regular ticks."""
    points = [(g, p, bucket_start(by, p["bucket"])) for g, ps in series.items() for p in ps]
    dated = [t for _, _, t in points if t is not None]
    if not dated:
        return '<p class="muted">No dated utterances for this code.</p>'
    t0, t1 = min(dated), max(dated)
    span = (t1 - t0).total_seconds() or 1.0
    # the scale follows the rates and the intervals worth drawing, not small-n whiskers
    ymax = _nice(max([p["per100"] for _, p, _ in points]
                     + [p["hi"] for _, p, _ in points if p["n"] >= SMALL_N] + [1.0]))

    def x(t: datetime) -> float:
        if t1 == t0:
            return ML + (W - ML - MR) / 2
        return ML + (W - ML - MR) * (t - t0).total_seconds() / span

    def y(v: float) -> float:
        return MT + (H - MT - MB) * (1 - min(v, ymax) / ymax)

    out = [f'<svg class="trend" viewBox="0 0 {W} {H}" width="100%" role="img" '
           f'aria-label="{escape(code)} rate per 100 utterances over time">']
    for frac in (0, 0.5, 1):
        v = ymax * frac
        out.append(f'<line class="grid" x1="{ML}" x2="{W - MR}" y1="{y(v):.1f}" y2="{y(v):.1f}"/>'
                   f'<text class="axis" x="{ML - 4}" y="{y(v) + 4:.1f}" text-anchor="end">{v:g}</text>')
    ticks, fmt = _ticks(t0, t1)
    for i, t in enumerate(ticks if t1 != t0 else [t0]):
        anchor = "start" if (i == 0 and t1 != t0) else "end" if (t1 != t0 and x(t) > W - MR - 30) else "middle"
        out.append(f'<line class="tick" x1="{x(t):.1f}" x2="{x(t):.1f}" y1="{H - MB}" y2="{H - MB + 4}"/>'
                   f'<text class="axis" x="{x(t):.1f}" y="{H - MB + 16}" text-anchor="{anchor}">{t:{fmt}}</text>')
    for i, (group, ps) in enumerate(series.items()):
        colour = PALETTE[i % len(PALETTE)]
        pts = [(bucket_start(by, p["bucket"]), p) for p in ps]
        pts = [(t, p) for t, p in pts if t is not None]
        for run in _runs(pts, by):
            solid = [(t, p) for t, p in run if p["n"] >= SMALL_N]
            if len(solid) > 1 and len(solid) == len(run):
                upper = " ".join(f"{x(t):.1f},{y(p['hi']):.1f}" for t, p in run)
                lower = " ".join(f"{x(t):.1f},{y(p['lo']):.1f}" for t, p in reversed(run))
                out.append(f'<polygon class="band" fill="{colour}" points="{upper} {lower}"/>')
            if len(run) > 1:
                line = " ".join(f"{x(t):.1f},{y(p['per100']):.1f}" for t, p in run)
                out.append(f'<polyline class="line" stroke="{colour}" points="{line}"/>')
        for t, p in pts:
            since, until = bucket_range(by, p["bucket"])
            href = "/search?" + urlencode({**link_params(group), "code": code, "since": since, "until": until})
            small = p["n"] < SMALL_N
            title = (f"{group} · {p['bucket']}: {p['per100']:.1f} per 100 "
                     f"[95% CI {p['lo']:.1f}–{p['hi']:.1f}], {p['k']} of {p['n']} utterances"
                     + (f" (n < {SMALL_N}: interval too wide to draw)" if small else ""))
            whisker = "" if small else (f'<line class="ci" stroke="{colour}" x1="{x(t):.1f}" x2="{x(t):.1f}" '
                                        f'y1="{y(p["lo"]):.1f}" y2="{y(p["hi"]):.1f}"/>')
            fill = "#fff" if small else colour
            out.append(f'<a href="{escape(href)}">{whisker}'
                       f'<circle class="pt{" small-n" if small else ""}" fill="{fill}" stroke="{colour}" '
                       f'stroke-width="1.5" cx="{x(t):.1f}" cy="{y(p["per100"]):.1f}" r="4">'
                       f'<title>{escape(title)}</title></circle></a>')
    out.append("</svg>")
    return "".join(out)


def _nice(v: float) -> float:
    for step in (1, 2, 5, 10, 20, 25, 50, 75, 100):
        if v <= step:
            return float(step)
    return 100.0
