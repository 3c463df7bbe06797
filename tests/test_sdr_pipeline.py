"""SDR path end to end on a tiny generated capture (240 kS/s, 2 channels, overlapping
transmissions), plus channeliser / demodulator / annotation units."""

from __future__ import annotations

import hashlib
import importlib.util
import json
from datetime import timedelta
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("sigmf")
pytest.importorskip("av")

from overheard.sdr import (  # noqa: E402
    CaptureError,
    SdrOptions,
    iter_capture_transmissions,
    iter_channel_audio,
    iter_channels,
    open_capture,
    scan_capture,
    write_annotations,
)
from overheard.sdr.channelize import ChannelExtractor, channel_filter, iter_frames, plan_fcfb  # noqa: E402
from overheard.sdr.demod import StreamResampler  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
CF = 145_000_000.0
RATE = 240_000.0


def _make_capture_module():
    spec = importlib.util.spec_from_file_location("make_capture", ROOT / "tools" / "make_capture.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.fixture(scope="module")
def capture(tmp_path_factory):
    """8 s at 240 kS/s: line 7 on -50 kHz (20 dB) and line 15 on +37.5 kHz (12 dB), overlapping."""
    mc = _make_capture_module()
    out = tmp_path_factory.mktemp("sdr") / "tiny"
    truth = mc.make_capture(
        out, rate=RATE, center=CF, duration=8.0, channels=[-50_000.0, 37_500.0], snrs=[20.0, 12.0],
        datatype="ci16_le", seed=3, line_ids=[7, 15],
    )  # fmt: skip
    return out.with_name("tiny.sigmf-meta"), truth


def _write_iq_sigmf(stem: Path, x: np.ndarray, fs: float, cf: float = CF) -> Path:
    meta = {
        "global": {"core:datatype": "cf32_le", "core:sample_rate": fs, "core:version": "1.2.0"},
        "captures": [{"core:sample_start": 0, "core:frequency": cf, "core:datetime": "2025-03-01T06:00:00Z"}],
        "annotations": [],
    }
    stem.with_name(stem.name + ".sigmf-data").write_bytes(x.astype("<c8").tobytes())
    mp = stem.with_name(stem.name + ".sigmf-meta")
    mp.write_text(json.dumps(meta))
    return mp


def _noise(n, sigma=0.01, seed=0):
    rng = np.random.default_rng(seed)
    return (rng.standard_normal(n) + 1j * rng.standard_normal(n)) * (sigma / np.sqrt(2))


# ------------------------------------------------------------------ detection
def test_scan_finds_both_channels_with_times(capture):
    mp, truth = capture
    acts = scan_capture(mp)
    assert sorted(a.channel_hz for a in acts) == sorted(t["channel_hz"] for t in truth["transmissions"])
    for t in truth["transmissions"]:
        (a,) = [a for a in acts if a.channel_hz == t["channel_hz"]]
        assert len(a.intervals) == 1
        s, e = (v / RATE for v in a.intervals[0])
        assert abs(s - t["key_start_s"]) <= 0.1 and abs(e - t["key_end_s"]) <= 0.1
        assert a.mean_snr_db > 6


def test_noise_only_capture_has_no_channels(tmp_path):
    mp = _write_iq_sigmf(tmp_path / "quiet", _noise(int(RATE * 3)), RATE)
    assert scan_capture(mp) == []
    assert list(iter_capture_transmissions(mp)) == []
    assert list(iter_channels(mp)) == []


# ------------------------------------------------------------------ transmissions
def test_transmissions_on_the_right_channels(capture):
    mp, truth = capture
    txs = list(iter_capture_transmissions(mp))
    assert len(txs) == 2
    cap = open_capture(mp)
    for t in truth["transmissions"]:
        (tx,) = [x for x in txs if x.channel_hz == t["channel_hz"]]
        assert tx.offset_hz == t["offset_hz"]
        # the transmission lies inside the carrier (key) interval, and covers the speech
        assert t["key_start_s"] - 0.1 <= tx.start_s <= t["voice_start_s"] + 0.3
        assert t["voice_end_s"] - 0.3 <= tx.end_s <= t["key_end_s"] + 0.1
        assert tx.sample_start == pytest.approx(tx.start_s * RATE, abs=2)
        assert tx.sample_count == pytest.approx((tx.end_s - tx.start_s) * RATE, abs=2)
        assert tx.utc_start == cap.start_time + timedelta(seconds=tx.sample_start / RATE)
        assert tx.freq_lower_edge == t["channel_hz"] - 6250 and tx.freq_upper_edge == t["channel_hz"] + 6250
        assert tx.samples.dtype == np.float32 and len(tx.samples) == pytest.approx(tx.duration_s * 16000, abs=2)
        assert tx.rf_snr_db is not None and tx.rf_snr_db > 6
        # the carrier burst around the speech: key-up/key-down within 100 ms
        assert abs(tx.carrier_start_s - t["key_start_s"]) <= 0.1 and abs(tx.carrier_end_s - t["key_end_s"]) <= 0.1
        assert tx.to_dict()["carrier_sample_start"] == tx.carrier_sample_start


def test_explicit_channel_list(capture):
    mp, truth = capture
    f = truth["transmissions"][1]["channel_hz"]
    txs = list(iter_capture_transmissions(mp, channels=[f, CF + 100_000]))
    assert [t.channel_hz for t in txs] == [f]


def test_channel_audio_is_independent_of_chunking(capture):
    mp, truth = capture
    f = truth["transmissions"][0]["channel_hz"]
    a = np.concatenate([b.samples for b in iter_channel_audio(mp, f, options=SdrOptions(chunk_s=0.4))])
    blocks = list(iter_channel_audio(mp, f, options=SdrOptions(chunk_s=0.05)))
    b = np.concatenate([x.samples for x in blocks])
    assert len(a) == len(b) == int(8.0 * 16000)
    assert np.max(np.abs(a - b)) < 1e-4
    # contiguous, capture-relative block times
    assert blocks[0].start_s == 0.0
    for p, q in zip(blocks, blocks[1:]):
        assert q.start_s == pytest.approx(p.end_s, abs=1e-6)
    # squelched: silent before key-up, audio during the transmission
    t = truth["transmissions"][0]
    assert np.all(a[: int((t["key_start_s"] - 0.05) * 16000)] == 0)
    k = slice(int(t["voice_start_s"] * 16000), int(t["voice_end_s"] * 16000))
    assert np.sqrt(np.mean(a[k] ** 2)) > 0.01


def test_iter_channels_feeds_the_audio_segmenter(capture):
    from overheard.audio.segment import segment_blocks

    mp, truth = capture
    chans = list(iter_channels(mp))
    assert len(chans) == 2
    for ch in chans:
        segs = [t for t, _a in segment_blocks(ch.blocks())]
        assert len(segs) == 1
        (t,) = [t for t in truth["transmissions"] if t["channel_hz"] == ch.channel_hz]
        assert segs[0].start_s < t["voice_start_s"] + 0.3 and segs[0].end_s > t["voice_end_s"] - 0.3


def test_raw_capture_without_centre_uses_offsets(tmp_path, capture):
    mp, truth = capture
    cap = open_capture(mp)
    raw = tmp_path / "cap.cs16"
    raw.write_bytes(Path(cap.data_path).read_bytes())
    acts = scan_capture(raw, sample_rate=RATE)
    assert sorted(a.channel_hz for a in acts) == sorted(t["offset_hz"] for t in truth["transmissions"])
    acts = scan_capture(raw, sample_rate=RATE, center_freq=CF)
    assert sorted(a.channel_hz for a in acts) == sorted(t["channel_hz"] for t in truth["transmissions"])


# ------------------------------------------------------------------ annotations
def test_write_annotations_is_valid_and_leaves_the_original(capture, tmp_path):
    import sigmf

    mp, truth = capture
    before = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in mp.parent.glob("tiny.sigmf-*")}
    txs = list(iter_capture_transmissions(mp))
    txs[0].text = "Гром, понял тебя. Подвоз будет ночью. Приём."
    out = write_annotations(mp, txs, tmp_path / "derived.sigmf-meta")
    after = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in mp.parent.glob("tiny.sigmf-*")}
    assert before == after
    meta = json.loads(out.read_text())
    anns = meta["annotations"]
    assert len(anns) == 2 and anns == sorted(anns, key=lambda a: a["core:sample_start"])
    for a in anns:
        assert {"core:sample_start", "core:sample_count", "core:freq_lower_edge", "core:freq_upper_edge", "core:label", "core:generator"} <= set(a)
    # default span: the carrier burst — key-up to key-down of the generator's truth, within 100 ms
    keys = sorted((t["key_start_s"], t["key_end_s"]) for t in truth["transmissions"])
    spans = sorted((a["core:sample_start"] / RATE, (a["core:sample_start"] + a["core:sample_count"]) / RATE) for a in anns)
    for (k0, k1), (s0, s1) in zip(keys, spans):
        assert abs(s0 - k0) <= 0.1 and abs(s1 - k1) <= 0.1, ((k0, k1), (s0, s1))
    # speech span: inside the carrier, covering the voice of the truth
    sp = json.loads(write_annotations(mp, txs, tmp_path / "speech.sigmf-meta", span="speech").read_text())["annotations"]
    voice = sorted((t["key_start_s"], t["voice_start_s"], t["voice_end_s"], t["key_end_s"]) for t in truth["transmissions"])
    for (k0, v0, v1, k1), a in zip(voice, sorted(sp, key=lambda a: a["core:sample_start"])):
        s0, s1 = a["core:sample_start"] / RATE, (a["core:sample_start"] + a["core:sample_count"]) / RATE
        assert k0 - 0.1 <= s0 <= v0 + 0.3 and v1 - 0.3 <= s1 <= k1 + 0.1, ((k0, v0, v1, k1), (s0, s1))
    labelled = [a for a in anns if a.get("core:comment")]
    assert len(labelled) == 1 and len(labelled[0]["core:label"]) <= 20
    # sigmf reads the derived metadata, validates it and finds the original samples (checksum included)
    smf = sigmf.fromfile(out)
    smf.validate()
    assert len(smf.get_annotations()) == 2
    assert np.allclose(smf.read_samples(1000, 10), open_capture(mp).read(1000, 10), atol=1e-4)
    # default location beside the capture; never over the original
    assert write_annotations(mp, txs).name == "tiny.overheard.sigmf-meta"
    with pytest.raises(CaptureError, match="refusing"):
        write_annotations(mp, txs, mp)


