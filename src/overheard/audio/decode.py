"""Streamed decoding of any common audio/video file to mono 16 kHz float32.

Everything goes through PyAV (FFmpeg).  Audio is never loaded whole:
:func:`iter_blocks` yields fixed-size blocks, :func:`read_range` reads one
time range (for clips and cues).  Any failure is raised as
:class:`AudioDecodeError` with a one-line message naming the file.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import numpy as np

SAMPLE_RATE = 16000
MIN_SOURCE_RATE = 1000
MAX_SOURCE_RATE = 768000
# A decoded duration below this fraction of the declared one means truncation.
TRUNCATION_TOLERANCE = 0.95


class AudioDecodeError(Exception):
    """The file cannot be decoded as audio.  ``str(err)`` is one line:
    ``"<path>: <problem>"``."""

    def __init__(self, path: str | os.PathLike, problem: str):
        self.path = str(path)
        self.problem = " ".join(str(problem).split())  # force one line
        super().__init__(f"{self.path}: {self.problem}")


@dataclass(frozen=True)
class AudioInfo:
    path: str
    container: str
    codec: str
    sample_rate: int
    channels: int
    duration_s: float | None  # as declared by the container; None if unknown


@dataclass(frozen=True)
class AudioBlock:
    start_s: float  # time of samples[0] in the source, seconds
    samples: np.ndarray  # mono float32 at SAMPLE_RATE

    @property
    def end_s(self) -> float:
        return self.start_s + len(self.samples) / SAMPLE_RATE


def _open(path: str | os.PathLike):
    import av

    p = Path(path)
    if not p.exists():
        raise AudioDecodeError(path, "file not found")
    if p.is_dir():
        raise AudioDecodeError(path, "is a directory, not a file")
    if p.stat().st_size == 0:
        raise AudioDecodeError(path, "zero-length file")
    try:
        container = av.open(str(p), mode="r", metadata_errors="ignore")
    except av.FFmpegError as e:  # InvalidDataError, etc.
        raise AudioDecodeError(path, f"not a readable audio/video file ({_av_msg(e)})") from e
    except Exception as e:  # pragma: no cover - defensive
        raise AudioDecodeError(path, f"cannot open ({type(e).__name__}: {e})") from e
    try:
        if not container.streams.audio:
            raise AudioDecodeError(path, "no audio stream")
        stream = container.streams.audio[0]
        ctx = stream.codec_context
        codec_name = getattr(ctx, "name", None) or "unknown"
        if codec_name in ("none", "unknown") or ctx.codec is None:
            raise AudioDecodeError(path, f"unsupported audio codec ({codec_name})")
        rate = int(ctx.sample_rate or stream.rate or 0)
        if not (MIN_SOURCE_RATE <= rate <= MAX_SOURCE_RATE):
            raise AudioDecodeError(path, f"invalid sample rate {rate} Hz")
    except AudioDecodeError:
        container.close()
        raise
    except Exception as e:
        container.close()
        raise AudioDecodeError(path, f"unreadable audio stream ({type(e).__name__}: {e})") from e
    return container, stream


def _av_msg(e: Exception) -> str:
    msg = getattr(e, "strerror", None) or str(e)
    return " ".join(str(msg).split())


def _wav_truncation(path: str | os.PathLike) -> str | None:
    """RIFF/WAVE: FFmpeg derives the duration from the file size, so compare
    the data chunk's declared size with the bytes actually present."""
    try:
        size = os.path.getsize(path)
        with open(path, "rb") as f:
            head = f.read(12)
            if len(head) < 12 or head[:4] != b"RIFF" or head[8:12] != b"WAVE":
                return None
            pos = 12
            while pos + 8 <= size:
                f.seek(pos)
                hdr = f.read(8)
                cid, n = hdr[:4], int.from_bytes(hdr[4:8], "little")
                if cid == b"data":
                    if n in (0, 0xFFFFFFFF):  # streamed WAV: size unknown
                        return None
                    have = size - pos - 8
                    if have < n * TRUNCATION_TOLERANCE:
                        return f"truncated: data chunk declares {n} bytes, file holds {have}"
                    return None
                pos += 8 + n + (n & 1)
    except OSError:
        return None
    return None


def _declared_duration(container, stream) -> float | None:
    if stream.duration is not None and stream.time_base is not None:
        d = float(stream.duration * stream.time_base)
        if d > 0:
            return d
    if container.duration is not None and container.duration > 0:
        return container.duration / 1_000_000.0
    return None


def probe(path: str | os.PathLike) -> AudioInfo:
    """Describe the first audio stream without decoding it."""
    container, stream = _open(path)
    try:
        # a WAV whose header promises more samples than the file holds: refuse now (at
        # ingest), as a truncated SigMF is, not first at `process`
        if container.format.name == "wav" and (problem := _wav_truncation(path)):
            raise AudioDecodeError(path, problem)
        ctx = stream.codec_context
        return AudioInfo(
            path=str(path),
            container=container.format.name,
            codec=ctx.name,
            sample_rate=int(ctx.sample_rate or stream.rate),
            channels=int(ctx.channels or 1),
            duration_s=_declared_duration(container, stream),
        )
    finally:
        container.close()


