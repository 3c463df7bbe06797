"""Server-side SVG charts: rate per 100 utterances over time, one line per group, with the
Wilson 95% interval as a band, and every point a link to the utterances behind it."""

from __future__ import annotations

from datetime import datetime
from typing import Callable
from html import escape
from urllib.parse import urlencode

from .queries import bucket_range, bucket_start

PALETTE = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2", "#17becf"]
W, H = 640, 220
ML, MR, MT, MB = 44, 12, 12, 34


def trend_svg(code: str, series: dict[str, list[dict]], by: str, *, link_params: Callable[[str], dict]) -> str:
    """``series``: group → [{bucket, k, n, per100, lo, hi}] sorted by bucket."""
    points = [(g, p, bucket_start(by, p["bucket"])) for g, ps in series.items() for p in ps]
    dated = [t for _, _, t in points if t is not None]
    if not dated:
        return '<p class="muted">No dated utterances for this code.</p>'
    t0, t1 = min(dated), max(dated)
    span = (t1 - t0).total_seconds() or 1.0
    ymax = max([p["hi"] for _, p, _ in points] + [1.0])
    ymax = _nice(ymax)

    def x(t: datetime) -> float:
        if t1 == t0:
            return ML + (W - ML - MR) / 2
        return ML + (W - ML - MR) * (t - t0).total_seconds() / span

    def y(v: float) -> float:
        return MT + (H - MT - MB) * (1 - v / ymax)

    out = [f'<svg class="trend" viewBox="0 0 {W} {H}" width="100%" role="img" '
           f'aria-label="{escape(code)} rate per 100 utterances over time">']
    for frac in (0, 0.5, 1):
        v = ymax * frac
        out.append(f'<line class="grid" x1="{ML}" x2="{W - MR}" y1="{y(v):.1f}" y2="{y(v):.1f}"/>'
                   f'<text class="axis" x="{ML - 4}" y="{y(v) + 4:.1f}" text-anchor="end">{v:g}</text>')
    out.append(f'<text class="axis" x="{ML}" y="{H - 8}">{t0:%Y-%m-%d}</text>')
    if t1 != t0:
        out.append(f'<text class="axis" x="{W - MR}" y="{H - 8}" text-anchor="end">{t1:%Y-%m-%d}</text>')
    for i, (group, ps) in enumerate(series.items()):
        colour = PALETTE[i % len(PALETTE)]
        pts = [(bucket_start(by, p["bucket"]), p) for p in ps]
        pts = [(t, p) for t, p in pts if t is not None]
        if not pts:
            continue
        if len(pts) > 1:
            upper = " ".join(f"{x(t):.1f},{y(p['hi']):.1f}" for t, p in pts)
            lower = " ".join(f"{x(t):.1f},{y(p['lo']):.1f}" for t, p in reversed(pts))
            out.append(f'<polygon class="band" fill="{colour}" points="{upper} {lower}"/>')
            line = " ".join(f"{x(t):.1f},{y(p['per100']):.1f}" for t, p in pts)
            out.append(f'<polyline class="line" stroke="{colour}" points="{line}"/>')
        for t, p in pts:
            since, until = bucket_range(by, p["bucket"])
            href = "/search?" + urlencode({**link_params(group), "code": code, "since": since, "until": until})
            title = (f"{group} · {p['bucket']}: {p['per100']:.1f} per 100 "
                     f"[95% CI {p['lo']:.1f}–{p['hi']:.1f}], {p['k']} of {p['n']} utterances")
            out.append(f'<a href="{escape(href)}"><line class="ci" stroke="{colour}" x1="{x(t):.1f}" '
                       f'x2="{x(t):.1f}" y1="{y(p["lo"]):.1f}" y2="{y(p["hi"]):.1f}"/>'
                       f'<circle class="pt" fill="{colour}" cx="{x(t):.1f}" cy="{y(p["per100"]):.1f}" r="4">'
                       f'<title>{escape(title)}</title></circle></a>')
    out.append("</svg>")
    return "".join(out)


def _nice(v: float) -> float:
    for step in (1, 2, 5, 10, 20, 25, 50, 75, 100):
        if v <= step:
            return float(step)
    return 100.0
