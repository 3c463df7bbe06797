"""Capture -> active channels -> NFM/AM audio -> transmissions, streaming.

Entry points
    :func:`iter_capture_transmissions`  one pass over the capture: carrier
        detection on every channel of the plan, demodulation of the channels
        that key up, segmentation (the audio library's squelch + Silero VAD)
        per channel; yields :class:`CaptureTransmission` with RF frequency,
        sample range in the capture and UTC time.
    :func:`transcribe_capture`  the same plus Whisper transcripts.
    :func:`scan_capture`  detection only: which channels were active, when.
    :func:`iter_channel_audio`  16 kHz :class:`~overheard.audio.decode.AudioBlock`
        stream of one channel (squelched or not) for ``segment_blocks``.
    :func:`iter_channels`  scan, then ``(channel, lazy AudioBlock stream)``
        per active channel.

Audio of a channel is squelched (zero) while its carrier is down, so the
audio library's segmenter sees a "squelched recording" and its VAD keeps only
speech.  Times in the AudioBlocks are seconds from the start of the capture,
exactly (sample ``n`` of the capture is at ``n / sample_rate``).
"""

from __future__ import annotations

import os
from collections import deque
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Callable, Iterator, Literal, Sequence

import numpy as np

from ..audio.decode import SAMPLE_RATE, AudioBlock
from .capture import Capture, CaptureSegment, open_capture
from .channelize import ChannelExtractor, Detector, FcfbPlan, channel_filter, iter_frames, n_frames_of, plan_fcfb
from .demod import AmDemod, NfmDemod

Demod = Literal["nfm", "am"]
GENERATOR = "overheard.sdr/1"


@dataclass(frozen=True)
class SdrOptions:
    channel_step: float = 12_500.0  # channel raster, Hz (12.5 or 25 kHz)
    channels: tuple[float, ...] | None = None  # explicit RF centres (Hz); None = every raster channel in band
    demod: Demod = "nfm"
    max_deviation_hz: float | None = None  # None: 0.2 * channel_step (2.5 kHz @ 12.5, 5 kHz @ 25)
    deemphasis_us: float = 75.0  # 0 = none
    audio_band_hz: tuple[float, float] = (250.0, 3600.0)
    passband_frac: float = 0.42  # channel filter flat to ±passband_frac*step ...
    stopband_frac: float = 0.60  # ... and zero from ±stopband_frac*step
    det_bw_frac: float = 0.8  # detection bandwidth, fraction of the step
    open_db: float = 6.0  # channel opens at this SNR (power over noise in det_bw), ~4 dB C/N
    close_db: float = 3.0  # ... and stays open while above this
    hang_s: float = 0.06
    squelch: bool = True  # False: pass the discriminator noise through (benchmarks)
    min_active_s: float = 0.25  # scan: shorter activity is ignored
    merge_gap_s: float = 0.3  # scan: activity gaps shorter than this are bridged
    band_guard: float = 0.45  # channels must lie within ±band_guard*fs of the centre
    chunk_s: float = 0.4  # capture seconds per processing chunk
    release_s: float = 30.0  # a channel idle this long is flushed and its state dropped
    min_channel_rate: float = 32000.0

    def deviation(self) -> float:
        return self.max_deviation_hz or 0.2 * self.channel_step

    @property
    def bandwidth_hz(self) -> float:
        return self.channel_step


@dataclass(frozen=True)
class ChannelActivity:
    channel_hz: float  # RF centre (capture centre + offset; offset alone when the centre is unknown)
    offset_hz: float
    intervals: tuple[tuple[int, int], ...]  # carrier-on [start, end) sample ranges of the capture
    active_s: float
    peak_snr_db: float
    mean_snr_db: float  # over active frames


