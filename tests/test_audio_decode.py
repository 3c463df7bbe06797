"""Decoding (PyAV), bad input, streaming, time ranges and clips -- real files."""

from __future__ import annotations

import struct
import tracemalloc
from pathlib import Path

import numpy as np
import pytest

av = pytest.importorskip("av")

from overheard.audio.clips import cut_clip, write_audio  # noqa: E402
from overheard.audio.decode import (  # noqa: E402
    SAMPLE_RATE,
    AudioDecodeError,
    decode_all,
    iter_blocks,
    probe,
    read_range,
)

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(__file__).resolve().parents[2] / "shared" / "data" / "audio"


def _tone(seconds=3.0, sr=44100, f=440.0, channels=1):
    t = np.arange(int(seconds * sr)) / sr
    x = 0.3 * np.sin(2 * np.pi * f * t)
    # a marker click at exactly 1.0 s to check timing after resampling
    x[int(sr * 1.0)] = 0.99
    return np.repeat(x[None, :], channels, axis=0)


def _write(path: Path, fmt: str, codec: str, sr=44100, channels=2, seconds=3.0, video=False):
    x = _tone(seconds, sr, channels=channels)
    layout = "stereo" if channels == 2 else "mono"
    with av.open(str(path), "w", format=fmt) as c:
        vs = st = None
        if video:
            vs = c.add_stream("mpeg4", rate=10)
            vs.width, vs.height, vs.pix_fmt = 64, 48, "yuv420p"
        if codec is not None:
            st = c.add_stream(codec, rate=sr)
            st.layout = layout
        if vs is not None:
            for i in range(int(seconds * 10)):
                fr = av.VideoFrame.from_ndarray(np.zeros((48, 64, 3), np.uint8), format="rgb24")
                fr.pts = i
                for p in vs.encode(fr):
                    c.mux(p)
            for p in vs.encode(None):
                c.mux(p)
        if st is None:
            return path
        fmt_name = st.codec_context.format.name if st.codec_context.format else "s16"
        pcm = (x * 32767).astype(np.int16)
        frame = av.AudioFrame.from_ndarray(pcm if channels == 1 else pcm.T.reshape(1, -1).copy(), format="s16", layout=layout)
        frame.sample_rate = sr
        rs = av.AudioResampler(format=fmt_name, layout=layout, rate=sr)
        for fr in rs.resample(frame) + rs.resample(None):
            for p in st.encode(fr):
                c.mux(p)
        for p in st.encode(None):
            c.mux(p)
    return path


def _wav_bytes(fmt_tag=1, rate=16000, ch=1, bits=16, data=b"\0" * 3200, declared=None):
    block = ch * bits // 8
    n = len(data) if declared is None else declared
    return (b"RIFF" + struct.pack("<I", 36 + n) + b"WAVEfmt "
            + struct.pack("<IHHIIHH", 16, fmt_tag, ch, rate, rate * block, block, bits)
            + b"data" + struct.pack("<I", n) + data)


