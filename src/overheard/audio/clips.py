"""Cut a transmission's audio out of its source to a derived file."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import numpy as np

from .decode import SAMPLE_RATE, AudioDecodeError, read_range

_FORMATS = {
    ".wav": ("wav", "pcm_s16le"),
    ".flac": ("flac", "flac"),
    ".ogg": ("ogg", "libopus"),
    ".opus": ("ogg", "libopus"),
}


def write_audio(path: str | os.PathLike, samples: np.ndarray, *, bitrate: int = 32000) -> Path:
    """Write mono 16 kHz float samples as WAV (16-bit), FLAC or Opus
    (``.ogg``/``.opus``, at ``bitrate``), chosen by the suffix.  Written to a
    temporary file and renamed, so a partial clip never appears."""
    import av

    path = Path(path)
    try:
        fmt, codec = _FORMATS[path.suffix.lower()]
    except KeyError:
        raise ValueError(f"{path}: unsupported clip format {path.suffix!r} (use .wav, .flac, .ogg or .opus)") from None
    pcm = (np.clip(np.asarray(samples, dtype=np.float32), -1.0, 1.0) * 32767).astype(np.int16).reshape(1, -1)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".clip-", suffix=path.suffix, dir=path.parent)
    os.close(fd)
    try:
        rate = 48000 if codec == "libopus" else SAMPLE_RATE
        with av.open(tmp, "w", format=fmt) as c:
            st = c.add_stream(codec, rate=rate)
            st.layout = "mono"
            if codec == "libopus":
                st.bit_rate = bitrate
            frame = av.AudioFrame.from_ndarray(pcm, format="s16", layout="mono")
            frame.sample_rate = SAMPLE_RATE
            target_fmt = st.codec_context.format.name if st.codec_context.format else "s16"
            rs = av.AudioResampler(format=target_fmt, layout="mono", rate=rate)
            for fr in rs.resample(frame) + rs.resample(None):
                for p in st.encode(fr):
                    c.mux(p)
            for p in st.encode(None):
                c.mux(p)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return path


def cut_clip(
    source: str | os.PathLike,
    start_s: float,
    end_s: float,
    out_path: str | os.PathLike,
    *,
    pad_s: float = 0.0,
    bitrate: int = 32000,
) -> Path:
    """Cut ``[start_s - pad_s, end_s + pad_s]`` of ``source`` to ``out_path``
    (format by suffix: .wav, .flac, .ogg/.opus).  Seeks, so it is cheap even
    in a 10-hour file."""
    if end_s <= start_s:
        raise ValueError(f"empty clip range {start_s}..{end_s}")
    a = read_range(source, max(0.0, start_s - pad_s), end_s + pad_s)
    if len(a) == 0:
        raise AudioDecodeError(source, f"no audio in {start_s:.2f}-{end_s:.2f} s")
    return write_audio(out_path, a, bitrate=bitrate)