@dataclass
class CaptureTransmission:
    channel_hz: float  # RF centre of the channel
    offset_hz: float  # from the capture centre
    index: int  # running number in this capture
    start_s: float  # seconds from the start of the capture
    end_s: float
    sample_start: int  # in the original capture (its sample rate)
    sample_count: int
    utc_start: datetime | None  # from core:datetime (None when the capture does not say)
    utc_end: datetime | None
    freq_lower_edge: float
    freq_upper_edge: float
    rf_snr_db: float | None  # median channel SNR (detection) over the transmission
    transmission: object  # overheard.audio.segment.Transmission (audio-side details)
    samples: np.ndarray = field(repr=False)  # 16 kHz float32 audio of the transmission
    carrier_sample_start: int | None = None  # carrier (key-up .. key-down) burst that holds the speech
    carrier_sample_count: int | None = None
    sample_rate: float | None = None  # of the capture
    text: str | None = None  # set by transcribe_capture
    transcript: object | None = field(default=None, repr=False)  # overheard.audio.transcribe.Transcript

    @property
    def duration_s(self) -> float:
        return self.end_s - self.start_s

    @property
    def carrier_start_s(self) -> float | None:
        if self.carrier_sample_start is None or not self.sample_rate:
            return None
        return self.carrier_sample_start / self.sample_rate

    @property
    def carrier_end_s(self) -> float | None:
        if self.carrier_sample_start is None or not self.sample_rate:
            return None
        return (self.carrier_sample_start + self.carrier_sample_count) / self.sample_rate

    def to_dict(self) -> dict:
        return {
            "index": self.index,
            "channel_hz": self.channel_hz,
            "offset_hz": self.offset_hz,
            "start_s": self.start_s,
            "end_s": self.end_s,
            "sample_start": self.sample_start,
            "sample_count": self.sample_count,
            "utc_start": None if self.utc_start is None else self.utc_start.isoformat(),
            "utc_end": None if self.utc_end is None else self.utc_end.isoformat(),
            "freq_lower_edge": self.freq_lower_edge,
            "freq_upper_edge": self.freq_upper_edge,
            "rf_snr_db": self.rf_snr_db,
            "carrier_sample_start": self.carrier_sample_start,
            "carrier_sample_count": self.carrier_sample_count,
            "carrier_start_s": self.carrier_start_s,
            "carrier_end_s": self.carrier_end_s,
            "text": self.text,
        }


@dataclass
class ChannelAudio:
    """One active channel: call :meth:`blocks` for its 16 kHz audio (re-reads the capture)."""

    channel_hz: float
    offset_hz: float
    activity: ChannelActivity
    _open: Callable[[], Iterator[AudioBlock]] = field(repr=False)

    def blocks(self) -> Iterator[AudioBlock]:
        return self._open()


# ------------------------------------------------------------------ helpers
def _options(options: SdrOptions | None, **kw) -> SdrOptions:
    from dataclasses import replace

    o = options or SdrOptions()
    kw = {k: v for k, v in kw.items() if v is not None}
    if "channels" in kw:
        kw["channels"] = tuple(float(c) for c in kw["channels"])
    return replace(o, **kw) if kw else o


def _as_capture(src, sample_rate, center_freq, datatype, start_time) -> tuple[Capture, bool]:
    if isinstance(src, Capture):
        return src, False
    return open_capture(src, sample_rate=sample_rate, center_freq=center_freq, datatype=datatype, start_time=start_time), True


def channel_plan(cap: Capture, seg: CaptureSegment, o: SdrOptions) -> list[tuple[float, float]]:
    """``(channel_hz, offset_hz)`` of every channel to watch in a segment."""
    fs = cap.sample_rate
    cf = seg.center_freq if seg.center_freq is not None else 0.0
    lim = o.band_guard * fs - o.channel_step / 2
    if o.channels is not None:
        out = []
        for f in o.channels:
            off = f - cf
            if abs(off) <= lim:
                out.append((f, off))
        return out
    step = o.channel_step
    n_lo = int(np.ceil((cf - lim) / step))
    n_hi = int(np.floor((cf + lim) / step))
    return [(n * step, n * step - cf) for n in range(n_lo, n_hi + 1)]


class _Gate:
    """Hysteresis squelch over frames, vectorised across channels."""

    def __init__(self, C: int, o: SdrOptions, frame_s: float):
        self.open = np.zeros(C, dtype=bool)
        self.hang = np.zeros(C, dtype=np.int64)
        self.hang_frames = max(1, int(round(o.hang_s / frame_s)))
        self.o = o

    def step(self, snr: np.ndarray) -> np.ndarray:
        """Open mask (K, C); ``self.carrier`` is the same without the hang frames."""
        K, C = snr.shape
        out = np.zeros((K, C), dtype=bool)
        self.carrier = np.zeros((K, C), dtype=bool)
        if not self.o.squelch:
            out[:] = True
            self.carrier[:] = True
            return out
        for k in range(K):
            s = snr[k]
            above = s >= self.o.close_db
            self.hang = np.where(above, self.hang_frames, self.hang - 1)
            self.open = (s >= self.o.open_db) | (self.open & (self.hang > 0))
            out[k] = self.open
            self.carrier[k] = self.open & above
        return out


