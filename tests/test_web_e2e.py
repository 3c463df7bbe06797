"""The workbench in a real headless Chromium (Playwright for Python, Debian's /usr/bin/chromium):
sign in, search, open a transmission, play it and watch the playhead move, confirm a finding,
see it on the audit page; a viewer gets no review controls. Saves screenshots of the main
pages (into docs/screenshots/ with `make screenshots`)."""

from __future__ import annotations

import os
import shutil
import socket
import tempfile
import threading
import time
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
if not CHROMIUM.exists():
    pytest.skip(f"{CHROMIUM} not installed (apt-get install chromium); the browser tests need it",
                allow_module_level=True)
sync_api = pytest.importorskip("playwright.sync_api", reason="playwright (Python package) not installed")
uvicorn = pytest.importorskip("uvicorn")

from test_web_api import PASSWORD, build_web_store  # noqa: E402

# Screenshots go to docs/ only when asked (OVERHEARD_SCREENSHOTS=1, `make screenshots`), so a
# test run leaves the working tree as it found it.
SHOTS = (Path(__file__).resolve().parents[1] / "docs" / "screenshots" if os.environ.get("OVERHEARD_SCREENSHOTS")
         else Path(tempfile.gettempdir()) / "overheard-screenshots")
ARGS = ["--no-sandbox", "--headless", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run",
        "--autoplay-policy=no-user-gesture-required", "--mute-audio"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    from overheard.web import create_app
    base = build_web_store(tmp_path_factory.getbasetemp())
    store_dir = tmp_path_factory.mktemp("e2e") / "store"
    shutil.copytree(base, store_dir)
    port = _free_port()
    config = uvicorn.Config(create_app(store_dir), host="127.0.0.1", port=port, log_level="warning")
    srv = uvicorn.Server(config)
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.time() + 20
    while not srv.started and time.time() < deadline:
        time.sleep(0.05)
    assert srv.started, "uvicorn did not start"
    yield f"http://127.0.0.1:{port}", store_dir
    srv.should_exit = True
    thread.join(10)


@pytest.fixture(scope="module")
def browser():
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS, headless=True)
        yield b
        b.close()


def _login(browser, base: str, name: str):
    page = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(f"{base}/search")
    assert page.locator("h1").inner_text() == "Sign in"
    page.fill("input[name=name]", name)
    page.fill("input[name=password]", PASSWORD)
    page.click("section.login button[type=submit]")
    page.wait_for_url(f"{base}/search")
    page.errors = errors
    return page


def _wait_playhead(page, above: float, timeout: float = 15) -> float:
    # polled from Python: the page's CSP (script-src 'self') forbids wait_for_function's eval
    deadline = time.time() + timeout
    while time.time() < deadline:
        value = float(page.inner_text("#playhead"))
        if value > above:
            return value
        page.wait_for_timeout(100)
    raise AssertionError(f"playhead stuck at {page.inner_text('#playhead')} s")


def _shot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / name), full_page=True)


