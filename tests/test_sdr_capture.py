"""SDR capture readers: SigMF (pair, archive), raw rtl-sdr files, I/Q WAV; bad input."""

from __future__ import annotations

import json
import struct
import tarfile
import tracemalloc
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("sigmf")

from overheard.sdr.capture import CaptureError, open_capture  # noqa: E402

FS = 48000.0
CF = 145_000_000.0
DT = "2025-03-01T06:00:00Z"


def _iq(n=4800, seed=0):
    rng = np.random.default_rng(seed)
    x = 0.5 * np.exp(2j * np.pi * 1000 * np.arange(n) / FS) + 0.01 * (rng.standard_normal(n) + 1j * rng.standard_normal(n))
    return x.astype(np.complex64)


def _encode(x: np.ndarray, datatype: str) -> bytes:
    iq = np.empty(2 * len(x), dtype=np.float64)
    iq[0::2], iq[1::2] = x.real, x.imag
    if datatype == "cf32_le":
        return x.astype("<c8").tobytes()
    if datatype == "ci16_le":
        return np.clip(np.round(iq * 32767), -32768, 32767).astype("<i2").tobytes()
    if datatype == "ci8":
        return np.clip(np.round(iq * 127), -128, 127).astype("i1").tobytes()
    if datatype == "cu8":
        return np.clip(np.round(iq * 127.5 + 127.5), 0, 255).astype("u1").tobytes()
    raise ValueError(datatype)


def _write_sigmf(stem: Path, x, datatype="cf32_le", *, meta_extra=None, captures=None, data: bytes | None = None) -> Path:
    meta = {
        "global": {"core:datatype": datatype, "core:sample_rate": FS, "core:version": "1.2.0", **(meta_extra or {})},
        "captures": captures or [{"core:sample_start": 0, "core:frequency": CF, "core:datetime": DT}],
        "annotations": [],
    }
    stem.with_name(stem.name + ".sigmf-data").write_bytes(_encode(x, datatype) if data is None else data)
    mp = stem.with_name(stem.name + ".sigmf-meta")
    mp.write_text(json.dumps(meta))
    return mp


TOL = {"cf32_le": 1e-6, "ci16_le": 1e-4, "ci8": 1e-2, "cu8": 1e-2}


@pytest.mark.parametrize("datatype", ["cf32_le", "ci16_le", "ci8", "cu8"])
def test_sigmf_datatypes_roundtrip(tmp_path, datatype):
    x = _iq()
    mp = _write_sigmf(tmp_path / "rec", x, datatype)
    cap = open_capture(mp)
    assert cap.kind == "sigmf" and cap.datatype == datatype
    assert cap.n_samples == len(x) and cap.sample_rate == FS
    assert cap.center_freq == CF
    assert cap.start_time.isoformat() == "2025-03-01T06:00:00+00:00"
    y = cap.read(100, 1000)
    assert y.dtype == np.complex64
    assert np.max(np.abs(y - x[100:1100])) < TOL[datatype]
    # out-of-range reads are zero-padded, not errors
    z = cap.read(len(x) - 10, 20)
    assert np.all(z[10:] == 0) and np.max(np.abs(z[:10] - x[-10:])) < TOL[datatype]
    # the data file path also opens the pair
    assert open_capture(mp.with_name("rec.sigmf-data")).n_samples == len(x)


def test_sigmf_multiple_captures_keep_frequency_and_time(tmp_path):
    x = _iq(6000)
    caps = [
        {"core:sample_start": 0, "core:frequency": CF, "core:datetime": DT},
        {"core:sample_start": 4800, "core:frequency": CF + 1e6, "core:datetime": "2025-03-01T06:00:10Z"},
    ]
    cap = open_capture(_write_sigmf(tmp_path / "rec", x, captures=caps))
    assert [(s.sample_start, s.sample_count, s.center_freq) for s in cap.segments] == [(0, 4800, CF), (4800, 1200, CF + 1e6)]
    assert cap.time_of(4800 + 480).isoformat() == "2025-03-01T06:00:10.010000+00:00"
    assert cap.time_of(480).isoformat() == "2025-03-01T06:00:00.010000+00:00"