class _Chan:
    """Demodulation state of one channel in one capture segment."""

    def __init__(self, plan: FcfbPlan, channel_hz: float, offset_hz: float, H: np.ndarray, o: SdrOptions, b_start: int, t0: float):
        self.channel_hz, self.offset_hz = channel_hz, offset_hz
        self.plan = plan
        self.ex = ChannelExtractor(plan, offset_hz, H)
        if o.demod == "nfm":
            self.dem = NfmDemod(plan.fs_ch, o.deviation(), o.deemphasis_us, o.audio_band_hz)
        elif o.demod == "am":
            self.dem = AmDemod(plan.fs_ch, o.audio_band_hz)
        else:
            raise ValueError(f"unknown demod {o.demod!r} (nfm, am)")
        self.o = o
        self.t_audio0 = t0 + b_start * plan.hop / plan.fs  # time of audio sample 0
        self.n_audio = 0
        self.b_start = b_start
        self.idle = 0
        self._prev_audible = False
        self._pend = None
        self.snr_hist: deque[tuple[int, float]] = deque()

    def advance(self, b0: int) -> AudioBlock:
        """Silent audio for frames ``[b_start, b0)`` (the channel was closed then)."""
        n = (b0 - self.b_start) * self.plan.hop_out
        a = self.dem.process(np.zeros(n, np.complex64), np.ones(n, bool)) if n > 0 else np.zeros(0, np.float32)
        blk = AudioBlock(self.t_audio0 + self.n_audio / SAMPLE_RATE, a)
        self.n_audio += len(a)
        return blk

    def run(self, X: np.ndarray, b0: int, gate: np.ndarray, snr: np.ndarray, sigma2: np.ndarray, final_frame: int | None) -> AudioBlock:
        """Demodulate frames of one chunk.  ``gate``: squelch open per frame;
        frames whose SNR is under ``close_db`` (hang frames) stay muted.  The
        last frame is held back until the next call (one frame of look-ahead
        for the squelch edges), so the audio does not depend on chunking."""
        p = self.plan
        audible = gate & (snr >= self.o.close_db) if self.o.squelch else gate.copy()
        y = self.ex.extract(X, b0, audible)
        s2 = np.asarray(sigma2, dtype=np.float64)
        if self._pend is not None:
            py, pa, ps = self._pend
            y, audible, s2 = np.concatenate([py, y]), np.concatenate([pa, audible]), np.concatenate([ps, s2])
        final = final_frame is not None
        n = len(audible) if final else len(audible) - 1
        self._pend = None if final else (y[n:], audible[n:], s2[n:])
        y, look, s2 = y[:n], audible, s2[:n]  # `look` keeps the held frame for look-ahead
        mute = np.repeat(~look[:n], p.hop_out)
        if self.o.squelch and self.o.demod == "nfm" and look[:n].any():
            self._refine(y, look, n, s2, mute)
        a = self.dem.process(y.reshape(-1), mute)
        if final:
            a = np.concatenate([a, self.dem.flush()])
        blk = AudioBlock(self.t_audio0 + self.n_audio / SAMPLE_RATE, a)
        self.n_audio += len(a)
        return blk

    def _refine(self, y, audible, n, sigma2, mute):
        """Mute the discriminator noise before the carrier appears / after it
        drops, inside the first and last frame of each audible run (2 ms steps)."""
        p = self.plan
        sub = max(16, int(p.fs_ch / 500))
        nsub = p.hop_out // sub
        prev = self._prev_audible
        for k in range(n):
            if not audible[k]:
                continue
            first = not (audible[k - 1] if k > 0 else prev)
            last = k + 1 >= len(audible) or not audible[k + 1]
            if not (first or last):
                continue
            thr = sigma2[k] * self.ex.noise_gain * 10 ** (self.o.close_db / 10)
            pw = np.mean(np.abs(y[k, : nsub * sub].reshape(nsub, sub)) ** 2, axis=1)
            on = np.flatnonzero(pw >= thr)
            base = k * p.hop_out
            if len(on) == 0:
                mute[base : base + p.hop_out] = True
                continue
            if first and on[0] > 0:
                mute[base : base + on[0] * sub] = True
            if last and on[-1] < nsub - 1:
                mute[base + (on[-1] + 1) * sub : base + p.hop_out] = True
        if n:
            self._prev_audible = bool(audible[n - 1])


