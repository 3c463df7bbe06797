"""The OpenAI-compatible endpoint backend against a real local server: the one the llama.cpp
runtime (cyllama) ships, serving the embedded GGUF on loopback — no mock (see
tests/helpers/llama_server.py for why it applies the chat template)."""

import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from overheard.translate import BackendError, EndpointModel, Translator


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server():
    from overheard.translate.model import ensure_embedded_llm
    port = free_port()
    launcher = Path(__file__).parent / "helpers" / "llama_server.py"
    proc = subprocess.Popen([sys.executable, str(launcher), str(ensure_embedded_llm()), str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"the llama.cpp server exited with {proc.returncode}")
        try:
            urllib.request.urlopen(url + "/v1/models", timeout=2).read()
            break
        except OSError:
            time.sleep(0.5)
    else:
        proc.kill()
        pytest.fail("the llama.cpp server did not come up in 120 s")
    yield url
    proc.terminate()
    proc.wait(timeout=30)


def test_endpoint_backend_translates_through_a_real_server(server):
    backend = EndpointModel(server + "/v1")
    tr = Translator(backend)
    g = tr.translate("Нет воды, третий день.", "ru")
    assert "water" in g.text.lower()
    assert tr.version.startswith("p2026") and "+endpoint:" in tr.version
    assert g.meta["backend"]["backend"] == "endpoint" and g.meta["backend"]["url"] == server + "/v1"


def test_endpoint_errors_are_one_line():
    port = free_port()          # nothing listens here
    with pytest.raises(BackendError, match=rf"127.0.0.1:{port}/v1/chat/completions: cannot reach the endpoint"):
        EndpointModel(f"http://127.0.0.1:{port}/v1", timeout_s=5).chat([{"role": "user", "content": "x"}], 5)
    with pytest.raises(BackendError, match="expected an http"):
        EndpointModel("ftp://example/v1")
