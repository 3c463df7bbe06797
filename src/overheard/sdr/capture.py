"""Streamed readers for raw SDR captures (complex baseband I/Q).

Supported inputs
    * SigMF recordings: ``x.sigmf-meta`` + ``x.sigmf-data`` (or a
      Non-Conforming Dataset named by ``core:dataset``), and ``x.sigmf``
      archives, read with the ``sigmf`` package (memory-mapped; compressed
      archives are decompressed into memory by ``sigmf``).  Datatypes
      ``cf32_le``, ``cf64_le``, ``ci32_le``, ``ci16_le``, ``ci8``, ``cu8``
      (and their ``_be``/unsigned variants that ``sigmf`` maps).  Every
      capture segment keeps its ``core:frequency`` and ``core:datetime``.
    * Raw files named by their sample format, as written by ``rtl_sdr``,
      ``rtl_433``, ``hackrf_transfer`` and friends: ``.cu8``, ``.cs8``,
      ``.cs16``, ``.cf32`` (also ``.raw``/``.bin``/``.iq`` with an explicit
      ``datatype``).  ``sample_rate`` is required; ``center_freq`` and
      ``start_time`` are optional.
    * 2-channel I/Q WAV baseband recordings (SDR#, HDSDR, SDRuno, GQRX):
      8-bit unsigned, 16-bit signed or 32-bit float PCM.  Centre frequency
      and start time are taken from the usual file-name tags
      (``_145000000Hz_``, ``_145000kHz_``, ``_20240101_120000Z_``) when not
      passed explicitly.

Nothing is loaded whole: :meth:`Capture.read` maps a sample range of the
data file.  Every problem is raised as :class:`CaptureError` whose ``str`` is
one line ``"<path>: <problem>"``.
"""

from __future__ import annotations

import json
import os
import re
import struct
import warnings
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Iterator

import numpy as np

__all__ = [
    "CaptureError",
    "CaptureSegment",
    "Capture",
    "open_capture",
    "SUPPORTED_DATATYPES",
    "RAW_EXTENSIONS",
]

# SigMF datatype -> (numpy component dtype, complex?, offset to subtract, scale)
_COMPONENT = {
    "f32": ("f4", 0.0, 1.0),
    "f64": ("f8", 0.0, 1.0),
    "i32": ("i4", 0.0, 2.0**-31),
    "i16": ("i2", 0.0, 2.0**-15),
    "u16": ("u2", 2.0**15, 2.0**-15),
    "i8": ("i1", 0.0, 2.0**-7),
    "u8": ("u1", 127.5, 1.0 / 127.5),  # rtl-sdr: 0..255 symmetric about 127.5
}
SUPPORTED_DATATYPES = (
    "cf32_le", "cf32_be", "cf64_le", "cf64_be", "ci32_le", "ci32_be",
    "ci16_le", "ci16_be", "cu16_le", "cu16_be", "ci8", "cu8",
)  # fmt: skip
RAW_EXTENSIONS = {".cu8": "cu8", ".cs8": "ci8", ".cs16": "ci16_le", ".cf32": "cf32_le", ".cfile": "cf32_le"}
_SIGMF_EXTS = (".sigmf-meta", ".sigmf-data", ".sigmf")


class CaptureError(Exception):
    """The capture cannot be read.  ``str(err)`` is one line ``"<path>: <problem>"``."""

    def __init__(self, path: str | os.PathLike, problem: str):
        self.path = str(path)
        self.problem = " ".join(str(problem).split())
        super().__init__(f"{self.path}: {self.problem}")


@dataclass(frozen=True)
class CaptureSegment:
    """One SigMF capture segment: samples ``[sample_start, sample_start + sample_count)``
    recorded at one centre frequency."""

    sample_start: int
    sample_count: int
    center_freq: float | None  # Hz (core:frequency); None if unknown (offsets then relative)
    start_time: datetime | None  # UTC of the segment's first sample (core:datetime)

    def time_of(self, sample: int, sample_rate: float) -> datetime | None:
        """UTC time of absolute sample index ``sample`` (inside this segment)."""
        if self.start_time is None:
            return None
        return self.start_time + timedelta(seconds=(sample - self.sample_start) / sample_rate)