def _audio_grid(plan: FcfbPlan, frame_samples: int = 320) -> int:
    """Frames between channel start points at which the channel's 16 kHz audio
    falls on the capture's 16 kHz grid and on the segmenter's 20 ms frames, so
    a channel's audio and transmissions do not depend on when (in which
    chunk) it was first heard.  1 when the rates do not allow it."""
    from fractions import Fraction

    if abs(plan.fs - round(plan.fs)) > 1e-6:
        return 1
    fs_ch = Fraction(int(round(plan.fs)) * plan.M, plan.N)
    per_frame = Fraction(plan.hop_out * SAMPLE_RATE) / fs_ch / frame_samples
    return per_frame.denominator if per_frame.denominator <= 4096 else 1


@dataclass
class _Band:
    """What every pass over one capture segment sets up: its channels, the filter bank's plan,
    the channel filter, the carrier detector and gate, and its length in frames and audio samples."""
    seg: CaptureSegment
    t0: float                          # segment start, seconds from the capture start
    chans: list[tuple[float, float]]   # (channel RF centre, offset from the capture centre)
    plan: FcfbPlan
    H: np.ndarray
    det: Detector
    gate: "_Gate"
    nf: int                            # frames in the segment
    n_audio: int                       # 16 kHz samples in the segment


def _bands(cap: Capture, o: SdrOptions) -> Iterator[_Band]:
    """The capture's segments that hold at least one of the wanted channels, set up."""
    for seg in cap.segments:
        chans = channel_plan(cap, seg, o)
        if not chans:
            continue
        plan = plan_fcfb(cap.sample_rate, o.min_channel_rate)
        yield _Band(seg, seg.sample_start / cap.sample_rate, chans, plan,
                    channel_filter(plan, o.passband_frac * o.channel_step, o.stopband_frac * o.channel_step),
                    Detector(plan, [c[1] for c in chans], o.det_bw_frac * o.channel_step),
                    _Gate(len(chans), o, plan.frame_s), n_frames_of(seg, plan),
                    int(round(seg.sample_count / cap.sample_rate * SAMPLE_RATE)))


@contextmanager
def _opened(src, sample_rate, center_freq, datatype, start_time) -> Iterator[Capture]:
    """The capture (opened here and closed after, unless the caller passed an open one)."""
    cap, own = _as_capture(src, sample_rate, center_freq, datatype, start_time)
    try:
        yield cap
    finally:
        if own:
            cap.close()


def _frames_per_chunk(plan: FcfbPlan, o: SdrOptions) -> int:
    return max(1, int(round(o.chunk_s / plan.frame_s)))


# ------------------------------------------------------------------ scan
def scan_capture(
    path: str | os.PathLike | Capture,
    *,
    channel_step: float | None = None,
    channels: Sequence[float] | None = None,
    sample_rate: float | None = None,
    center_freq: float | None = None,
    datatype: str | None = None,
    start_time: datetime | str | None = None,
    options: SdrOptions | None = None,
    progress: Callable[[float, float], None] | None = None,
) -> list[ChannelActivity]:
    """Channels whose carrier was up for at least ``min_active_s``, with when."""
    o = _options(options, channel_step=channel_step, channels=channels)
    with _opened(path, sample_rate, center_freq, datatype, start_time) as cap:
        return [a for band in _bands(cap, o) for a in _scan_segment(cap, band, o, progress)]


