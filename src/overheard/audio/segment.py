"""Cut continuous radio audio into transmissions (streaming, bounded memory).

Radio mode
    1. *Squelch gate*: energy of the 300-3000 Hz voice band in 20 ms frames
       against a noise floor tracked as the minimum of 200 ms-smoothed energy
       over a sliding ``floor_window_s`` window centred on the frame (so
       decisions lag the input by half a window).  Opens ``open_db`` above the
       floor, closes after ``hang_s`` below ``close_db``.  Squelched recordings
       (digital silence between transmissions) have their floor clamped at
       ``floor_min_dbfs``; open-squelch recordings (hiss between transmissions)
       track the hiss.  An open gate is force-closed after ``max_open_s`` so a
       stuck carrier cannot grow the buffer.
    2. *Burst trimming*: spectrally flat frames (noise bursts: key-up clicks,
       squelch tails) at either end of an open segment are trimmed.
    3. *Silero VAD* inside each open segment keeps only speech: tones,
       carriers, music and hiss are dropped; speech islands closer than
       ``merge_gap_s`` are merged into one transmission of at most
       ``max_transmission_s``.

Call mode (calls, voice notes)
    Silero VAD only, over ``call_chunk_s`` chunks with carry-over.
"""

from __future__ import annotations

import os
from collections import deque
from dataclasses import asdict, dataclass, field
from typing import Iterable, Iterator, Literal

import numpy as np

from .decode import SAMPLE_RATE, AudioBlock, iter_blocks

Mode = Literal["radio", "call"]


@dataclass(frozen=True)
class SquelchOptions:
    frame_ms: int = 20
    band_hz: tuple[float, float] = (300.0, 3000.0)
    floor_window_s: float = 20.0  # noise-floor tracking window (centred)
    floor_min_dbfs: float = -75.0  # floor clamp for digital silence
    open_db: float = 8.0  # open when band energy exceeds floor by this
    close_db: float = 5.0  # ... and stays open while above floor + close_db
    hang_s: float = 0.6  # hang time before closing
    max_open_s: float = 60.0  # force-close a stuck gate (bounds memory)
    trim_flatness: float = 0.35  # frames flatter than this at the edges are bursts
    max_trim_s: float = 0.5  # at most this much trimmed at each end


@dataclass(frozen=True)
class VadParams:
    threshold: float = 0.3  # 0.4 missed 11 of 181 short/low-SNR transmissions on the held bench slice, 0.3 missed 7
    min_speech_ms: int = 200
    min_silence_ms: int = 300
    speech_pad_ms: int = 120


@dataclass(frozen=True)
class SegmentOptions:
    mode: Mode = "radio"
    use_vad: bool = True
    squelch: SquelchOptions = field(default_factory=SquelchOptions)
    vad: VadParams = field(default_factory=VadParams)
    merge_gap_s: float = 1.2  # speech islands closer than this form one transmission
    min_transmission_s: float = 0.3
    max_transmission_s: float = 28.0  # fits one Whisper window
    call_chunk_s: float = 120.0  # call-mode VAD chunk

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class Transmission:
    index: int
    start_s: float
    end_s: float
    gate_start_s: float  # squelch-open segment this came from (radio mode)
    gate_end_s: float
    level_dbfs: float  # RMS of the transmission
    floor_dbfs: float | None  # voice-band noise floor at the time (radio mode)
    snr_db: float | None  # rough: band level over band floor
    speech_s: float  # VAD speech inside [start, end]
    mode: str
    params: dict = field(repr=False, compare=False, default_factory=dict)

    @property
    def duration_s(self) -> float:
        return self.end_s - self.start_s


@dataclass
class _Seg:
    start: int  # absolute sample index
    end: int
    floor_db: float | None
    audio: np.ndarray


def _db(p):
    return 10.0 * np.log10(np.maximum(p, 1e-12))


class _AudioBuffer:
    """Keeps recent samples addressable by absolute sample index."""

    def __init__(self):
        self.blocks: deque[tuple[int, np.ndarray]] = deque()
        self.end = 0

    def push(self, start: int, a: np.ndarray):
        self.blocks.append((start, a))
        self.end = start + len(a)

    def get(self, s: int, e: int) -> np.ndarray:
        out = np.zeros(max(0, e - s), dtype=np.float32)
        for bs, a in self.blocks:
            be = bs + len(a)
            lo, hi = max(s, bs), min(e, be)
            if lo < hi:
                out[lo - s : hi - s] = a[lo - bs : hi - bs]
        return out

    def drop_before(self, s: int):
        while self.blocks and self.blocks[0][0] + len(self.blocks[0][1]) <= s:
            self.blocks.popleft()