@dataclass
class Capture:
    """An opened capture.  ``read(start, count)`` returns complex64 samples
    scaled to about [-1, 1] (fixed-point types are normalised)."""

    path: str
    kind: str  # "sigmf" | "sigmf-archive" | "raw" | "wav"
    datatype: str  # SigMF spelling, e.g. "ci16_le"
    sample_rate: float
    n_samples: int
    segments: list[CaptureSegment]
    data_path: str | None  # file the samples are in (None: inside a compressed archive)
    data_offset: int  # byte offset of sample 0 in data_path
    meta: dict = field(default_factory=dict, repr=False)  # SigMF metadata (as read) or synthesised
    _raw: np.ndarray | None = field(default=None, repr=False)  # memmap (n_samples, 2) components
    _offset: float = 0.0
    _scale: float = 1.0

    @property
    def duration_s(self) -> float:
        return self.n_samples / self.sample_rate

    @property
    def center_freq(self) -> float | None:
        return self.segments[0].center_freq if self.segments else None

    @property
    def start_time(self) -> datetime | None:
        return self.segments[0].start_time if self.segments else None

    def segment_at(self, sample: int) -> CaptureSegment:
        seg = self.segments[0]
        for s in self.segments:
            if s.sample_start <= sample:
                seg = s
        return seg

    def time_of(self, sample: int) -> datetime | None:
        return self.segment_at(sample).time_of(sample, self.sample_rate)

    def read(self, start: int, count: int) -> np.ndarray:
        """Samples ``[start, start + count)`` as complex64; the part outside
        the recording is zero-filled (so callers can pad edges freely)."""
        out = np.zeros(max(0, count), dtype=np.complex64)
        lo, hi = max(0, start), min(self.n_samples, start + count)
        if hi <= lo:
            return out
        try:
            raw = np.asarray(self._raw[lo:hi])
        except (OSError, ValueError) as e:  # pragma: no cover - I/O failure on a mapped file
            raise CaptureError(self.path, f"read failed at sample {lo}: {e}") from e
        dst = out[lo - start : hi - start]
        if raw.dtype.kind == "f" and raw.dtype.itemsize == 4 and raw.dtype.isnative:
            dst[:] = raw.reshape(-1).view(np.complex64)
        else:
            comp = raw.astype(np.float32)
            if self._offset:
                comp -= np.float32(self._offset)
            if self._scale != 1.0:
                comp *= np.float32(self._scale)
            dst.real = comp[:, 0]
            dst.imag = comp[:, 1]
        return out

    def iter_chunks(self, chunk: int, start: int = 0, stop: int | None = None) -> Iterator[tuple[int, np.ndarray]]:
        """``(first_sample, samples)`` chunks of at most ``chunk`` samples."""
        stop = self.n_samples if stop is None else min(stop, self.n_samples)
        for s in range(start, stop, chunk):
            yield s, self.read(s, min(chunk, stop - s))

    def close(self) -> None:
        self._raw = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


# ---------------------------------------------------------------- helpers
def _parse_datatype(path, datatype: str) -> tuple[np.dtype, float, float]:
    dt = str(datatype).lower()
    m = re.fullmatch(r"([cr])([fiu])(8|16|32|64)(_le|_be)?", dt)
    if not m:
        raise CaptureError(path, f"unknown datatype {datatype!r} (supported: {', '.join(SUPPORTED_DATATYPES)})")
    cr, kind, bits, endian = m.groups()
    if cr == "r":
        raise CaptureError(path, f"real-valued datatype {datatype!r} is not supported: need complex I/Q (c...)")
    key = f"{kind}{bits}"
    if key not in _COMPONENT:
        raise CaptureError(path, f"unsupported datatype {datatype!r} (supported: {', '.join(SUPPORTED_DATATYPES)})")
    if bits != "8" and endian is None:
        raise CaptureError(path, f"datatype {datatype!r} lacks byte order (_le or _be)")
    base, off, scale = _COMPONENT[key]
    npdt = np.dtype(("<" if endian != "_be" else ">") + base) if bits != "8" else np.dtype(base)
    return npdt, off, scale


def _parse_datetime(path, s) -> datetime | None:
    if s is None:
        return None
    if isinstance(s, datetime):
        return s if s.tzinfo else s.replace(tzinfo=timezone.utc)
    txt = str(s).strip()
    if txt.endswith("Z"):
        txt = txt[:-1] + "+00:00"
    # Python < 3.11 fromisoformat limits fractional digits; trim to microseconds
    txt = re.sub(r"(\.\d{6})\d+", r"\1", txt)
    try:
        d = datetime.fromisoformat(txt)
    except ValueError as e:
        raise CaptureError(path, f"bad core:datetime {s!r} (need ISO-8601 UTC, e.g. 2024-05-01T12:00:00Z)") from e
    return d if d.tzinfo else d.replace(tzinfo=timezone.utc)


