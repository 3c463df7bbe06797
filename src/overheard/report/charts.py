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


def trend_svg(cells: list[Cell], title: str) -> str | None:
    """Small multiples: one panel per code that occurs (resolve last, in green), each with its
    rate per 100 utterances and the Wilson 95% band; shared y scale so panels compare."""
    cells = sorted((c for c in cells if c.bucket != "undated"), key=lambda c: c.bucket)
    if not cells:
        return None
    plt = _plt()
    buckets = [c.bucket for c in cells]
    x = list(range(len(buckets)))
    codes = [code for code in LOW_MORALE if any(c.rates[code].count for c in cells)] + ["resolve"]
    cols = min(4, len(codes))
    rows = (len(codes) + cols - 1) // cols
    fig, axes = plt.subplots(rows, cols, figsize=(8.2, 1.75 * rows + 0.35), squeeze=False, sharex=True)
    top = max(max(c.rates[code].ci95[1] for c in cells) for code in codes) * 1.05 or 1.0
    step = max(1, len(x) // 6)
    for ax, code in zip(axes.flat, codes):
        ys = [c.rates[code].per100 for c in cells]
        lo = [c.rates[code].ci95[0] for c in cells]
        hi = [c.rates[code].ci95[1] for c in cells]
        colour = COLOURS[code]
        if len(x) == 1:
            ax.errorbar(x, ys, yerr=[[max(0.0, ys[0] - lo[0])], [max(0.0, hi[0] - ys[0])]], fmt="o", ms=3, color=colour, capsize=3)
        else:
            ax.fill_between(x, lo, hi, color=colour, alpha=0.18, lw=0)
            ax.plot(x, ys, marker="o", ms=2.5, lw=1.2, color=colour)
        total = sum(c.rates[code].count for c in cells)
        ax.set_title(f"{code}  ({total})", fontsize=8, loc="left", color=colour if code == "resolve" else "#222")
        ax.set_ylim(0, top)
        ax.set_xticks(x[::step])
        ax.set_xticklabels(buckets[::step], rotation=30 if len(x) > 3 else 0, ha="right" if len(x) > 3 else "center",
                           fontsize=6.5)
        ax.grid(axis="y", lw=0.3, alpha=0.6)
        ax.spines[["top", "right"]].set_visible(False)
        ax.tick_params(labelsize=6.5)
    for ax in list(axes.flat)[len(codes):]:
        ax.set_visible(False)
    for ax in axes[:, 0]:
        ax.set_ylabel("per 100", fontsize=7)
    n = ", ".join(f"{c.bucket}: n={c.n}" for c in cells[:5]) + ("…" if len(cells) > 5 else "")
    fig.suptitle(f"{title} — shaded: Wilson 95% interval; {n}", fontsize=7, x=0.01, ha="left", color="#555")
    fig.tight_layout(rect=(0, 0, 1, 0.97))
    buf = io.StringIO()
    fig.savefig(buf, format="svg")
    plt.close(fig)
    svg = buf.getvalue()
    return svg[svg.index("<svg"):]   # drop the XML prolog: it is inlined in HTML


def bars_svg(cells: list[Cell]) -> str | None:
    """Per source (all time): rate of each code with its interval, as small horizontal bars."""
    cells = [c for c in cells if c.n]
    if not cells:
        return None
    plt = _plt()
    codes = [code for code in list(LOW_MORALE) + ["resolve"] if any(c.rates[code].count for c in cells)]
    if not codes:
        return None
    fig, ax = plt.subplots(figsize=(8.2, 0.35 * len(cells) * max(1, len(codes)) ** 0.5 + 1.0))
    height = 0.8 / len(codes)
    for i, code in enumerate(codes):
        ys = [j + i * height for j in range(len(cells))]
        vals = [c.rates[code].per100 for c in cells]
        err = [[max(0.0, v - c.rates[code].ci95[0]) for v, c in zip(vals, cells)],
               [max(0.0, c.rates[code].ci95[1] - v) for v, c in zip(vals, cells)]]
        ax.barh(ys, vals, height=height, color=COLOURS[code], label=code, xerr=err,
                error_kw={"lw": 0.6, "capsize": 1.5, "ecolor": "#444"})
    ax.set_yticks([j + 0.4 - height / 2 for j in range(len(cells))])
    ax.set_yticklabels([f"{c.group} (n={c.n})" for c in cells], fontsize=7)
    ax.invert_yaxis()
    ax.set_xlabel("per 100 utterances (bars: Wilson 95% interval)")
    ax.legend(fontsize=6.5, ncol=min(6, len(codes)), frameon=False, loc="lower right")
    ax.spines[["top", "right"]].set_visible(False)
    fig.tight_layout()
    buf = io.StringIO()
    fig.savefig(buf, format="svg")
    plt.close(fig)
    svg = buf.getvalue()
    return svg[svg.index("<svg"):]
