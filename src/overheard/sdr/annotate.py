"""Derived SigMF metadata: one annotation per transmission.

:func:`write_annotations` never touches the original recording.  It writes a
NEW ``.sigmf-meta`` that points at the original samples:

* SigMF pair ``x.sigmf-meta`` + ``x.sigmf-data``: the new metadata names
  ``x.sigmf-data`` in ``core:dataset`` (a path relative to the new file) and
  keeps the original ``global`` and ``captures`` (``core:sha512`` included),
  so ``sigmf.fromfile(new)`` reads the original samples with the
  annotations.
* raw ``.cu8``/``.cs16``/... and I/Q WAV: the same, as a Non-Conforming
  Dataset (``core:header_bytes`` skips the WAV header).
* ``.sigmf`` archive: samples inside a tar cannot be referenced, so the new
  metadata is ``core:metadata_only`` and names the archive in
  ``core:description``.

The result is validated against the SigMF schema with ``sigmf`` before it is
written (atomically).
"""

from __future__ import annotations

import copy
import json
import os
from pathlib import Path
from typing import Iterable

from .capture import Capture, CaptureError, open_capture

LABEL_CHARS = 20  # SigMF recommends labels of at most 20 characters


def _short(text: str, n: int = LABEL_CHARS) -> str:
    t = " ".join((text or "").split())
    return t if len(t) <= n else t[: n - 1].rstrip() + "…"


def default_out_path(cap: Capture, suffix: str = "overheard") -> Path:
    p = Path(cap.path)
    name = p.name
    for ext in (".sigmf-meta", ".sigmf-data", ".sigmf"):
        if name.endswith(ext):
            name = name[: -len(ext)]
            break
    else:
        name = p.stem
    return p.with_name(f"{name}.{suffix}.sigmf-meta")


def _spans(transmissions: list, span: str) -> list[tuple[int, int]]:
    """(sample_start, sample_count) per transmission: the carrier burst when
    ``span == "carrier"`` and the burst holds only this transmission, else the
    speech segment."""
    out = []
    for t in transmissions:
        cs, cn = getattr(t, "carrier_sample_start", None), getattr(t, "carrier_sample_count", None)
        shared = cs is not None and sum(
            1 for u in transmissions
            if getattr(u, "carrier_sample_start", None) == cs and getattr(u, "freq_lower_edge", None) == t.freq_lower_edge
        ) > 1  # fmt: skip
        if span == "carrier" and cs is not None and cn and not shared:
            s0 = min(cs, int(t.sample_start))
            s1 = max(cs + cn, int(t.sample_start) + int(t.sample_count))
            out.append((s0, s1 - s0))
        else:
            out.append((int(t.sample_start), int(t.sample_count)))
    return out


def build_annotated_meta(cap: Capture, transmissions: Iterable, out_path: Path, *, generator: str = "overheard", span: str = "carrier") -> dict:
    """The derived metadata dict (not written).  ``transmissions``: objects with
    ``sample_start``, ``sample_count``, ``freq_lower_edge``, ``freq_upper_edge``
    and ``text`` (or a ``label``), e.g. :class:`~overheard.sdr.pipeline.CaptureTransmission`.
    ``span``: ``"carrier"`` (default) annotates the whole RF burst (key-up to
    key-down) that holds the speech; ``"speech"`` the speech segment only."""
    if span not in ("carrier", "speech"):
        raise ValueError(f"span must be 'carrier' or 'speech', not {span!r}")
    transmissions = list(transmissions)
    spans = _spans(transmissions, span)
    from sigmf import __specification__

    meta = copy.deepcopy(cap.meta)
    g = meta.setdefault("global", {})
    g.setdefault("core:version", __specification__)
    out_dir = Path(out_path).resolve().parent
    if cap.kind == "sigmf-archive":
        g.pop("core:dataset", None)
        g.pop("core:sha512", None)
        g["core:metadata_only"] = True
        desc = g.get("core:description", "")
        g["core:description"] = (desc + " | " if desc else "") + f"annotations for the samples in archive {Path(cap.path).name}"
    else:
        data = Path(cap.data_path).resolve()
        g["core:dataset"] = os.path.relpath(data, out_dir)
        g.pop("core:metadata_only", None)
        if cap.data_offset and cap.kind != "sigmf":
            caps = meta.setdefault("captures", [{"core:sample_start": 0}])
            caps[0]["core:header_bytes"] = cap.data_offset
    anns = []
    for t, (s0, n) in zip(transmissions, spans):
        text = getattr(t, "text", None) or ""
        label = getattr(t, "label", None) or (_short(text) if text else "transmission")
        a = {
            "core:sample_start": s0,
            "core:sample_count": n,
            "core:freq_lower_edge": float(t.freq_lower_edge),
            "core:freq_upper_edge": float(t.freq_upper_edge),
            "core:label": label,
            "core:generator": generator,
        }
        if text:
            a["core:comment"] = text
        anns.append(a)
    anns.sort(key=lambda a: (a["core:sample_start"], a["core:freq_lower_edge"]))
    meta["annotations"] = anns
    return meta


def validate_meta(meta: dict, path: str | os.PathLike = "<metadata>") -> None:
    """Raise :class:`CaptureError` unless ``meta`` is valid SigMF."""
    import sigmf

    try:
        sigmf.SigMFFile(metadata=copy.deepcopy(meta)).validate()
    except Exception as e:
        msg = str(getattr(e, "message", e)).splitlines()[0]
        raise CaptureError(path, f"derived metadata is not valid SigMF: {msg}") from e


def write_annotations(
    capture: str | os.PathLike | Capture,
    transmissions: Iterable,
    out_path: str | os.PathLike | None = None,
    *,
    generator: str = "overheard",
    span: str = "carrier",
    overwrite: bool = True,
    **open_kw,
) -> Path:
    """Write a new, schema-valid ``.sigmf-meta`` with one annotation per
    transmission next to the capture (``<stem>.overheard.sigmf-meta``) or at
    ``out_path``; return its path.  The original files are never modified."""
    cap = capture if isinstance(capture, Capture) else open_capture(capture, **open_kw)
    out = Path(out_path) if out_path is not None else default_out_path(cap)
    if not out.name.endswith(".sigmf-meta"):
        out = out.with_name(out.name + ".sigmf-meta")
    originals = {Path(cap.path).resolve()}
    if cap.data_path:
        originals.add(Path(cap.data_path).resolve())
    if out.resolve() in originals:
        raise CaptureError(out, "refusing to overwrite the original recording's files")
    if out.exists() and not overwrite:
        raise CaptureError(out, "exists (overwrite=False)")
    meta = build_annotated_meta(cap, transmissions, out, generator=generator, span=span)
    validate_meta(meta, out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".tmp")
    tmp.write_text(json.dumps(meta, ensure_ascii=False, indent=2), encoding="utf-8")
    os.replace(tmp, out)
    return out