def _memmap(path, data_path: Path, npdt: np.dtype, offset: int, n_samples: int) -> np.ndarray:
    if n_samples == 0:
        return np.zeros((0, 2), dtype=npdt)
    try:
        return np.memmap(data_path, dtype=npdt, mode="r", offset=offset, shape=(n_samples, 2))
    except (OSError, ValueError) as e:
        raise CaptureError(path, f"cannot map data file {data_path.name}: {e}") from e


def _check_whole(path, data_name: str, nbytes: int, sample_size: int, datatype: str) -> int:
    n, rem = divmod(nbytes, sample_size)
    if rem:
        raise CaptureError(
            path,
            f"truncated data file {data_name}: {nbytes} bytes is not a whole number of "
            f"{datatype} samples ({sample_size} bytes each)",
        )
    return n


def _segments_from_meta(path, meta: dict, n_samples: int, center_freq=None, start_time=None) -> list[CaptureSegment]:
    caps = meta.get("captures") or [{"core:sample_start": 0}]
    try:
        caps = sorted(caps, key=lambda c: int(c.get("core:sample_start", 0)))
    except (TypeError, ValueError) as e:
        raise CaptureError(path, f"bad core:sample_start in captures: {e}") from e
    segs = []
    for i, c in enumerate(caps):
        s0 = int(c.get("core:sample_start", 0))
        s1 = int(caps[i + 1].get("core:sample_start", 0)) if i + 1 < len(caps) else n_samples
        if s0 >= n_samples and n_samples > 0:
            raise CaptureError(
                path, f"metadata and data disagree: capture {i} starts at sample {s0} but the data holds {n_samples} samples"
            )
        f = c.get("core:frequency", center_freq)
        t = _parse_datetime(path, c.get("core:datetime")) if c.get("core:datetime") else _parse_datetime(path, start_time)
        segs.append(CaptureSegment(s0, max(0, s1 - s0), None if f is None else float(f), t))
    # annotations / explicit counts that reach past the data: sizes disagree
    ends = [int(a.get("core:sample_start", 0)) + int(a.get("core:sample_count", 0)) for a in meta.get("annotations") or []]
    if ends and max(ends) > n_samples:
        raise CaptureError(
            path,
            f"metadata and data disagree: annotations reach sample {max(ends)} but the data holds "
            f"{n_samples} samples (data file truncated?)",
        )
    return segs


# ---------------------------------------------------------------- SigMF
def _sigmf_names(p: Path) -> tuple[Path, Path]:
    name = p.name
    for ext in (".sigmf-meta", ".sigmf-data"):
        if name.endswith(ext):
            stem = p.with_name(name[: -len(ext)])
            return stem.with_name(stem.name + ".sigmf-meta"), stem.with_name(stem.name + ".sigmf-data")
    return p.with_name(name + ".sigmf-meta"), p.with_name(name + ".sigmf-data")