@pytest.mark.parametrize(
    "name,fmt,codec,video",
    [
        ("a.wav", "wav", "pcm_s16le", False),
        ("a.flac", "flac", "flac", False),
        ("a.mp3", "mp3", "libmp3lame", False),
        ("a.ogg", "ogg", "libopus", False),
        ("a.m4a", "ipod", "aac", False),
        ("a.mkv", "matroska", "aac", True),
        ("a.mp4", "mp4", "aac", True),
    ],
)
def test_decodes_common_formats_to_mono_16k(tmp_path, name, fmt, codec, video):
    sr = 48000 if codec == "libopus" else 44100
    p = _write(tmp_path / name, fmt, codec, sr=sr, video=video)
    info = probe(p)
    assert info.sample_rate == sr and info.channels == 2
    a = decode_all(p)
    assert a.dtype == np.float32 and a.ndim == 1
    assert abs(len(a) / SAMPLE_RATE - 3.0) < 0.1  # codec priming/padding tolerance
    # the tone is still a 440 Hz tone
    spec = np.abs(np.fft.rfft(a[SAMPLE_RATE // 2 : SAMPLE_RATE // 2 + 8000]))
    assert abs(np.argmax(spec) * SAMPLE_RATE / 8000 - 440) < 5


def test_blocks_are_contiguous_and_bounded(tmp_path):
    p = _write(tmp_path / "b.flac", "flac", "flac", sr=22050, seconds=7.3)
    blocks = list(iter_blocks(p, block_s=2.0))
    assert [len(b.samples) for b in blocks[:-1]] == [2 * SAMPLE_RATE] * (len(blocks) - 1)
    for a, b in zip(blocks, blocks[1:]):
        assert b.start_s == pytest.approx(a.end_s, abs=1e-6)
    whole = np.concatenate([b.samples for b in blocks])
    assert abs(len(whole) / SAMPLE_RATE - 7.3) < 0.01
    # marker click at 1.0 s survives resampling at the right time
    assert abs(np.argmax(np.abs(whole[: 2 * SAMPLE_RATE])) / SAMPLE_RATE - 1.0) < 0.002


def test_read_range_matches_whole_decode(tmp_path):
    p = _write(tmp_path / "r.wav", "wav", "pcm_s16le", sr=44100, channels=1, seconds=6.0)
    whole = decode_all(p)
    part = read_range(p, 2.5, 4.0)
    assert len(part) == int(1.5 * SAMPLE_RATE)
    ref = whole[int(2.5 * SAMPLE_RATE) : int(4.0 * SAMPLE_RATE)]
    assert np.max(np.abs(part - ref)) < 0.02
    blocks = list(iter_blocks(p, start_s=3.0, block_s=1.0))
    assert blocks[0].start_s == pytest.approx(3.0, abs=0.01)
    assert read_range(p, 5.5, 9.0).shape[0] == pytest.approx(0.5 * SAMPLE_RATE, abs=2)


def test_long_file_streams_in_bounded_memory(tmp_path):
    # 20 minutes of near-silence compresses to almost nothing as FLAC
    sr = 16000
    p = tmp_path / "long.flac"
    with av.open(str(p), "w", format="flac") as c:
        st = c.add_stream("flac", rate=sr)
        st.layout = "mono"
        chunk = np.zeros((1, sr * 10), np.int16)
        for i in range(120):
            fr = av.AudioFrame.from_ndarray(chunk, format="s16", layout="mono")
            fr.sample_rate = sr
            fr.pts = i * sr * 10
            for pk in st.encode(fr):
                c.mux(pk)
        for pk in st.encode(None):
            c.mux(pk)
    tracemalloc.start()
    n = 0
    for b in iter_blocks(p, block_s=30.0):
        n += len(b.samples)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert n == 1200 * sr
    assert peak < 16 * 2**20  # the whole file would be 77 MB of float32


def test_bad_inputs_raise_one_line_errors(tmp_path):
    cases = {}
    (tmp_path / "empty.wav").write_bytes(b"")
    cases["empty.wav"] = "zero-length"
    (tmp_path / "garbage.mp3").write_bytes(np.random.default_rng(0).bytes(4000))
    cases["garbage.mp3"] = "not a readable"
    (tmp_path / "codec.wav").write_bytes(_wav_bytes(fmt_tag=0x1234))
    cases["codec.wav"] = "unsupported audio codec"
    (tmp_path / "rate10.wav").write_bytes(_wav_bytes(rate=10))
    cases["rate10.wav"] = "sample rate"
    (tmp_path / "rate0.wav").write_bytes(_wav_bytes(rate=0))
    cases["rate0.wav"] = "not a readable audio/video file"  # FFmpeg refuses it outright
    (tmp_path / "trunc.wav").write_bytes(_wav_bytes(data=b"\1\0" * 16000, declared=2 * 160000))
    cases["trunc.wav"] = "truncated"
    _write(tmp_path / "video.mp4", "mp4", None, video=True)
    cases["video.mp4"] = "no audio stream"
    cases["missing.wav"] = "not found"
    for name, needle in cases.items():
        with pytest.raises(AudioDecodeError) as ei:
            for _ in iter_blocks(tmp_path / name):
                pass
        msg = str(ei.value)
        assert "\n" not in msg and msg.startswith(str(tmp_path / name)), msg
        assert needle in msg, msg


def test_truncated_flac_is_reported(tmp_path):
    p = _write(tmp_path / "t.flac", "flac", "flac", sr=16000, channels=1, seconds=20.0)
    data = p.read_bytes()
    q = tmp_path / "t_cut.flac"
    q.write_bytes(data[: len(data) // 2])
    with pytest.raises(AudioDecodeError, match="truncated|corrupt"):
        for _ in iter_blocks(q):
            pass
    # lenient mode yields what is there
    got = sum(len(b.samples) for b in iter_blocks(q, strict=False))
    assert 0 < got < 20 * SAMPLE_RATE


@pytest.mark.parametrize("suffix", [".wav", ".ogg", ".flac"])
def test_cut_clip(tmp_path, suffix):
    src = _write(tmp_path / "src.wav", "wav", "pcm_s16le", sr=44100, channels=1, seconds=5.0)
    out = cut_clip(src, 0.5, 2.0, tmp_path / f"clip{suffix}")
    a = decode_all(out)
    assert abs(len(a) / SAMPLE_RATE - 1.5) < 0.03
    info = probe(out)
    assert info.channels == 1
    # the click at 1.0 s is at 0.5 s in the clip
    assert abs(np.argmax(np.abs(a)) / SAMPLE_RATE - 0.5) < 0.01
    assert not list(tmp_path.glob(".clip-*"))  # no temp leftovers


def test_write_audio_rejects_unknown_format(tmp_path):
    with pytest.raises(ValueError):
        write_audio(tmp_path / "x.xyz", np.zeros(100, np.float32))


def test_real_opus_voice_note():
    f = SHARED / "ru-voice-note" / "my_voice.ogg"
    if not f.exists():
        pytest.skip(f"shared data not present: {f}")
    info = probe(f)
    assert info.codec == "opus"
    n = sum(len(b.samples) for b in iter_blocks(f))
    assert abs(n / SAMPLE_RATE - 23.3) < 0.2


def test_truncated_wav_is_refused_at_ingest(cli, tmp_path):
    """A WAV whose header declares ten times the data it holds fails at ingest with one line,
    not first at `process` (issue 13, Low 11); nothing is stored."""
    from overheard import Store
    (tmp_path / "trunc.wav").write_bytes(_wav_bytes(data=b"\1\0" * 16000, declared=2 * 160000))
    with pytest.raises(AudioDecodeError, match="truncated"):
        probe(tmp_path / "trunc.wav")
    r = cli("ingest", tmp_path / "trunc.wav", "--kind", "radio")
    assert r.exit_code == 1 and "trunc.wav: truncated: data chunk declares" in r.output, r.output
    with Store(cli.store_dir) as store:
        assert store.counts()["sources"] == 0 and not list(store.evidence.iter_files())
