"""Raw SDR captures: SigMF recordings (``.sigmf-meta`` + ``.sigmf-data``, ``.sigmf`` archives),
raw rtl-sdr style files (``.cu8``/``.cs8``/``.cs16``/``.cf32``) and, with ``--iq``, 2-channel
I/Q WAV. Stored as evidence (both files of a SigMF pair); ``overheard process`` channelises,
demodulates and transcribes them. Nothing is loaded whole: hashes and copies are streamed and
the reader memory-maps the samples.
"""

from __future__ import annotations

import json
import os
from datetime import timezone
import tempfile
from contextlib import contextmanager
from pathlib import Path

from ..store import Store, sha256_file
from .original import Original, store_original

NAME, VERSION = "sdr-capture", "1"
CAPTURE_EXTS = {".sigmf-meta", ".sigmf", ".cu8", ".cs8", ".cs16", ".cf32"}


def is_capture(path: Path, iq_wav: bool = False) -> bool:
    return path.name.endswith(tuple(CAPTURE_EXTS)) or (iq_wav and path.suffix.lower() == ".wav")


def data_companion_owner(path: Path) -> Path | None:
    """The .sigmf-meta beside a .sigmf-data file, if there is one."""
    if path.name.endswith(".sigmf-data"):
        meta = path.with_name(path.name[: -len(".sigmf-data")] + ".sigmf-meta")
        if meta.exists():
            return meta
    return None


def data_companion_reason(path: Path) -> str | None:
    """A .sigmf-data file beside its .sigmf-meta is ingested with it, not on its own."""
    meta = data_companion_owner(path)
    return f"samples of {meta.name} (ingested with it)" if meta is not None else None


def ingest_capture(store: Store, path: Path, opts, result_cls):
    from ..sdr.capture import CaptureError, open_capture

    try:
        cap = open_capture(path, sample_rate=opts.sample_rate, center_freq=opts.frequency_hz,
                           start_time=opts.captured_at)
    except CaptureError as exc:
        return result_cls(path, "failed", str(exc).replace(f"{path}: ", "", 1))
    except OSError as exc:
        return result_cls(path, "failed", f"cannot read ({exc.strerror or exc})")
    files = [(path, "primary")]
    if cap.kind == "sigmf" and cap.data_path and Path(cap.data_path).resolve() != path.resolve():
        # the data file becomes evidence: it must lie in the metadata's own folder, so that a
        # crafted core:dataset ("../../etc/passwd") or a symlinked .sigmf-data cannot pull any
        # other file of the analyst's disk into the store and its packages
        real = Path(cap.data_path).resolve()
        if not real.is_relative_to(path.resolve().parent):
            return result_cls(path, "failed", f"data file {Path(cap.data_path).name} resolves outside the"
                                              f" metadata's folder (to {real}); refused")
        files.append((Path(cap.data_path), "sigmf-data"))
    hashes = {role: sha256_file(f) for f, role in files}
    sha = hashes["primary"]
    existing = store.source_by_sha(sha)
    if existing is not None:
        return result_cls(path, "present", f"already present as source {existing['id']}", sha, existing["id"])
    start = (cap.start_time.astimezone(timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")
             if cap.start_time else opts.captured_at)
    meta = {"capture_kind": cap.kind, "datatype": cap.datatype, "n_samples": cap.n_samples,
            "channel_step": opts.channel_step, "channels": opts.channels, "demod": opts.demod,
            "lang": opts.lang, "mode": "radio",
            "files": {role: {"name": f.name, "sha256": hashes[role]} for f, role in files}}
    from .archive import origin
    original_path, extra = origin(path, opts)
    meta.update(extra)
    result = store_original(store, Original(
        path, sha, NAME, VERSION, meta=meta,
        columns={"size": path.stat().st_size, "media_type": "application/x-sigmf" if cap.kind.startswith("sigmf")
                 else "application/octet-stream", "kind": opts.kind or "radio", "original_name": path.name,
                 "original_path": original_path, "captured_at": start, "frequency_hz": cap.center_freq,
                 "channel": opts.channel, "receiver": opts.receiver, "sample_rate": int(cap.sample_rate),
                 "duration_s": cap.duration_s, "contributor": opts.contributor, "note": opts.note},
        audit={"files": {role: hashes[role] for _, role in files}},
        companions=[(f, hashes[role], role) for f, role in files if role != "primary"]), opts, result_cls)
    if result.status != "added":
        return result
    result.message = (f"{cap.datatype} at {cap.sample_rate / 1e6:.3f} MS/s, {cap.duration_s:.1f} s, centre "
                      f"{(cap.center_freq or 0) / 1e6:.4f} MHz (`overheard process` finds the channels)")
    return result


@contextmanager
def materialised(store: Store, src):
    """The capture's evidence files under their original names (symlinks in a temp dir), since
    SigMF finds its samples by file name."""
    meta = json.loads(src["meta"])
    with tempfile.TemporaryDirectory(prefix="overheard-capture-") as tmp:
        for role, f in meta["files"].items():
            os.symlink(store.evidence.path_for(f["sha256"]), Path(tmp) / f["name"])
        yield Path(tmp) / meta["files"]["primary"]["name"]