def _open_sigmf_meta(path: Path, center_freq, start_time, sample_rate) -> Capture:
    import sigmf
    from sigmf.error import SigMFError

    meta_fn, data_fn = _sigmf_names(path)
    shown = meta_fn
    if not meta_fn.exists():
        raise CaptureError(shown, "metadata file not found")
    try:
        meta = json.loads(meta_fn.read_text(encoding="utf-8"))
    except json.JSONDecodeError as e:
        raise CaptureError(shown, f"invalid JSON in metadata (line {e.lineno} column {e.colno}: {e.msg})") from e
    except (OSError, UnicodeDecodeError) as e:
        raise CaptureError(shown, f"cannot read metadata: {e}") from e
    if not isinstance(meta, dict) or not isinstance(meta.get("global"), dict):
        raise CaptureError(shown, "not SigMF metadata (no 'global' object)")
    g = meta["global"]
    datatype = g.get("core:datatype")
    if datatype is None:
        raise CaptureError(shown, "metadata lacks core:datatype")
    npdt, off, scale = _parse_datatype(shown, datatype)
    if int(g.get("core:num_channels", 1) or 1) != 1:
        raise CaptureError(shown, f"multi-channel datasets are not supported (core:num_channels={g['core:num_channels']})")
    if g.get("core:metadata_only"):
        raise CaptureError(shown, "metadata-only recording (core:metadata_only): there are no samples to read")
    # schema check with sigmf (catches wrong types, unsorted captures, ...)
    try:
        smf = sigmf.SigMFFile(metadata=meta)
        smf.validate()
    except Exception as e:  # jsonschema.ValidationError, SigMFError
        msg = str(getattr(e, "message", e)).splitlines()[0]
        raise CaptureError(shown, f"invalid SigMF metadata: {msg}") from e
    # data file: core:dataset (Non-Conforming Dataset) or <stem>.sigmf-data
    ds = g.get("core:dataset")
    data_path = (meta_fn.parent / ds) if ds else data_fn
    if not data_path.exists():
        raise CaptureError(shown, f"data file not found: {data_path.name}")
    caps = meta.get("captures") or []
    header = int(caps[0].get("core:header_bytes", 0)) if caps else 0
    trailing = int(g.get("core:trailing_bytes", 0) or 0)
    nbytes = data_path.stat().st_size - header - trailing
    if nbytes < 0:
        raise CaptureError(shown, f"metadata and data disagree: data file {data_path.name} is smaller than its header")
    n = _check_whole(shown, data_path.name, nbytes, 2 * npdt.itemsize, datatype)
    if n == 0:
        raise CaptureError(shown, f"data file {data_path.name} holds no samples")
    rate = g.get("core:sample_rate", sample_rate)
    if rate is None:
        raise CaptureError(shown, "sample rate unknown: core:sample_rate missing (pass sample_rate=)")
    rate = float(rate)
    if not rate > 0:
        raise CaptureError(shown, f"bad core:sample_rate {rate}")
    # sanity: sigmf agrees with our reading of the data file
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            smf.set_data_file(data_path, skip_checksum=True, offset=header)
        if len(smf) != n:
            raise CaptureError(shown, f"metadata and data disagree: sigmf counts {len(smf)} samples, the file holds {n}")
    except SigMFError as e:
        raise CaptureError(shown, f"sigmf cannot map the data: {str(e).splitlines()[0]}") from e
    segs = _segments_from_meta(shown, meta, n, center_freq, start_time)
    raw = _memmap(shown, data_path, npdt, header, n)
    return Capture(str(meta_fn), "sigmf", datatype, rate, n, segs, str(data_path), header, meta, raw, off, scale)


def _open_sigmf_archive(path: Path, center_freq, start_time, sample_rate) -> Capture:
    from sigmf.archivereader import SigMFArchiveReader

    if not path.exists():
        raise CaptureError(path, "file not found")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            rd = SigMFArchiveReader(path, skip_checksum=True, autoscale=False)
    except json.JSONDecodeError as e:
        raise CaptureError(path, f"invalid JSON in archive metadata (line {e.lineno} column {e.colno}: {e.msg})") from e
    except Exception as e:
        msg = str(getattr(e, "message", e)).splitlines()[0] if str(e) else type(e).__name__
        raise CaptureError(path, f"unreadable SigMF archive: {msg}") from e
    smf = rd.sigmffile
    meta = json.loads(smf.dumps())
    g = meta["global"]
    datatype = g.get("core:datatype")
    npdt, off, scale = _parse_datatype(path, datatype)
    if int(g.get("core:num_channels", 1) or 1) != 1:
        raise CaptureError(path, f"multi-channel datasets are not supported (core:num_channels={g['core:num_channels']})")
    mm = getattr(smf, "_memmap", None)
    if mm is None:
        raise CaptureError(path, "archive holds no data file")
    flat = np.asarray(mm).reshape(-1).view(np.uint8) if mm.size else np.zeros(0, np.uint8)
    n = _check_whole(path, "archive data", flat.nbytes, 2 * npdt.itemsize, datatype)
    if n == 0:
        raise CaptureError(path, "archive data holds no samples")
    raw = flat.view(npdt).reshape(n, 2)
    rate = g.get("core:sample_rate", sample_rate)
    if rate is None:
        raise CaptureError(path, "sample rate unknown: core:sample_rate missing (pass sample_rate=)")
    segs = _segments_from_meta(path, meta, n, center_freq, start_time)
    return Capture(str(path), "sigmf-archive", datatype, float(rate), n, segs, None, 0, meta, raw, off, scale)