def iter_blocks(
    path: str | os.PathLike,
    *,
    block_s: float = 30.0,
    start_s: float = 0.0,
    end_s: float | None = None,
    strict: bool = True,
) -> Iterator[AudioBlock]:
    """Yield consecutive :class:`AudioBlock` of ``block_s`` seconds (the last
    may be shorter) of mono 16 kHz float32 audio.

    ``start_s`` seeks (for resuming and clips); ``end_s`` stops early.
    Memory is bounded by one block plus FFmpeg's own buffers.  With
    ``strict`` a file that decodes to clearly less than its declared duration
    raises :class:`AudioDecodeError` (after yielding what it could).
    """
    import av

    block_n = max(1, int(round(block_s * SAMPLE_RATE)))
    container, stream = _open(path)
    declared = _declared_duration(container, stream)
    wav_problem = _wav_truncation(path) if strict and container.format.name == "wav" else None
    try:
        resampler = av.AudioResampler(format="flt", layout="mono", rate=SAMPLE_RATE)
        seeked = False
        if start_s > 0:
            try:
                container.seek(int(start_s * 1_000_000), any_frame=False, backward=True)
                seeked = True
            except av.FFmpegError:
                seeked = False  # non-seekable: decode from the start and drop
        buf: list[np.ndarray] = []
        buf_n = 0
        t0: float | None = None  # source time of the first sample kept
        produced = 0  # samples yielded
        skip = 0  # samples still to drop before start_s
        stop_n = None
        decode_error: Exception | None = None

        def frames():
            for packet in container.demux(stream):
                for frame in packet.decode():
                    yield frame
            yield None  # flush marker

        try:
            for frame in frames():
                if frame is None:
                    outs = resampler.resample(None)
                else:
                    if t0 is None:
                        ft = (
                            float(frame.pts * frame.time_base)
                            if (seeked and frame.pts is not None and frame.time_base)
                            else 0.0
                        )
                        ft = max(0.0, ft)
                        if ft > start_s:  # seek overshoot: start where we are
                            t0 = ft
                        else:
                            skip = int(round((start_s - ft) * SAMPLE_RATE))
                            t0 = start_s
                        if end_s is not None:
                            stop_n = max(0, int(round((end_s - t0) * SAMPLE_RATE)))
                    outs = resampler.resample(frame)
                for out in outs:
                    a = out.to_ndarray().reshape(-1).astype(np.float32, copy=False)
                    if skip:
                        drop = min(skip, len(a))
                        a = a[drop:]
                        skip -= drop
                    if not len(a):
                        continue
                    buf.append(a)
                    buf_n += len(a)
                    while buf_n >= block_n or (stop_n is not None and produced + buf_n >= stop_n):
                        want = block_n
                        if stop_n is not None:
                            want = min(want, stop_n - produced)
                        cat = np.concatenate(buf) if len(buf) > 1 else buf[0]
                        blk, rest = cat[:want], cat[want:]
                        buf = [rest] if len(rest) else []
                        buf_n = len(rest)
                        if len(blk):
                            yield AudioBlock(t0 + produced / SAMPLE_RATE, np.ascontiguousarray(blk))
                            produced += len(blk)
                        if stop_n is not None and produced >= stop_n:
                            return
        except av.FFmpegError as e:
            decode_error = e
        if buf_n:
            cat = np.concatenate(buf)
            if stop_n is not None:
                cat = cat[: max(0, stop_n - produced)]
            if len(cat):
                yield AudioBlock((t0 or 0.0) + produced / SAMPLE_RATE, cat)
                produced += len(cat)
        if decode_error is not None and strict:
            raise AudioDecodeError(
                path,
                f"corrupt or truncated data after {produced / SAMPLE_RATE:.2f} s ({_av_msg(decode_error)})",
            )
        if t0 is None and start_s == 0:
            raise AudioDecodeError(path, "no decodable audio (empty or corrupt stream)")
        if wav_problem and end_s is None:
            raise AudioDecodeError(path, wav_problem)
        if strict and declared and start_s == 0 and end_s is None:
            got = produced / SAMPLE_RATE
            if declared > 1.0 and got < declared * TRUNCATION_TOLERANCE:
                raise AudioDecodeError(
                    path, f"truncated: decoded {got:.2f} s of declared {declared:.2f} s"
                )
    finally:
        container.close()


def read_range(path: str | os.PathLike, start_s: float, end_s: float) -> np.ndarray:
    """Mono 16 kHz float32 samples of ``[start_s, end_s)`` (seeks; never decodes
    the whole file).  Shorter than asked when the file ends first."""
    if end_s <= start_s:
        return np.zeros(0, dtype=np.float32)
    parts = [b.samples for b in iter_blocks(path, block_s=60.0, start_s=start_s, end_s=end_s, strict=False)]
    if not parts:
        return np.zeros(0, dtype=np.float32)
    return np.concatenate(parts)


def decode_all(path: str | os.PathLike, *, max_s: float = 3600.0) -> np.ndarray:
    """Whole file as one array -- for short files (tests, clips) only.
    Refuses files longer than ``max_s`` so it cannot be misused on a 10-hour
    recording."""
    info = probe(path)
    if info.duration_s is not None and info.duration_s > max_s:
        raise AudioDecodeError(path, f"too long to load whole ({info.duration_s:.0f} s > {max_s:.0f} s); use iter_blocks")
    parts = [b.samples for b in iter_blocks(path, block_s=60.0)]
    return np.concatenate(parts) if parts else np.zeros(0, dtype=np.float32)


__all__ = [
    "SAMPLE_RATE",
    "AudioDecodeError",
    "AudioInfo",
    "AudioBlock",
    "probe",
    "iter_blocks",
    "read_range",
    "decode_all",
]
