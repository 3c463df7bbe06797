"""`serve` believes X-Forwarded-For only from proxies it is told to trust (issue 13, Low 8):
otherwise a client rotating the header escapes the per-client sign-in limit."""
from __future__ import annotations

import re
import socket
import threading
import time

import pytest

uvicorn = pytest.importorskip("uvicorn")
httpx = pytest.importorskip("httpx")

from test_web_api import build_web_store  # noqa: E402


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _limited_after_rotating_xff(store_dir, trust_proxy: str) -> bool:
    """25 failed sign-ins with a new name and a new X-Forwarded-For each time, against a real
    uvicorn server started with serve's options; True when the server answered 429."""
    from overheard.web import create_app
    from overheard.web.cli import server_options
    opts = server_options("127.0.0.1", _free_port(), trust_proxy)
    srv = uvicorn.Server(uvicorn.Config(create_app(store_dir), **opts))
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.time() + 20
    while not srv.started and time.time() < deadline:
        time.sleep(0.05)
    assert srv.started
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{opts['port']}") as c:
            for i in range(25):
                token = re.search(r'name="login_csrf" value="([^"]+)"', c.get("/login").text).group(1)
                r = c.post("/login", data={"name": f"nobody{i}", "password": "wrong-password!",
                                           "login_csrf": token},
                           headers={"X-Forwarded-For": f"203.0.113.{i + 1}"})
                if r.status_code == 429:
                    return True
                assert r.status_code == 401, r.status_code
        return False
    finally:
        srv.should_exit = True
        thread.join(10)


def test_forwarded_for_is_ignored_unless_a_proxy_is_trusted(tmp_path_factory):
    import shutil
    base = build_web_store(tmp_path_factory.getbasetemp())
    store_dir = tmp_path_factory.mktemp("proxy") / "store"
    shutil.copytree(base, store_dir)
    # default: the TCP peer is the client, so rotating the header does not help
    assert _limited_after_rotating_xff(store_dir, "") is True
    # a named proxy's header is believed: each forwarded client gets its own count
    assert _limited_after_rotating_xff(store_dir, "127.0.0.1") is False
