"""`overheard report`: one self-contained HTML file (inline CSS and SVG; opens offline),
and optionally a PDF printed from it by headless Chromium."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from jinja2 import Environment, PackageLoader, select_autoescape

from ..store import Store
from .charts import bars_svg, trend_svg
from .data import ReportOptions, gather
from .summary import CODES, Rate

CHROMIUM_CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "chrome")
MAX_CHANNEL_CHARTS = 8


class ReportError(Exception):
    pass


def render_html(store: Store, opts: ReportOptions, title: str = "Morale indicators in intercepted military communications") -> tuple[str, object]:
    d = gather(store, opts)
    charts = []
    overall_svg = trend_svg(d.overall, "all channels")
    if overall_svg:
        charts.append(("All sources and channels", overall_svg))
    channels = sorted({c.group for c in d.by_channel}, key=lambda g: -sum(c.n for c in d.by_channel if c.group == g))
    if len(channels) > 1:
        for g in channels[:MAX_CHANNEL_CHARTS]:
            svg = trend_svg([c for c in d.by_channel if c.group == g], g)
            if svg:
                charts.append((f"Channel: {g}", svg))
    totals, total_n = [], sum(c.n for c in d.overall)
    dated_n = sum(c.n for c in d.overall if c.bucket != "undated")
    for code in CODES:
        totals.append((code, Rate(sum(c.rates[code].count for c in d.overall), total_n)))
    register = {}
    for code in CODES:
        for e in d.evidence[code]:
            register[e.utterance_id] = e
    period = " – ".join((p or "?")[:10] for p in d.corpus["period"]) if d.corpus["period"][0] else "undated"
    env = Environment(loader=PackageLoader("overheard.report", "templates"),
                      autoescape=select_autoescape(["html", "j2"]))
    html = env.get_template("report.html.j2").render(
        d=d, title=title, charts=charts, bars=bars_svg(d.by_source), totals=totals, total_n=total_n,
        codes=CODES, register=sorted(register.values(), key=lambda e: e.utterance_id), period=period,
        dated_n=dated_n)
    return html, d


def write_report(store: Store, opts: ReportOptions, out: Path, pdf: Path | None = None) -> object:
    html, d = render_html(store, opts)
    tmp = out.with_name(out.name + ".part")
    tmp.write_text(html, encoding="utf-8")
    tmp.replace(out)
    if pdf is not None:
        print_pdf(out, pdf)
    return d


def find_chromium() -> str | None:
    for name in CHROMIUM_CANDIDATES:
        path = shutil.which(name)
        if path:
            return path
    return None


def print_pdf(html_path: Path, pdf_path: Path) -> None:
    """Print the HTML to PDF with headless Chromium (the optional PDF dependency)."""
    chromium = find_chromium()
    if chromium is None:
        raise ReportError("PDF needs Chromium (Debian: apt-get install chromium); the HTML report was written")
    with tempfile.TemporaryDirectory() as profile:
        tmp_pdf = pdf_path.with_name(pdf_path.name + ".part")
        cmd = [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
               "--disable-component-update", "--disable-sync", "--no-first-run", f"--user-data-dir={profile}",
               "--no-pdf-header-footer", f"--print-to-pdf={tmp_pdf}", html_path.resolve().as_uri()]
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=120,
                              env={**os.environ, "HOME": profile})
        if proc.returncode != 0 or not tmp_pdf.exists() or tmp_pdf.stat().st_size == 0:
            raise ReportError(f"Chromium could not print {html_path}: {proc.stderr.strip().splitlines()[-1:] or proc.returncode}")
        tmp_pdf.replace(pdf_path)
