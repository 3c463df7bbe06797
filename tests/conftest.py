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
