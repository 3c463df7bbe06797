"""The workbench under a real uvicorn server with `serve`'s options (in-process test clients
hide both): X-Forwarded-For is believed only from trusted proxies (issue 13, Low 8), and an
oversized chunked body is refused as too large, not as malformed (issue 13, Low 14)."""
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


class _Server:
    """A real uvicorn server over the store, started with `overheard serve`'s options."""

    def __init__(self, store_dir, trust_proxy: str = ""):
        from overheard.web import create_app
        from overheard.web.cli import server_options
        self.opts = server_options("127.0.0.1", _free_port(), trust_proxy)
        self.srv = uvicorn.Server(uvicorn.Config(create_app(store_dir), **self.opts))
        self.url = f"http://127.0.0.1:{self.opts['port']}"

    def __enter__(self):
        self.thread = threading.Thread(target=self.srv.run, daemon=True)
        self.thread.start()
        deadline = time.time() + 20
        while not self.srv.started and time.time() < deadline:
            time.sleep(0.05)
        assert self.srv.started
        return self

    def __exit__(self, *exc):
        self.srv.should_exit = True
        self.thread.join(10)


def _login_token(c) -> str:
    return re.search(r'name="login_csrf" value="([^"]+)"', c.get("/login").text).group(1)


def _limited_after_rotating_xff(store_dir, trust_proxy: str) -> bool:
    """25 failed sign-ins with a new name and a new X-Forwarded-For each time; True when the
    server answered 429."""
    with _Server(store_dir, trust_proxy) as server:
        with httpx.Client(base_url=server.url) as c:
            for i in range(25):
                r = c.post("/login", data={"name": f"nobody{i}", "password": "wrong-password!",
                                           "login_csrf": _login_token(c)},
                           headers={"X-Forwarded-For": f"203.0.113.{i + 1}"})
                if r.status_code == 429:
                    return True
                assert r.status_code == 401, r.status_code
    return False


@pytest.fixture(scope="module")
def store_dir(tmp_path_factory):
    import shutil
    base = build_web_store(tmp_path_factory.getbasetemp())
    d = tmp_path_factory.mktemp("server") / "store"
    shutil.copytree(base, d)
    return d


def test_forwarded_for_is_ignored_unless_a_proxy_is_trusted(store_dir):
    # default: the TCP peer is the client, so rotating the header does not help
    assert _limited_after_rotating_xff(store_dir, "") is True
    # a named proxy's header is believed: each forwarded client gets its own count
    assert _limited_after_rotating_xff(store_dir, "127.0.0.1") is False


def test_oversized_chunked_body_is_413_not_malformed(store_dir):
    """A body past the 64 KiB limit sent chunked (no Content-Length): uvicorn's parser wrapped
    our too-large signal and the answer was 400 "Malformed form data"."""
    def urlencoded(token):
        yield b"name=ann&password=x&login_csrf=" + token.encode() + b"&pad="
        for _ in range(40):
            yield b"x" * 4096                        # 160 KiB

    def multipart(token):                            # well-formed, with one huge field
        for name, value in (("name", "ann"), ("password", "x"), ("login_csrf", token)):
            yield f'--zz\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
        yield b'--zz\r\nContent-Disposition: form-data; name="pad"\r\n\r\n'
        for _ in range(40):
            yield b"x" * 4096
        yield b"\r\n--zz--\r\n"

    with _Server(store_dir) as server, httpx.Client(base_url=server.url) as c:
        for ctype, body in (("application/x-www-form-urlencoded", urlencoded),
                            ("multipart/form-data; boundary=zz", multipart)):
            r = c.post("/login", content=body(_login_token(c)), headers={"Content-Type": ctype})
            import re as _re
            assert r.status_code == 413 and "too large" in r.text, (ctype, r.status_code, _re.sub(r"<[^>]+>|\s+", " ", r.text)[-400:])