def _flatness(frames: np.ndarray, band: tuple[float, float]) -> np.ndarray:
    """Spectral flatness (0 = tonal/speech-like, 1 = white) per frame in band."""
    if len(frames) == 0:
        return np.zeros(0)
    spec = np.abs(np.fft.rfft(frames * np.hanning(frames.shape[1]), axis=1)) ** 2 + 1e-12
    freqs = np.fft.rfftfreq(frames.shape[1], 1 / SAMPLE_RATE)
    sel = (freqs >= band[0]) & (freqs <= band[1])
    s = spec[:, sel]
    return np.exp(np.mean(np.log(s), axis=1)) / np.mean(s, axis=1)


def _trim_bursts(seg: _Seg, so: SquelchOptions) -> _Seg:
    n = int(SAMPLE_RATE * so.frame_ms / 1000)
    a = seg.audio
    nf = len(a) // n
    if nf < 4:
        return seg
    fl = _flatness(a[: nf * n].reshape(nf, n), so.band_hz)
    maxf = max(1, int(so.max_trim_s * 1000 / so.frame_ms))
    i = 0
    while i < min(maxf, nf) and fl[i] > so.trim_flatness:
        i += 1
    j = nf
    while j > max(i, nf - maxf) and fl[j - 1] > so.trim_flatness:
        j -= 1
    if i == 0 and j == nf:
        return seg
    s, e = i * n, (j * n if j < nf else len(a))
    return _Seg(seg.start + s, seg.start + e, seg.floor_db, a[s:e])