def test_analyst_searches_plays_confirms_and_admin_sees_it_audited(server, browser):
    base, store_dir = server
    page = _login(browser, base, "ann")
    # search: lemma-aware, highlighted, with badges (HTMX swaps the results in place)
    page.fill("input[name=q]", "страх")
    page.press("input[name=q]", "Enter")
    page.wait_for_selector("ol.hits mark")
    assert "страшно" in page.locator("ol.hits mark").first.inner_text()
    assert "q=" in page.url                                  # hx-push-url keeps the address shareable
    _shot(page, "search.png")

    # the radio transmission with a finding: open it from a search for its words
    page.goto(f"{base}/search?q=воды&kind=radio")
    page.locator("a.hit-link").first.click()
    page.wait_for_selector("#waveform")
    page.wait_for_selector("#player.ready", timeout=20000)     # wavesurfer decoded the clip
    assert page.locator("mark.finding").count() >= 1
    assert "machine translation" in page.inner_text("section.side-by-side")
    page.click("#play")
    first = _wait_playhead(page, above=0.3)
    page.wait_for_timeout(600)
    assert float(page.inner_text("#playhead")) > first          # the playhead advances
    page.click("#play")                                          # pause
    _shot(page, "transmission.png")

    # select words in the transcript → the add-finding form gets the span
    page.evaluate("""() => {
        const box = document.getElementById('transcript-text');
        const node = box.firstChild; const r = document.createRange();
        r.setStart(node, 0); r.setEnd(node, 6);
        const s = window.getSelection(); s.removeAllRanges(); s.addRange(r);
        box.dispatchEvent(new MouseEvent('mouseup', {bubbles: true}));
    }""")
    assert page.input_value("#span_start") == "0" and page.input_value("#span_end") == "6"

    # confirm the finding (HTMX posts with the CSRF header and swaps the detail in place)
    row = page.locator("table.findings tbody tr").first
    fid = row.get_attribute("id").split("-")[1]
    row.locator("button.confirm").click()
    page.wait_for_selector(f"#finding-{fid}.st-confirmed")
    assert "confirmed by ann" in page.locator(f"#finding-{fid}").inner_text()
    assert "machine → confirmed" in page.inner_text("#flash-area")
    assert not page.errors, page.errors

    # the admin sees it in the hash-chained log, and the chain verifies
    admin = _login(browser, base, "ada")
    admin.goto(f"{base}/audit")
    assert "Verification: OK" in admin.inner_text("#verify")
    assert admin.locator("table.audit tbody tr").first.inner_text().count("review.finding") == 1
    assert f"finding:{fid}" in admin.inner_text("table.audit")
    _shot(admin, "audit.png")
    admin.goto(f"{base}/dashboard?by=day&group=kind")
    assert admin.locator("svg.trend").count() >= 1
    _shot(admin, "dashboard.png")
    admin.goto(f"{base}/sources")
    admin.locator("a[href^='/source/']", has_text="radio_0_75.ogg").first.click()
    admin.wait_for_selector("svg.timeline")
    _shot(admin, "source.png")


def test_viewer_cannot_review(server, browser):
    base, _ = server
    page = _login(browser, base, "vic")
    page.goto(f"{base}/search?code=neglect")
    page.locator("a.hit-link").first.click()
    page.wait_for_selector("#findings")
    assert page.locator("button.confirm").count() == 0
    assert "can read but not review" in page.inner_text("#review")
    # forcing the request anyway is refused by the server
    status = page.evaluate("""async () => {
        const t = document.querySelector('meta[name=csrf-token]').content;
        const r = await fetch('/finding/1/review', {method: 'POST', headers: {'X-CSRF-Token': t,
              'Content-Type': 'application/x-www-form-urlencoded'}, body: 'decision=confirmed'});
        return r.status; }""")
    assert status == 403
    assert page.locator("nav a[href='/audit']").count() == 0


def test_pages_read_without_javascript(server, browser):
    base, _ = server
    ctx = browser.new_context(java_script_enabled=False)
    page = ctx.new_page()
    page.goto(f"{base}/login")
    page.fill("input[name=name]", "vic")
    page.fill("input[name=password]", PASSWORD)
    page.click("section.login button[type=submit]")
    page.goto(f"{base}/search?q=страх")
    assert page.locator("ol.hits mark").count() >= 1
    page.locator("a.hit-link").first.click()
    assert page.locator("#transcript-text").count() == 1
    ctx.close()


def _progress(page) -> tuple[int, int]:
    done, _, total, _ = page.inner_text("#review-progress").split(" ", 3)
    return int(done), int(total)


