#!/usr/bin/env python3
"""Benchmarks of the SDR path (figures go to docs/sdr.md).

    python tools/make_capture.py /tmp/sdrbench/cap24 --rate 2400000 --duration 90 \
        --channels=-612500,-250000,300000,787500 --seed 1          # 2.4 MS/s, 4 channels, truth JSON
    python bench/bench_sdr.py detect /tmp/sdrbench/cap24.sigmf-meta   # carrier + segmentation recall/precision/time error
    python bench/bench_sdr.py wer    /tmp/sdrbench/cap24.sigmf-meta   # WER demodulated vs the same speech as audio
    python bench/bench_sdr.py speed  /tmp/sdrbench/cap24.sigmf-meta [--channel HZ]   # ours vs GNU Radio, same channel
    python bench/bench_sdr.py all    /tmp/sdrbench/cap24.sigmf-meta

GNU Radio is the peer only here (GPL; not a dependency of the library): the
``speed`` bench runs its NBFM chain (freq_xlating_fir_filter_ccc +
analog.nbfm_rx, Python API) in a child ``/usr/bin/python3`` (Debian package
``gnuradio``) on the same capture file and channel, and compares both
outputs against the clean transmitted speech (SNR) and by Whisper WER.
Results are printed and appended as JSON lines to bench/out/results.jsonl.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "tools"))
sys.path.insert(0, str(ROOT / "bench"))
OUT = ROOT / "bench" / "out"
SR = 16000


from bench_audio import record  # noqa: E402  (one results file for the audio benches)


def load_truth(meta: Path) -> dict:
    stem = meta.name[: -len(".sigmf-meta")]
    return json.loads((meta.parent / f"{stem}.truth.json").read_text(encoding="utf-8"))


def wer_of(refs, hyps):
    from overheard.audio.wer import word_error_rate

    w = word_error_rate(refs, hyps)
    return (w.wer, w.errors, w.words)


def _stats(v):
    v = [abs(x) for x in v]
    return {"mean_ms": round(1000 * float(np.mean(v)), 1), "max_ms": round(1000 * float(np.max(v)), 1)} if v else None


def _overlap(a0, a1, b0, b1):
    return max(0.0, min(a1, b1) - max(a0, b0))


# ------------------------------------------------------------------ clean references
_LINES = None


def lines():
    global _LINES
    if _LINES is None:
        from make_capture import load_lines

        _LINES = {ln["line"]: ln for ln in load_lines()}
    return _LINES


def clean_segment_offsets() -> dict[int, tuple[float, float]]:
    """Where the audio library's segmenter puts each clean (TX-band) line when fed as
    audio: (start, end) relative to the clip start, clip placed in 1 s of digital silence."""
    from make_capture import tx_audio

    from overheard.audio.decode import AudioBlock
    from overheard.audio.segment import segment_blocks

    out = {}
    for i, ln in lines().items():
        a = np.concatenate([np.zeros(SR, np.float32), tx_audio(ln["audio"]), np.zeros(2 * SR, np.float32)])
        segs = [t for t, _ in segment_blocks([AudioBlock(0.0, a)])]
        if segs:
            out[i] = (segs[0].start_s - 1.0, segs[-1].end_s - 1.0)
    return out


# ------------------------------------------------------------------ detection
def bench_detect(meta: Path, min_snr: float = 10.0) -> dict:
    from overheard.sdr import iter_capture_transmissions, open_capture, scan_capture

    truth = load_truth(meta)
    cap = open_capture(meta)
    fs = cap.sample_rate
    T = truth["transmissions"]
    # 1. carrier detection (scan)
    t0 = time.perf_counter()
    acts = scan_capture(meta)
    scan_s = time.perf_counter() - t0
    found = [(a.channel_hz, s / fs, e / fs) for a in acts for s, e in a.intervals]
    res = {"capture": meta.name, "sample_rate": fs, "duration_s": round(cap.duration_s, 1), "n_truth": len(T)}
    res["carrier"] = _match(T, found, "key_start_s", "key_end_s", min_snr)
    res["carrier"]["scan_x_realtime"] = round(cap.duration_s / scan_s, 1)
    # 2. segmentation of the demodulated audio (one-pass pipeline, no Whisper)
    t0 = time.perf_counter()
    txs = list(iter_capture_transmissions(meta))
    pipe_s = time.perf_counter() - t0
    res["pipeline_x_realtime"] = round(cap.duration_s / pipe_s, 1)
    found = [(t.channel_hz, t.start_s, t.end_s) for t in txs]
    offs = clean_segment_offsets()
    T2 = []
    for t in T:
        o = offs.get(t["line"])
        if o:
            T2.append({**t, "ref_start_s": t["speech_start_s"] + o[0], "ref_end_s": t["speech_start_s"] + o[1]})
    # the RF burst each transmission reports (carrier_start_s/end_s) vs key-up/key-down
    burst = [(t.channel_hz, t.carrier_start_s, t.carrier_end_s) for t in txs if t.carrier_start_s is not None]
    res["transmission_carrier_vs_key"] = _match(T, burst, "key_start_s", "key_end_s", min_snr)
    res["segments_vs_carrier"] = _match(T, found, "key_start_s", "key_end_s", min_snr)
    res["segments_vs_clean_audio_segmentation"] = _match(T2, found, "ref_start_s", "ref_end_s", min_snr)
    res["segments_vs_voice"] = _match(T, found, "voice_start_s", "voice_end_s", min_snr)
    record("sdr-detect", res)
    return res


def _match(T, found, k0, k1, min_snr):
    """A truth transmission is found when a detection on its channel overlaps
    its [k0, k1] by >= 50 % of the truth (or of the detection); precision counts
    detections that overlap no truth transmission on their channel."""
    out = {"by_snr": {}}
    tp_found = 0
    for ch, s, e in found:
        if any(t["channel_hz"] == ch and _overlap(s, e, t[k0], t[k1]) >= 0.5 * min(e - s, t[k1] - t[k0]) for t in T):
            tp_found += 1
    wrong_channel = sum(
        1 for ch, s, e in found
        if not any(t["channel_hz"] == ch and _overlap(s, e, t[k0], t[k1]) > 0 for t in T)
        and any(_overlap(s, e, t[k0], t[k1]) > 0 for t in T)
    )  # fmt: skip
    for snr in sorted({t["snr_db"] for t in T}, reverse=True):
        sel = [t for t in T if t["snr_db"] == snr]
        det, es, ee = 0, [], []
        for t in sel:
            m = [(s, e) for ch, s, e in found if ch == t["channel_hz"] and _overlap(s, e, t[k0], t[k1]) >= 0.5 * min(e - s, t[k1] - t[k0])]
            if m:
                det += 1
                es.append(min(s for s, _ in m) - t[k0])
                ee.append(max(e for _, e in m) - t[k1])
        out["by_snr"][f"{snr:g}dB"] = {"n": len(sel), "recall": round(det / len(sel), 3), "start_err": _stats(es), "end_err": _stats(ee)}
    sel = [t for t in T if t["snr_db"] >= min_snr and t[k1] - t[k0] >= 1.0]
    det, es, ee, signed_s, signed_e = 0, [], [], [], []
    for t in sel:
        m = [(s, e) for ch, s, e in found if ch == t["channel_hz"] and _overlap(s, e, t[k0], t[k1]) >= 0.5 * min(e - s, t[k1] - t[k0])]
        if m:
            det += 1
            es.append(min(s for s, _ in m) - t[k0])
            ee.append(max(e for _, e in m) - t[k1])
    out[f"ge_{min_snr:g}dB"] = {
        "n": len(sel),
        "recall": round(det / max(1, len(sel)), 3),
        "start_err": _stats(es),
        "end_err": _stats(ee),
        "start_bias_ms": round(1000 * float(np.mean(es)), 1) if es else None,
        "end_bias_ms": round(1000 * float(np.mean(ee)), 1) if ee else None,
    }
    out["n_found"] = len(found)
    out["precision"] = round(tp_found / max(1, len(found)), 3)
    out["wrong_channel"] = wrong_channel
    return out


# ------------------------------------------------------------------ WER
def _write_wav(path: Path, a: np.ndarray) -> None:
    import wave

    pcm = np.clip(np.round(a * 32767), -32768, 32767).astype("<i2")
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(SR)
        w.writeframes(pcm.tobytes())


def _hyps(T, found):
    """Per truth transmission: the text of found (channel, start, end, text) on its
    channel that overlap its carrier interval by >= 50 % of the found one."""
    out = []
    for t in T:
        m = sorted(
            (x for x in found if x[0] == t["channel_hz"] and _overlap(x[1], x[2], t["key_start_s"], t["key_end_s"]) >= 0.5 * (x[2] - x[1])),
            key=lambda x: x[1],
        )
        out.append(" ".join(x[3] for x in m))
    return out


def bench_wer(meta: Path, lang: str = "ru") -> dict:
    """Same speech, four ways, each through the audio library's process_audio
    (squelch/VAD segmentation + Whisper, language fixed):
      clean_audio     the clean lines laid on each channel's timeline (digital silence between)
      tx_band_audio   the same through the handheld's 300-3000 Hz voice band
      demodulated     our squelched NFM audio of each channel, written to a WAV
    plus the library's own one-pass path (transcribe_capture) on the capture."""
    from make_capture import tx_audio

    from overheard.audio.model import load_model
    from overheard.audio.pipeline import process_audio
    from overheard.audio.transcribe import TranscribeOptions
    from overheard.sdr import iter_channels_audio, transcribe_capture

    truth = load_truth(meta)
    T = truth["transmissions"]
    chans = sorted({t["channel_hz"] for t in T})
    lm = load_model(None)
    demod: dict[float, list] = {f: [] for f in chans}
    for f, blk in iter_channels_audio(meta, chans):
        demod[f].append(blk.samples)
    demod = {f: np.concatenate(v) for f, v in demod.items()}
    n = len(next(iter(demod.values())))
    variants: dict[str, dict[float, np.ndarray]] = {"clean_audio": {}, "tx_band_audio": {}, "demodulated": demod}
    # ablation of the demodulator's audio chain (issue 12: where do the WER points go?)
    from overheard.sdr.pipeline import SdrOptions
    for name, opts in (("demod_no_deemphasis", SdrOptions(deemphasis_us=0.0)),
                       ("demod_band_100_7000", SdrOptions(audio_band_hz=(100.0, 7000.0))),
                       ("demod_no_squelch", SdrOptions(squelch=False))):
        per: dict[float, list] = {f: [] for f in chans}
        for f, blk in iter_channels_audio(meta, chans, options=opts):
            per[f].append(blk.samples)
        variants[name] = {f: np.concatenate(v)[:n] for f, v in per.items()}
    for f in chans:
        c, b = np.zeros(n, np.float32), np.zeros(n, np.float32)
        for t in T:
            if t["channel_hz"] != f:
                continue
            a = lines()[t["line"]]["audio"]
            s = int(round(t["speech_start_s"] * SR))
            c[s : s + len(a)] = a[: n - s]
            bb = tx_audio(a)
            b[s : s + len(bb)] = bb[: n - s]
        variants["clean_audio"][f] = c
        variants["tx_band_audio"][f] = b
    found: dict[str, list] = {}
    with tempfile.TemporaryDirectory() as td:
        for name, per in variants.items():
            found[name] = []
            for f, a in per.items():
                wav = Path(td) / f"{name}_{int(f)}.wav"
                _write_wav(wav, a)
                for pt in process_audio(wav, mode="radio", lang=lang, model=lm, gloss=False):
                    found[name].append((f, pt.start_s, pt.end_s, pt.text))
    t0 = time.perf_counter()
    txs = list(transcribe_capture(meta, lang=lang, model=lm, transcribe_options=TranscribeOptions(lang=lang, task_gloss=False)))
    el = time.perf_counter() - t0
    found["library_one_pass"] = [(x.channel_hz, x.start_s, x.end_s, x.text) for x in txs]
    # unsegmented: each transmission cut at its carrier interval (isolates the radio path from segmentation)
    from overheard.audio.transcribe import transcribe_items

    tro = TranscribeOptions(lang=lang, task_gloss=False)
    cut = {k: tr.text for k, tr in transcribe_items(
        [(i, demod[t["channel_hz"]][int(t["key_start_s"] * SR) : int(t["key_end_s"] * SR)]) for i, t in enumerate(T)], model=lm, options=tro)}  # fmt: skip
    clip = {k: tr.text for k, tr in transcribe_items([(i, lines()[t["line"]]["audio"]) for i, t in enumerate(T)], model=lm, options=tro)}
    res = {"capture": meta.name, "model": "whisper-base (embedded)", "lang": lang, "n_truth": len(T),
           "n_found": {k: len(v) for k, v in found.items()}, "transcribe_capture_x_realtime": round(truth["duration_s"] / el, 2)}  # fmt: skip
    hyps = {k: _hyps(T, v) for k, v in found.items()}
    hyps["demodulated_carrier_cuts"] = [cut.get(i, "") for i in range(len(T))]
    hyps["clean_clips"] = [clip.get(i, "") for i in range(len(T))]
    groups = {}
    for i, t in enumerate(T):
        for key in (f"{t['snr_db']:g}dB", "ge_10dB" if t["snr_db"] >= 10 else "lt_10dB", "all"):
            groups.setdefault(key, []).append(i)
    for key, idx in groups.items():
        refs = [T[i]["text"] for i in idx]
        row = {"n": len(idx)}
        for name, h in hyps.items():
            row[name] = round(wer_of(refs, [h[i] for i in idx])[0], 3)
        row["delta_points_demod_vs_clean"] = round(100 * (row["demodulated"] - row["clean_audio"]), 1)
        row["delta_points_demod_vs_tx_band"] = round(100 * (row["demodulated"] - row["tx_band_audio"]), 1)
        res[key] = row
    res["examples"] = [{"snr_db": T[i]["snr_db"], "ref": T[i]["text"], "demodulated": hyps["demodulated"][i], "clean_audio": hyps["clean_audio"][i]} for i in range(6)]
    record("sdr-wer", res)
    return res