def test_write_annotations_for_raw_and_wav(tmp_path):
    import sigmf

    x = (0.3 * np.exp(2j * np.pi * 0.01 * np.arange(20000))).astype(np.complex64)
    raw = tmp_path / "cap.cu8"
    raw.write_bytes(np.clip(np.round(np.column_stack([x.real, x.imag]).ravel() * 127.5 + 127.5), 0, 255).astype("u1").tobytes())

    class T:
        sample_start, sample_count, freq_lower_edge, freq_upper_edge, text = 100, 1000, CF - 6250, CF + 6250, "тест"

    out = write_annotations(raw, [T()], sample_rate=48000, center_freq=CF)
    assert out.name == "cap.overheard.sigmf-meta"
    smf = sigmf.fromfile(out, skip_checksum=True)
    assert smf.get_global_field("core:dataset") == "cap.cu8"
    assert smf.get_annotations()[0]["core:label"] == "тест"


# ------------------------------------------------------------------ units
@pytest.mark.parametrize("fs,exact", [(2_400_000, True), (2_048_000, True), (1_024_000, True), (240_000, True), (250_000, True), (1_800_000, False), (2_400_001, False)])
def test_fcfb_plans(fs, exact):
    from fractions import Fraction

    p = plan_fcfb(fs)
    assert p.N % 16 == 0 and p.M % 16 == 0 and p.hop == 7 * p.N // 8
    assert p.fs_ch >= 24000
    if exact:  # channel rate an exact, small fraction away from 16 kHz: no timing drift
        ratio = Fraction(16000) / Fraction(int(fs) * p.M, p.N)
        assert ratio.denominator <= 1000 and float(Fraction(int(fs) * p.M, p.N)) == p.fs_ch
    assert 0.005 < p.frame_s < 0.1


