import re
import shutil
import subprocess

import pytest

from overheard.report.data import ReportOptions
from overheard.report.html import find_chromium, write_report


def test_report_renders_with_charts_and_every_quote_links_to_a_real_utterance(demo_store, tmp_path):
    out = tmp_path / "report.html"
    write_report(demo_store, ReportOptions(by="day"), out)
    html = out.read_text(encoding="utf-8")
    assert html.count("<svg") >= 2                          # trend small multiples and per-source bars
    assert not re.search(r'\bsrc="(https?:)?//', html) and "url(http" not in html   # loads nothing from the web
    assert "<script" not in html and "<link" not in html    # self-contained: opens offline
    ids = [int(x) for x in re.findall(r'data-utterance-id="(\d+)"', html)]
    assert ids, "no quotes in the report"
    for uid in ids:
        assert demo_store.conn.execute("SELECT 1 FROM utterances WHERE id = ?", (uid,)).fetchone()
        assert f'id="u-{uid}"' in html                      # and to its register entry
    assert "machine output" in html                         # the methods section says what a gloss is
    assert html.count('class="gloss"') == html.count('<span class="label">machine translation</span>')


def test_report_numbers_equal_the_store(demo_store, tmp_path):
    out = tmp_path / "report.html"
    write_report(demo_store, ReportOptions(by="week"), out)
    html = out.read_text(encoding="utf-8")
    count = lambda key: int(re.search(rf'data-count="{key}">([\d.]+)<', html).group(1))  # noqa: E731
    q = lambda sql: demo_store.conn.execute(sql).fetchone()[0]  # noqa: E731
    assert count("sources") == q("SELECT count(*) FROM sources")
    assert count("utterances") == q("SELECT count(*) FROM utterances")
    assert count("transmissions") == q("SELECT count(*) FROM utterances WHERE start_s IS NOT NULL")
    assert count("messages") == q("SELECT count(*) FROM utterances WHERE kind = 'message'")
    # per code, utterances with a finding of the newest detector that it read: counted in Python
    # over plain rows, not with the report's own join
    runs = [tuple(r) for r in demo_store.conn.execute("SELECT id, stage, component_version FROM runs")]
    version = max(r for r in runs if r[1] == "analyze")[2]
    read = {r[0] for r in demo_store.conn.execute("SELECT utterance_id, detector_version, status FROM analyses")
            if r[1] == version and r[2] in ("ok", "truncated")}
    per_code: dict[str, set] = {}
    for uid, code, v in demo_store.conn.execute("SELECT utterance_id, code, detector_version FROM findings"):
        if v == version and uid in read:
            per_code.setdefault(code, set()).add(uid)
    assert per_code
    for code, uids in per_code.items():
        assert re.search(rf'data-code="{code}">{len(uids)}<', html), code


def test_empty_time_range_gives_a_valid_report_that_says_so(demo_store, tmp_path, cli):
    out = tmp_path / "empty.html"
    d = write_report(demo_store, ReportOptions(since="2030-01-01T00:00:00Z"), out)
    assert d.empty
    assert 'id="empty-notice"' in out.read_text(encoding="utf-8")


def test_report_cli_errors(cli, tmp_path):
    r = cli("report", "--out", tmp_path / "r.html")
    assert r.exit_code == 1 and "store" in r.output          # nothing there yet
    cli("ingest", tmp_path.parent)                              # anything, to make a store
    from conftest import TEXT_EXAMPLES
    cli("ingest", *TEXT_EXAMPLES)
    bad = cli("report", "--out", tmp_path / "r.html", "--source", "999")
    assert bad.exit_code == 2 and "no such source" in bad.output
    assert cli("report", "--out", tmp_path / "r.html", "--by", "year").exit_code == 2


def test_reviewed_only_counts_only_confirmed(demo_store, tmp_path):
    fid = demo_store.conn.execute("SELECT id FROM findings ORDER BY score DESC LIMIT 1").fetchone()[0]
    with demo_store.transaction() as conn:
        conn.execute("INSERT INTO reviews(finding_id, decision, actor, at) VALUES (?, 'confirmed', 'tester', '2026-11-26T00:00:00Z')", (fid,))
    out = tmp_path / "r.html"
    write_report(demo_store, ReportOptions(reviewed_only=True), out)
    html = out.read_text(encoding="utf-8")
    assert html.count('class="ev"') == 1 and "analyst-confirmed" in html


@pytest.mark.skipif(find_chromium() is None or shutil.which("pdftoppm") is None,
                    reason="PDF needs Chromium and pdftoppm (Debian: chromium, poppler-utils)")
def test_pdf_renders_pages_that_pdftoppm_turns_into_images(demo_store, tmp_path):
    html, pdf = tmp_path / "r.html", tmp_path / "r.pdf"
    write_report(demo_store, ReportOptions(), html, pdf)
    assert pdf.read_bytes()[:5] == b"%PDF-"
    subprocess.run(["pdftoppm", "-r", "40", "-png", "-f", "1", "-l", "2", str(pdf), str(tmp_path / "p")], check=True)
    pages = sorted(tmp_path.glob("p-*.png"))
    assert len(pages) == 2
    from PIL import Image  # matplotlib depends on pillow
    for page in pages:
        img = Image.open(page).convert("L")
        assert img.getextrema()[0] < 100                      # something dark was drawn: not a blank page


