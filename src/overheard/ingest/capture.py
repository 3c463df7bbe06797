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

from ..store import Store, sha256_file, utc_now
from ..store.evidence import EvidenceChanged

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
    created: list[str] = []
    try:
        with store.transaction() as conn:
            if store.source_by_sha(sha) is not None:
                again = store.source_by_sha(sha)
                return result_cls(path, "present", f"already present as source {again['id']}", sha, again["id"])
            run_id = store.start_run("ingest", component=NAME, component_version=VERSION, params=opts.params())
            source_id = conn.execute(
                "INSERT INTO sources(sha256, size, media_type, reader, kind, original_name, original_path,"
                " captured_at, frequency_hz, channel, receiver, sample_rate, duration_s, contributor, note,"
                " meta, ingested_at, run_id) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                (sha, path.stat().st_size, "application/x-sigmf" if cap.kind.startswith("sigmf") else
                 "application/octet-stream", NAME, opts.kind or "radio", path.name, original_path,
                 start, cap.center_freq, opts.channel, opts.receiver, int(cap.sample_rate), cap.duration_s,
                 opts.contributor, opts.note, json.dumps(meta, sort_keys=True), utc_now(), run_id)).lastrowid
            for f, role in files:
                if store.evidence.put_file(f, hashes[role]):
                    created.append(hashes[role])
                if role != "primary":
                    conn.execute("INSERT INTO source_files(source_id, sha256, role, original_name, size)"
                                 " VALUES (?,?,?,?,?)", (source_id, hashes[role], role, f.name, f.stat().st_size))
            conn.execute("INSERT INTO processing(source_id, status, updated_at) VALUES (?, 'pending', ?)",
                         (source_id, utc_now()))
            store.finish_run(run_id)
            store.audit("ingest", f"source:{sha}", {
                "source_id": source_id, "sha256": sha, "size": path.stat().st_size, "original_name": path.name,
                "reader": NAME, "kind": opts.kind or "radio", "run_id": run_id, "contributor": opts.contributor,
                "files": {role: hashes[role] for _, role in files}}, seal={"sources": [source_id]})
    except EvidenceChanged as exc:
        return result_cls(path, "failed", str(exc).replace(f"{path.name} ", "", 1), sha)
    except BaseException:
        for digest in created:
            store.evidence.remove(digest)
        raise
    return result_cls(path, "added", f"{cap.datatype} at {cap.sample_rate / 1e6:.3f} MS/s, "
                      f"{cap.duration_s:.1f} s, centre {(cap.center_freq or 0) / 1e6:.4f} MHz "
                      f"(`overheard process` finds the channels)", sha, source_id, 0)


@contextmanager
def materialised(store: Store, src):
    """The capture's evidence files under their original names (symlinks in a temp dir), since
    SigMF finds its samples by file name."""
    meta = json.loads(src["meta"])
    with tempfile.TemporaryDirectory(prefix="overheard-capture-") as tmp:
        for role, f in meta["files"].items():
            os.symlink(store.evidence.path_for(f["sha256"]), Path(tmp) / f["name"])
        yield Path(tmp) / meta["files"]["primary"]["name"]