# ---------------------------------------------------------------- raw / WAV
_HZ_TAG = re.compile(r"(?:^|[_\-.])(\d+(?:\.\d+)?)(Hz|kHz|KHz|MHz)(?=[_\-.]|$)")
_DT_TAG = re.compile(r"(?:^|[_\-.])(\d{8})[_\-T](\d{6})Z?(?=[_\-.]|$)")


def _tags_from_name(name: str) -> tuple[float | None, datetime | None]:
    f = t = None
    m = _HZ_TAG.search(name)
    if m:
        f = float(m.group(1)) * {"hz": 1.0, "khz": 1e3, "mhz": 1e6}[m.group(2).lower()]
    m = _DT_TAG.search(name)
    if m:
        try:
            t = datetime.strptime(m.group(1) + m.group(2), "%Y%m%d%H%M%S").replace(tzinfo=timezone.utc)
        except ValueError:
            t = None
    return f, t


def _synth_meta(datatype: str, rate: float, segs: list[CaptureSegment], dataset: str, header: int = 0) -> dict:
    cap = {"core:sample_start": 0}
    if header:
        cap["core:header_bytes"] = header
    if segs and segs[0].center_freq is not None:
        cap["core:frequency"] = segs[0].center_freq
    if segs and segs[0].start_time is not None:
        cap["core:datetime"] = segs[0].start_time.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return {
        "global": {"core:datatype": datatype, "core:sample_rate": rate, "core:version": _sigmf_version(), "core:dataset": dataset},
        "captures": [cap],
        "annotations": [],
    }


def _sigmf_version() -> str:
    try:
        from sigmf import __specification__

        return __specification__
    except Exception:  # pragma: no cover
        return "1.2.0"


def _open_raw(path: Path, datatype, sample_rate, center_freq, start_time) -> Capture:
    if not path.exists():
        raise CaptureError(path, "file not found")
    dt = datatype or RAW_EXTENSIONS.get(path.suffix.lower())
    if dt is None:
        raise CaptureError(path, f"unknown raw format {path.suffix!r}: pass datatype= (e.g. 'cu8', 'ci16_le', 'cf32_le')")
    npdt, off, scale = _parse_datatype(path, dt)
    if sample_rate is None:
        raise CaptureError(path, "sample rate unknown for a raw I/Q file: pass sample_rate=")
    n = _check_whole(path, path.name, path.stat().st_size, 2 * npdt.itemsize, dt)
    if n == 0:
        raise CaptureError(path, "zero-length data file")
    f_tag, t_tag = _tags_from_name(path.name)
    cf = center_freq if center_freq is not None else f_tag
    st = _parse_datetime(path, start_time) if start_time is not None else t_tag
    segs = [CaptureSegment(0, n, None if cf is None else float(cf), st)]
    meta = _synth_meta(dt, float(sample_rate), segs, path.name)
    return Capture(str(path), "raw", dt, float(sample_rate), n, segs, str(path), 0, meta, _memmap(path, path, npdt, 0, n), off, scale)


def _wav_layout(path: Path) -> tuple[int, int, int, int, int, int]:
    """(format_tag, channels, rate, bits, data_offset, data_bytes) of a RIFF/RF64 WAV."""
    with open(path, "rb") as f:
        head = f.read(12)
        if len(head) < 12 or head[:4] not in (b"RIFF", b"RF64") or head[8:12] != b"WAVE":
            raise CaptureError(path, "not a RIFF/WAVE file")
        fmt = None
        ds64_data = None
        size = path.stat().st_size
        while True:
            ch = f.read(8)
            if len(ch) < 8:
                break
            cid, clen = ch[:4], struct.unpack("<I", ch[4:])[0]
            pos = f.tell()
            if cid == b"ds64":
                body = f.read(min(clen, 28))
                if len(body) >= 16:
                    ds64_data = struct.unpack("<Q", body[8:16])[0]
            elif cid == b"fmt ":
                body = f.read(min(clen, 40))
                if len(body) < 16:
                    raise CaptureError(path, "WAV fmt chunk too short")
                tag, chans, rate, _br, _ba, bits = struct.unpack("<HHIIHH", body[:16])
                if tag == 0xFFFE and len(body) >= 26:
                    tag = struct.unpack("<H", body[24:26])[0]
                fmt = (tag, chans, rate, bits)
            elif cid == b"data":
                if fmt is None:
                    raise CaptureError(path, "WAV data chunk before fmt chunk")
                dlen = ds64_data if (clen == 0xFFFFFFFF and ds64_data is not None) else clen
                dlen = min(dlen, size - pos)  # a cut recording: use what is there
                return (*fmt, pos, dlen)
            f.seek(pos + clen + (clen & 1))
    raise CaptureError(path, "WAV has no data chunk")


