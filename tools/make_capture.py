#!/usr/bin/env python3
"""Generate a wideband SDR capture (SigMF) of NFM voice traffic, with truth.

Speech: the shipped clean lines (``examples/audio/demo_lines_clean.ogg`` cut
by ``demo_lines_clean.json``).  Each transmission goes through a simulated
handheld: 300-3000 Hz voice band, pre-emphasis (``--preemph-us``, 75 µs),
peak limiter to ``--deviation`` (2.5 kHz), optional CTCSS sub-tone, FM at a
channel offset, key-up ``0.1-0.3 s`` before the speech and carrier drop
``0.1-0.3 s`` after.  Channels carry transmissions that overlap in time.
Receiver noise is complex white Gaussian; each transmission's SNR is the
carrier-to-noise ratio in the ``--step`` (12.5 kHz) channel bandwidth, cycling
through ``--snrs``.

Writes ``<out>.sigmf-meta`` + ``<out>.sigmf-data`` (``cf32_le`` or
``ci16_le``, written in blocks: any length fits in bounded memory) and
``<out>.truth.json``: per transmission channel frequency, key (carrier) and
speech start/end in seconds and capture samples, SNR and text.

Examples::

    python tools/make_capture.py /tmp/cap/test --rate 240000 --duration 8 --channels=-50000,37500 --lines 7,15
    python tools/make_capture.py /tmp/cap/bench --rate 2400000 --duration 120 --channels=-612500,-250000,300000,787500
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
LINES_AUDIO = ROOT / "examples" / "audio" / "demo_lines_clean.ogg"
SR = 16000
MSG_RATE = 48000  # message rate before interpolation to the capture rate
DEFAULT_SNRS = (25.0, 15.0, 10.0, 7.0, 4.0)


def load_lines(audio: Path = LINES_AUDIO) -> list[dict]:
    """[{'text', 'audio' (16 kHz float32)}] from the shipped clean lines."""
    sys.path.insert(0, str(ROOT / "src"))
    from overheard.audio.decode import iter_blocks

    meta = json.loads(audio.with_suffix(".json").read_text(encoding="utf-8"))
    x = np.concatenate([b.samples for b in iter_blocks(audio)])
    out = []
    for i, ln in enumerate(meta["lines"]):
        a = x[int(ln["start_s"] * SR) : int(ln["end_s"] * SR)]
        out.append({"line": i, "text": ln["text"], "audio": a.astype(np.float32)})
    return out


def tx_audio(a: np.ndarray) -> np.ndarray:
    """Handheld transmit voice band (300-3000 Hz), 16 kHz in and out."""
    from scipy.signal import butter, sosfiltfilt

    sos = butter(4, [300, 3000], btype="band", fs=SR, output="sos")
    return sosfiltfilt(sos, a).astype(np.float32)


def fm_message(a16: np.ndarray, preemph_us: float, ctcss_hz: float | None = None) -> np.ndarray:
    """Voice-band audio (16 kHz) -> normalised message at MSG_RATE, peak 1."""
    from scipy.signal import bilinear, lfilter, resample_poly

    m = resample_poly(tx_audio(a16), MSG_RATE // SR, 1)
    if preemph_us:
        tau = preemph_us * 1e-6
        tau2 = 1.0 / (2 * np.pi * 15000.0)  # realisable high-shelf: (1 + s tau) / (1 + s tau2)
        b, aa = bilinear([tau, 1.0], [tau2, 1.0], fs=MSG_RATE)
        m = lfilter(b, aa, m)
    peak = np.percentile(np.abs(m), 99.9) or 1.0
    m = np.clip(m / peak, -1.0, 1.0)  # limiter: 99.9th percentile = full deviation
    if ctcss_hz:
        t = np.arange(len(m)) / MSG_RATE
        m = 0.85 * m + 0.15 * np.sin(2 * np.pi * ctcss_hz * t)
    return m.astype(np.float64)


def voice_bounds(a: np.ndarray, rel_db: float = -35.0) -> tuple[float, float]:
    """First/last 10 ms frame of a clean clip within ``rel_db`` of its loudest frame, seconds."""
    n = SR // 100
    nf = len(a) // n
    if nf == 0:
        return 0.0, len(a) / SR
    e = 10 * np.log10(np.mean(a[: nf * n].reshape(nf, n).astype(np.float64) ** 2, axis=1) + 1e-12)
    on = np.flatnonzero(e >= e.max() + rel_db)
    return on[0] * n / SR, (on[-1] + 1) * n / SR


def schedule(lines: list[dict], channels: list[float], duration: float, snrs, rng, line_ids=None) -> list[dict]:
    """Per channel, back-to-back transmissions with 1-4 s gaps; channels start
    at staggered times so transmissions on different channels overlap."""
    txs = []
    order = list(line_ids) if line_ids else list(range(len(lines)))
    li = 0
    for ci, off in enumerate(channels):
        t = 0.3 + rng.uniform(0, 1.0) + 0.7 * ci
        k = ci
        while True:
            ln = lines[order[li % len(order)]]
            lead, tail = rng.uniform(0.1, 0.3), rng.uniform(0.1, 0.3)
            dur = len(ln["audio"]) / SR
            if t + lead + dur + tail > duration - 0.2:
                break
            txs.append({
                "offset_hz": float(off),
                "key_start_s": round(t, 4),
                "speech_start_s": round(t + lead, 4),
                "speech_end_s": round(t + lead + dur, 4),
                "key_end_s": round(t + lead + dur + tail, 4),
                "snr_db": float(snrs[k % len(snrs)]),
                "text": ln["text"],
                "line": ln["line"],
            })  # fmt: skip
            li += 1
            k += 1
            t += lead + dur + tail + rng.uniform(1.0, 4.0)
            if line_ids and li >= len(order):
                break
        if line_ids and li >= len(order):
            break
    return sorted(txs, key=lambda d: d["key_start_s"])


def make_capture(
    out: str | Path,
    *,
    rate: float = 2_400_000,
    center: float = 145_000_000.0,
    duration: float = 60.0,
    channels: list[float] | None = None,
    step: float = 12_500.0,
    snrs=DEFAULT_SNRS,
    deviation: float = 2500.0,
    preemph_us: float = 75.0,
    ctcss_hz: float | None = 88.5,
    datatype: str = "cf32_le",
    noise_dbfs: float = -40.0,
    seed: int = 0,
    start: str = "2025-03-01T06:00:00Z",
    line_ids: list[int] | None = None,
    lines: list[dict] | None = None,
    block_s: float = 0.25,
) -> dict:
    """Write ``<out>.sigmf-meta/-data`` and ``<out>.truth.json``; return the truth dict."""
    import sigmf
    from sigmf import SigMFFile

    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    channels = list(channels if channels is not None else [-250_000.0, 300_000.0])
    lines = lines if lines is not None else load_lines()
    txs = schedule(lines, channels, duration, snrs, rng, line_ids)
    fs = float(rate)
    n_total = int(round(duration * fs))
    sigma = 10 ** (noise_dbfs / 20)  # complex noise RMS (total)
    by_line = {ln["line"]: ln for ln in lines}
    # per transmission: message at MSG_RATE covering the keyed interval (silence at lead/tail)
    for i, t in enumerate(txs):
        m = fm_message(by_line[t["line"]]["audio"], preemph_us, None)
        lead = int(round((t["speech_start_s"] - t["key_start_s"]) * MSG_RATE))
        n_key = int(round((t["key_end_s"] - t["key_start_s"]) * MSG_RATE)) + 2
        msg = np.zeros(n_key)
        msg[lead : lead + len(m)] = m[: max(0, n_key - lead)]
        t["ctcss_hz"] = ctcss_hz if (ctcss_hz and i % 2 == 0) else None
        if t["ctcss_hz"]:  # the sub-tone runs for the whole key-up
            msg = 0.85 * msg + 0.15 * np.sin(2 * np.pi * ctcss_hz * np.arange(n_key) / MSG_RATE)
        t["_msg"] = msg
        t["_amp"] = sigma * np.sqrt(10 ** (t["snr_db"] / 10) * step / fs)
        t["_phase"] = float(rng.uniform(0, 2 * np.pi))
        v0, v1 = voice_bounds(by_line[t["line"]]["audio"])
        t["voice_start_s"] = round(t["speech_start_s"] + v0, 4)
        t["voice_end_s"] = round(t["speech_start_s"] + v1, 4)
        t["sample_start"] = int(round(t["key_start_s"] * fs))
        t["sample_count"] = int(round(t["key_end_s"] * fs)) - t["sample_start"]
        t["channel_hz"] = center + t["offset_hz"]
    data_fn = out.with_name(out.name + ".sigmf-data")
    meta_fn = out.with_name(out.name + ".sigmf-meta")
    blk = int(block_s * fs)
    with open(data_fn, "wb") as f:
        for n0 in range(0, n_total, blk):
            n1 = min(n_total, n0 + blk)
            n = n1 - n0
            x = (rng.standard_normal(n) + 1j * rng.standard_normal(n)) * (sigma / np.sqrt(2))
            for t in txs:
                s, e = t["sample_start"], t["sample_start"] + t["sample_count"]
                lo, hi = max(n0, s), min(n1, e)
                if lo >= hi:
                    continue
                idx = np.arange(lo, hi)
                tm = (idx - s) / fs * MSG_RATE
                msg = np.interp(tm, np.arange(len(t["_msg"])), t["_msg"])
                dphi = 2 * np.pi * deviation / fs * msg
                ph = t["_phase"] + np.cumsum(dphi)
                t["_phase"] = float(ph[-1])
                carrier = 2 * np.pi * t["offset_hz"] / fs * idx
                x[lo - n0 : hi - n0] += t["_amp"] * np.exp(1j * (ph + carrier))
            if datatype == "cf32_le":
                f.write(x.astype(np.complex64).tobytes())
            elif datatype == "ci16_le":
                iq = np.empty(2 * n, dtype=np.float64)
                iq[0::2], iq[1::2] = x.real, x.imag
                f.write(np.clip(np.round(iq * 32767), -32768, 32767).astype("<i2").tobytes())
            else:
                raise ValueError(f"datatype {datatype} not supported by the generator (cf32_le, ci16_le)")
    meta = SigMFFile(
        global_info={
            sigmf.DATATYPE_KEY: datatype,
            sigmf.SAMPLE_RATE_KEY: fs,
            sigmf.DESCRIPTION_KEY: "Simulated NFM voice traffic (overheard tools/make_capture.py)",
            sigmf.RECORDER_KEY: "overheard tools/make_capture.py",
            sigmf.LICENSE_KEY: "MIT",
        }
    )
    meta.set_data_file(data_fn, skip_checksum=False)
    meta.add_capture(0, metadata={sigmf.FREQUENCY_KEY: center, sigmf.DATETIME_KEY: start})
    meta.validate()
    meta_fn.write_text(meta.dumps(pretty=True), encoding="utf-8")
    t0 = datetime.fromisoformat(start.replace("Z", "+00:00"))
    truth = {
        "capture": meta_fn.name,
        "generator": "tools/make_capture.py",
        "seed": seed,
        "sample_rate": fs,
        "center_freq": center,
        "datetime": start,
        "duration_s": n_total / fs,
        "datatype": datatype,
        "channel_step": step,
        "deviation_hz": deviation,
        "preemphasis_us": preemph_us,
        "ctcss_hz": ctcss_hz,
        "noise_dbfs": noise_dbfs,
        "snr_definition": "carrier power / noise power in channel_step bandwidth, dB",
        "transmissions": [
            {
                **{k: v for k, v in t.items() if not k.startswith("_")},
                "utc_start": (t0 + timedelta(seconds=t["key_start_s"])).isoformat().replace("+00:00", "Z"),
            }
            for t in txs
        ],
    }
    out.with_name(out.name + ".truth.json").write_text(json.dumps(truth, ensure_ascii=False, indent=1), encoding="utf-8")
    return truth


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("out", help="output stem: writes OUT.sigmf-meta, OUT.sigmf-data, OUT.truth.json")
    ap.add_argument("--rate", type=float, default=2_400_000)
    ap.add_argument("--center", type=float, default=145_000_000)
    ap.add_argument("--duration", type=float, default=60.0)
    ap.add_argument("--channels", default="-250000,300000", help="comma-separated offsets from the centre, Hz")
    ap.add_argument("--step", type=float, default=12_500)
    ap.add_argument("--snrs", default=",".join(str(s) for s in DEFAULT_SNRS))
    ap.add_argument("--deviation", type=float, default=2500)
    ap.add_argument("--preemph-us", type=float, default=75.0)
    ap.add_argument("--ctcss", type=float, default=88.5, help="sub-tone Hz on every other transmission (0 = none)")
    ap.add_argument("--datatype", default="cf32_le", choices=["cf32_le", "ci16_le"])
    ap.add_argument("--noise-dbfs", type=float, default=-40.0)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--start", default="2025-03-01T06:00:00Z", help="core:datetime of sample 0")
    ap.add_argument("--lines", default=None, help="comma-separated line numbers to use, in order (default: all, cycling)")
    a = ap.parse_args(argv)
    truth = make_capture(
        a.out,
        rate=a.rate,
        center=a.center,
        duration=a.duration,
        channels=[float(c) for c in a.channels.split(",") if c.strip()],
        step=a.step,
        snrs=[float(s) for s in a.snrs.split(",")],
        deviation=a.deviation,
        preemph_us=a.preemph_us,
        ctcss_hz=a.ctcss or None,
        datatype=a.datatype,
        noise_dbfs=a.noise_dbfs,
        seed=a.seed,
        start=a.start,
        line_ids=[int(x) for x in a.lines.split(",")] if a.lines else None,
    )
    n = len(truth["transmissions"])
    print(f"{truth['capture']}: {truth['duration_s']:.1f} s at {truth['sample_rate']:.0f} S/s, {n} transmissions")


if __name__ == "__main__":
    main()