def test_report_shows_the_english_gloss_and_its_glossary_terms_beside_russian_quotes(demo_store, tmp_path):
    out = tmp_path / "report.html"
    write_report(demo_store, ReportOptions(by="day"), out)
    html = out.read_text(encoding="utf-8")
    # the demo's "no water" transmission, glossed by the translation stage during `process`
    m = re.search(r'воды[^<]*</mark>[^<]*</a></blockquote>\s*<div class="gloss" lang="en">'
                  r'<span class="label">machine translation</span>([^<]*)', html)
    assert m and "water" in m.group(1).lower(), "no English beside the 'нет воды' quote"
    assert 'class="terms"' in html and "= over" in html        # приём from the glossary, shown to the reader
    assert "translation</th>" in html and "p2026" in html       # the methods table names the translator version


def test_methods_quote_the_shipped_evaluation_per_code(tmp_path):
    """Issue 15: the report's methods carry measured precision/recall per code (a journalist needs
    an error rate to cite), from the figures shipped with the detector."""
    import json
    from importlib import resources
    from overheard import Store
    from overheard.analyse.apply import analyze_store
    from overheard.ingest import ingest_paths
    from overheard.report.data import ReportOptions
    from overheard.report.html import render_html
    from conftest import TEXT_EXAMPLES
    shipped = json.loads(resources.files("overheard.analyse").joinpath("evaluation.json").read_text())
    d = shipped["sets"]["blind D"]
    with Store(tmp_path / "s") as st:
        ingest_paths(st, TEXT_EXAMPLES)
        analyze_store(st)
        html, _ = render_html(st, ReportOptions(by="all"))
    methods = html[html.index('id="methods"'):html.index('id="register"')]
    assert "No shipped evaluation figures" not in methods
    assert f"micro P {d['micro']['precision']:.2f} R {d['micro']['recall']:.2f}" in methods
    sh = d["per_code"]["self_harm"]
    assert f"<td>self_harm</td>\n<td>{sh['precision']:.2f} / {sh['recall']:.2f} ({sh['support']})" in methods


def test_whole_selection_table_states_denominators_and_splits_by_position(tmp_path):
    """Issue 15: the table says what its n is, what the charts leave out (undated), what every n
    leaves out, and splits counts by speaker position — checked against a plain count of rows."""
    import re
    from collections import defaultdict
    from overheard import Store
    from overheard.analyse.apply import analyze_store
    from overheard.ingest import ingest_paths
    from overheard.report.data import ReportOptions
    from overheard.report.html import render_html
    from conftest import TEXT_EXAMPLES
    with Store(tmp_path / "s") as st:
        ingest_paths(st, TEXT_EXAMPLES)
        st.conn.execute("UPDATE utterances SET captured_at = NULL WHERE source_id = 1")  # an undated source
        analyze_store(st)
        html, _ = render_html(st, ReportOptions(by="week"))
        read = {r[0]: r[1] for r in st.conn.execute(
            "SELECT a.utterance_id, u.captured_at FROM analyses a JOIN utterances u ON u.id = a.utterance_id"
            " WHERE a.status IN ('ok', 'truncated')")}
        per_pos = defaultdict(set)
        for uid, code, stance in st.conn.execute("SELECT utterance_id, code, stance FROM findings"):
            if uid in read:
                per_pos[(code, stance)].add(uid)
    text = " ".join(html.split())
    undated = sum(1 for at in read.values() if at is None)
    assert undated > 0
    assert (f"Denominator: {len(read)} utterances read by detector" in text
            and f"use only the {len(read) - undated} of them that have a date ({undated} undated ones count here only)"
            in text)
    assert "Left out of every denominator: 1 site-boilerplate sentences, 2 lines in a language" in text
    assert "Undated (in the table, in no chart): 000_8507744cc2eb13bf.txt (source 1, 23 utterances)." in text
    for code in ("casualties", "distress"):
        row = re.search(rf'<tr><td>{code}</td>.*?</tr>', html, re.S).group(0)
        cells = dict(re.findall(r'data-position="(\w+)">(\d+)<', row))
        assert cells == {p: str(len(per_pos[(code, p)])) for p in ("self", "reported", "narration")}


def test_report_charts_break_at_gaps_mark_small_n_and_print_rates_per_source():
    """Issue 15: time on a real axis (a gap stays a gap), hollow points for small n, and the
    by-source view as a grid of written-out rates."""
    from overheard.report.charts import SMALL_N, bars_svg, trend_svg
    from overheard.report.summary import CODES, Cell, Rate

    def cell(bucket, n, k, group="all"):
        return Cell(group, bucket, n, {c: Rate(k if c == "fear" else 0, n) for c in CODES})

    svg = trend_svg([cell("2022-03-01", 40, 4), cell("2022-03-02", 40, 8), cell("2022-03-20", SMALL_N - 1, 5)], "t")
    # one line for the adjacent pair; the lone 20 March point is not joined to it
    fear_lines = [line for line in svg.split("<path") if "stroke: #d62728" in line and "stroke-width: 1.2" in line]
    assert len(fear_lines) == 1
    assert "fill: #ffffff" in svg and f"hollow: n &lt; {SMALL_N} (1)" in svg
    import re
    grid = bars_svg([cell("all", 40, 11, "A #1"), cell("all", 8, 2, "B #2")])
    texts = re.findall(r"<text[^>]*>([^<]*)</text>", grid)
    assert texts[:2] == ["fear", f"utterances per 100 with each indicator; grey rows: n &lt; {SMALL_N}"]
    assert texts[2:] == ["A #1 (n=40)", "B #2 (n=8)", "28", "25"]   # 11/40 = 27.5 → "28"; 2/8 = 25