def test_sigmf_archive(tmp_path):
    import sigmf

    x = _iq()
    mp = _write_sigmf(tmp_path / "rec", x, "ci16_le")
    smf = sigmf.fromfile(mp, skip_checksum=True)
    arc = tmp_path / "rec.sigmf"
    smf.archive(str(arc))
    cap = open_capture(arc)
    assert cap.kind == "sigmf-archive" and cap.n_samples == len(x)
    assert np.max(np.abs(cap.read(0, len(x)) - x)) < 1e-4
    assert cap.center_freq == CF


def test_raw_rtlsdr_files(tmp_path):
    x = _iq()
    (tmp_path / "cap.cu8").write_bytes(_encode(x, "cu8"))
    (tmp_path / "cap.cs16").write_bytes(_encode(x, "ci16_le"))
    with pytest.raises(CaptureError, match="sample rate unknown"):
        open_capture(tmp_path / "cap.cu8")
    a = open_capture(tmp_path / "cap.cu8", sample_rate=FS, center_freq=CF)
    b = open_capture(tmp_path / "cap.cs16", sample_rate=FS)
    assert a.datatype == "cu8" and b.datatype == "ci16_le"
    assert a.center_freq == CF and b.center_freq is None
    assert np.max(np.abs(a.read(0, len(x)) - x)) < 1e-2
    assert np.max(np.abs(b.read(0, len(x)) - x)) < 1e-4
    # other extensions need the datatype
    (tmp_path / "cap.iq").write_bytes(_encode(x, "ci16_le"))
    assert open_capture(tmp_path / "cap.iq", datatype="ci16_le", sample_rate=FS).n_samples == len(x)


def _wav(path: Path, x: np.ndarray, fmt: str):
    if fmt == "pcm16":
        body, tag, bits = _encode(x, "ci16_le"), 1, 16
    elif fmt == "float":
        body, tag, bits = x.astype("<c8").tobytes(), 3, 32
    else:
        body, tag, bits = _encode(x, "cu8"), 1, 8
    ba = 2 * bits // 8
    fmtc = struct.pack("<HHIIHH", tag, 2, int(FS), int(FS) * ba, ba, bits)
    data = b"fmt " + struct.pack("<I", 16) + fmtc + b"LIST" + struct.pack("<I", 4) + b"INFO" + b"data" + struct.pack("<I", len(body)) + body
    path.write_bytes(b"RIFF" + struct.pack("<I", 4 + len(data)) + b"WAVE" + data)


@pytest.mark.parametrize("fmt", ["pcm16", "float", "u8"])
def test_iq_wav(tmp_path, fmt):
    x = _iq()
    p = tmp_path / f"SDRSharp_20250301_060000Z_145000000Hz_IQ_{fmt}.wav"
    _wav(p, x, fmt)
    cap = open_capture(p)
    assert cap.kind == "wav" and cap.sample_rate == FS and cap.n_samples == len(x)
    assert cap.center_freq == CF  # from the file name
    assert cap.start_time.isoformat() == "2025-03-01T06:00:00+00:00"
    assert np.max(np.abs(cap.read(0, len(x)) - x)) < (1e-2 if fmt == "u8" else 1e-4)
    # explicit parameters win over the name
    assert open_capture(p, center_freq=1e6).center_freq == 1e6


def test_mono_wav_is_rejected(tmp_path):
    p = tmp_path / "mono.wav"
    body = np.zeros(100, "<i2").tobytes()
    fmtc = struct.pack("<HHIIHH", 1, 1, 48000, 96000, 2, 16)
    data = b"fmt " + struct.pack("<I", 16) + fmtc + b"data" + struct.pack("<I", len(body)) + body
    p.write_bytes(b"RIFF" + struct.pack("<I", 4 + len(data)) + b"WAVE" + data)
    with pytest.raises(CaptureError, match="2 channels"):
        open_capture(p)