# ------------------------------------------------------------------ speed + quality vs GNU Radio
GR_SCRIPT = r"""
import sys, time, json, math
from gnuradio import gr, blocks, analog, filter
from gnuradio.fft import window
src, dst, fs, offsets, step, dev, tau = sys.argv[1], sys.argv[2], float(sys.argv[3]), [float(v) for v in sys.argv[4].split(",")], float(sys.argv[5]), float(sys.argv[6]), float(sys.argv[7])
quad = 32000
decim = int(round(fs / quad))
assert abs(fs / decim - quad) < 1e-6, "this GNU Radio chain needs fs a multiple of 32 kHz"
# same edges as ours: flat to 0.42*step, zero from 0.60*step
pb, sb = 0.42 * step, 0.60 * step
taps = filter.firdes.low_pass(1.0, fs, (pb + sb) / 2, sb - pb, window.WIN_HAMMING)
tb = gr.top_block()
s = blocks.file_source(gr.sizeof_gr_complex, src, False)
for i, off in enumerate(offsets):
    x = filter.freq_xlating_fir_filter_ccc(decim, taps, off, fs)
    rx = analog.nbfm_rx(audio_rate=16000, quad_rate=quad, tau=tau, max_dev=dev)
    k = blocks.file_sink(gr.sizeof_float, dst + f".{i}", False)
    tb.connect(s, x, rx, k)
t0 = time.perf_counter()
tb.run()
el = time.perf_counter() - t0
print(json.dumps({"elapsed_s": el, "taps": len(taps), "decim": decim}))
"""


