"""Voice cues: F0, loudness, voiced fraction, speaking rate, channel baseline."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from scipy.signal import butter, sosfilt

from overheard.audio.cues import VoiceCues, channel_baseline, measure, relative_to_baseline, yin_f0
from overheard.audio.decode import SAMPLE_RATE, decode_all

FIX = Path(__file__).resolve().parent / "fixtures" / "audio"
SR = SAMPLE_RATE


def _voice(f0, seconds=2.0, radio=True, amp=0.1, vibrato=0.0):
    t = np.arange(int(seconds * SR)) / SR
    inst = f0 * (1 + vibrato * np.sin(2 * np.pi * 5 * t))
    phase = 2 * np.pi * np.cumsum(inst) / SR
    x = sum(np.sin(k * phase) / k for k in range(1, 20) if f0 * k < 7000)
    if radio:  # the fundamental is removed by the 300-3000 Hz radio band
        x = sosfilt(butter(6, [300, 3000], btype="band", fs=SR, output="sos"), x)
    x = x / np.sqrt(np.mean(x**2)) * amp
    return x.astype(np.float32)


@pytest.mark.parametrize("f0", [85.0, 120.0, 180.0, 260.0])
def test_f0_band_limited_voice(f0):
    c = measure(_voice(f0))
    assert c.f0_median_hz == pytest.approx(f0, rel=0.02)
    assert c.f0_iqr_semitones < 0.3
    assert c.voiced_fraction > 0.9


def test_f0_spread_grows_with_vibrato():
    a = measure(_voice(150.0, vibrato=0.0))
    b = measure(_voice(150.0, vibrato=0.08))
    assert b.f0_iqr_semitones > a.f0_iqr_semitones + 1.0


def test_loudness_in_dbfs():
    c = measure(_voice(150.0, amp=0.1))
    assert c.loudness_dbfs == pytest.approx(-20.0, abs=0.5)
    d = measure(_voice(150.0, amp=0.01))
    assert d.loudness_dbfs == pytest.approx(-40.0, abs=0.5)


def test_noise_is_not_voiced():
    x = (np.random.default_rng(0).standard_normal(2 * SR) * 0.05).astype(np.float32)
    c = measure(x)
    assert c.voiced_fraction is not None and c.voiced_fraction < 0.1
    assert c.f0_median_hz is None


def test_speaking_rate_from_text_and_words():
    x = decode_all(FIX / "ru_cmd_weather_ny.wav")

    class W:
        def __init__(self, s, e):
            self.start_s, self.end_s = s, e

    words = [W(0.5, 1.0), W(1.0, 1.4), W(1.4, 1.5), W(1.5, 2.5)]
    c = measure(x, text="Какая погода в Нью-Йорке", words=words)
    # 9 vowels over the 2.0 s word span
    assert c.syllables_per_s == pytest.approx(9 / 2.0, rel=0.01)
    assert c.words_per_s == pytest.approx(4 / 2.0, rel=0.01)
    assert 1.0 < c.syllables_per_s_acoustic < 8.0
    assert 70 < c.f0_median_hz < 300


def test_yin_unvoiced_silence():
    f0, aper = yin_f0(np.zeros(SR, np.float32))
    assert np.all(np.isnan(f0)) or len(f0) == 0


def test_empty_and_tiny_input():
    c = measure(np.zeros(10, np.float32))
    assert isinstance(c, VoiceCues) and c.f0_median_hz is None


def test_baseline_z_scores():
    rows = [measure(_voice(f, amp=0.1)) for f in (140, 145, 150, 155, 160, 150)]
    base = channel_baseline(rows)
    assert base.n == 6 and base.median["f0_median_hz"] == pytest.approx(150, rel=0.02)
    high = measure(_voice(220, amp=0.3))
    z = relative_to_baseline(high, base)
    assert z["f0_median_hz"] > 3
    assert z["loudness_dbfs"] > 3  # +9.5 dB against a baseline with ~0 spread -> MIN_SPREAD
    same = relative_to_baseline(rows[2], base)
    assert abs(same["f0_median_hz"]) < 0.5
    # too small a baseline gives no z-scores rather than noise
    assert all(v is None for v in relative_to_baseline(high, channel_baseline(rows[:2])).values())
    # dict rows work too (as stored)
    assert channel_baseline([r.to_dict() for r in rows]).median == base.median
