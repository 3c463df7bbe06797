"""The analyst workbench over HTTP (FastAPI TestClient) against a real store built by the real
ingest → analyse → process pipeline: every route, every role's refusals, CSRF, sessions,
rate limiting, Range requests, path traversal, bad input, and the review writes with their
audit entries."""

from __future__ import annotations

import json
import re
import shutil
import sqlite3
from pathlib import Path

import pytest

pytest.importorskip("fastapi")
pytest.importorskip("argon2")

from fastapi.testclient import TestClient  # noqa: E402

from conftest import EXAMPLES, TEXT_EXAMPLES  # noqa: E402

PASSWORD = "correct-horse-battery"
USERS = {"ada": "admin", "ann": "analyst", "vic": "viewer"}
DEMO = EXAMPLES / "audio" / "demo_radio.ogg"
_BUILT: dict[str, Path] = {}


def build_web_store(root: Path) -> Path:
    """Text examples (ingest + analyse) and the first 75 s of the demo radio recording (ingest +
    process: seven transmissions, one with a finding), plus one account per role. Built once per
    session (~20 s)."""
    key = str(root)
    if key in _BUILT:
        return _BUILT[key]
    from overheard import Store
    from overheard.analyse.apply import analyze_store
    from overheard.audio.clips import cut_clip
    from overheard.ingest import IngestOptions, ingest_file, ingest_paths
    from overheard.process import process_store
    from overheard.web.auth import add_user

    path = root / "web-store"
    radio = root / "radio_0_75.ogg"
    cut_clip(DEMO, 0.0, 75.0, radio)
    with Store(path) as store:
        ingest_paths(store, TEXT_EXAMPLES, IngestOptions(contributor="overheard examples"))
        analyze_store(store)
        r = ingest_file(store, radio, IngestOptions(captured_at="2022-03-05T14:00:00Z", frequency_hz=148.5e6,
                                                    channel="VHF 148.500", lang="ru", contributor="test rig",
                                                    receiver="demo generator"))
        assert r.status == "added", r.message
        report = process_store(store, lang="ru")
        assert report.transmissions >= 4 and not report.failed
        for name, role in USERS.items():
            add_user(store, name, role, PASSWORD, actor="test")
    _BUILT[key] = path
    return path


@pytest.fixture(scope="session")
def base_store(tmp_path_factory) -> Path:
    return build_web_store(tmp_path_factory.getbasetemp())


@pytest.fixture
def store_dir(base_store, tmp_path) -> Path:
    """A private copy of the built store: each test's writes stay its own."""
    dst = tmp_path / "store"
    shutil.copytree(base_store, dst)
    return dst


@pytest.fixture
def app(store_dir):
    from overheard.web import create_app
    return create_app(store_dir)


def client(app) -> TestClient:
    return TestClient(app, base_url="http://testserver")


def login(app, name: str, password: str = PASSWORD) -> TestClient:
    c = client(app)
    r = c.post("/login", data={"name": name, "password": password, "login_csrf": _login_token(c)},
               follow_redirects=False)
    assert r.status_code == 303, r.text
    return c


def _login_token(c: TestClient) -> str:
    r = c.get("/login")
    return re.search(r'name="login_csrf" value="([^"]+)"', r.text).group(1)


def csrf(c: TestClient, path: str = "/search") -> str:
    return re.search(r'name="csrf-token" content="([^"]+)"', c.get(path).text).group(1)