def _band(a, lo=300.0, hi=2700.0):
    from scipy.signal import butter, sosfiltfilt

    return sosfiltfilt(butter(6, [lo, hi], btype="band", fs=SR, output="sos"), a)


def audio_snr(out: np.ndarray, ref: np.ndarray, t0: float, max_lag_s: float = 0.05, half_taps: int = 128) -> tuple[float, float]:
    """(SNR dB, lag ms) of receiver output ``out`` (whole channel audio) against the
    clean reference ``ref`` that starts at ``t0``, in the 300-2700 Hz band: best
    lag by cross-correlation, then the best linear filter (Wiener, ±8 ms) from
    reference to output, so each receiver's own audio filters (phase, tilt) are
    not counted as noise; SNR = fitted power / residual power."""
    from scipy.linalg import solve_toeplitz

    r = _band(ref.astype(np.float64))
    L = int(max_lag_s * SR)
    s0 = int(round(t0 * SR))
    seg = out[max(0, s0 - L) : s0 + len(r) + L].astype(np.float64)
    if len(seg) < len(r) + 2 * L:
        return float("nan"), float("nan")
    seg = _band(seg)
    c = np.correlate(seg, r, mode="valid")
    k = int(np.argmax(np.abs(c)))
    o = seg[k : k + len(r)]
    c2 = half_taps
    n = len(r)
    rr = np.array([np.dot(r[: n - l], r[l:]) for l in range(2 * c2 + 1)])
    ro = np.array([np.dot(o[max(0, m) : n + min(0, m)], r[max(0, -m) : n - max(0, m)]) for m in range(-c2, c2 + 1)])
    h = solve_toeplitz(rr, ro)
    fit = np.convolve(r, h)[c2 : c2 + n]
    err = o - fit
    return 10 * np.log10(np.dot(fit, fit) / max(1e-20, np.dot(err, err))), (k - L) / SR * 1000


