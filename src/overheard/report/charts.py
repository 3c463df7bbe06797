"""Charts as inline SVG (matplotlib, rendered off-screen): rates per 100 utterances over time
with Wilson 95% bands, low-morale codes and resolve side by side."""

from __future__ import annotations

import io

from .summary import LOW_MORALE, Cell

COLOURS = {
    "fear": "#d62728", "distress": "#9467bd", "self_harm": "#000000", "deceived": "#8c564b",
    "unwilling": "#e377c2", "coercion": "#7f7f7f", "casualties": "#1f77b4", "infighting": "#ff7f0e",
    "civilian_harm": "#bcbd22", "neglect": "#17becf", "resolve": "#2ca02c",
}


def _plt():
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    plt.rcParams.update({"svg.fonttype": "none", "font.size": 8, "font.family": "sans-serif"})
    return plt


SMALL_N = 20          # fewer utterances in a bucket: a hollow point, no interval
_DAYS = {"day": 1, "week": 7, "month": 31}


def _bucket_date(bucket: str):
    from datetime import date
    try:
        if len(bucket) == 7:                       # YYYY-MM
            return date(int(bucket[:4]), int(bucket[5:7]), 1)
        return date.fromisoformat(bucket[:10])
    except ValueError:
        return None


def trend_svg(cells: list[Cell], title: str) -> str | None:
    """Small multiples: one panel per code that occurs (resolve last, in green), each with its
    rate per 100 utterances on a real time axis — lines only between adjacent buckets (a gap is a
    gap), the Wilson 95% band only where buckets hold at least SMALL_N utterances, hollow points
    where they hold fewer; shared y scale so panels compare."""
    cells = sorted((c for c in cells if c.bucket != "undated" and _bucket_date(c.bucket)), key=lambda c: c.bucket)
    if not cells:
        return None
    plt = _plt()
    import matplotlib.dates as mdates
    dates = [_bucket_date(c.bucket) for c in cells]
    unit = 31 if len(cells[0].bucket) == 7 else (7 if len(cells) > 1 and all(
        (b - a).days % 7 == 0 for a, b in zip(dates, dates[1:])) and any((b - a).days >= 7 for a, b in zip(dates, dates[1:])) else 1)
    runs, run = [], [0]
    for i in range(1, len(cells)):
        if (dates[i] - dates[i - 1]).days <= unit * 1.5:
            run.append(i)
        else:
            runs.append(run)
            run = [i]
    runs.append(run)
    codes = [code for code in LOW_MORALE if any(c.rates[code].count for c in cells)] + ["resolve"]
    cols = min(4, len(codes))
    rows = (len(codes) + cols - 1) // cols
    fig, axes = plt.subplots(rows, cols, figsize=(8.2, 1.75 * rows + 0.35), squeeze=False, sharex=True)
    top = max([c.rates[code].per100 for c in cells for code in codes]
              + [c.rates[code].ci95[1] for c in cells for code in codes if c.n >= SMALL_N] + [1.0]) * 1.05
    for ax, code in zip(axes.flat, codes):
        colour = COLOURS[code]
        for r in runs:
            xs = [dates[i] for i in r]
            ys = [cells[i].rates[code].per100 for i in r]
            if len(r) > 1:
                ax.plot(xs, ys, lw=1.2, color=colour)
                if all(cells[i].n >= SMALL_N for i in r):
                    ax.fill_between(xs, [cells[i].rates[code].ci95[0] for i in r],
                                    [min(top, cells[i].rates[code].ci95[1]) for i in r],
                                    color=colour, alpha=0.18, lw=0)
        alone = {r[0] for r in runs if len(r) == 1}
        for i, c in enumerate(cells):
            small = c.n < SMALL_N
            ax.plot([dates[i]], [c.rates[code].per100], marker="o", ms=3.2, color=colour,
                    markerfacecolor="white" if small else colour, linestyle="none")
            if not small and i in alone:          # no band around a lone point: its interval as a whisker
                lo, hi = c.rates[code].ci95
                ax.plot([dates[i], dates[i]], [lo, min(hi, top)], color=colour, lw=0.8)
        total = sum(c.rates[code].count for c in cells)
        ax.set_title(f"{code}  ({total})", fontsize=8, loc="left", color=colour if code == "resolve" else "#222")
        ax.set_ylim(0, top)
        locator = mdates.AutoDateLocator(minticks=2, maxticks=5)
        ax.xaxis.set_major_locator(locator)
        ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))
        ax.grid(axis="y", lw=0.3, alpha=0.6)
        ax.spines[["top", "right"]].set_visible(False)
        ax.tick_params(labelsize=6.5)
    if len(set(dates)) == 1:
        for ax in axes.flat:
            centre = mdates.date2num(dates[0])
            ax.set_xlim(centre - 3, centre + 3)
    for ax in list(axes.flat)[len(codes):]:
        ax.set_visible(False)
    for ax in axes[:, 0]:
        ax.set_ylabel("per 100", fontsize=7)
    small = sum(1 for c in cells if c.n < SMALL_N)
    fig.suptitle(f"{title} — {len(cells)} dated buckets, n = {min(c.n for c in cells)}–{max(c.n for c in cells)} "
                 f"utterances each; shaded: Wilson 95% interval" + (f"; hollow: n < {SMALL_N} ({small})" if small else ""),
                 fontsize=7, x=0.01, ha="left", color="#555")
    fig.tight_layout(rect=(0, 0, 1, 0.97))
    buf = io.StringIO()
    fig.savefig(buf, format="svg")
    plt.close(fig)
    svg = buf.getvalue()
    return svg[svg.index("<svg"):]   # drop the XML prolog: it is inlined in HTML