def test_channel_extractor_is_unit_gain_and_phase_continuous(tmp_path):
    fs = 2_400_000.0
    off, df = 300_000.0, 437.0
    n = int(0.3 * fs)
    x = (0.2 * np.exp(2j * np.pi * (off + df) * np.arange(n) / fs)).astype(np.complex64)
    cap = open_capture(_write_iq_sigmf(tmp_path / "tone", x, fs))
    plan = plan_fcfb(fs)
    assert plan.N == 65536 and plan.fs_ch == 37500
    ex = ChannelExtractor(plan, off, channel_filter(plan, 5250, 7500))
    y = np.concatenate([ex.extract(X, b0).reshape(-1) for b0, X in iter_frames(cap, cap.segments[0], plan, 7)])
    t = np.arange(len(y)) / plan.fs_ch
    ref = 0.2 * np.exp(2j * np.pi * (df + off - ex.k0 * plan.bin_hz) * t)
    mid = slice(200, int(0.28 * plan.fs_ch))
    ratio = y[mid] / ref[mid]
    assert np.allclose(np.abs(ratio), 1.0, atol=2e-3)
    assert np.ptp(np.angle(ratio * np.conj(ratio[0]))) < 0.01  # no phase jumps at frame edges


def _fm(fs, n, off, f_audio, dev, snr_noise=0.0):
    t = np.arange(n) / fs
    ph = 2 * np.pi * off * t + dev / f_audio * np.sin(2 * np.pi * f_audio * t)
    return (0.1 * np.exp(1j * ph)).astype(np.complex64)


def _tone_snr(a, f, fs=16000):
    spec = np.abs(np.fft.rfft(a * np.hanning(len(a)))) ** 2
    freqs = np.fft.rfftfreq(len(a), 1 / fs)
    k = np.argmax(spec)
    sel = np.abs(freqs - freqs[k]) < 30
    band = (freqs > 300) & (freqs < 3400)
    return freqs[k], 10 * np.log10(spec[sel].sum() / spec[band & ~sel].sum())


