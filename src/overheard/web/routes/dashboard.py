"""The dashboard: indicator rates over time per group, linked to the search that lists them."""

from __future__ import annotations

from fastapi import APIRouter, Request

from ...report.summary import CODES as SUMMARY_CODES, exclusions, morale_summary
from ..charts import PALETTE, trend_svg
from ..guard import WebError, require
from .common import detector, page, store_of

# speaker position of the findings counted (their stance): narration never inflates own words
POSITION_CHOICES = {"all": None, "own": ("self",), "reported": ("reported",), "narration": ("narration",)}

router = APIRouter()


@router.get("/dashboard")
def dashboard(request: Request):
    require(request, "viewer")
    qp = request.query_params
    by = qp.get("by") or "day"
    group = qp.get("group") or "channel"
    if by not in ("day", "week", "month"):
        raise WebError(422, "by: expected day, week or month")
    if group not in ("channel", "kind", "source", "all"):
        raise WebError(422, "group: expected channel, kind, source or all")
    position = qp.get("position") or "all"
    if position not in POSITION_CHOICES:
        raise WebError(422, f"position: expected one of {', '.join(POSITION_CHOICES)}")
    version = qp.get("detector") or detector(request)
    charts = []
    if version:
        cells = morale_summary(store_of(request), version, by=by, group=group, positions=POSITION_CHOICES[position])
        groups = sorted({c.group for c in cells})[:8]
        for code in SUMMARY_CODES:
            series = {}
            for g in groups:
                pts = []
                for c in cells:
                    if c.group != g or c.bucket == "undated":
                        continue
                    r = c.rates[code]
                    lo, hi = r.ci95
                    pts.append({"bucket": c.bucket, "k": r.count, "n": r.n, "per100": r.per100,
                                "lo": lo, "hi": hi})
                if pts:
                    series[g] = pts
            total = sum(p["k"] for ps in series.values() for p in ps)
            if total:
                charts.append({"code": code, "k": total, "svg": trend_svg(
                    code, series, by, link_params=lambda g: _group_filter(group, g, version))})
    legend = [(g, PALETTE[i % len(PALETTE)]) for i, g in enumerate(groups)] if version else []
    left_out = exclusions(store_of(request), version) if version else {}
    return page(request, "dashboard.html", {"charts": charts, "by": by, "group": group, "position": position,
                                            "left_out": left_out,
                                            "detector": version, "legend": legend})


def _group_filter(group: str, g: str, version: str) -> dict:
    params = {"detector": version, "order": "newest"}
    if group == "channel":
        params["channel"] = g
    elif group == "kind":
        params["kind"] = g
    elif group == "source":
        params["source"] = g.rsplit("#", 1)[-1]
    return params