def _scan_segment(cap: Capture, band: _Band, o: SdrOptions, progress) -> list[ChannelActivity]:
    seg, plan, chans, det, gate = band.seg, band.plan, band.chans, band.det, band.gate
    fs = cap.sample_rate
    runs: list[list[list[int]]] = [[] for _ in chans]
    snr_sum = np.zeros(len(chans))
    snr_n = np.zeros(len(chans))
    peak = np.full(len(chans), -np.inf)
    for b0, X in iter_frames(cap, seg, plan, _frames_per_chunk(plan, o)):
        snr, _ = det.snr_db(X)
        gate.step(snr)
        g = gate.carrier
        for c in np.flatnonzero(g.any(axis=0)):
            ks = np.flatnonzero(g[:, c])
            snr_sum[c] += snr[ks, c].sum()
            snr_n[c] += len(ks)
            peak[c] = max(peak[c], float(snr[ks, c].max()))
            for k in ks:
                b = b0 + int(k)
                r = runs[c]
                if r and r[-1][1] == b:
                    r[-1][1] = b + 1
                else:
                    r.append([b, b + 1])
        if progress is not None:
            progress(min(seg.sample_start + (b0 + X.shape[0]) * plan.hop, seg.sample_start + seg.sample_count) / fs, cap.duration_s)
    out = []
    gap = int(round(o.merge_gap_s / plan.frame_s))
    for c, (f, off) in enumerate(chans):
        merged: list[list[int]] = []
        for r in runs[c]:
            if merged and r[0] - merged[-1][1] <= gap:
                merged[-1][1] = r[1]
            else:
                merged.append(list(r))
        iv = []
        for b_s, b_e in merged:
            s = seg.sample_start + b_s * plan.hop
            e = min(seg.sample_start + b_e * plan.hop, seg.sample_start + seg.sample_count)
            if (e - s) / fs >= o.min_active_s:
                iv.append((s, e))
        if iv:
            act = sum(e - s for s, e in iv) / fs
            out.append(ChannelActivity(f, off, tuple(iv), round(act, 3), round(float(peak[c]), 1), round(float(snr_sum[c] / max(1, snr_n[c])), 1)))
    return out


# ------------------------------------------------------------------ one channel
def iter_channel_audio(
    path: str | os.PathLike | Capture,
    channel_hz: float,
    *,
    channel_step: float | None = None,
    demod: Demod | None = None,
    squelch: bool | None = None,
    sample_rate: float | None = None,
    center_freq: float | None = None,
    datatype: str | None = None,
    start_time: datetime | str | None = None,
    options: SdrOptions | None = None,
) -> Iterator[AudioBlock]:
    """16 kHz audio of one channel (RF centre ``channel_hz``; an offset from the
    centre when the capture has no ``core:frequency``) as AudioBlocks whose
    ``start_s`` is seconds from the start of the capture.  Segments of the
    capture that do not contain the channel are skipped (no blocks)."""
    for _, blk in iter_channels_audio(path, (channel_hz,), channel_step=channel_step, demod=demod, squelch=squelch,
                                      sample_rate=sample_rate, center_freq=center_freq, datatype=datatype,
                                      start_time=start_time, options=options):
        yield blk


def iter_channels_audio(
    path: str | os.PathLike | Capture,
    channels: Sequence[float],
    *,
    channel_step: float | None = None,
    demod: Demod | None = None,
    squelch: bool | None = None,
    sample_rate: float | None = None,
    center_freq: float | None = None,
    datatype: str | None = None,
    start_time: datetime | str | None = None,
    options: SdrOptions | None = None,
) -> Iterator[tuple[float, AudioBlock]]:
    """Several channels demodulated in ONE pass (one shared FFT per frame):
    ``(channel_hz, AudioBlock)`` per channel and chunk, in capture order.
    Channels outside a capture segment's band are skipped there."""
    o = _options(options, channel_step=channel_step, demod=demod, squelch=squelch, channels=tuple(channels))
    with _opened(path, sample_rate, center_freq, datatype, start_time) as cap:
        for band in _bands(cap, o):
            runs = [_Chan(band.plan, f, off, band.H, o, 0, band.t0) for f, off in band.chans]
            for b0, X in iter_frames(cap, band.seg, band.plan, _frames_per_chunk(band.plan, o)):
                snr, sigma2 = band.det.snr_db(X)
                g = band.gate.step(snr)
                final = band.nf if b0 + X.shape[0] >= band.nf else None
                for c, ch in enumerate(runs):
                    blk = ch.run(X, b0, g[:, c], snr[:, c], sigma2, final)
                    keep = band.n_audio - (ch.n_audio - len(blk.samples))
                    if len(blk.samples) > keep:
                        blk = AudioBlock(blk.start_s, blk.samples[: max(0, keep)])
                    if len(blk.samples):
                        yield ch.channel_hz, blk