def test_review_queue_with_keys_and_bulk(server, browser):
    """Issue 15: the queue walked with single keys, and a bulk decision, in a real browser."""
    import sqlite3
    base, store_dir = server
    page = _login(browser, base, "ann")
    page.goto(f"{base}/review")
    done0, total = _progress(page)
    first = page.get_attribute("#review-item", "data-finding")
    _shot(page, "review.png")
    page.keyboard.press("j")                                   # next
    page.wait_for_url("**/review?i=1")
    second = page.get_attribute("#review-item", "data-finding")
    assert second != first
    page.keyboard.press("k")                                   # previous
    page.wait_for_url(f"{base}/review")
    assert page.get_attribute("#review-item", "data-finding") == first
    page.keyboard.press("c")                                   # confirm the first
    page.wait_for_selector(f"#review-item:not([data-finding='{first}'])")
    assert _progress(page) == (done0 + 1, total)
    page.fill("#confirm-form input[name=note]", "typing c here must not confirm")   # keys ignored in fields
    page.keyboard.press("Escape")
    current = page.get_attribute("#review-item", "data-finding")
    page.keyboard.press("r")                                   # focus is still in the field: nothing happens
    page.wait_for_timeout(300)
    assert page.get_attribute("#review-item", "data-finding") == current
    page.locator("body").click(position={"x": 5, "y": 5})
    page.keyboard.press("r")                                   # reject it
    page.wait_for_selector(f"#review-item:not([data-finding='{current}'])")
    boxes = page.locator("#bulk-form input[type=checkbox]")
    picked = [boxes.nth(i).get_attribute("name")[1:] for i in range(2)]
    boxes.nth(0).check()
    boxes.nth(1).check()
    page.click("#bulk-form button[value=rejected]")
    page.wait_for_selector("#review-progress")
    assert _progress(page) == (done0 + 4, total)
    assert page.errors == []
    con = sqlite3.connect(store_dir / "overheard.db")
    status = dict(con.execute("SELECT finding_id, status FROM finding_status WHERE finding_id IN (?,?,?,?)",
                              (int(first), int(current), *map(int, picked))).fetchall())
    assert status == {int(first): "confirmed", int(current): "rejected", int(picked[0]): "rejected",
                      int(picked[1]): "rejected"}


def test_widened_clip_marks_the_transmission_on_the_waveform(server, browser):
    base, _ = server
    page = _login(browser, base, "vic")
    page.goto(f"{base}/search?q=воды&kind=radio")
    page.locator("a.hit-link").first.click()
    page.wait_for_selector("#player.ready", timeout=20000)
    assert page.locator("#tx-mark").count() == 0            # the bare transmission: nothing to mark
    page.click("text=widen to neighbours")
    page.wait_for_selector("#player.ready", timeout=20000)
    mark = page.locator("#tx-mark")
    assert mark.count() == 1
    box, wave = mark.bounding_box(), page.locator("#waveform").bounding_box()
    assert 0 < box["width"] < wave["width"] and box["x"] > wave["x"]   # a part of the clip, not its start
    assert page.locator("a", has_text="the whole recording's timeline").get_attribute("href").startswith("/source/")
    assert page.errors == []


def test_report_reads_as_an_image(server, browser, tmp_path):
    """The report rendered in Chromium: captions sit above their charts, the charts have room,
    nothing overflows the page width; its sections are saved as screenshots (make screenshots)."""
    from overheard import Store
    from overheard.report.data import ReportOptions
    from overheard.report.html import render_html
    _, store_dir = server
    with Store(store_dir) as st:
        html, _ = render_html(st, ReportOptions(by="day"))
    out = tmp_path / "report.html"
    out.write_text(html, encoding="utf-8")
    page = browser.new_context(viewport={"width": 1100, "height": 1400}).new_page()
    page.goto(out.as_uri())
    width = page.evaluate("() => document.documentElement.scrollWidth")
    assert width <= 1100                                        # nothing wider than the page
    for fig in page.locator("figure.chart").all():
        cap, svg = fig.locator("figcaption"), fig.locator("svg").first
        if cap.count():
            assert cap.bounding_box()["y"] < svg.bounding_box()["y"]    # caption above its chart
        assert svg.bounding_box()["height"] > 80
    for section, name in (("#corpus", "report-corpus.png"), ("#trends", "report-trends.png"),
                          ("#evidence", "report-evidence.png")):
        if page.locator(section).count():
            SHOTS.mkdir(parents=True, exist_ok=True)
            page.locator(section).screenshot(path=str(SHOTS / name))