def bars_svg(cells: list[Cell]) -> str | None:
    """Per source (whole period): a table-like grid, one row per source (with its n) and one column
    per code, each cell the rate per 100 written out and shaded by it — readable in print, one
    encoding. Intervals are in the table below; cells from fewer than SMALL_N utterances are grey."""
    cells = [c for c in cells if c.n]
    if not cells:
        return None
    plt = _plt()
    codes = [code for code in list(LOW_MORALE) + ["resolve"] if any(c.rates[code].count for c in cells)]
    if not codes:
        return None
    rows = len(cells)
    fig, ax = plt.subplots(figsize=(8.2, 0.32 * rows + 1.0))
    vmax = max(c.rates[code].per100 for c in cells for code in codes) or 1.0
    for r, c in enumerate(cells):
        for k, code in enumerate(codes):
            v = c.rates[code].per100
            shade = 0.1 + 0.75 * v / vmax if v else 0.0
            base = (0.17, 0.55, 0.34) if code == "resolve" else (0.84, 0.15, 0.16)
            face = (1, 1, 1) if not v else tuple(1 - shade * (1 - x) for x in base)
            if c.n < SMALL_N:
                face = (0.93, 0.93, 0.93)
            ax.add_patch(plt.Rectangle((k, r), 1, 1, facecolor=face, edgecolor="white", lw=1.5))
            text = f"{v:.0f}" if v >= 10 else (f"{v:.1f}" if v else "·")
            ax.text(k + 0.5, r + 0.5, text, ha="center", va="center", fontsize=7,
                    color="white" if shade > 0.55 and c.n >= SMALL_N else "#222")
    ax.set_xlim(0, len(codes))
    ax.set_ylim(rows, 0)
    ax.set_xticks([k + 0.5 for k in range(len(codes))])
    ax.set_xticklabels(codes, rotation=30, ha="left", fontsize=7)
    ax.xaxis.tick_top()
    ax.set_yticks([r + 0.5 for r in range(rows)])
    ax.set_yticklabels([f"{c.group[:48]} (n={c.n})" for c in cells], fontsize=7)
    ax.tick_params(length=0)
    for spine in ax.spines.values():
        spine.set_visible(False)
    ax.set_xlabel(f"utterances per 100 with each indicator; grey rows: n < {SMALL_N}", fontsize=7, color="#555")
    fig.tight_layout()
    buf = io.StringIO()
    fig.savefig(buf, format="svg")
    plt.close(fig)
    svg = buf.getvalue()
    return svg[svg.index("<svg"):]
