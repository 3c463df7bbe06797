"""Fast-convolution channeliser and carrier detection on a shared FFT.

One forward FFT of length ``N`` per frame (frames overlap by ``N/8``, the
overlap-save discard is split evenly so the channel filter is zero-phase and
output sample times equal input sample times) serves two purposes:

* **detection**: per frame, the power in each candidate channel (bins within
  ``±det_bw/2`` of the channel centre, Hann-windowed in the frequency domain
  to keep strong carriers from leaking into neighbours) against the noise
  floor, taken as the median bin power over the central 80 % of the band
  (DC bins excluded).  Gives a per-frame channel SNR in dB.
* **channelisation**: for an active channel, the ``M`` bins around its centre
  are weighted by a raised-cosine channel filter and inverse-FFT'd at size
  ``M``: frequency shift + low-pass + decimation by ``N/M`` in one step, at a
  cost of one small IFFT per frame and channel.  The output rate is
  ``fs_ch = fs * M / N`` (32 or 48 kHz where the capture rate allows it
  exactly).

Frame ``b`` covers input samples ``[b*S - P, b*S + S + P)`` of its capture
segment and keeps outputs for input samples ``[b*S, b*S + S)``, with
``P = N/16`` and ``S = 7N/8`` by default (``overlap_div = 8``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Iterator, Sequence

import numpy as np

from .capture import Capture, CaptureSegment

LN2 = math.log(2.0)


@dataclass(frozen=True)
class FcfbPlan:
    fs: float  # capture sample rate
    N: int  # forward FFT size
    M: int  # inverse FFT size per channel
    fs_ch: float  # channel sample rate = fs * M / N
    overlap_div: int = 8  # frames overlap by N / overlap_div

    @property
    def pad(self) -> int:  # input samples discarded at each frame edge
        return self.N // (2 * self.overlap_div)

    @property
    def hop(self) -> int:  # input samples per frame
        return self.N - 2 * self.pad

    @property
    def out_pad(self) -> int:
        return self.M // (2 * self.overlap_div)

    @property
    def hop_out(self) -> int:  # channel samples per frame
        return self.M - 2 * self.out_pad

    @property
    def bin_hz(self) -> float:
        return self.fs / self.N

    @property
    def frame_s(self) -> float:
        return self.hop / self.fs


def plan_fcfb(fs: float, min_ch_rate: float = 32000.0, target_hop_s: float = 0.02, overlap_div: int = 8) -> FcfbPlan:
    """Choose FFT sizes.  Wideband captures (>= 1 MS/s) get a power-of-two
    forward FFT (cheapest per sample) with a channel rate whose ratio to
    16 kHz is a small exact fraction; otherwise ``fs_ch`` is an exact multiple
    of 16 kHz where the capture rate allows it; a fractional rate otherwise."""
    from fractions import Fraction

    q = 2 * overlap_div
    best = None
    integral = abs(fs - round(fs)) < 1e-6
    if integral and fs >= 1e6:
        ifs = int(round(fs))
        for k in range(12, 19):
            N = 1 << k
            for j in range(7, 14):
                M = 1 << j
                if M >= N // 4:
                    continue
                fs_ch = Fraction(ifs * M, N)
                if not (min_ch_rate <= fs_ch < 2 * min_ch_rate) or (Fraction(16000) / fs_ch).denominator > 1000:
                    continue
                hop_s = (N - N // overlap_div) / fs
                score = abs(math.log(hop_s / target_hop_s))
                if best is None or score < best[0]:
                    best = (score, N, M, float(fs_ch))
    if best is None and integral:
        ifs = int(round(fs))
        rate = 16000 * max(2, math.ceil(min_ch_rate / 16000))
        for fs_ch in (rate, rate + 16000, rate + 32000):
            if fs_ch * 1.25 > fs:
                continue
            for M in (128, 256, 512, 1024, 2048, 4096, 8192):
                num = ifs * M
                if num % fs_ch:
                    continue
                N = num // fs_ch
                if N % q or not (4096 <= N <= 262144):
                    continue
                hop_s = (N - N // overlap_div) / fs
                score = abs(math.log(hop_s / target_hop_s)) + 0.1 * (fs_ch - rate) / 16000
                if best is None or score < best[0]:
                    best = (score, N, M, float(fs_ch))
    if best is not None:
        _, N, M, fs_ch = best
        return FcfbPlan(float(fs), N, M, fs_ch, overlap_div)
    # fallback: fractional channel rate near min_ch_rate
    M = 512
    while M < 8192 and fs * M / min_ch_rate < 4096:
        M *= 2
    N = max(q, int(round(fs * M / min_ch_rate / q)) * q)
    if N < M * 1.25:
        raise ValueError(f"sample rate {fs:g} too low for a {min_ch_rate:g} Hz channel rate")
    return FcfbPlan(float(fs), N, M, fs * M / N, overlap_div)


def channel_filter(plan: FcfbPlan, passband_hz: float, stopband_hz: float) -> np.ndarray:
    """Zero-phase raised-cosine response over the M output bins (FFT order),
    flat to ``passband_hz``, zero from ``stopband_hz`` (one-sided)."""
    f = np.abs(np.fft.fftfreq(plan.M, 1.0 / plan.fs_ch))
    h = np.zeros(plan.M, dtype=np.float64)
    h[f <= passband_hz] = 1.0
    tr = (f > passband_hz) & (f < stopband_hz)
    h[tr] = 0.5 * (1 + np.cos(np.pi * (f[tr] - passband_hz) / (stopband_hz - passband_hz)))
    return h.astype(np.float32)


def iter_frames(
    cap: Capture, seg: CaptureSegment, plan: FcfbPlan, frames_per_chunk: int, *, first_frame: int = 0, last_frame: int | None = None,
    prefetch: bool = False,
) -> Iterator[tuple[int, np.ndarray]]:
    """``(b0, X)``: FFTs of frames ``b0 .. b0+K-1`` of a capture segment, X is (K, N) complex64.
    With ``prefetch`` the next chunk is read and transformed in a worker
    thread while the caller works on the current one (numpy/scipy release
    the GIL), which uses a second core."""
    n_frames = n_frames_of(seg, plan) if last_frame is None else last_frame
    starts = list(range(first_frame, n_frames, frames_per_chunk))
    work = lambda b0: _frames_fft(cap, seg, plan, b0, min(frames_per_chunk, n_frames - b0), 1 if prefetch else _workers())  # noqa: E731
    if not prefetch or len(starts) < 2:
        for b0 in starts:
            yield b0, work(b0)
        return
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(1) as ex:
        fut = ex.submit(work, starts[0])
        for i, b0 in enumerate(starts):
            X = fut.result()
            if i + 1 < len(starts):
                fut = ex.submit(work, starts[i + 1])
            yield b0, X


def _frames_fft(cap: Capture, seg: CaptureSegment, plan: FcfbPlan, b0: int, K: int, workers: int) -> np.ndarray:
    import scipy.fft

    N, S, pad = plan.N, plan.hop, plan.pad
    s = seg.sample_start + b0 * S - pad
    count = K * S + 2 * pad
    x = cap.read(s, count)
    # zero what belongs to neighbouring segments
    lo, hi = seg.sample_start - s, seg.sample_start + seg.sample_count - s
    if lo > 0:
        x[:lo] = 0
    if hi < count:
        x[max(0, hi) :] = 0
    fr = np.lib.stride_tricks.as_strided(x, shape=(K, N), strides=(S * x.itemsize, x.itemsize), writeable=False)
    return scipy.fft.fft(fr, axis=1, workers=workers)


def n_frames_of(seg: CaptureSegment, plan: FcfbPlan) -> int:
    return -(-seg.sample_count // plan.hop)


def _workers() -> int:
    import os

    return max(1, min(4, os.cpu_count() or 1))


class Detector:
    """Per-frame channel SNR (dB) for a set of channel offsets.

    Units: ``power()`` returns Hann-windowed bin powers ``|W|^2`` where
    ``W[k] = 0.5 X[k] - 0.25 (X[k-1] + X[k+1])``; for white noise of variance
    ``sigma^2`` (complex, per sample) ``E|W|^2 = 0.375 N sigma^2``.
    """

    HANN_NOISE = 0.375

    def __init__(self, plan: FcfbPlan, offsets_hz: Sequence[float], det_bw_hz: float):
        self.plan = plan
        N = plan.N
        self.offsets = np.asarray(offsets_hz, dtype=np.float64)
        C = len(self.offsets)
        half = max(1, int(round(det_bw_hz / 2 / plan.bin_hz)))
        centre = N // 2  # positions below are in fftshift order (0 = -fs/2)
        k0 = np.round(self.offsets / plan.bin_hz).astype(np.int64) + centre
        lo = np.clip(k0 - half, 1, N - 1)
        hi = np.clip(k0 + half + 1, 1, N - 1)
        dc_lo, dc_hi = centre - 2, centre + 3  # LO leakage of direct-conversion receivers never counts
        # floor: central 80 % of the band, DC excluded, subsampled
        a, b = int(N * 0.1), int(N * 0.9)
        step = 3 if C > 8 else 7
        fl = np.arange(a, b, step)
        fl = fl[(fl < centre - 4) | (fl > centre + 4)]
        chan = [np.setdiff1d(np.arange(lo[i], hi[i]), np.arange(dc_lo, dc_hi)) for i in range(C)]
        self.nbins = np.array([max(1, len(c)) for c in chan], dtype=np.float64)
        need = np.unique(np.concatenate([fl] + chan)) if C else fl
        self.full = len(need) > N // 2
        if self.full:
            # contiguous ranges; the DC bins are zeroed in the power array instead
            self.pos = None
            self.floor_pos = fl
            self.chan_pos = [np.arange(lo[i], hi[i]) for i in range(C)]
        else:
            # gather only the needed bins; map shifted positions into the gathered array
            self.pos = need
            where = {int(v): i for i, v in enumerate(need)}
            self.floor_pos = np.array([where[int(v)] for v in fl], dtype=np.int64)
            self.chan_pos = [np.array([where[int(v)] for v in c], dtype=np.int64) for c in chan]
            fft_idx = (need - centre) % N
            self.g0 = fft_idx
            self.gm = (fft_idx - 1) % N
            self.gp = (fft_idx + 1) % N
        # contiguous runs -> reduceat boundaries when channels do not overlap
        starts = np.array([c[0] if len(c) else 0 for c in self.chan_pos], dtype=np.int64)
        self.order = np.argsort(starts, kind="stable")
        self.contig = all(len(c) and np.all(np.diff(c) == 1) for c in self.chan_pos)
        if self.contig and C:
            bounds = np.empty(2 * C, dtype=np.int64)
            bounds[0::2] = [self.chan_pos[i][0] for i in self.order]
            bounds[1::2] = [self.chan_pos[i][-1] + 1 for i in self.order]
            self.contig = bool(np.all(np.diff(bounds) >= 0))
            self.bounds = bounds
        if self.full:
            # DC bins (inside a channel) must not count: zero them
            self.dc = slice(dc_lo, dc_hi)

    def power(self, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(channel power sums (K, C), noise power per bin (K,)), in |W|^2 units."""
        K = X.shape[0]
        if self.full:
            Xs = np.fft.fftshift(X, axes=1)
            W = np.empty_like(Xs)
            np.add(Xs[:, :-2], Xs[:, 2:], out=W[:, 1:-1])
            W[:, 1:-1] *= np.float32(-0.5)
            W[:, 1:-1] += Xs[:, 1:-1]
            W[:, 0] = W[:, -1] = 0  # (a factor 0.5 is left out here and put back below)
        else:
            W = 0.5 * X[:, self.g0] - 0.25 * (X[:, self.gm] + X[:, self.gp])
        P = W.real * W.real
        P += W.imag * W.imag
        if self.full:
            P[:, self.dc] = 0.0
            P *= np.float32(0.25)
        floor = np.median(P[:, self.floor_pos], axis=1) / LN2
        C = len(self.offsets)
        if C == 0:
            return np.zeros((K, 0), np.float64), floor
        if self.contig:
            Pb = P if self.bounds[-1] < P.shape[1] else np.concatenate([P, np.zeros((K, 1), P.dtype)], axis=1)
            r = np.add.reduceat(Pb, self.bounds, axis=1, dtype=np.float64)[:, 0::2]
            sums = np.empty_like(r)
            sums[:, self.order] = r
        else:
            sums = np.stack([P[:, c].sum(axis=1, dtype=np.float64) for c in self.chan_pos], axis=1)
        return sums, floor

    def snr_db(self, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(SNR dB (K, C), noise sigma^2 per complex sample (K,)).  SNR is the
        channel power over the expected noise power in the detection band:
        0 dB = noise only; a carrier at C/N = x dB (in det_bw) reads ~10log10(1 + 10^(x/10))."""
        sums, floor = self.power(X)
        ratio = sums / (np.maximum(floor, 1e-30)[:, None] * self.nbins[None, :])
        sigma2 = floor / (self.HANN_NOISE * self.plan.N)
        return 10.0 * np.log10(np.maximum(ratio, 1e-12)), sigma2


class ChannelExtractor:
    """Complex baseband of one channel from shared frame FFTs (zero-phase)."""

    def __init__(self, plan: FcfbPlan, offset_hz: float, H: np.ndarray):
        self.plan = plan
        N, M = plan.N, plan.M
        self.k0 = int(round(offset_hz / plan.bin_hz))
        self.residual_hz = offset_hz - self.k0 * plan.bin_hz
        self.idx = (self.k0 + np.fft.fftfreq(M, 1.0 / M).astype(np.int64)) % N
        self.H = (H * (M / N)).astype(np.float32)  # 1/M of ifft and M/N: unit gain for a tone
        self.noise_gain = float(np.sum(H.astype(np.float64) ** 2) / N)  # channel noise = sigma^2 * this

    def extract(self, X: np.ndarray, b0: int, frames: np.ndarray | None = None) -> np.ndarray:
        """Channel samples of the frames (K, hop_out); ``frames`` (bool K) limits
        the work to those frames (others are zero)."""
        import scipy.fft

        p = self.plan
        K = X.shape[0]
        out = np.zeros((K, p.hop_out), dtype=np.complex64)
        sel = np.arange(K) if frames is None else np.flatnonzero(frames)
        if len(sel) == 0:
            return out
        Y = X[:, self.idx] if len(sel) == K else X[np.ix_(sel, self.idx)]
        Y *= self.H
        y = scipy.fft.ifft(Y, axis=1, workers=_workers())[:, p.out_pad : p.out_pad + p.hop_out]
        # phase continuity across frames: exp(-2j*pi*k0*b*S/N)
        b = (b0 + sel).astype(np.int64)
        ph = ((self.k0 % p.N) * (p.hop % p.N) % p.N * b) % p.N
        rot = np.exp(-2j * np.pi * ph / p.N).astype(np.complex64)
        out[sel] = y * rot[:, None]
        return out
