"""Dashboard trend charts read as one encoding (issue 15): gaps stay gaps, small-n points are hollow
without an interval, the scale follows the rates, dates are labelled at regular ticks."""

import re

from overheard.web.charts import SMALL_N, trend_svg


def _pt(day, n, per100, lo, hi, k=1):
    return {"bucket": day, "k": k, "n": n, "per100": per100, "lo": lo, "hi": hi}


def _svg(series, by="day"):
    return trend_svg("fear", series, by, link_params=lambda g: {"kind": g})


def test_gaps_break_the_line_and_bands_need_well_sampled_neighbours():
    svg = _svg({"radio": [_pt("2022-03-01", 50, 10, 4, 20), _pt("2022-03-02", 60, 12, 5, 22),
                          _pt("2022-03-10", 40, 5, 1, 15)]})
    assert svg.count("<polyline") == 1            # 1–2 March joined; 10 March alone (gap)
    assert svg.count("<polygon") == 1             # band over the adjacent well-sampled pair only
    svg = _svg({"radio": [_pt("2022-03-01", 50, 10, 4, 20), _pt("2022-03-02", 5, 40, 10, 80)]})
    assert svg.count("<polyline") == 1 and "<polygon" not in svg    # one small-n point: no band


def test_small_n_points_are_hollow_without_interval_and_do_not_set_the_scale():
    svg = _svg({"call": [_pt("2022-03-01", SMALL_N - 1, 8, 1, 80)]})
    assert 'class="pt small-n" fill="#fff"' in svg and 'class="ci"' not in svg
    labels = [float(v) for v in re.findall(r'text-anchor="end">([\d.]+)</text>', svg)]
    assert max(labels) == 10.0                     # scale from the rate (8), not the whisker (80)
    assert "interval too wide to draw" in svg
    full = _svg({"call": [_pt("2022-03-01", SMALL_N, 8, 1, 30)]})
    assert 'class="ci"' in full and 'class="pt" fill="#1f77b4"' in full


def test_dates_are_labelled_at_regular_ticks():
    svg = _svg({"call": [_pt("2022-03-01", 30, 5, 1, 10), _pt("2022-09-21", 30, 5, 1, 10)]})
    labels = re.findall(r'<text class="axis" x="[\d.]+" y="\d+" text-anchor="\w+">([A-Za-z]{3} \d{4})</text>', svg)
    assert labels == ["Mar 2022", "May 2022", "Jul 2022", "Sep 2022"]    # 204 days: every second month
    days = _svg({"call": [_pt(f"2022-03-0{d}", 30, 5, 1, 10) for d in range(1, 6)]})
    assert len(re.findall(r">0\d Mar</text>", days)) == 5