def _run_gr(gr_python, cap, offsets, truth, td):
    import resource

    dst = Path(td) / "gr"
    cmd = [gr_python, "-c", GR_SCRIPT, cap.data_path, str(dst), str(cap.sample_rate), ",".join(str(o) for o in offsets),
           str(truth["channel_step"]), str(truth["deviation_hz"]), str(truth["preemphasis_us"] * 1e-6)]  # fmt: skip
    c0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    p = subprocess.run(cmd, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    c1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    if p.returncode:
        raise SystemExit(f"GNU Radio failed: {(p.stderr.strip().splitlines() or [p.returncode])[-1]}")
    info = json.loads(p.stdout.strip().splitlines()[-1])
    outs = [np.fromfile(f"{dst}.{i}", dtype=np.float32) for i in range(len(offsets))]
    dur = cap.duration_s
    return outs, {
        "x_realtime": round(dur / info["elapsed_s"], 1),
        "wall_s": round(info["elapsed_s"], 2),
        "process_wall_s": round(wall, 2),
        "cpu_s": round((c1.ru_utime - c0.ru_utime) + (c1.ru_stime - c0.ru_stime), 2),
        "taps": info["taps"],
        "decim": info["decim"],
    }


def _run_ours(cap, channels, squelch):
    import resource

    from overheard.sdr import SdrOptions, iter_channels_audio

    t0 = time.perf_counter()
    c0 = resource.getrusage(resource.RUSAGE_SELF)
    parts: dict[float, list] = {f: [] for f in channels}
    for f, blk in iter_channels_audio(cap, channels, options=SdrOptions(squelch=squelch)):
        parts[f].append(blk.samples)
    c1 = resource.getrusage(resource.RUSAGE_SELF)
    el = time.perf_counter() - t0
    outs = [np.concatenate(parts[f]) for f in channels]
    dur = cap.duration_s
    return outs, {"x_realtime": round(dur / el, 1), "wall_s": round(el, 2), "cpu_s": round((c1.ru_utime - c0.ru_utime) + (c1.ru_stime - c0.ru_stime), 2)}


def bench_speed(meta: Path, channel_hz: float | None = None, lang: str = "ru", gr_python: str = "/usr/bin/python3") -> dict:
    from make_capture import tx_audio

    from overheard.audio.model import load_model
    from overheard.audio.transcribe import TranscribeOptions, transcribe_items
    from overheard.sdr import open_capture, scan_capture

    truth = load_truth(meta)
    cap = open_capture(meta)
    fs, cf = cap.sample_rate, cap.center_freq
    T = truth["transmissions"]
    all_ch = sorted({t["channel_hz"] for t in T})
    if channel_hz is None:  # the channel with the most transmissions
        chs = [t["channel_hz"] for t in T]
        channel_hz = max(all_ch, key=chs.count)
    dur = cap.duration_s
    ver = subprocess.run([gr_python, "-c", "from gnuradio import gr; print(gr.version())"], capture_output=True, text=True).stdout.strip()
    res = {"capture": meta.name, "sample_rate": fs, "duration_s": round(dur, 1), "datatype": cap.datatype, "channel_hz": channel_hz,
           "cpu_count": os.cpu_count(), "load_avg_before": os.getloadavg()[0], "gnuradio_version": ver,
           "gnuradio_chain": "file_source -> freq_xlating_fir_filter_ccc -> analog.nbfm_rx(16k, 32k) -> file_sink, per channel",
           "ours_chain": "memmap -> shared FFT (65536) -> per channel 1024-pt IFFT -> discriminator -> de-emphasis -> 37.5k->16k -> voice band"}  # fmt: skip
    if cap.datatype != "cf32_le" or cap.kind != "sigmf":
        raise SystemExit("the GNU Radio chain here reads cf32_le SigMF data: make the capture with --datatype cf32_le")
    for _s, _c in cap.iter_chunks(1 << 22):  # warm the page cache: both readers see the same I/O
        pass
    _run_ours(cap, [channel_hz], False)  # warm-up: imports, FFT plans
    speed = {}
    with tempfile.TemporaryDirectory() as td:
        for label, chans in (("1ch", [channel_hz]), (f"{len(all_ch)}ch", all_ch)):
            o_out, o_t = _run_ours(cap, chans, False)
            g_out, g_t = _run_gr(gr_python, cap, [c - cf for c in chans], truth, td)
            speed[label] = {"ours": o_t, "gnuradio": g_t}
            if label == "1ch":
                ours1, gr1 = o_out[0], g_out[0]
        sq_out, sq_t = _run_ours(cap, [channel_hz], True)
        speed["1ch"]["ours_squelched"] = sq_t
    t0 = time.perf_counter()
    scan_capture(cap)
    el = time.perf_counter() - t0
    speed["scan_all_raster_channels"] = {"x_realtime": round(dur / el, 1), "wall_s": round(el, 2)}
    res["speed"] = speed
    res["load_avg_after"] = os.getloadavg()[0]
    # quality: each transmission on this channel vs the clean transmitted speech
    sel = [t for t in T if t["channel_hz"] == channel_hz]
    outs = {"ours": ours1, "ours_squelched": sq_out[0], "gnuradio": gr1}
    q = {}
    lm = load_model(None)
    tro = TranscribeOptions(lang=lang, task_gloss=False)
    for name, a in outs.items():
        rows = []
        for t in sel:
            ref = tx_audio(lines()[t["line"]]["audio"])
            snr, lag = audio_snr(a, ref, t["speech_start_s"])
            rows.append((t["snr_db"], snr, lag))
        by = {}
        for rf in sorted({r[0] for r in rows}, reverse=True):
            by[f"{rf:g}dB"] = round(float(np.nanmean([r[1] for r in rows if r[0] == rf])), 1)
        q[name] = {"audio_snr_db_by_rf_snr": by, "lag_ms": round(float(np.nanmedian([r[2] for r in rows])), 2)}
        # WER on the same cuts (truth key intervals), same Whisper
        items = [(i, a[int(t["key_start_s"] * SR) : int(t["key_end_s"] * SR)]) for i, t in enumerate(sel)]
        hyp = {k: tr.text for k, tr in transcribe_items(items, model=lm, options=tro)}
        refs = [t["text"] for t in sel]
        hs = [hyp.get(i, "") for i in range(len(sel))]
        hi = [i for i, t in enumerate(sel) if t["snr_db"] >= 10]
        q[name]["wer_all"] = round(wer_of(refs, hs)[0], 3)
        q[name]["wer_ge_10dB"] = round(wer_of([refs[i] for i in hi], [hs[i] for i in hi])[0], 3)
    res["quality"] = q
    res["n_transmissions_on_channel"] = len(sel)
    record("sdr-speed", res)
    return res


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("what", choices=["detect", "wer", "speed", "all"])
    ap.add_argument("capture", type=Path, help="a .sigmf-meta made by tools/make_capture.py (truth JSON beside it)")
    ap.add_argument("--channel", type=float, default=None, help="speed: RF channel to compare (default: the busiest)")
    ap.add_argument("--lang", default="ru")
    ap.add_argument("--gr-python", default="/usr/bin/python3", help="interpreter with GNU Radio's Python API")
    a = ap.parse_args(argv)
    if a.what in ("detect", "all"):
        bench_detect(a.capture)
    if a.what in ("speed", "all"):
        bench_speed(a.capture, a.channel, a.lang, a.gr_python)
    if a.what in ("wer", "all"):
        bench_wer(a.capture, a.lang)


if __name__ == "__main__":
    main()