def _open_wav(path: Path, sample_rate, center_freq, start_time) -> Capture:
    if not path.exists():
        raise CaptureError(path, "file not found")
    tag, chans, rate, bits, off, nbytes = _wav_layout(path)
    if chans != 2:
        raise CaptureError(path, f"I/Q WAV needs 2 channels (I and Q), this one has {chans}")
    if tag == 1 and bits == 8:
        dt = "cu8"
    elif tag == 1 and bits == 16:
        dt = "ci16_le"
    elif tag == 1 and bits == 32:
        dt = "ci32_le"
    elif tag == 3 and bits == 32:
        dt = "cf32_le"
    else:
        raise CaptureError(path, f"unsupported WAV sample format (format tag {tag}, {bits} bits)")
    npdt, o, scale = _parse_datatype(path, dt)
    n = nbytes // (2 * npdt.itemsize)  # a trailing odd byte of a cut WAV is ignored
    if n == 0:
        raise CaptureError(path, "WAV holds no samples")
    f_tag, t_tag = _tags_from_name(path.name)
    cf = center_freq if center_freq is not None else f_tag
    st = _parse_datetime(path, start_time) if start_time is not None else t_tag
    fs = float(sample_rate) if sample_rate is not None else float(rate)
    segs = [CaptureSegment(0, n, None if cf is None else float(cf), st)]
    meta = _synth_meta(dt, fs, segs, path.name, header=off)
    return Capture(str(path), "wav", dt, fs, n, segs, str(path), off, meta, _memmap(path, path, npdt, off, n), o, scale)


# ---------------------------------------------------------------- entry point
def open_capture(
    path: str | os.PathLike,
    *,
    sample_rate: float | None = None,
    center_freq: float | None = None,
    datatype: str | None = None,
    start_time: datetime | str | None = None,
) -> Capture:
    """Open a SigMF recording/archive, a raw ``.cu8``/``.cs8``/``.cs16``/``.cf32``
    file or a 2-channel I/Q WAV.  ``sample_rate``/``center_freq``/``start_time``
    fill in what the file does not say (SigMF metadata wins when present).
    ``datatype`` names the sample format of a raw file with another extension.
    """
    cap = _open_any(Path(path), sample_rate, center_freq, datatype, start_time)
    if not MIN_RATE <= cap.sample_rate <= MAX_RATE:
        raise CaptureError(Path(path), f"sample rate {cap.sample_rate:g} S/s is outside what a voice capture can be"
                                       f" ({MIN_RATE:,} to {MAX_RATE:,} S/s)")
    return cap


# A narrowband voice channel needs at least ~8 kS/s of complex samples; above 1 GS/s no
# receiver this tool reads from records. Outside that, the rate is a typo or a crafted file.
MIN_RATE = 8_000
MAX_RATE = 1_000_000_000


def _open_any(p: Path, sample_rate, center_freq, datatype, start_time) -> Capture:
    name = p.name.lower()
    if p.is_dir():
        raise CaptureError(p, "is a directory, not a capture")
    if name.endswith((".sigmf-meta", ".sigmf-data")):
        return _open_sigmf_meta(p, center_freq, start_time, sample_rate)
    if name.endswith((".sigmf", ".sigmf.gz", ".sigmf.xz", ".sigmf.zip")):
        return _open_sigmf_archive(p, center_freq, start_time, sample_rate)
    if name.endswith(".wav"):
        return _open_wav(p, sample_rate, center_freq, start_time)
    if p.suffix.lower() in RAW_EXTENSIONS or datatype is not None:
        return _open_raw(p, datatype, sample_rate, center_freq, start_time)
    # a bare stem of a SigMF pair
    meta_fn, _ = _sigmf_names(p)
    if meta_fn.exists():
        return _open_sigmf_meta(meta_fn, center_freq, start_time, sample_rate)
    if not p.exists():
        raise CaptureError(p, "file not found")
    raise CaptureError(
        p, f"unknown capture format {p.suffix!r}: expected .sigmf-meta/.sigmf-data/.sigmf, .cu8/.cs8/.cs16/.cf32 or an I/Q .wav"
    )
