"""Route families stand alone: each router mounts on an app by itself and serves its pages
without the others (the helpers they share take the request, not a closure over one app)."""

from __future__ import annotations

import pytest

pytest.importorskip("fastapi")
from fastapi.testclient import TestClient  # noqa: E402

from conftest import EXAMPLES  # noqa: E402


@pytest.fixture(scope="module")
def small_store(tmp_path_factory):
    from overheard import Store
    from overheard.analyse.apply import analyze_store
    from overheard.ingest import IngestOptions, ingest_paths
    from overheard.web.auth import add_user
    path = tmp_path_factory.mktemp("routes") / "store"
    with Store(path) as store:
        ingest_paths(store, [EXAMPLES / "news"], IngestOptions(contributor="tests"))
        analyze_store(store)
        add_user(store, "vic", "viewer", "correct-horse-battery", actor="test")
    return path


def client(store_path, families):
    from overheard.web.app import create_app
    from overheard.web.guard import SESSION_COOKIE
    app = create_app(store_path, families=families)
    token = app.state.sessions.create(1, "vic")          # signed in without the account family
    c = TestClient(app)
    c.cookies.set(SESSION_COOKIE, token)
    return c


def test_search_family_alone(small_store):
    c = client(small_store, ["search"])
    r = c.get("/search", params={"q": "tears"})
    assert r.status_code == 200 and 'class="hit-link"' in r.text
    assert c.get("/dashboard").status_code == 404          # not mounted
    assert c.get("/login").status_code == 404


def test_dashboard_family_alone(small_store):
    c = client(small_store, ["dashboard"])
    r = c.get("/dashboard", params={"by": "month", "group": "kind"})
    assert r.status_code == 200 and "<svg" in r.text
    assert c.get("/dashboard", params={"by": "year"}).status_code == 422
    assert c.get("/search").status_code == 404


def test_review_family_alone_shows_an_utterance(small_store):
    c = client(small_store, ["review"])
    r = c.get("/utterance/1")
    assert r.status_code == 200 and "utterance" in r.text.lower()
    assert c.get("/utterance/999999").status_code == 404
    assert c.get("/sources").status_code == 404


def test_every_family_is_mounted_by_default_and_unknown_ones_are_refused(small_store):
    from overheard.web.app import create_app
    from overheard.web.routes import FAMILIES
    assert set(FAMILIES) == {"account", "search", "review", "media", "sources", "dashboard", "admin"}
    c = client(small_store, None)
    one_page = {"/login": 200, "/search": 200, "/utterance/1": 200, "/sources": 200, "/dashboard": 200,
                "/audit": 403,                       # mounted; a viewer may not see it
                "/audio/source/1": 404}              # mounted; the news source is not audio
    for path, status in one_page.items():
        assert c.get(path).status_code == status, path
    assert "no such audio source" in c.get("/audio/source/1").text
    with pytest.raises(ValueError, match="unknown route families: nope"):
        create_app(small_store, families=["search", "nope"])
