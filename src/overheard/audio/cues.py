"""Voice cues per transmission: measurements, never a diagnosis.

All with numpy/scipy.  F0 by YIN (cumulative mean normalised difference,
de Cheveigné & Kawahara 2002) on 40 ms frames every 20 ms; loudness as RMS in
dBFS over active frames; speaking rate as syllables per second from the
transcript's vowels (Russian/Ukrainian: one vowel letter = one syllable) over
the words' time span, or else from energy-envelope peaks; words per second
from word timestamps; voiced fraction = voiced / active frames.

:func:`channel_baseline` and :func:`relative_to_baseline` express one
transmission's cues as robust z-scores against a channel's (or a speaker's)
median and MAD.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Iterable, Sequence

import numpy as np

from .decode import SAMPLE_RATE

F0_MIN_HZ = 60.0
F0_MAX_HZ = 400.0
FRAME_S = 0.040
HOP_S = 0.010  # loudness frames
F0_HOP_S = 0.020  # pitch frames (median/IQR need no finer grid)
YIN_THRESHOLD = 0.2
VOWELS = set("аеёиоуыэюяіїєaeiouy")


@dataclass(frozen=True)
class VoiceCues:
    duration_s: float
    f0_median_hz: float | None
    f0_iqr_semitones: float | None  # spread: inter-quartile range of F0 in semitones
    f0_std_semitones: float | None
    loudness_dbfs: float | None  # RMS over active frames
    peak_dbfs: float | None
    loudness_range_db: float | None  # p90 - p10 of active frame levels
    voiced_fraction: float | None  # voiced frames / active frames
    syllables_per_s: float | None  # from transcript vowels over the words' span
    syllables_per_s_acoustic: float | None  # from energy-envelope peaks
    words_per_s: float | None
    n_voiced_frames: int

    def to_dict(self) -> dict:
        return asdict(self)


CUE_FIELDS = (
    "f0_median_hz",
    "f0_iqr_semitones",
    "loudness_dbfs",
    "loudness_range_db",
    "voiced_fraction",
    "syllables_per_s",
    "syllables_per_s_acoustic",
    "words_per_s",
)


# Smallest spread used for z-scores (about the measurement resolution), so a
# very uniform channel does not turn tiny differences into huge z-scores.
MIN_SPREAD = {
    "f0_median_hz": 3.0,
    "f0_iqr_semitones": 0.25,
    "loudness_dbfs": 1.0,
    "loudness_range_db": 1.0,
    "voiced_fraction": 0.05,
    "syllables_per_s": 0.25,
    "syllables_per_s_acoustic": 0.25,
    "words_per_s": 0.1,
}


def _frames(x: np.ndarray, n: int, hop: int) -> np.ndarray:
    if len(x) < n:
        return np.zeros((0, n), dtype=x.dtype)
    count = 1 + (len(x) - n) // hop
    idx = np.arange(n)[None, :] + hop * np.arange(count)[:, None]
    return x[idx]


def yin_f0(x: np.ndarray, sr: int = SAMPLE_RATE, fmin: float = F0_MIN_HZ, fmax: float = F0_MAX_HZ,
           threshold: float = YIN_THRESHOLD) -> tuple[np.ndarray, np.ndarray]:
    """Per-frame F0 in Hz (NaN where unvoiced) and the CMND minimum (aperiodicity)."""
    tau_min = int(sr / fmax)
    tau_max = int(sr / fmin)
    w = int(FRAME_S * sr)
    n = w + tau_max
    fr = _frames(x.astype(np.float64), n, int(F0_HOP_S * sr))
    if len(fr) == 0:
        return np.zeros(0), np.zeros(0)
    fr = fr - fr.mean(axis=1, keepdims=True)
    nfft = 1 << int(math.ceil(math.log2(n + w)))
    a = np.fft.rfft(fr[:, :w], nfft)
    b = np.fft.rfft(fr, nfft)
    acf = np.fft.irfft(np.conj(a) * b, nfft)[:, : tau_max + 1]  # sum_j x[j] x[j+tau], j < w
    sq = fr * fr
    cs = np.concatenate([np.zeros((len(fr), 1)), np.cumsum(sq, axis=1)], axis=1)
    e0 = cs[:, w][:, None]
    taus = np.arange(tau_max + 1)
    etau = cs[:, taus + w] - cs[:, taus]
    d = np.maximum(e0 + etau - 2 * acf, 0.0)
    d[:, 0] = 0
    cum = np.cumsum(d[:, 1:], axis=1)
    cmnd = np.ones_like(d)
    cmnd[:, 1:] = d[:, 1:] * taus[1:][None, :] / np.maximum(cum, 1e-12)
    seg = cmnd[:, tau_min : tau_max + 1]
    below = seg < threshold
    # first dip below threshold, then walk to its local minimum
    has = below.any(axis=1)
    first = np.where(has, below.argmax(axis=1), seg.argmin(axis=1))
    idx = first.copy()
    for _ in range(tau_max - tau_min):
        nxt = np.minimum(idx + 1, seg.shape[1] - 1)
        better = seg[np.arange(len(seg)), nxt] < seg[np.arange(len(seg)), idx]
        if not better.any():
            break
        idx = np.where(better, nxt, idx)
    val = seg[np.arange(len(seg)), idx]
    # parabolic interpolation
    i = idx + tau_min
    l_ = cmnd[np.arange(len(seg)), np.clip(i - 1, 1, tau_max)]
    r_ = cmnd[np.arange(len(seg)), np.clip(i + 1, 1, tau_max)]
    den = l_ - 2 * val + r_
    with np.errstate(divide="ignore", invalid="ignore"):
        shift = np.where(np.abs(den) > 1e-12, 0.5 * (l_ - r_) / den, 0.0)
    tau = i + np.clip(np.nan_to_num(shift), -1, 1)
    silent = e0[:, 0] < w * 1e-10  # digital silence: no period to find
    f0 = np.where(has & ~silent, sr / tau, np.nan)
    return f0, val


def _frame_levels(x: np.ndarray) -> np.ndarray:
    fr = _frames(x.astype(np.float64), int(FRAME_S * SAMPLE_RATE), int(HOP_S * SAMPLE_RATE))
    if len(fr) == 0:
        return np.zeros(0)
    return 10 * np.log10(np.mean(fr * fr, axis=1) + 1e-12)


def _acoustic_syllables(x: np.ndarray) -> int:
    from scipy.signal import butter, find_peaks, sosfiltfilt

    if len(x) < SAMPLE_RATE // 4:
        return 0
    sos = butter(2, [300, 2500], btype="band", fs=SAMPLE_RATE, output="sos")
    env = np.abs(sosfiltfilt(sos, x.astype(np.float64)))
    lp = butter(2, 8, btype="low", fs=SAMPLE_RATE, output="sos")  # syllable-rate envelope
    env = sosfiltfilt(lp, env)[:: SAMPLE_RATE // 100]  # 100 Hz
    env_db = 20 * np.log10(np.maximum(env, 1e-9))
    floor = np.percentile(env_db, 10)
    peaks, _ = find_peaks(env_db, prominence=3.0, distance=8, height=floor + 6)
    return int(len(peaks))


def _count_vowels(text: str) -> int:
    return sum(1 for ch in text.lower() if ch in VOWELS)


def measure(
    samples: np.ndarray,
    *,
    text: str | None = None,
    words: Sequence | None = None,
) -> VoiceCues:
    """Measure cues of one transmission (mono 16 kHz float32).  ``words`` are
    objects with ``start_s``/``end_s`` (or dicts with start/end) relative to
    the start of ``samples``."""
    x = np.asarray(samples, dtype=np.float64).reshape(-1)
    dur = len(x) / SAMPLE_RATE
    lev = _frame_levels(x)
    if len(lev) == 0:
        return VoiceCues(round(dur, 3), None, None, None, None, None, None, None, None, None, None, 0)
    # active frames: within 30 dB of the loudest 5 % and above -60 dBFS
    top = np.percentile(lev, 95)
    active = (lev > top - 30) & (lev > -60)
    f0, aper = yin_f0(x)
    step = int(round(F0_HOP_S / HOP_S))
    active_f0 = active[::step]
    m = min(len(f0), len(active_f0))
    f0, active_f0 = f0[:m], active_f0[:m]
    voiced = active_f0 & np.isfinite(f0)
    fv = f0[voiced]
    f0_med = f0_iqr = f0_std = None
    if len(fv) >= 5:
        f0_med = float(np.median(fv))
        st = 12 * np.log2(fv / f0_med)
        q1, q3 = np.percentile(st, [25, 75])
        f0_iqr = float(q3 - q1)
        f0_std = float(np.std(st))
    act_lev = lev[active]
    loud = float(10 * np.log10(np.mean(10 ** (act_lev / 10)))) if len(act_lev) else None
    peak = float(20 * np.log10(np.max(np.abs(x)) + 1e-12))
    lrange = float(np.percentile(act_lev, 90) - np.percentile(act_lev, 10)) if len(act_lev) > 2 else None
    vfrac = float(voiced.sum() / max(1, active_f0.sum())) if active_f0.any() else None

    span = None
    if words:
        starts = [getattr(w, "start_s", None) if not isinstance(w, dict) else w.get("start", w.get("start_s")) for w in words]
        ends = [getattr(w, "end_s", None) if not isinstance(w, dict) else w.get("end", w.get("end_s")) for w in words]
        if starts and ends and starts[0] is not None and ends[-1] is not None:
            span = max(0.1, float(ends[-1]) - float(starts[0]))
    speech_span = span or max(0.1, active.sum() * HOP_S)
    syl = None
    if text:
        nv = _count_vowels(text)
        if nv:
            syl = nv / speech_span
    ac = _acoustic_syllables(x)
    syl_ac = ac / max(0.1, active.sum() * HOP_S) if ac else None
    wps = (len(words) / speech_span) if words else None

    def r(v, k=3):
        return None if v is None else round(float(v), k)

    return VoiceCues(
        duration_s=round(dur, 3),
        f0_median_hz=r(f0_med, 1),
        f0_iqr_semitones=r(f0_iqr, 2),
        f0_std_semitones=r(f0_std, 2),
        loudness_dbfs=r(loud, 1),
        peak_dbfs=r(peak, 1),
        loudness_range_db=r(lrange, 1),
        voiced_fraction=r(vfrac, 3),
        syllables_per_s=r(syl, 2),
        syllables_per_s_acoustic=r(syl_ac, 2),
        words_per_s=r(wps, 2),
        n_voiced_frames=int(voiced.sum()),
    )


@dataclass(frozen=True)
class Baseline:
    """Median and robust spread per cue: 1.4826 * MAD (std when MAD is 0),
    never below :data:`MIN_SPREAD`."""

    n: int
    median: dict
    spread: dict

    def to_dict(self) -> dict:
        return asdict(self)


def channel_baseline(cues: Iterable[VoiceCues | dict]) -> Baseline:
    rows = [c.to_dict() if isinstance(c, VoiceCues) else dict(c) for c in cues]
    med, spr = {}, {}
    for k in CUE_FIELDS:
        v = np.array([r[k] for r in rows if r.get(k) is not None], dtype=np.float64)
        if len(v) == 0:
            continue
        m = float(np.median(v))
        mad = float(np.median(np.abs(v - m))) * 1.4826
        if mad <= 1e-9:
            mad = float(np.std(v))
        med[k], spr[k] = m, max(mad, MIN_SPREAD.get(k, 0.0))
    return Baseline(n=len(rows), median=med, spread=spr)


def relative_to_baseline(cue: VoiceCues | dict, baseline: Baseline, *, min_n: int = 5) -> dict:
    """Robust z-score of each cue vs the baseline ``{cue: z or None}``; None
    when the baseline has fewer than ``min_n`` transmissions or no spread."""
    row = cue.to_dict() if isinstance(cue, VoiceCues) else dict(cue)
    out = {}
    for k in CUE_FIELDS:
        v = row.get(k)
        m, s = baseline.median.get(k), baseline.spread.get(k)
        if v is None or m is None or not s or baseline.n < min_n:
            out[k] = None
        else:
            out[k] = round((float(v) - m) / s, 2)
    return out


__all__ = ["VoiceCues", "Baseline", "measure", "yin_f0", "channel_baseline", "relative_to_baseline", "CUE_FIELDS"]