def iter_channels(
    path: str | os.PathLike,
    *,
    channel_step: float | None = None,
    channels: Sequence[float] | None = None,
    demod: Demod | None = None,
    sample_rate: float | None = None,
    center_freq: float | None = None,
    datatype: str | None = None,
    start_time: datetime | str | None = None,
    options: SdrOptions | None = None,
) -> Iterator[ChannelAudio]:
    """Scan the capture, then one :class:`ChannelAudio` per active channel; its
    ``blocks()`` re-reads the capture for that channel only (two passes in all)."""
    o = _options(options, channel_step=channel_step, channels=channels, demod=demod)
    kw = dict(sample_rate=sample_rate, center_freq=center_freq, datatype=datatype, start_time=start_time)
    acts = scan_capture(path, options=o, **kw)
    seen = set()
    for a in acts:
        if a.channel_hz in seen:
            continue
        seen.add(a.channel_hz)

        def opener(f=a.channel_hz):
            from dataclasses import replace

            return iter_channel_audio(path, f, options=replace(o, channels=None), **kw)

        yield ChannelAudio(a.channel_hz, a.offset_hz, a, opener)


# ------------------------------------------------------------------ all channels, one pass
def iter_capture_transmissions(
    path: str | os.PathLike | Capture,
    *,
    channel_step: float | None = None,
    channels: Sequence[float] | None = None,
    demod: Demod | None = None,
    sample_rate: float | None = None,
    center_freq: float | None = None,
    datatype: str | None = None,
    start_time: datetime | str | None = None,
    options: SdrOptions | None = None,
    segment=None,
    progress: Callable[[float, float], None] | None = None,
) -> Iterator[CaptureTransmission]:
    """Transmissions on every active channel, in one streaming pass.

    Yielded as each completes (the segmenter decides ~10 s behind the
    input), so roughly but not strictly in start order across channels.
    ``segment``: :class:`overheard.audio.segment.SegmentOptions` (radio mode
    by default).  Raises :class:`CaptureError` for unreadable input; a capture
    with no signal yields nothing.
    """
    from ..audio.segment import SegmentOptions, Segmenter

    o = _options(options, channel_step=channel_step, channels=channels, demod=demod)
    seg_opts = segment or SegmentOptions(mode="radio")
    counter = [0]
    with _opened(path, sample_rate, center_freq, datatype, start_time) as cap:
        fs = cap.sample_rate
        for band in _bands(cap, o):
            seg, t0, chans, plan, H, det, gate, nf = (band.seg, band.t0, band.chans, band.plan, band.H, band.det,
                                                      band.gate, band.nf)
            live: dict[int, tuple[_Chan, Segmenter]] = {}
            last_end: dict[int, int] = {}  # frame where a released channel's audio ended
            grid = _audio_grid(plan)
            gapf = int(round(o.merge_gap_s / plan.frame_s))
            release = max(1, int(o.release_s / plan.frame_s))
            seg_end_s = (seg.sample_start + seg.sample_count) / fs

            def convert(c: int, ch: _Chan, t, a) -> CaptureTransmission:
                s = max(seg.sample_start, int(round(t.start_s * fs)))
                e = min(seg.sample_start + seg.sample_count, int(round(t.end_s * fs)))
                b_s, b_e = int((s - seg.sample_start) // plan.hop), int((e - seg.sample_start) // plan.hop)
                vals = [v for b, v in ch.snr_hist if b_s <= b <= b_e]
                # the carrier burst (frames above close_db, short gaps bridged) that holds the speech
                runs: list[list[int]] = []
                for b, v in ch.snr_hist:
                    if v < o.close_db:
                        continue
                    if runs and b - runs[-1][1] <= gapf:
                        runs[-1][1] = b + 1
                    else:
                        runs.append([b, b + 1])
                ov = [(min(r[1], b_e + 1) - max(r[0], b_s), r) for r in runs]
                ov = [x for x in ov if x[0] > 0]
                c_s = c_n = None
                if ov:
                    r = max(ov, key=lambda x: x[0])[1]
                    c_s = seg.sample_start + r[0] * plan.hop
                    c_n = min(seg.sample_start + seg.sample_count, seg.sample_start + r[1] * plan.hop) - c_s
                counter[0] += 1
                half = o.bandwidth_hz / 2
                return CaptureTransmission(
                    channel_hz=ch.channel_hz,
                    offset_hz=ch.offset_hz,
                    index=counter[0] - 1,
                    start_s=t.start_s,
                    end_s=min(t.end_s, seg_end_s),
                    sample_start=s,
                    sample_count=max(0, e - s),
                    utc_start=seg.time_of(s, fs),
                    utc_end=seg.time_of(e, fs),
                    freq_lower_edge=ch.channel_hz - half,
                    freq_upper_edge=ch.channel_hz + half,
                    rf_snr_db=round(float(np.median(vals)), 1) if vals else None,
                    transmission=t,
                    samples=a,
                    carrier_sample_start=c_s,
                    carrier_sample_count=c_n,
                    sample_rate=fs,
                )

            for b0, X in iter_frames(cap, seg, plan, _frames_per_chunk(plan, o)):
                K = X.shape[0]
                snr, sigma2 = det.snr_db(X)
                g = gate.step(snr)
                final = b0 + K >= nf
                for c in np.flatnonzero(g.any(axis=0)):
                    if c not in live:
                        b_first = b0 + int(np.argmax(g[:, c]))
                        b_start = max(last_end.get(c, 0), (b_first // grid) * grid)
                        live[c] = (_Chan(plan, chans[c][0], chans[c][1], H, o, b_start, t0), Segmenter(seg_opts))
                        lead = live[c][0].advance(b0)
                        if len(lead.samples):
                            yield from (convert(c, live[c][0], t, a) for t, a in live[c][1].feed(lead))
                for c in list(live):
                    ch, sg = live[c]
                    gc = g[:, c]
                    for k in np.flatnonzero(gc):
                        ch.snr_hist.append((b0 + int(k), float(snr[k, c])))
                    while ch.snr_hist and ch.snr_hist[0][0] < b0 - int(90 / plan.frame_s):
                        ch.snr_hist.popleft()
                    j = max(0, ch.b_start - b0)  # a channel started on its grid point inside this chunk
                    blk = ch.run(X[j:], b0 + j, gc[j:], snr[j:, c], sigma2[j:], nf if final else None)
                    ch.idle = 0 if gc.any() else ch.idle + K
                    if len(blk.samples):
                        for t, a in sg.feed(blk):
                            yield convert(c, ch, t, a)
                    if final or ch.idle >= release:
                        if not final:
                            tail = ch.dem.flush()
                            if len(tail):
                                for t, a in sg.feed(AudioBlock(ch.t_audio0 + ch.n_audio / SAMPLE_RATE, tail)):
                                    yield convert(c, ch, t, a)
                        for t, a in sg.finish():
                            yield convert(c, ch, t, a)
                        last_end[c] = b0 + K
                        del live[c]
                if progress is not None:
                    progress(min(seg.sample_start + (b0 + K) * plan.hop, seg.sample_start + seg.sample_count) / fs, cap.duration_s)


def transcribe_capture(
    path: str | os.PathLike | Capture,
    *,
    lang: str | None = None,
    model=None,
    transcribe_options=None,
    **kw,
) -> Iterator[CaptureTransmission]:
    """:func:`iter_capture_transmissions` + Whisper: each transmission comes
    back with ``text`` (hallucinations removed) and ``transcript``."""
    from dataclasses import replace

    from ..audio.model import LoadedModel, load_model
    from ..audio.transcribe import TranscribeOptions, transcribe_items

    tro = transcribe_options or TranscribeOptions(task_gloss=False)
    if lang is not None:
        tro = replace(tro, lang=lang)
    lm = model if isinstance(model, LoadedModel) else load_model(model)
    held: dict[int, CaptureTransmission] = {}

    def items():
        for tx in iter_capture_transmissions(path, **kw):
            held[tx.index] = tx
            yield tx.index, tx.samples

    for key, tr in transcribe_items(items(), model=lm, options=tro):
        tx = held.pop(key)
        tx.text = tr.text
        tx.transcript = tr
        yield tx