def db(store_dir: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(store_dir / "overheard.db", isolation_level=None)
    conn.row_factory = sqlite3.Row
    return conn


def radio_rows(store_dir: Path) -> list[sqlite3.Row]:
    return db(store_dir).execute(
        "SELECT u.* FROM utterances u JOIN sources s ON s.id = u.source_id WHERE s.reader = 'audio'"
        " ORDER BY u.seq").fetchall()


def a_finding(store_dir: Path, *, audio: bool | None = None) -> sqlite3.Row:
    sql = ("SELECT f.* FROM findings f JOIN utterances u ON u.id = f.utterance_id"
           + (" WHERE u.start_s IS NOT NULL" if audio else " WHERE u.start_s IS NULL" if audio is False else "")
           + " ORDER BY f.id LIMIT 1")
    return db(store_dir).execute(sql).fetchone()


def counts(store_dir: Path) -> dict:
    conn = db(store_dir)
    return {t: conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
            for t in ("reviews", "findings", "transcript_versions", "annotations", "audit_log", "runs", "users")}


# ----------------------------------------------------------------------------- the store
def test_built_store_has_text_audio_findings_gloss_and_cues(base_store):
    conn = db(base_store)
    assert conn.execute("SELECT count(*) FROM sources WHERE reader = 'audio'").fetchone()[0] == 1
    assert len(radio_rows(base_store)) >= 4
    assert conn.execute("SELECT count(*) FROM glosses").fetchone()[0] >= 3
    assert conn.execute("SELECT count(*) FROM voice_cues").fetchone()[0] >= 3
    assert a_finding(base_store, audio=True) is not None and a_finding(base_store, audio=False) is not None


# ----------------------------------------------------------------------------- sign-in and sessions
PAGES = ["/search", "/search?q=страх", "/dashboard", "/sources", "/source/1", "/utterance/1", "/audit",
         "/admin/users", "/audio/source/7", "/audio/utterance/150"]


@pytest.mark.parametrize("path", PAGES)
def test_every_page_needs_a_session(app, path):
    r = client(app).get(path)
    assert r.status_code == 401
    assert "Sign in" in r.text and 'name="password"' in r.text
    assert "Traceback" not in r.text


@pytest.mark.parametrize("path", ["/finding/1/review", "/utterance/1/finding", "/utterance/1/transcript",
                                  "/utterance/1/annotate", "/utterance/1/gloss", "/admin/users", "/admin/users/1", "/logout"])
def test_every_post_needs_a_session(app, store_dir, path):
    before = counts(store_dir)
    r = client(app).post(path, data={"decision": "confirmed", "csrf": "x"})
    assert r.status_code == 401
    assert counts(store_dir) == before


def test_login_sets_a_strict_httponly_cookie_and_wrong_passwords_fail(app):
    c = client(app)
    token = _login_token(c)
    r = c.post("/login", data={"name": "vic", "password": "wrong-password!", "login_csrf": token},
               follow_redirects=False)
    assert r.status_code == 401 and "Wrong name or password" in r.text
    r = c.post("/login", data={"name": "nobody", "password": PASSWORD, "login_csrf": token},
               follow_redirects=False)
    assert r.status_code == 401 and "Wrong name or password" in r.text   # same message: names not revealed
    r = c.post("/login", data={"name": "vic", "password": PASSWORD, "login_csrf": token,
                               "next": "//evil.example/x"}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/search"    # no open redirect
    cookie = [h for h in r.headers.get_list("set-cookie") if h.startswith("overheard_session=")][0]
    assert "HttpOnly" in cookie and "samesite=strict" in cookie.lower()
    assert c.get("/search").status_code == 200


def test_login_form_needs_its_csrf_token(app):
    c = client(app)
    _login_token(c)
    r = c.post("/login", data={"name": "vic", "password": PASSWORD, "login_csrf": "forged"})
    assert r.status_code == 403 and c.get("/search").status_code == 401


def test_login_rate_limited_per_name_and_per_client(store_dir):
    from overheard.web import create_app
    app = create_app(store_dir, login_per_name=3, login_per_client=5)
    c = client(app)
    token = _login_token(c)
    for _ in range(3):
        assert c.post("/login", data={"name": "ann", "password": "bad-password-x", "login_csrf": token}).status_code == 401
    r = c.post("/login", data={"name": "ann", "password": PASSWORD, "login_csrf": token})
    assert r.status_code == 429 and "Too many failed sign-ins" in r.text and int(r.headers["retry-after"]) > 0
    # other names from the same client: refused once the client's budget is spent
    for _ in range(2):
        assert c.post("/login", data={"name": "vic", "password": "bad-password-x", "login_csrf": token}).status_code == 401
    r = c.post("/login", data={"name": "ada", "password": PASSWORD, "login_csrf": token})
    assert r.status_code == 429


def test_expired_session_is_refused_with_a_clear_message(app):
    c = login(app, "vic")
    assert c.get("/search").status_code == 200
    sessions = app.state.sessions
    real = sessions.clock
    sessions.clock = lambda: real() + sessions.idle_s + 1
    try:
        r = c.get("/search")
        assert r.status_code == 401 and "session has expired" in r.text
        r = c.get("/search")          # the dead session stays dead
        assert r.status_code == 401
    finally:
        sessions.clock = real


def test_logout_ends_the_session(app):
    c = login(app, "vic")
    token = csrf(c)
    assert c.post("/logout", data={"csrf": token}, follow_redirects=False).status_code == 303
    assert c.get("/search").status_code == 401


def test_disabled_user_is_signed_out_at_once(app, store_dir):
    viewer = login(app, "vic")
    admin = login(app, "ada")
    vic_id = db(store_dir).execute("SELECT id FROM users WHERE name = 'vic'").fetchone()[0]
    r = admin.post(f"/admin/users/{vic_id}", data={"csrf": csrf(admin), "role": "viewer", "disabled": "1"},
                   follow_redirects=False)
    assert r.status_code == 303
    r = viewer.get("/search")
    # told why, not that the session "expired" (issue 13, Low 14)
    assert r.status_code == 401 and "disabled by an administrator" in r.text and "expired" not in r.text


# ----------------------------------------------------------------------------- security headers
def test_security_headers_and_no_cdn(app):
    c = login(app, "vic")
    r = c.get("/search")
    csp = r.headers["content-security-policy"]
    assert "default-src 'self'" in csp and "script-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert r.headers["x-content-type-options"] == "nosniff" and r.headers["cache-control"] == "no-store"
    scripts = re.findall(r'<script[^>]*src="([^"]+)"', r.text)
    assert scripts and all(s.startswith("/static/") for s in scripts)
    for s in scripts:
        assert c.get(s).status_code == 200
    assert "<script>" not in r.text                                # no inline script (CSP)
    static = Path(__file__).resolve().parents[1] / "src" / "overheard" / "web" / "static" / "vendor"
    assert (static / "LICENSE-htmx.txt").exists() and (static / "LICENSE-wavesurfer.js.txt").exists()


# ----------------------------------------------------------------------------- search
def test_search_matches_word_forms_and_highlights(app):
    c = login(app, "vic")
    r = c.get("/search", params={"q": "страх"})
    assert r.status_code == 200
    assert "<mark>страшно</mark>" in r.text                     # lemma/root match, highlighted
    assert 'class="badge code-fear' in r.text                   # indicator badges on hits


def test_search_filters(app, store_dir):
    c = login(app, "vic")
    conn = db(store_dir)

    def ids(**params):
        r = c.get("/search", params={"size": 100, **params})
        assert r.status_code == 200, r.text
        return {int(x) for x in re.findall(r'href="/utterance/(\d+)"', r.text)}

    fear = ids(code="fear")
    want = {r[0] for r in conn.execute("SELECT DISTINCT utterance_id FROM findings WHERE code = 'fear'")}
    assert fear and fear == want
    own_fear = {r[0] for r in conn.execute(
        "SELECT DISTINCT utterance_id FROM findings WHERE code = 'fear' AND stance = 'self'")}
    assert own_fear and ids(code="fear", stance="self") == own_fear
    radio = {r["id"] for r in radio_rows(store_dir) if r["text"]}
    assert ids(freq="148.5") == radio and ids(channel="VHF 148.500") == radio
    assert ids(kind="message") == {r[0] for r in conn.execute(
        "SELECT id FROM utterances WHERE kind = 'message' AND is_boilerplate = 0")}
    assert ids(lang="uk") == {r[0] for r in conn.execute(
        "SELECT id FROM utterances WHERE lang = 'uk' AND is_boilerplate = 0")}
    assert ids(source="7") == ids(source=conn.execute("SELECT sha256 FROM sources WHERE id = 7").fetchone()[0][:12])
    assert ids(since="2022-03-05", until="2022-03-05") == {r[0] for r in conn.execute(
        "SELECT id FROM utterances WHERE captured_at BETWEEN '2022-03-05T00:00:00Z' AND '2022-03-05T23:59:59Z'"
        " AND is_boilerplate = 0")}
    assert ids(status="machine") == {r[0] for r in conn.execute(
        "SELECT DISTINCT utterance_id FROM findings")}
    assert ids(status="confirmed") == set()
    # independent truth: the messages that hold a form of страх/страшно, found by a plain regex
    scared = {r[0] for r in conn.execute("SELECT id, text FROM utterances WHERE kind = 'message'")
              if re.search(r"\bстра(х|ш)", r[1].lower())}
    assert scared and ids(q="страх", kind="message") == scared


@pytest.mark.parametrize("params, message", [
    ({"code": "bogus"}, "code"), ({"status": "maybe"}, "status"), ({"since": "yesterday"}, "since"),
    ({"freq": "abc"}, "freq"), ({"source": "zzzz"}, "source"), ({"order": "random"}, "order"),
    ({"offset": "5000"}, "offset"), ({"size": "7"}, "size"), ({"q": "!!!"}, "no words"),
    ({"after": "x1"}, "after"),
])
def test_search_bad_filters_are_explained(app, params, message):
    r = login(app, "vic").get("/search", params=params)
    assert r.status_code == 422 and message in r.text and "Traceback" not in r.text


def test_search_repeated_and_oversized_parameters(app):
    c = login(app, "vic")
    assert c.get("/search?code=fear&code=distress").status_code == 422
    assert c.get("/search", params={"q": "x" * 5000}).status_code == 414


def test_search_paging_keyset_and_bounded_offset(app, store_dir):
    c = login(app, "vic")
    seen, url, pages = [], "/search?size=20&order=newest", 0
    while url and pages < 50:
        r = c.get(url)
        assert r.status_code == 200
        page = [int(x) for x in re.findall(r'class="hit-link" href="/utterance/(\d+)"', r.text)]
        assert page == sorted(page, reverse=True)
        seen += page
        nxt = re.search(r'class="next" href="([^"]+)"', r.text)
        url = nxt.group(1).replace("&amp;", "&") if nxt else None
        pages += 1
    total = db(store_dir).execute("SELECT count(*) FROM utterances WHERE is_boilerplate = 0").fetchone()[0]
    assert len(seen) == len(set(seen)) == total and pages > 2
    # rank order pages by a bounded offset
    r1 = c.get("/search", params={"q": "прием", "size": 20})
    r2 = c.get("/search", params={"q": "прием", "size": 20, "offset": 20})
    p1 = set(re.findall(r'class="hit-link" href="/utterance/(\d+)"', r1.text))
    p2 = set(re.findall(r'class="hit-link" href="/utterance/(\d+)"', r2.text))
    assert p1 and not (p1 & p2)


# ----------------------------------------------------------------------------- utterance page
def test_transmission_page_shows_player_gloss_cues_findings_and_provenance(app, store_dir):
    f = a_finding(store_dir, audio=True)
    r = login(app, "vic").get(f"/utterance/{f['utterance_id']}")
    assert r.status_code == 200
    t = r.text
    assert f'src="/audio/utterance/{f["utterance_id"]}?pad=0.0"' in t and 'id="waveform"' in t
    assert "widen to neighbours" in t and "/audio/source/" in t
    assert "machine translation" in t
    assert "not a diagnosis" in t and "median pitch" in t
    sha = db(store_dir).execute("SELECT sha256 FROM sources WHERE reader = 'audio'").fetchone()[0]
    assert sha in t and "148.5000 MHz" in t and "test rig" in t and "2022-03-05T14:00:00Z" in t
    for stage in ("ingest", "process", "analyze"):
        assert f"<td>{stage}</td>" in t
    assert f'<mark class="finding code-{f["code"]}"' in t and f["method"].split(":")[1] in t
    assert "Confirm" not in t                       # a viewer gets no review buttons


def test_text_utterance_page_has_no_player_and_unknown_ids_404(app, store_dir):
    c = login(app, "vic")
    f = a_finding(store_dir, audio=False)
    r = c.get(f"/utterance/{f['utterance_id']}")
    assert r.status_code == 200 and 'id="waveform"' not in r.text
    for path in ("/utterance/999999", "/utterance/abc", "/utterance/0", "/utterance/99999999999999999999999",
                 "/source/999", "/finding/x/review"):
        r = c.get(path)
        assert r.status_code in (404, 405), path
        assert "Traceback" not in r.text


def test_source_pages(app, store_dir):
    c = login(app, "vic")
    r = c.get("/sources")
    assert r.status_code == 200 and "radio_0_75.ogg" in r.text
    sid = db(store_dir).execute("SELECT id, sha256 FROM sources WHERE reader = 'audio'").fetchone()
    r = c.get(f"/source/{sid['id']}")
    assert r.status_code == 200 and sid["sha256"] in r.text and 'class="timeline"' in r.text
    assert r.text.count('href="/utterance/') >= len(radio_rows(store_dir))


# ----------------------------------------------------------------------------- audio
def test_audio_clip_and_original_support_range_requests(app, store_dir):
    c = login(app, "vic")
    uid = radio_rows(store_dir)[0]["id"]
    full = c.get(f"/audio/utterance/{uid}")
    assert full.status_code == 200 and full.headers["content-type"] == "audio/ogg"
    assert full.headers.get("accept-ranges") == "bytes" and full.content[:4] == b"OggS"
    size = len(full.content)
    r = c.get(f"/audio/utterance/{uid}", headers={"Range": "bytes=0-99"})
    assert r.status_code == 206 and r.headers["content-range"] == f"bytes 0-99/{size}" and len(r.content) == 100
    r = c.get(f"/audio/utterance/{uid}", headers={"Range": "bytes=-50"})
    assert r.status_code == 206 and r.content == full.content[-50:]
    r = c.get(f"/audio/utterance/{uid}", headers={"Range": f"bytes={size + 10}-"})
    assert r.status_code == 416
    wide = c.get(f"/audio/utterance/{uid}", params={"pad": "3"})
    assert wide.status_code == 200 and len(wide.content) > size
    assert c.get(f"/audio/utterance/{uid}", params={"pad": "999"}).status_code == 422
    assert c.get(f"/audio/utterance/{uid}", params={"pad": "nan"}).status_code == 422
    # the original, by source id
    src = db(store_dir).execute("SELECT id, size FROM sources WHERE reader = 'audio'").fetchone()
    r = c.get(f"/audio/source/{src['id']}", headers={"Range": "bytes=1000-1999"})
    assert r.status_code == 206 and r.headers["content-range"] == f"bytes 1000-1999/{src['size']}"
    # clips land in derived/, recorded with a run
    assert db(store_dir).execute("SELECT count(*) FROM clips").fetchone()[0] >= 2


def test_audio_for_text_or_unknown_ids_is_404(app, store_dir):
    c = login(app, "vic")
    text_utt = db(store_dir).execute("SELECT id FROM utterances WHERE start_s IS NULL LIMIT 1").fetchone()[0]
    assert c.get(f"/audio/utterance/{text_utt}").status_code == 404
    assert c.get("/audio/utterance/999999").status_code == 404
    assert c.get("/audio/source/1").status_code == 404         # a text source has no audio
    assert c.get("/audio/source/999").status_code == 404


@pytest.mark.parametrize("path", [
    "/audio/source/..%2f..%2foverheard.db", "/audio/source/%2e%2e%2f%2e%2e%2fetc%2fpasswd",
    "/audio/utterance/1%2f..%2f..%2fetc%2fpasswd", "/audio/source/../../overheard.db",
    "/static/..%2f..%2f..%2fstore%2fdb.py", "/static/../app.py", "/static/%2e%2e/app.py",
    "/static/vendor/..%2f..%2fapp.py", "/audio/source/7?path=/etc/passwd",
])
def test_path_traversal_never_reaches_the_file_system(app, path):
    r = login(app, "vic").get(path)
    assert b"root:" not in r.content and b"def create_app" not in r.content and b"SQLite format" not in r.content
    if "?path=" not in path:
        assert r.status_code in (404, 400), (path, r.status_code)


# ----------------------------------------------------------------------------- review
def test_viewer_cannot_review_and_nothing_is_saved(app, store_dir):
    c = login(app, "vic")
    token = csrf(c)
    f = a_finding(store_dir)
    before = counts(store_dir)
    for path, data in [(f"/finding/{f['id']}/review", {"decision": "confirmed"}),
                       (f"/utterance/{f['utterance_id']}/finding", {"code": "fear", "stance": "self", "evidence": "a"}),
                       (f"/utterance/{f['utterance_id']}/transcript", {"text": "x", "reason": "y"}),
                       (f"/utterance/{f['utterance_id']}/annotate", {"kind": "tag", "value": "x"}),
                       ("/admin/users", {"name": "eve", "role": "admin", "password": PASSWORD})]:
        r = c.post(path, data={**data, "csrf": token})
        assert r.status_code == 403, path
        assert "may not do this" in r.text
    assert counts(store_dir) == before


def test_analyst_cannot_administer(app):
    c = login(app, "ann")
    assert c.get("/audit").status_code == 403
    assert c.get("/admin/users").status_code == 403
    r = c.post("/admin/users", data={"csrf": csrf(c), "name": "eve", "role": "admin", "password": PASSWORD})
    assert r.status_code == 403


def test_csrf_is_required_on_every_state_change(app, store_dir):
    c = login(app, "ann")
    other = login(app, "ada")
    f = a_finding(store_dir)
    before = counts(store_dir)
    url = f"/finding/{f['id']}/review"
    assert c.post(url, data={"decision": "confirmed"}).status_code == 403
    assert c.post(url, data={"decision": "confirmed", "csrf": "forged"}).status_code == 403
    assert c.post(url, data={"decision": "confirmed", "csrf": csrf(other)}).status_code == 403   # another session's
    r = c.post(url, data={"decision": "confirmed", "csrf": csrf(c)}, headers={"Origin": "http://evil.example"})
    assert r.status_code == 403 and "Cross-site" in r.text
    assert counts(store_dir) == before
    # the header form (HTMX) is accepted
    r = c.post(url, data={"decision": "confirmed"}, headers={"X-CSRF-Token": csrf(c)}, follow_redirects=False)
    assert r.status_code == 303


def test_confirm_and_reject_a_finding_are_audited(app, store_dir):
    from overheard import Store
    from overheard.store.verify import verify_store
    c = login(app, "ann")
    f = a_finding(store_dir, audio=True)
    r = c.post(f"/finding/{f['id']}/review", data={"decision": "confirmed", "note": "clear on the audio",
                                                   "csrf": csrf(c)}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == f"/utterance/{f['utterance_id']}#review"
    page = c.get(r.headers["location"]).text
    assert "machine → confirmed" in page and "confirmed by ann" in page
    conn = db(store_dir)
    assert conn.execute("SELECT status FROM finding_status WHERE finding_id = ?", (f["id"],)).fetchone()[0] == "confirmed"
    row = conn.execute("SELECT * FROM audit_log ORDER BY id DESC LIMIT 1").fetchone()
    details = json.loads(row["details"])
    assert row["action"] == "review.finding" and row["actor"] == "web:ann" and row["target"] == f"finding:{f['id']}"
    assert details["before"] == "machine" and details["after"] == "confirmed"
    c.post(f"/finding/{f['id']}/review", data={"decision": "rejected", "csrf": csrf(c)})
    assert conn.execute("SELECT status FROM finding_status WHERE finding_id = ?", (f["id"],)).fetchone()[0] == "rejected"
    ids = re.findall(r'class="hit-link" href="/utterance/(\d+)"', c.get("/search?status=rejected").text)
    assert ids == [str(f["utterance_id"])]
    with Store(store_dir) as store:
        assert verify_store(store).ok
    assert c.post(f"/finding/{f['id']}/review", data={"decision": "maybe", "csrf": csrf(c)}).status_code == 422
    assert c.post("/finding/999999/review", data={"decision": "confirmed", "csrf": csrf(c)}).status_code == 404


def test_add_a_finding_by_span_or_by_words(app, store_dir):
    c = login(app, "ann")
    u = radio_rows(store_dir)[1]
    text = u["text"]
    word = text.split()[0].strip(",.")
    start = text.index(word)
    before = counts(store_dir)
    r = c.post(f"/utterance/{u['id']}/finding", data={
        "csrf": csrf(c), "code": "distress", "stance": "self", "span_start": start, "span_end": start + len(word),
        "evidence": word, "note": "tone"}, follow_redirects=False)
    assert r.status_code == 303
    conn = db(store_dir)
    f = conn.execute("SELECT * FROM findings ORDER BY id DESC LIMIT 1").fetchone()
    assert (f["utterance_id"], f["code"], f["evidence"], f["method"], f["detector_version"]) == \
        (u["id"], "distress", word, "analyst:ann", "analyst")
    run = conn.execute("SELECT * FROM runs WHERE id = ?", (f["run_id"],)).fetchone()
    assert run["stage"] == "review" and run["status"] == "done"
    assert conn.execute("SELECT status FROM finding_status WHERE finding_id = ?", (f["id"],)).fetchone()[0] == "confirmed"
    audit = conn.execute("SELECT * FROM audit_log ORDER BY id DESC LIMIT 1").fetchone()
    assert audit["action"] == "review.add_finding" and json.loads(audit["details"])["after"]["evidence"] == word
    after = counts(store_dir)
    assert after["findings"] == before["findings"] + 1 and after["audit_log"] == before["audit_log"] + 1
    # without JavaScript: the words alone, found in the text
    last = text.rstrip(".").split()[-1]
    r = c.post(f"/utterance/{u['id']}/finding", data={"csrf": csrf(c), "code": "resolve", "stance": "self",
                                                      "evidence": last}, follow_redirects=False)
    assert r.status_code == 303
    # refusals, nothing saved
    mid = counts(store_dir)
    for data, status in [({"code": "nonsense", "stance": "self", "evidence": word}, 422),
                         ({"code": "fear", "stance": "self", "evidence": "not in the text at all"}, 422),
                         ({"code": "fear", "stance": "self", "span_start": "5", "span_end": "99999"}, 422),
                         ({"code": "fear", "stance": "self", "span_start": "x", "span_end": "3"}, 422),
                         ({"code": "fear", "stance": "sideways", "evidence": word}, 422)]:
        r = c.post(f"/utterance/{u['id']}/finding", data={**data, "csrf": csrf(c)})
        assert r.status_code == status, (data, r.text)
    assert c.post("/utterance/999999/finding", data={"csrf": csrf(c), "code": "fear", "stance": "self",
                                                     "evidence": "a"}).status_code == 404
    assert counts(store_dir) == mid


def test_correct_a_transcript_keeps_versions_and_reindexes(app, store_dir):
    c = login(app, "ann")
    u = radio_rows(store_dir)[0]
    old = u["text"]
    new = old + " Вертолёт над квадратом."
    r = c.post(f"/utterance/{u['id']}/transcript", data={"csrf": csrf(c), "text": new, "reason": "missed tail",
                                                         "base_version": "1"}, follow_redirects=False)
    assert r.status_code == 303
    conn = db(store_dir)
    versions = conn.execute("SELECT version, text, actor FROM transcript_versions WHERE utterance_id = ?"
                            " ORDER BY version", (u["id"],)).fetchall()
    assert [tuple(v) for v in versions] == [(1, old, "original"), (2, new, "ann")]
    assert conn.execute("SELECT text FROM utterances WHERE id = ?", (u["id"],)).fetchone()[0] == new
    hits = re.findall(r'class="hit-link" href="/utterance/(\d+)"', c.get("/search?q=вертолёт").text)
    assert str(u["id"]) in hits                                 # the full-text row follows the correction
    assert conn.execute("SELECT count(*) FROM utterances_fts WHERE utterances_fts MATCH 'вертолёт'").fetchone()[0] == 1
    conn.execute("INSERT INTO utterances_fts(utterances_fts) VALUES ('integrity-check')")   # FTS consistent
    audit = conn.execute("SELECT * FROM audit_log ORDER BY id DESC LIMIT 1").fetchone()
    d = json.loads(audit["details"])
    assert audit["action"] == "review.correct_transcript" and d["before"]["text"] == old and d["after"]["text"] == new
    page = c.get(f"/utterance/{u['id']}").text
    assert "version 2" in page and "missed tail" in page and old.split()[0] in page
    # a stale edit (made from version 1 after version 2 exists) is refused, nothing saved
    before = counts(store_dir)
    r = c.post(f"/utterance/{u['id']}/transcript", data={"csrf": csrf(c), "text": "other", "reason": "x",
                                                         "base_version": "1"})
    assert r.status_code == 422 and "changed meanwhile" in r.text
    for data in ({"text": "", "reason": "x"}, {"text": "abc", "reason": ""}, {"text": new, "reason": "same"}):
        assert c.post(f"/utterance/{u['id']}/transcript", data={**data, "csrf": csrf(c)}).status_code == 422
    assert counts(store_dir) == before


def test_glosses_are_shown_searchable_correctable_and_go_stale(app, store_dir):
    """process glosses each transmission with the translation stage; the workbench shows the
    gloss with its label, finds Russian lines by English words through it, marks it stale after
    a transcript correction, and stores an analyst's English as a new, audited version."""
    c = login(app, "ann")
    conn = db(store_dir)
    water = conn.execute("SELECT u.id, u.text FROM utterances u JOIN glosses g ON g.utterance_id = u.id"
                         " WHERE u.text LIKE '%воды%' AND g.method = 'llm'").fetchone()
    assert water is not None, "the demo's 'no water' transmission has a language-model gloss"
    page = c.get(f"/utterance/{water['id']}").text
    assert 'id="gloss-text"' in page and "not a human translation" in page
    hits = c.get("/search?q=water").text
    assert f'href="/utterance/{water["id"]}"' in hits and "found in the English gloss" in hits
    # a transcript correction makes the gloss stale
    r = c.post(f"/utterance/{water['id']}/transcript", data={"csrf": csrf(c), "text": water["text"] + " Конец связи.",
                                                             "reason": "missed tail"}, follow_redirects=False)
    assert r.status_code == 303
    assert "Made before the transcript was corrected" in c.get(f"/utterance/{water['id']}").text
    # an analyst's English: a new version, audited, shown as analyst translation, searchable
    base = conn.execute("SELECT max(id) FROM glosses WHERE utterance_id = ?", (water["id"],)).fetchone()[0]
    r = c.post(f"/utterance/{water['id']}/gloss", data={"csrf": csrf(c), "text": "No water, third day. Out.",
                                                        "reason": "checked", "base_gloss": str(base)},
               follow_redirects=False)
    assert r.status_code == 303
    row = conn.execute("SELECT * FROM glosses WHERE utterance_id = ? ORDER BY id DESC LIMIT 1", (water["id"],)).fetchone()
    assert row["method"] == "analyst:ann" and row["text"] == "No water, third day. Out."
    audit = conn.execute("SELECT action, details FROM audit_log ORDER BY id DESC LIMIT 1").fetchone()
    assert audit["action"] == "review.correct_gloss" and json.loads(audit["details"])["before"]["gloss_id"] == base
    page = c.get(f"/utterance/{water['id']}").text
    assert "analyst translation" in page and "earlier gloss" in page
    assert f'href="/utterance/{water["id"]}"' in c.get("/search?q=%22third+day%22").text
    before = counts(store_dir)
    stale = c.post(f"/utterance/{water['id']}/gloss", data={"csrf": csrf(c), "text": "x", "reason": "y",
                                                            "base_gloss": str(base)})
    assert stale.status_code == 422 and "changed meanwhile" in stale.text
    assert c.post(f"/utterance/{water['id']}/gloss", data={"csrf": csrf(c), "text": "y", "reason": ""}).status_code == 422
    viewer = login(app, "vic")
    assert viewer.post(f"/utterance/{water['id']}/gloss", data={"csrf": csrf(viewer), "text": "z",
                                                                "reason": "r"}).status_code == 403
    assert counts(store_dir) == before


def test_tags_and_notes(app, store_dir):
    c = login(app, "ann")
    uid = radio_rows(store_dir)[2]["id"]
    assert c.post(f"/utterance/{uid}/annotate", data={"csrf": csrf(c), "kind": "tag", "value": "Follow Up"},
                  follow_redirects=False).status_code == 303
    assert c.post(f"/utterance/{uid}/annotate", data={"csrf": csrf(c), "kind": "note", "value": "call sign Береза"},
                  follow_redirects=False).status_code == 303
    assert c.post(f"/utterance/{uid}/annotate", data={"csrf": csrf(c), "kind": "tag", "value": "follow up"}).status_code == 422
    assert c.post(f"/utterance/{uid}/annotate", data={"csrf": csrf(c), "kind": "rating", "value": "5"}).status_code == 422
    page = c.get(f"/utterance/{uid}").text
    assert "follow up" in page and "call sign Береза" in page
    rows = db(store_dir).execute("SELECT kind, value, actor FROM annotations WHERE utterance_id = ?", (uid,)).fetchall()
    assert [tuple(r) for r in rows] == [("tag", "follow up", "ann"), ("note", "call sign Береза", "ann")]


# ----------------------------------------------------------------------------- bad input
def test_malformed_and_oversized_requests(app, store_dir):
    c = login(app, "ann")
    token = csrf(c)
    f = a_finding(store_dir)
    url = f"/finding/{f['id']}/review"
    before = counts(store_dir)
    r = c.post(url, content=json.dumps({"decision": "confirmed"}), headers={"Content-Type": "application/json",
                                                                           "X-CSRF-Token": token})
    assert r.status_code == 415
    r = c.post(url, content=b"--x\r\nbroken", headers={"Content-Type": "multipart/form-data; boundary=x",
                                                       "X-CSRF-Token": token})
    assert r.status_code in (400, 422) and "Traceback" not in r.text
    r = c.post(url, data={"csrf": token, "decision": "confirmed", "note": "x" * 100_000})
    assert r.status_code == 413
    r = c.post(url, data={"csrf": token, "decision": "confirmed"}, files={"f": ("a.txt", b"hello")})
    assert r.status_code in (400, 413)
    r = c.post(url, content=b"decision=confirmed&csrf=" + token.encode() + b"&note=%FF%FE%00",
               headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert r.status_code == 422 and "NUL" in r.text                # the note holds a NUL character
    assert counts(store_dir)["reviews"] == before["reviews"]         # no malformed request wrote anything


def test_internal_errors_show_no_traceback(app, monkeypatch):
    from overheard.web import queries
    c = login(app, "vic")

    def boom(*a, **k):
        raise RuntimeError("secret internals")
    monkeypatch.setattr(queries, "utterance_detail", boom)
    from overheard.web.routes import review
    monkeypatch.setattr(review, "utterance_detail", boom)
    c2 = TestClient(app, raise_server_exceptions=False)
    c2.cookies = c.cookies
    r = c2.get("/utterance/1")
    assert r.status_code == 500 and "secret internals" not in r.text and "Traceback" not in r.text
    assert "Internal error" in r.text


# ----------------------------------------------------------------------------- dashboard, audit, users
def test_dashboard_points_link_to_their_utterances(app, store_dir):
    c = login(app, "vic")
    r = c.get("/dashboard", params={"by": "day", "group": "kind"})
    assert r.status_code == 200 and "<svg" in r.text and 'class="ci"' in r.text
    links = [x.replace("&amp;", "&") for x in re.findall(r'<a href="(/search\?[^"]+)"><line class="ci"', r.text)]
    assert links
    link = next(x for x in links if "code=fear" in x)
    ids = {int(x) for x in re.findall(r'class="hit-link" href="/utterance/(\d+)"', c.get(link).text)}
    fear = {r[0] for r in db(store_dir).execute("SELECT utterance_id FROM findings WHERE code = 'fear'")}
    assert ids and ids <= fear
    assert c.get("/dashboard", params={"by": "year"}).status_code == 422
    assert c.get("/dashboard", params={"group": "x"}).status_code == 422
    assert c.get("/dashboard", params={"position": "mine"}).status_code == 422
    # findings in narration only: every chart counts narration findings, and only those
    own = c.get("/dashboard", params={"by": "day", "group": "all", "position": "narration"}).text
    counted = {m[0]: int(m[1]) for m in re.findall(r"<h2>(\w+) <small class=\"muted\">(\d+) utterance", own)}
    narrated = dict(db(store_dir).execute(
        "SELECT f.code, count(DISTINCT f.utterance_id) FROM findings f JOIN utterances u ON u.id = f.utterance_id"
        " WHERE f.stance = 'narration' AND u.captured_at IS NOT NULL GROUP BY f.code").fetchall())
    assert counted == narrated and "only findings in narration count" in own
    from overheard import Store
    from overheard.analyse.apply import latest_detector_version
    from overheard.report.summary import exclusions
    with Store(store_dir) as st:
        e = exclusions(st, latest_detector_version(st))
    text = " ".join(own.split())
    assert f"Denominator: the {e['analysed']} utterances the detector read" in text
    assert f"Left out of every rate: {e['boilerplate']} site-boilerplate sentences" in text


def test_audit_page_shows_chain_verification_and_review_entries(app, store_dir):
    ann = login(app, "ann")
    f = a_finding(store_dir)
    ann.post(f"/finding/{f['id']}/review", data={"decision": "confirmed", "csrf": csrf(ann)})
    admin = login(app, "ada")
    r = admin.get("/audit")
    assert r.status_code == 200
    assert "Verification: OK" in r.text and "audit rows chained" in r.text
    assert "review.finding" in r.text and "web:ann" in r.text and "&#34;after&#34;: &#34;confirmed&#34;" in r.text
    assert login(app, "vic").get("/audit").status_code == 403


def test_admin_manages_users(app, store_dir):
    c = login(app, "ada")
    r = c.post("/admin/users", data={"csrf": csrf(c), "name": "bob", "role": "analyst", "password": PASSWORD},
               follow_redirects=False)
    assert r.status_code == 303
    assert "bob" in c.get("/admin/users").text
    bob = login(app, "bob")
    assert bob.get("/search").status_code == 200
    for data in ({"name": "bob", "role": "analyst", "password": PASSWORD},      # exists
                 {"name": "b o b", "role": "analyst", "password": PASSWORD},
                 {"name": "carl", "role": "root", "password": PASSWORD},
                 {"name": "carl", "role": "viewer", "password": "short"}):
        assert c.post("/admin/users", data={**data, "csrf": csrf(c)}).status_code == 422
    ada_id = db(store_dir).execute("SELECT id FROM users WHERE name = 'ada'").fetchone()[0]
    r = c.post(f"/admin/users/{ada_id}", data={"csrf": csrf(c), "role": "viewer"})
    assert r.status_code == 422 and "last active admin" in r.text
    hashes = db(store_dir).execute("SELECT password_hash FROM users").fetchall()
    assert all(h[0].startswith("$argon2") for h in hashes)
    log = " ".join(r[0] for r in db(store_dir).execute("SELECT details FROM audit_log WHERE action LIKE 'user.%'"))
    assert "bob" in log and "$argon2" not in log and PASSWORD not in log


# ----------------------------------------------------------------------------- CLI
def test_cli_user_add_list_and_serve_is_registered(tmp_path, store_dir):
    import typer.main
    from typer.testing import CliRunner

    from overheard.cli import app as cli_app
    assert {"serve", "user"} <= set(typer.main.get_command(cli_app).commands)   # registered by the CLI itself
    runner = CliRunner()
    pw = tmp_path / "pw"
    pw.write_text(PASSWORD + "\n")
    r = runner.invoke(cli_app, ["--store", str(store_dir), "user", "add", "cli-user", "--role", "analyst",
                                "--password-file", str(pw)])
    assert r.exit_code == 0, r.output
    r = runner.invoke(cli_app, ["--store", str(store_dir), "user", "add", "cli-user", "--role", "analyst",
                                "--password-file", str(pw)])
    assert r.exit_code == 2 and "already exists" in r.output
    r = runner.invoke(cli_app, ["--store", str(store_dir), "user", "add", "x2", "--role", "god",
                                "--password-file", str(pw)])
    assert r.exit_code == 2
    r = runner.invoke(cli_app, ["--store", str(store_dir), "user", "list", "--json"])
    users = [json.loads(x) for x in r.stdout.splitlines()]
    assert {"name": "cli-user", "role": "analyst"}.items() <= next(u for u in users if u["name"] == "cli-user").items()
    r = runner.invoke(cli_app, ["--store", str(store_dir), "user", "add", "typed", "--role", "viewer"],
                      input=PASSWORD + "\n" + PASSWORD + "\n")
    assert r.exit_code == 0, r.output
    r = runner.invoke(cli_app, ["--store", str(store_dir), "user", "passwd", "typed", "--password-file", str(pw)])
    assert r.exit_code == 0, r.output
    from overheard.web import create_app
    assert login(create_app(store_dir), "typed").get("/search").status_code == 200


@pytest.mark.parametrize("ref", ["99999999999999999999", "9223372036854775808"])
def test_search_huge_source_number_is_a_plain_no_such_source(app, ref):
    """Issue 13, Low 14: a 20-digit source id is read as a SHA-256 prefix, not passed to
    SQLite as an integer ("Python int too large to convert to SQLite INTEGER")."""
    r = login(app, "vic").get("/search", params={"q": "страх", "source": ref})
    assert r.status_code == 422 and "no such source" in r.text and "too large" not in r.text, r.text[:500]



def test_admin_retracts_and_restores_a_source_from_its_page(app, store_dir):
    sid = db(store_dir).execute("SELECT id FROM sources WHERE reader = 'messages'").fetchone()[0]
    ann = login(app, "ann")
    assert ann.post(f"/admin/source/{sid}/retract", data={"csrf": csrf(ann), "reason": "x"}).status_code == 403
    assert "Retract this source" not in ann.get(f"/source/{sid}").text
    ada = login(app, "ada")
    page = ada.get(f"/source/{sid}").text
    assert "Retract this source" in page
    assert ada.post(f"/admin/source/{sid}/retract", data={"csrf": csrf(ada), "reason": ""}).status_code == 422
    r = ada.post(f"/admin/source/{sid}/retract", data={"csrf": csrf(ada), "reason": "wrong chat exported"},
                 follow_redirects=False)
    assert r.status_code == 303
    page = ada.get(f"/source/{sid}").text
    assert "Retracted" in page and "web:ada" in page and "wrong chat exported" in page and "Restore this source" in page
    hits = ada.get("/search", params={"source": sid}).text
    assert "/utterance/" not in hits           # its lines are out of search
    assert ada.post(f"/admin/source/{sid}/nuke", data={"csrf": csrf(ada), "reason": "x"}).status_code == 404
    r = ada.post(f"/admin/source/{sid}/restore", data={"csrf": csrf(ada), "reason": "right chat"},
                 follow_redirects=False)
    assert r.status_code == 303 and "/utterance/" in ada.get("/search", params={"source": sid}).text
    actions = [r[0] for r in db(store_dir).execute("SELECT action FROM audit_log WHERE action LIKE 'source.%'")]
    assert actions == ["source.retract", "source.restore"]


def test_the_search_selection_downloads_as_csv_jsonl_report_and_package(app, store_dir, tmp_path):
    import csv
    import io
    import zipfile
    vic = login(app, "vic")
    page = vic.get("/search", params={"q": "страх"}).text
    assert "/search/export?" in page and "format=csv" in page and "evidence package" not in page
    r = vic.get("/search/export", params={"q": "страх", "format": "csv"})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    assert 'filename="overheard-search.csv"' in r.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(r.text)))
    ids = {int(x["utterance_id"]) for x in rows}
    from overheard import Store
    from overheard.index.search import Filters, search
    with Store(store_dir) as st:
        expect = {h.utterance_id for h in search(st.conn, "страх", Filters(), limit=1000, order="newest")}
    assert ids == expect and ids
    j = vic.get("/search/export", params={"q": "страх", "format": "jsonl"})
    assert {json.loads(line)["utterance_id"] for line in j.text.splitlines()} == expect
    assert vic.get("/search/export", params={"q": "страх", "format": "xml"}).status_code == 422
    assert vic.get("/search/export", params={"q": '"страх'}).status_code == 422
    rep = vic.get("/search/report", params={"q": "страх"})
    assert rep.status_code == 200 and "<html" in rep.text[:500].lower() and "Evidence register" in rep.text
    assert vic.get("/search/package", params={"q": "страх"}).status_code == 403      # viewers do not export evidence
    ann = login(app, "ann")
    pkg = ann.get("/search/package", params={"q": "страх"})
    assert pkg.status_code == 200
    out = tmp_path / "p.zip"
    out.write_bytes(pkg.content)
    from overheard.outputs.package import verify_package
    assert verify_package(out).ok
    with zipfile.ZipFile(out) as z:
        manifest = json.loads(z.read("manifest.json"))
    with Store(store_dir) as st:
        hit_sources = {r[0] for r in st.conn.execute(
            f"SELECT DISTINCT source_id FROM utterances WHERE id IN ({','.join(map(str, expect))})")}
    assert {s["id"] for s in manifest["sources"]} == hit_sources


def test_review_queue_walks_unreviewed_findings_by_priority_with_context(app, store_dir):
    from overheard import Store
    from overheard.review import SEVERITY, pending_ids, progress
    vic = login(app, "vic")
    assert vic.get("/review").status_code == 403
    ann = login(app, "ann")
    with Store(store_dir) as st:
        before = progress(st)
        queue = pending_ids(st, limit=100)
        codes = [st.conn.execute("SELECT code FROM findings WHERE id = ?", (i,)).fetchone()[0] for i in queue]
    assert before[0] == 0 and before[1] == len(queue) > 3
    assert [SEVERITY.index(c) for c in codes] == sorted(SEVERITY.index(c) for c in codes)   # most serious first
    page = ann.get("/review").text
    assert f"0 of {before[1]} reviewed" in page and f'data-finding="{queue[0]}"' in page
    assert 'class="turn current"' in page and "Decide several" in page
    # decide the first: it leaves the queue, the next one is shown, one audit row
    audit0 = counts(store_dir)["audit_log"]
    r = ann.post("/review/decide", data={"csrf": csrf(ann, "/review"), "finding_id": queue[0],
                                         "decision": "confirmed", "next": "/review"}, follow_redirects=True)
    assert r.status_code == 200 and f'data-finding="{queue[1]}"' in r.text and f"1 of {before[1]} reviewed" in r.text
    # bulk: two findings rejected, one audit row each
    r = ann.post("/review/decide", data={"csrf": csrf(ann, "/review"), "bulk": "1", f"f{queue[1]}": "1",
                                         f"f{queue[2]}": "1", "decision": "rejected", "next": "/review"},
                 follow_redirects=False)
    assert r.status_code == 303
    rows = db(store_dir).execute("SELECT action, target FROM audit_log ORDER BY id").fetchall()[audit0:]
    assert [(a, t) for a, t in rows] == [("review.finding", f"finding:{queue[0]}"),
                                        ("review.finding", f"finding:{queue[1]}"),
                                        ("review.finding", f"finding:{queue[2]}")]
    status = dict(db(store_dir).execute("SELECT finding_id, status FROM finding_status"
                                        f" WHERE finding_id IN ({queue[0]}, {queue[1]}, {queue[2]})").fetchall())
    assert status == {queue[0]: "confirmed", queue[1]: "rejected", queue[2]: "rejected"}
    # nothing ticked, a wrong id, a bad code: refused, nothing written
    assert ann.post("/review/decide", data={"csrf": csrf(ann, "/review"), "bulk": "1", "decision": "rejected"}
                    ).status_code == 422
    assert ann.post("/review/decide", data={"csrf": csrf(ann, "/review"), "bulk": "1", "f999999": "1",
                                            "decision": "rejected"}).status_code == 422
    assert ann.get("/review", params={"code": "fearr"}).status_code == 422
    assert counts(store_dir)["audit_log"] == audit0 + 3


def test_cli_review_queue_and_decisions(store_dir):
    from typer.testing import CliRunner
    from overheard.cli import app as cli_app
    from overheard import Store
    from overheard.review import pending_ids
    run = lambda *a: CliRunner().invoke(cli_app, ["--store", str(store_dir), *map(str, a)])  # noqa: E731
    with Store(store_dir) as st:
        queue = pending_ids(st, limit=100)
    r = run("review", "--limit", "2")
    assert r.exit_code == 0 and f"0 of {len(queue)} findings reviewed" in r.output
    assert f"finding {queue[0]}" in r.output and "▶" in r.output
    assert run("review", "confirm", queue[0], "--note", "heard it").exit_code == 0
    bad = run("review", "reject", 999999)
    assert bad.exit_code == 2 and "no such finding" in bad.output
    code = db(store_dir).execute("SELECT code FROM findings WHERE id = ?", (queue[1],)).fetchone()[0]
    n_code = sum(1 for i in queue[1:] if db(store_dir).execute(
        "SELECT code FROM findings WHERE id = ?", (i,)).fetchone()[0] == code)
    r = run("review", "reject", "--all", "--code", code)
    assert r.exit_code == 0 and f"{n_code} finding(s) rejected" in r.output
    assert run("review", "--code", "fearr").exit_code == 2
