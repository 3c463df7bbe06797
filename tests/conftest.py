import os
from pathlib import Path

import pytest
from typer.testing import CliRunner

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
EXAMPLES = REPO / "examples"
TEXT_EXAMPLES = [EXAMPLES / "news", EXAMPLES / "intercepts", EXAMPLES / "messages.jsonl"]
FIXTURES = Path(__file__).resolve().parent / "fixtures"


def shared_path(*parts: str) -> Path:
    """A path under ../shared, or a clean skip when the shared data is not beside the checkout."""
    path = SHARED.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"shared data not available: {path} (CI lays ../shared beside the checkout)")
    return path


@pytest.fixture
def store(tmp_path):
    from overheard import Store
    with Store(tmp_path / "store") as s:
        yield s


@pytest.fixture
def cli(tmp_path):
    """Run the real CLI against a fresh store; returns (result) with .exit_code/.stdout/.stderr."""
    from overheard.cli import app
    runner = CliRunner()
    store_dir = tmp_path / "cli-store"

    def run(*args, store_dir=store_dir):
        return runner.invoke(app, ["--store", str(store_dir), *map(str, args)])

    run.store_dir = store_dir
    return run


@pytest.fixture(scope="session")
def demo_store_dir(tmp_path_factory):
    """A store like `make demo` builds, once per test session: the text examples and the first
    75 s of the demo radio recording (seven transmissions, one reporting no water), processed
    (real Whisper) and analysed. Copy before writing."""
    from overheard import Store
    from overheard.audio.clips import cut_clip
    from overheard.ingest import IngestOptions, ingest_paths
    from overheard.process import process_store

    root = tmp_path_factory.mktemp("demo")
    radio = root / "radio75.ogg"
    cut_clip(EXAMPLES / "audio" / "demo_radio.ogg", 0.0, 75.0, radio)
    with Store(root / "store") as store:
        ingest_paths(store, TEXT_EXAMPLES, IngestOptions(contributor="tests"))
        ingest_paths(store, [radio], IngestOptions(kind="radio", lang="ru", captured_at="2022-03-05T14:00:00Z",
                                                   channel="VHF 148.500", frequency_hz=148.5e6))
        process_store(store)
    return root / "store"


@pytest.fixture
def demo_store(demo_store_dir, tmp_path):
    """A private, writable copy of the session's demo store."""
    import shutil
    from overheard import Store
    dst = tmp_path / "demo-store"
    shutil.copytree(demo_store_dir, dst)
    with Store(dst) as store:
        yield store