def test_nfm_tone_is_recovered(tmp_path):
    fs = 240_000.0
    x = _fm(fs, int(fs * 1.0), 25_000.0, 1000.0, 2500.0) + _noise(int(fs * 1.0), 0.001).astype(np.complex64)
    mp = _write_iq_sigmf(tmp_path / "fm", x, fs)
    a = np.concatenate([b.samples for b in iter_channel_audio(mp, CF + 25_000, options=SdrOptions(deemphasis_us=0.0))])
    f, snr = _tone_snr(a[4000:-4000], 1000.0)
    assert abs(f - 1000) < 5 and snr > 30
    # full deviation maps to 0.5 full scale
    assert np.max(np.abs(a[4000:-4000])) == pytest.approx(0.5, rel=0.1)


def test_multi_capture_segments_keep_their_frequency(tmp_path):
    fs = 240_000.0
    n = int(fs * 1.5)
    x = np.concatenate([_fm(fs, n, 25_000.0, 1000.0, 2500.0), _fm(fs, n, -50_000.0, 700.0, 2500.0)]) + _noise(2 * n, 0.001)
    mp = _write_iq_sigmf(tmp_path / "two", x.astype(np.complex64), fs)
    meta = json.loads(mp.read_text())
    meta["captures"] = [
        {"core:sample_start": 0, "core:frequency": CF, "core:datetime": "2025-03-01T06:00:00Z"},
        {"core:sample_start": n, "core:frequency": CF + 1e6, "core:datetime": "2025-03-01T07:00:00Z"},
    ]
    mp.write_text(json.dumps(meta))
    acts = scan_capture(mp)
    got = sorted((a.channel_hz, a.intervals[0][0], a.intervals[-1][1]) for a in acts)
    assert [g[0] for g in got] == [CF + 25_000, CF + 1e6 - 50_000]
    assert got[0][1] == 0 and abs(got[0][2] - n) <= 0.1 * fs
    assert abs(got[1][1] - n) <= 0.1 * fs and got[1][2] == 2 * n


def test_25khz_raster_wide_deviation(tmp_path):
    fs = 240_000.0
    x = _fm(fs, int(fs), -75_000.0, 1200.0, 5000.0) + _noise(int(fs), 0.001).astype(np.complex64)
    mp = _write_iq_sigmf(tmp_path / "w", x, fs)
    assert [a.channel_hz for a in scan_capture(mp, channel_step=25_000)] == [CF - 75_000]
    a = np.concatenate([b.samples for b in iter_channel_audio(mp, CF - 75_000, options=SdrOptions(channel_step=25_000, deemphasis_us=0.0))])
    f, snr = _tone_snr(a[4000:-4000], 1200.0)
    assert abs(f - 1200) < 5 and snr > 30
    assert np.max(np.abs(a[4000:-4000])) == pytest.approx(0.5, rel=0.1)  # 5 kHz = nominal deviation at 25 kHz


def test_am_option(tmp_path):
    fs = 240_000.0
    n = int(fs)
    t = np.arange(n) / fs
    x = (0.1 * (1 + 0.5 * np.sin(2 * np.pi * 800 * t)) * np.exp(2j * np.pi * -62_500 * t)).astype(np.complex64)
    mp = _write_iq_sigmf(tmp_path / "am", x + _noise(n, 0.001).astype(np.complex64), fs)
    a = np.concatenate([b.samples for b in iter_channel_audio(mp, CF - 62_500, demod="am")])
    f, snr = _tone_snr(a[8000:-4000], 800.0)
    assert abs(f - 800) < 5 and snr > 30


def test_stream_resampler_matches_resample_poly():
    from scipy.signal import resample_poly

    x = np.random.default_rng(1).standard_normal(30000).astype(np.float32)
    for up, down in [(1, 2), (1, 3), (32, 75)]:
        r = StreamResampler(up, down)
        parts = [r.process(x[i : i + 777]) for i in range(0, len(x), 777)] + [r.process(np.zeros(0), final=True)]
        y = np.concatenate(parts)
        assert np.allclose(y, resample_poly(x, up, down), atol=1e-5)


# ------------------------------------------------------------------ Whisper on the demodulated audio
def test_transcribe_capture(capture):
    from overheard.sdr import transcribe_capture

    mp, truth = capture
    txs = sorted(transcribe_capture(mp, lang="ru"), key=lambda t: t.start_s)
    assert len(txs) == 2
    joined = " ".join(t.text.lower() for t in txs)
    assert "подвоз" in joined or "ночью" in joined
    assert "конец" in joined or "связ" in joined
