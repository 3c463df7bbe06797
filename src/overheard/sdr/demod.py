"""Streaming demodulators: channel I/Q (fs_ch) -> 16 kHz float32 audio.

NFM: phase-difference discriminator ``angle(x[n] conj(x[n-1]))`` scaled so
that the nominal peak deviation maps to ``0.5`` full scale, single-pole
de-emphasis (``tau`` µs, 0 = off), rational resampling to 16 kHz, then a
voice-band filter (high-pass removes DC from a frequency offset and CTCSS
sub-tones; low-pass cuts the discriminator's rising noise above the voice
band).

AM: envelope over a slowly tracked carrier level, same resampling/voice band.

All state is carried across calls, so feeding a stream in pieces gives the
same audio as feeding it whole.
"""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np

AUDIO_RATE = 16000


class StreamResampler:
    """Streaming ``scipy.signal.resample_poly`` (same filter, same zero-phase
    alignment: output ``m`` is at input time ``m * down / up``)."""

    def __init__(self, up: int, down: int):
        g = math.gcd(up, down)
        self.up, self.down = up // g, down // g
        self.ctx = math.ceil(10 * max(self.up, self.down) / self.up) + 2  # input samples of filter reach
        self.buf = np.zeros(0, dtype=np.float32)
        self.buf_start = 0  # input index of buf[0]; always a multiple of `down`
        self.n_in = 0
        self.next_out = 0

    @classmethod
    def for_rates(cls, fs_in: float, fs_out: float = AUDIO_RATE, max_den: int = 1000) -> "StreamResampler":
        fr = Fraction(fs_out / fs_in).limit_denominator(max_den) if fs_in != int(fs_in) else Fraction(int(fs_out), int(fs_in))
        return cls(fr.numerator, fr.denominator)

    def process(self, x: np.ndarray, final: bool = False) -> np.ndarray:
        from scipy.signal import resample_poly

        if len(x):
            self.buf = np.concatenate([self.buf, x.astype(np.float32, copy=False)])
            self.n_in += len(x)
        up, down = self.up, self.down
        if final:
            m_end = -(-self.n_in * up // down)
        else:
            last = self.n_in - 1 - self.ctx  # last input time whose future context is complete
            m_end = (last * up) // down + 1 if last >= 0 else 0
        if m_end <= self.next_out or len(self.buf) == 0:
            return np.zeros(0, dtype=np.float32)
        y = resample_poly(self.buf, up, down).astype(np.float32)
        o0 = self.buf_start * up // down
        out = y[self.next_out - o0 : m_end - o0]
        self.next_out = m_end
        # keep context for the next output
        t_next = self.next_out * down // up - self.ctx
        new_start = max(self.buf_start, (t_next // down) * down)
        if new_start > self.buf_start:
            self.buf = self.buf[new_start - self.buf_start :]
            self.buf_start = new_start
        return out


class _AudioBack:
    """de-emphasis -> resample -> voice band, streaming."""

    def __init__(self, fs_ch: float, deemphasis_us: float, band_hz: tuple[float, float]):
        from scipy.signal import bilinear, butter, lfilter_zi, sosfilt_zi

        self.deemph = None
        if deemphasis_us and deemphasis_us > 0:
            tau = deemphasis_us * 1e-6
            b, a = bilinear([1.0], [tau, 1.0], fs=fs_ch)
            self.deemph = (b, a, lfilter_zi(b, a) * 0.0)
        self.rs = StreamResampler.for_rates(fs_ch, AUDIO_RATE)
        lo, hi = band_hz
        sos = []
        if lo and lo > 0:
            sos.append(butter(4, lo, btype="highpass", fs=AUDIO_RATE, output="sos"))
        if hi and hi < AUDIO_RATE / 2:
            sos.append(butter(6, hi, btype="lowpass", fs=AUDIO_RATE, output="sos"))
        self.sos = np.concatenate(sos) if sos else None
        self.zi = sosfilt_zi(self.sos) * 0.0 if self.sos is not None else None

    def run(self, a: np.ndarray, final: bool = False) -> np.ndarray:
        from scipy.signal import lfilter, sosfilt

        if self.deemph is not None and len(a):
            b, aa, zi = self.deemph
            a, zi = lfilter(b, aa, a, zi=zi)
            self.deemph = (b, aa, zi)
        y = self.rs.process(np.asarray(a, dtype=np.float32), final=final)
        if self.sos is not None and len(y):
            y, self.zi = sosfilt(self.sos, y, zi=self.zi)
        return y.astype(np.float32, copy=False)


class NfmDemod:
    """Narrowband FM: ``process(iq, mute)`` -> 16 kHz audio (may lag by a few samples)."""

    def __init__(
        self,
        fs_ch: float,
        max_deviation_hz: float = 2500.0,
        deemphasis_us: float = 75.0,
        band_hz: tuple[float, float] = (250.0, 3600.0),
    ):
        self.fs_ch = fs_ch
        self.scale = np.float32(fs_ch / (2 * np.pi) / max_deviation_hz * 0.5)
        self.prev = np.complex64(0)
        self.back = _AudioBack(fs_ch, deemphasis_us, band_hz)

    def process(self, iq: np.ndarray, mute: np.ndarray | None = None) -> np.ndarray:
        if len(iq) == 0:
            return self.back.run(np.zeros(0, np.float32))
        prev = np.empty(len(iq), dtype=np.complex64)
        prev[0] = self.prev
        prev[1:] = iq[:-1]
        self.prev = iq[-1]
        d = np.angle(iq * np.conj(prev)).astype(np.float32)
        d *= self.scale
        if mute is not None:
            d[mute] = 0.0
        return self.back.run(d)

    def flush(self) -> np.ndarray:
        return self.back.run(np.zeros(0, np.float32), final=True)


class AmDemod:
    """AM envelope detector with a slow carrier-level tracker."""

    def __init__(self, fs_ch: float, band_hz: tuple[float, float] = (250.0, 3600.0), carrier_tau_s: float = 0.2):
        from scipy.signal import lfilter_zi

        self.alpha = 1.0 - math.exp(-1.0 / (carrier_tau_s * fs_ch))
        self.b, self.a = [self.alpha], [1.0, -(1.0 - self.alpha)]
        self.zi = lfilter_zi(self.b, self.a) * 0.0
        self.back = _AudioBack(fs_ch, 0.0, band_hz)

    def process(self, iq: np.ndarray, mute: np.ndarray | None = None) -> np.ndarray:
        from scipy.signal import lfilter

        if len(iq) == 0:
            return self.back.run(np.zeros(0, np.float32))
        env = np.abs(iq).astype(np.float32)
        if not np.any(self.zi):
            self.zi = self.zi + float(np.mean(env))
        level, self.zi = lfilter(self.b, self.a, env, zi=self.zi)
        a = (env / np.maximum(level, 1e-9) - 1.0).astype(np.float32) * np.float32(0.5)
        if mute is not None:
            a[mute] = 0.0
        return self.back.run(a)

    def flush(self) -> np.ndarray:
        return self.back.run(np.zeros(0, np.float32), final=True)