def test_reading_is_streamed_from_a_memory_map(tmp_path):
    n = 4_000_000  # 32 MB of cf32
    mp = _write_sigmf(tmp_path / "big", np.zeros(0, np.complex64), data=np.zeros(2 * n, "<f4").tobytes())
    tracemalloc.start()
    cap = open_capture(mp)
    got = sum(len(c) for _s, c in cap.iter_chunks(100_000))
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert got == n
    assert peak < 8_000_000, f"peak {peak} bytes: the capture was loaded whole"


# ------------------------------------------------------------------ bad input
def _one_line(e: Exception, name: str):
    s = str(e)
    assert "\n" not in s and name in s
    return s


def test_truncated_data_file(tmp_path):
    x = _iq()
    mp = _write_sigmf(tmp_path / "rec", x, "ci16_le", data=_encode(x, "ci16_le")[:-3])
    with pytest.raises(CaptureError, match="truncated data file") as e:
        open_capture(mp)
    _one_line(e.value, "rec.sigmf-meta")
    (tmp_path / "raw.cs16").write_bytes(_encode(x, "ci16_le")[:-1])
    with pytest.raises(CaptureError, match="not a whole number"):
        open_capture(tmp_path / "raw.cs16", sample_rate=FS)


def test_meta_and_data_sizes_disagree(tmp_path):
    x = _iq(1000)
    caps = [{"core:sample_start": 0, "core:frequency": CF}, {"core:sample_start": 5000, "core:frequency": CF}]
    with pytest.raises(CaptureError, match="disagree"):
        open_capture(_write_sigmf(tmp_path / "a", x, captures=caps))
    mp = _write_sigmf(tmp_path / "b", x)
    meta = json.loads(mp.read_text())
    meta["annotations"] = [{"core:sample_start": 900, "core:sample_count": 500}]
    mp.write_text(json.dumps(meta))
    with pytest.raises(CaptureError, match="disagree: annotations reach sample 1400"):
        open_capture(mp)


def test_unknown_datatype(tmp_path):
    with pytest.raises(CaptureError, match="unknown datatype 'cq16_le'"):
        open_capture(_write_sigmf(tmp_path / "a", _iq(), "cf32_le", meta_extra={"core:datatype": "cq16_le"}))
    with pytest.raises(CaptureError, match="real-valued"):
        open_capture(_write_sigmf(tmp_path / "b", _iq(), "cf32_le", meta_extra={"core:datatype": "rf32_le"}))


def test_invalid_json_and_schema(tmp_path):
    mp = _write_sigmf(tmp_path / "a", _iq())
    mp.write_text('{"global": {"core:datatype": "cf32_le",')
    with pytest.raises(CaptureError, match="invalid JSON") as e:
        open_capture(mp)
    _one_line(e.value, "a.sigmf-meta")
    mp2 = _write_sigmf(tmp_path / "b", _iq(), meta_extra={"core:sample_rate": "fast"})
    with pytest.raises(CaptureError, match="invalid SigMF metadata"):
        open_capture(mp2)


def test_missing_files(tmp_path):
    mp = _write_sigmf(tmp_path / "a", _iq())
    mp.with_name("a.sigmf-data").unlink()
    with pytest.raises(CaptureError, match="data file not found: a.sigmf-data"):
        open_capture(mp)
    with pytest.raises(CaptureError, match="not found"):
        open_capture(tmp_path / "nothing.sigmf-meta")
    with pytest.raises(CaptureError, match="not found"):
        open_capture(tmp_path / "nothing.cu8", sample_rate=FS)
    (tmp_path / "x.txt").write_text("hello")
    with pytest.raises(CaptureError, match="unknown capture format"):
        open_capture(tmp_path / "x.txt")


def test_empty_and_bad_archive(tmp_path):
    mp = _write_sigmf(tmp_path / "a", _iq(), data=b"")
    with pytest.raises(CaptureError, match="holds no samples"):
        open_capture(mp)
    bad = tmp_path / "bad.sigmf"
    with tarfile.open(bad, "w") as tf:
        info = tarfile.TarInfo("bad/readme.txt")
        info.size = 2
        import io

        tf.addfile(info, io.BytesIO(b"hi"))
    with pytest.raises(CaptureError, match="unreadable SigMF archive"):
        open_capture(bad)