class Segmenter:
    """Streaming segmenter: ``feed(block)`` and ``finish()`` yield
    ``(Transmission, samples)``.  Use :func:`segment_blocks` normally."""

    def __init__(self, options: SegmentOptions | None = None):
        from scipy.signal import butter

        self.o = options or SegmentOptions()
        so = self.o.squelch
        self.params = self.o.to_dict()
        self.n_frame = int(SAMPLE_RATE * so.frame_ms / 1000)
        self.sos = butter(4, list(so.band_hz), btype="band", fs=SAMPLE_RATE, output="sos")
        self.zi = None
        self.base: int | None = None  # absolute sample index of frame 0
        self.carry = np.zeros(0, dtype=np.float32)  # filtered samples not yet framed
        self.energy = np.zeros(1 << 14, dtype=np.float32)  # band dB per frame
        self.n_energy = 0
        self.sub = max(1, int(500 / so.frame_ms))  # frames per floor sub-block (0.5 s)
        self.smooth = max(1, int(200 / so.frame_ms))
        self.sub_mins: list[float] = []
        self.decided = 0  # frames decided so far
        self.is_open = False
        self.open_at = 0
        self.below = 0
        self.last_above = 0
        self.audio = _AudioBuffer()
        self.count = 0
        self.half_w = int(so.floor_window_s / 2 * 1000 / so.frame_ms)
        # call mode
        self.call_start: int | None = None

    # -- shared ---------------------------------------------------------
    def _emit(self, seg: _Seg) -> Iterator[tuple[Transmission, np.ndarray]]:
        o = self.o
        gate_s, gate_e = seg.start, seg.end
        if o.mode == "radio":
            seg = _trim_bursts(seg, o.squelch)
        if len(seg.audio) < int(o.min_transmission_s * SAMPLE_RATE):
            return      # a click or a kerchunk: dropped before the VAD is paid for
        if o.use_vad:
            islands = _vad_islands(seg.audio, o)
        else:
            islands = [(0, len(seg.audio), len(seg.audio))]
        for s, e, speech in islands:
            if e - s < int(o.min_transmission_s * SAMPLE_RATE):
                continue
            a = seg.audio[s:e]
            level = float(_db(np.mean(a.astype(np.float64) ** 2)))
            snr = None
            if seg.floor_db is not None:
                from scipy.signal import sosfilt

                band = sosfilt(self.sos, a)
                snr = round(float(_db(np.mean(band.astype(np.float64) ** 2))) - seg.floor_db, 1)
            t = Transmission(
                index=self.count,
                start_s=round((seg.start + s) / SAMPLE_RATE, 3),
                end_s=round((seg.start + e) / SAMPLE_RATE, 3),
                gate_start_s=round(gate_s / SAMPLE_RATE, 3),
                gate_end_s=round(gate_e / SAMPLE_RATE, 3),
                level_dbfs=round(level, 1),
                floor_dbfs=None if seg.floor_db is None else round(seg.floor_db, 1),
                snr_db=snr,
                speech_s=round(speech / SAMPLE_RATE, 3),
                mode=o.mode,
                params=self.params,
            )
            self.count += 1
            yield t, a

    # -- radio ------------------------------------------------------------
    def _floor(self, i: int) -> float:
        so = self.o.squelch
        lo = max(0, (i - self.half_w) // self.sub)
        hi = min(len(self.sub_mins), (i + self.half_w) // self.sub + 1)
        if hi <= lo:
            hi = min(len(self.sub_mins), lo + 1)
        f = min(self.sub_mins[lo:hi]) if hi > lo else so.floor_min_dbfs
        return max(f, so.floor_min_dbfs)

    def _push_energy(self, filtered: np.ndarray):
        a = np.concatenate([self.carry, filtered]) if len(self.carry) else filtered
        nf = len(a) // self.n_frame
        self.carry = a[nf * self.n_frame :]
        if nf == 0:
            return
        fr = a[: nf * self.n_frame].reshape(nf, self.n_frame).astype(np.float64)
        e = _db(np.mean(fr * fr, axis=1)).astype(np.float32)
        while self.n_energy + nf > len(self.energy):
            self.energy = np.concatenate([self.energy, np.zeros_like(self.energy)])
        self.energy[self.n_energy : self.n_energy + nf] = e
        self.n_energy += nf
        # complete floor sub-blocks (need smoothing context of `smooth` frames)
        while (len(self.sub_mins) + 1) * self.sub <= self.n_energy:
            k = len(self.sub_mins)
            s0 = max(0, k * self.sub - self.smooth + 1)
            seg = self.energy[s0 : (k + 1) * self.sub]
            p = 10 ** (seg.astype(np.float64) / 10)
            if len(p) >= self.smooth:
                c = np.convolve(p, np.ones(self.smooth) / self.smooth, mode="valid")
            else:
                c = np.array([p.mean()])
            self.sub_mins.append(float(_db(c.min())))

    def _close(self, end_frame: int) -> Iterator[tuple[Transmission, np.ndarray]]:
        so = self.o.squelch
        s_frame = self.open_at
        self.is_open = False
        self.below = 0
        s = self.base + s_frame * self.n_frame
        e = self.base + end_frame * self.n_frame
        floor = self._floor((s_frame + end_frame) // 2)
        yield from self._emit(_Seg(s, e, floor, self.audio.get(s, e)))

    def _decide(self, upto: int) -> Iterator[tuple[Transmission, np.ndarray]]:
        so = self.o.squelch
        hang = max(1, int(so.hang_s * 1000 / so.frame_ms))
        max_open = int(so.max_open_s * 1000 / so.frame_ms)
        for i in range(self.decided, upto):
            f = self._floor(i)
            e = float(self.energy[i])
            if not self.is_open:
                if e > f + so.open_db:
                    self.is_open, self.open_at, self.below, self.last_above = True, i, 0, i
            else:
                if e > f + so.close_db:
                    self.below = 0
                    self.last_above = i
                else:
                    self.below += 1
                if self.below >= hang:
                    yield from self._close(self.last_above + 1)
                elif i - self.open_at >= max_open:
                    yield from self._close(i)
                    self.is_open, self.open_at, self.below, self.last_above = True, i, 0, i
        self.decided = max(self.decided, upto)
        keep_from = self.open_at if self.is_open else self.decided
        self.audio.drop_before(self.base + keep_from * self.n_frame)

    def feed(self, block: AudioBlock) -> Iterator[tuple[Transmission, np.ndarray]]:
        start = int(round(block.start_s * SAMPLE_RATE))
        if self.base is None:
            self.base = start
        x = block.samples
        self.audio.push(start, x)
        if self.o.mode == "call":
            yield from self._call_feed()
            return
        from scipy.signal import sosfilt, sosfilt_zi

        if self.zi is None:
            self.zi = sosfilt_zi(self.sos) * 0.0
        y, self.zi = sosfilt(self.sos, x, zi=self.zi)
        self._push_energy(y.astype(np.float32))
        # decide frames whose centred floor window is complete
        upto = len(self.sub_mins) * self.sub - self.half_w
        if upto > self.decided:
            yield from self._decide(upto)

    def finish(self) -> Iterator[tuple[Transmission, np.ndarray]]:
        if self.base is None:
            return
        if self.o.mode == "call":
            yield from self._call_feed(final=True)
            return
        # remaining partial sub-block counts for the floor too
        if self.n_energy > len(self.sub_mins) * self.sub:
            seg = self.energy[len(self.sub_mins) * self.sub : self.n_energy]
            self.sub_mins.append(float(np.min(seg)))
        yield from self._decide(self.n_energy)
        if self.is_open:
            yield from self._close(self.n_energy)

    # -- call -------------------------------------------------------------
    def _call_feed(self, final: bool = False) -> Iterator[tuple[Transmission, np.ndarray]]:
        o = self.o
        if self.call_start is None:
            self.call_start = self.base
        chunk = int(o.call_chunk_s * SAMPLE_RATE)
        while self.audio.end - self.call_start >= chunk or (final and self.audio.end > self.call_start):
            s, e = self.call_start, min(self.audio.end, self.call_start + chunk)
            a = self.audio.get(s, e)
            islands = _vad_islands(a, o) if o.use_vad else [(0, len(a), len(a))]
            next_start = e
            if not final or e < self.audio.end:
                # an island touching the chunk end may continue: carry it over
                tail = int(o.merge_gap_s * SAMPLE_RATE)
                if islands and islands[-1][1] >= len(a) - tail and islands[-1][0] > 0:
                    next_start = s + islands[-1][0]
                    islands = islands[:-1]
            for i0, i1, sp in islands:
                yield from self._emit_island(s, a, i0, i1, sp)
            self.call_start = next_start
            self.audio.drop_before(self.call_start)
            if final and e >= self.audio.end and next_start >= e:
                break

    def _emit_island(self, s: int, a: np.ndarray, i0: int, i1: int, speech: int):
        o = self.o
        if i1 - i0 < int(o.min_transmission_s * SAMPLE_RATE):
            return
        seg = a[i0:i1]
        t = Transmission(
            index=self.count,
            start_s=round((s + i0) / SAMPLE_RATE, 3),
            end_s=round((s + i1) / SAMPLE_RATE, 3),
            gate_start_s=round((s + i0) / SAMPLE_RATE, 3),
            gate_end_s=round((s + i1) / SAMPLE_RATE, 3),
            level_dbfs=round(float(_db(np.mean(seg.astype(np.float64) ** 2))), 1),
            floor_dbfs=None,
            snr_db=None,
            speech_s=round(speech / SAMPLE_RATE, 3),
            mode=o.mode,
            params=self.params,
        )
        self.count += 1
        yield t, seg


def _vad_islands(a: np.ndarray, o: SegmentOptions) -> list[tuple[int, int, int]]:
    """Silero speech islands in ``a`` merged across gaps < merge_gap_s and
    capped at max_transmission_s: list of (start, end, speech_samples)."""
    from faster_whisper.vad import VadOptions, get_speech_timestamps

    if len(a) < 512:
        return []
    v = o.vad
    ts = get_speech_timestamps(
        a,
        VadOptions(
            threshold=v.threshold,
            min_speech_duration_ms=v.min_speech_ms,
            min_silence_duration_ms=v.min_silence_ms,
            speech_pad_ms=v.speech_pad_ms,
            max_speech_duration_s=o.max_transmission_s,
        ),
    )
    gap = int(o.merge_gap_s * SAMPLE_RATE)
    cap = int(o.max_transmission_s * SAMPLE_RATE)
    out: list[list[int]] = []
    for t in ts:
        s, e = int(t["start"]), min(int(t["end"]), len(a))
        if out and s - out[-1][1] < gap and e - out[-1][0] <= cap:
            out[-1][1] = e
            out[-1][2] += e - s
        else:
            out.append([s, e, e - s])
    return [tuple(x) for x in out]


def segment_blocks(
    blocks: Iterable[AudioBlock], options: SegmentOptions | None = None
) -> Iterator[tuple[Transmission, np.ndarray]]:
    """Lazy ``(Transmission, samples)`` from a stream of decoded blocks."""
    seg = Segmenter(options)
    for b in blocks:
        yield from seg.feed(b)
    yield from seg.finish()


def segment_file(
    path: str | os.PathLike,
    options: SegmentOptions | None = None,
    *,
    start_s: float = 0.0,
) -> Iterator[Transmission]:
    """Lazy transmissions of a file (no audio kept)."""
    for t, _a in segment_blocks(iter_blocks(path, start_s=start_s), options):
        yield t
