#!/usr/bin/env python3
"""Generate a simulated Russian military voice-radio recording with truth.

Speech comes from Festival's Russian voice (Debian: ``apt-get install festival
festvox-ru``; voice ``voice_msu_ru_nsh_clunits``) for the script lines below,
written for this project in the style of tactical radio traffic.  Festival is
needed only once: the clean synthesised lines are also written to
``demo_lines_clean.ogg`` (+ ``demo_lines_clean.json``) and ``--lines-from``
rebuilds any recording from them without Festival.

Each line is passed through a simulated voice-radio channel: 300-3000 Hz band
limit, limiter/clipping, receiver noise at a given SNR (cycling 25/15/10/5 dB),
a key-up burst before and a squelch-tail burst after the speech, and laid on a
timeline with gaps that are either digital silence (squelched receiver) or
hiss (open squelch).  A few non-speech events (a 1 kHz tone, a "kerchunk" =
carrier with no speech) are mixed in.  Output: audio (Opus or FLAC/WAV, mono
16 kHz) plus ``<name>.truth.json`` with each event's start/end/text/SNR.

Examples::

    python tools/make_demo_radio.py examples/audio/demo_radio.ogg            # committed demo (needs Festival)
    python tools/make_demo_radio.py /tmp/r30.flac --duration 1800 \
        --lines-from examples/audio/demo_lines_clean.ogg                   # 30-min benchmark file
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
from scipy.signal import butter, resample_poly, sosfilt

SR = 16000

CALLSIGN_SCRIPT = [
    "Берёза, Берёза, я Сокол. Как слышишь меня? Приём.",
    "Сокол, я Берёза. Слышу тебя хорошо. Приём.",
    "Берёза, я Сокол. На позиции тихо. Выдвигаемся к лесополосе. Приём.",
    "Понял тебя, Сокол. Доложи обстановку через десять минут. Конец связи.",
    "Берёза, я Гром. Попали под обстрел. У нас двое трёхсотых. Нужна эвакуация. Приём.",
    "Гром, я Берёза. Понял, двое трёхсотых. Эвакуация будет через час. Держитесь.",
    "Берёза, нет воды третий день. Патроны заканчиваются. Приём.",
    "Гром, понял тебя. Подвоз будет ночью. Приём.",
    "Берёза, я Тайга. Связь плохая, повтори. Приём.",
    "Тайга, я Берёза. Повторяю, выходите к точке сбора. Приём.",
    "Берёза, мне страшно. Нас тут осталось пятеро. Приём.",
    "Тайга, успокойся. Держитесь, помощь идёт. Приём.",
    "Берёза, я Урал. Командир ранен, командование принял на себя. Приём.",
    "Урал, понял тебя. Держите позицию до утра. Приём.",
    "Берёза, я Сокол. Держимся. Все живы. Приём.",
    "Сокол, я Берёза. Молодцы. Конец связи.",
]
SNRS = [25, 15, 10, 5]


# ---------------------------------------------------------------- synthesis
def festival_lines(lines: list[str]) -> list[np.ndarray]:
    out = []
    with tempfile.TemporaryDirectory() as td:
        for i, line in enumerate(lines):
            txt, wav = Path(td) / f"{i}.txt", Path(td) / f"{i}.wav"
            txt.write_text(line + "\n", encoding="utf-8")
            subprocess.run(
                ["text2wave", "-eval", "(voice_msu_ru_nsh_clunits)", str(txt), "-o", str(wav)],
                check=True,
                capture_output=True,
            )
            a = read_audio(wav)
            out.append(trim_silence(a))
    return out


def read_audio(path) -> np.ndarray:
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
    from overheard.audio.decode import decode_all

    return decode_all(path)


def write_audio(path: Path, a: np.ndarray, *, bitrate: int = 24000) -> None:
    import av

    path = Path(path)
    ext = path.suffix.lower()
    fmt, codec, sfmt = {
        ".ogg": ("ogg", "libopus", "s16"),
        ".opus": ("ogg", "libopus", "s16"),
        ".flac": ("flac", "flac", "s16"),
        ".wav": ("wav", "pcm_s16le", "s16"),
    }[ext]
    pcm = (np.clip(a, -1, 1) * 32767).astype(np.int16)
    rate = 48000 if codec == "libopus" else SR
    with av.open(str(path), "w", format=fmt) as c:
        st = c.add_stream(codec, rate=rate)
        st.layout = "mono"
        if codec == "libopus":
            st.bit_rate = bitrate
        resampler = av.AudioResampler(format=st.codec_context.format.name if st.codec_context.format else sfmt, layout="mono", rate=rate)
        step = 10 * SR
        for i in range(0, len(pcm) + 1, step):
            if i < len(pcm):
                frame = av.AudioFrame.from_ndarray(np.ascontiguousarray(pcm[i : i + step]).reshape(1, -1), format=sfmt, layout="mono")
                frame.sample_rate = SR
                frames = resampler.resample(frame)
            else:
                frames = resampler.resample(None)
            for fr in frames:
                for p in st.encode(fr):
                    c.mux(p)
        for p in st.encode(None):
            c.mux(p)


def trim_silence(a: np.ndarray, thr_db: float = -45.0) -> np.ndarray:
    n = 160
    nf = len(a) // n
    e = 10 * np.log10(np.mean(a[: nf * n].reshape(nf, n) ** 2, axis=1) + 1e-12)
    idx = np.nonzero(e > thr_db)[0]
    if not len(idx):
        return a
    return a[max(0, idx[0] * n - 800) : min(len(a), (idx[-1] + 1) * n + 800)]


# ---------------------------------------------------------------- channel
def rms_db(a: np.ndarray) -> float:
    return 10 * np.log10(np.mean(a.astype(np.float64) ** 2) + 1e-20)


def active_rms_db(a: np.ndarray) -> float:
    n = 320
    nf = max(1, len(a) // n)
    e = np.mean(a[: nf * n].reshape(nf, n).astype(np.float64) ** 2, axis=1)
    thr = np.max(e) * 10 ** (-40 / 10)
    return 10 * np.log10(np.mean(e[e > thr]) + 1e-20)


_BAND = butter(6, [300, 3000], btype="band", fs=SR, output="sos")
_RX = butter(4, [150, 3800], btype="band", fs=SR, output="sos")
_HISS = butter(4, 6500, btype="low", fs=SR, output="sos")


def radio_channel(speech: np.ndarray, snr_db: float, rng: np.random.Generator, speed: float = 1.0):
    """Return (audio, speech_start, speech_end) of one keyed transmission,
    samples relative to the start of the returned audio."""
    s = speech.astype(np.float64)
    if abs(speed - 1.0) > 1e-3:  # speed/pitch variation by resampling
        up, down = 1000, int(round(1000 * speed))
        s = resample_poly(s, up, down)
    s = sosfilt(_BAND, s)
    s *= 10 ** ((-20 - active_rms_db(s)) / 20)  # -20 dBFS active level
    # limiter + clipping (transmitter ALC, overdriven mic)
    s = np.tanh(3.0 * s) / 3.0 * 1.6
    s = np.clip(s, -0.35, 0.35)
    s *= 10 ** ((-20 - active_rms_db(s)) / 20)
    lead = int(rng.uniform(0.12, 0.3) * SR)  # carrier before speech
    tail_c = int(rng.uniform(0.1, 0.25) * SR)  # carrier after speech
    keyup = int(rng.uniform(0.03, 0.07) * SR)
    sq_tail = int(rng.uniform(0.12, 0.25) * SR)
    n = keyup + lead + len(s) + tail_c + sq_tail
    out = np.zeros(n)
    # receiver noise at SNR relative to the active speech level
    noise = sosfilt(_RX, rng.standard_normal(n))
    noise *= 10 ** ((-20 - snr_db - rms_db(noise)) / 20)
    out += noise
    # key-up: click + short loud noise burst
    out[:keyup] += rng.standard_normal(keyup) * 10 ** (-14 / 20)
    out[0] += 0.6
    sp0 = keyup + lead
    out[sp0 : sp0 + len(s)] += s
    # squelch tail: loud broadband noise burst after unkeying
    t0 = sp0 + len(s) + tail_c
    out[t0:] += sosfilt(_HISS, rng.standard_normal(n - t0)) * 10 ** (-12 / 20)
    return out, sp0, sp0 + len(s)


def tone_event(rng, dur=1.2, f=1000.0):
    t = np.arange(int(dur * SR)) / SR
    return 0.1 * np.sin(2 * np.pi * f * t)


def kerchunk(rng):
    """Carrier keyed with no speech: key-up, quiet carrier, squelch tail."""
    n1, n2, n3 = int(0.05 * SR), int(rng.uniform(0.6, 1.2) * SR), int(0.2 * SR)
    a = np.zeros(n1 + n2 + n3)
    a[:n1] = rng.standard_normal(n1) * 10 ** (-14 / 20)
    a[n1 : n1 + n2] = sosfilt(_RX, rng.standard_normal(n2)) * 10 ** (-50 / 20)
    a[n1 + n2 :] = sosfilt(_HISS, rng.standard_normal(n3)) * 10 ** (-12 / 20)
    return a


# ---------------------------------------------------------------- timeline
def build(lines_audio, texts, *, duration_s=None, seed=0, hiss_db=-32.0, gap=(1.5, 5.0), events=True):
    """Lay transmissions on a timeline.  With duration_s None: each line once,
    first half squelched (digital silence), second half open squelch (hiss).
    With duration_s: random lines with speed variation, stretches of ~4 min
    alternating squelched / open-squelch until the duration is reached."""
    rng = np.random.default_rng(seed)
    pieces, truth = [], []
    t = int(rng.uniform(1.0, 2.0) * SR)
    pos = 0
    k = 0

    def gap_fill(n, hiss):
        if hiss:
            return sosfilt(_HISS, rng.standard_normal(n)) * 10 ** ((hiss_db - 0.0) / 20) * 1.25
        return rng.standard_normal(n) * 10 ** (-90 / 20)  # dither-level silence

    total = int(duration_s * SR) if duration_s else None
    order = list(range(len(lines_audio)))
    timeline = []  # (kind, index)
    if total is None:
        timeline = [("line", i) for i in order]
        if events:
            timeline.insert(5, ("tone", -1))
            timeline.insert(12, ("kerchunk", -1))
    n_lines = len(order)
    while True:
        if total is None:
            if k >= len(timeline):
                break
            kind, li = timeline[k]
            hiss = k >= len(timeline) // 2
        else:
            if t >= total - 10 * SR:
                break
            r = rng.random()
            kind = "tone" if (events and r < 0.02) else "kerchunk" if (events and r < 0.05) else "line"
            li = (k % n_lines) if kind == "line" else -1
            hiss = int(t / SR / 240) % 2 == 1
        g = int(rng.uniform(*gap) * SR)
        # fill from pos to t with gap content
        if t > pos:
            pieces.append(gap_fill(t - pos, hiss))
            pos = t
        if kind == "line":
            snr = SNRS[k % len(SNRS)] if total is None else SNRS[int(rng.integers(len(SNRS)))]
            speed = 1.0 if total is None else float(rng.uniform(0.94, 1.06))
            a, s0, s1 = radio_channel(lines_audio[li], snr, rng, speed)
            truth.append(
                dict(kind="speech", start_s=round((t + s0) / SR, 3), end_s=round((t + s1) / SR, 3),
                     key_start_s=round(t / SR, 3), key_end_s=round((t + len(a)) / SR, 3),
                     text=texts[li], snr_db=snr, squelch="open" if hiss else "closed", line=li)
            )
        elif kind == "tone":
            a = tone_event(rng)
            truth.append(dict(kind="tone", start_s=round(t / SR, 3), end_s=round((t + len(a)) / SR, 3), text="",
                              snr_db=None, squelch="open" if hiss else "closed"))
        else:
            a = kerchunk(rng)
            truth.append(dict(kind="kerchunk", start_s=round(t / SR, 3), end_s=round((t + len(a)) / SR, 3), text="",
                              snr_db=None, squelch="open" if hiss else "closed"))
        pieces.append(a)
        pos = t + len(a)
        t = pos + g
        k += 1
    end = (total if total else pos + int(1.5 * SR))
    if end > pos:
        pieces.append(gap_fill(end - pos, False if total is None else (int(pos / SR / 240) % 2 == 1)))
    audio = np.concatenate(pieces).astype(np.float32)
    return audio, truth


def load_clean(path: Path) -> tuple[list[np.ndarray], list[str]]:
    meta = json.loads(Path(str(path).rsplit(".", 1)[0] + ".json").read_text(encoding="utf-8"))
    a = read_audio(path)
    out = []
    for ln in meta["lines"]:
        out.append(a[int(ln["start_s"] * SR) : int(ln["end_s"] * SR)])
    return out, [ln["text"] for ln in meta["lines"]]


def write_clean(path: Path, lines_audio, texts):
    gap = np.zeros(int(0.5 * SR))
    parts, meta, t = [], [], 0
    for a, txt in zip(lines_audio, texts):
        parts += [a, gap]
        meta.append(dict(start_s=round(t / SR, 4), end_s=round((t + len(a)) / SR, 4), text=txt))
        t += len(a) + len(gap)
    write_audio(path, np.concatenate(parts), bitrate=32000)
    Path(str(path).rsplit(".", 1)[0] + ".json").write_text(
        json.dumps(dict(source="Festival text2wave, voice_msu_ru_nsh_clunits (festvox-ru)", lines=meta),
                   ensure_ascii=False, indent=1), encoding="utf-8")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("out", type=Path, help="output audio (.ogg/.opus, .flac or .wav)")
    ap.add_argument("--duration", type=float, default=None, help="seconds; default: each line once (~2 min)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--lines-from", type=Path, default=None, help="clean lines file (skip Festival)")
    ap.add_argument("--save-clean", type=Path, default=None, help="also write the clean Festival lines here")
    ap.add_argument("--no-events", action="store_true", help="no tone/kerchunk events")
    ap.add_argument("--bitrate", type=int, default=24000, help="Opus bit rate")
    args = ap.parse_args(argv)

    if args.lines_from:
        lines_audio, texts = load_clean(args.lines_from)
    else:
        texts = CALLSIGN_SCRIPT
        lines_audio = festival_lines(texts)
        if args.save_clean:
            write_clean(args.save_clean, lines_audio, texts)
    audio, truth = build(lines_audio, texts, duration_s=args.duration, seed=args.seed, events=not args.no_events)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    write_audio(args.out, audio, bitrate=args.bitrate)
    truth_path = Path(str(args.out).rsplit(".", 1)[0] + ".truth.json")
    truth_path.write_text(json.dumps(dict(
        audio=args.out.name, sample_rate=SR, duration_s=round(len(audio) / SR, 3), seed=args.seed,
        generator="tools/make_demo_radio.py", snr_cycle_db=SNRS, events=truth), ensure_ascii=False, indent=1),
        encoding="utf-8")
    print(f"wrote {args.out} ({len(audio) / SR:.1f} s, {os.path.getsize(args.out) / 1e6:.2f} MB), {truth_path}", file=sys.stderr)


if __name__ == "__main__":
    main()
