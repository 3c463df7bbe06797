#!/usr/bin/env python3
"""Simulated radio channels for the ASR benchmark (issue 12), from real intercept lines.

The turns of ``../shared/data/intercepts-dev/rcNNN/final_ru.txt`` (human-corrected
Russian of real intercepted calls; editorial glosses such as ``[=что]`` removed) are
spoken by Festival's Russian voice and passed through the simulated voice-radio channel
of ``make_demo_radio.py`` (300-3000 Hz, limiter/clipping, key-up and squelch-tail bursts,
receiver noise at an SNR drawn from 25/15/10/5 dB), in conversation order, with 4-minute
stretches alternating closed squelch (digital silence between transmissions) and open
squelch (hiss), and a few tones and kerchunks.

Two slices that share no recording:

* ``tune``  - rc001-rc005, rc010: used to choose decoding options;
* ``held``  - rc006-rc009, rc012, rc016, rc019, rc025: kept apart to report figures.
  Only one Russian Festival voice exists (espeak-ng's Russian is unintelligible to
  Whisper base: "и в розовый ассокок" for "Берёза, я Сокол"), so the held slice is the
  same voice shifted down 8 % in pitch and formants (resampled), a different-sounding
  speaker, not a different person.

    python tools/make_bench_radio.py bench/data            # writes tune.flac, held.flac + .truth.json

Needs Festival (``apt-get install festival festvox-ru``); synthesised lines are cached in
``<out>/lines/`` so a re-run only rebuilds the channel.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
from scipy.signal import resample_poly, sosfilt

sys.path.insert(0, str(Path(__file__).resolve().parent))
from make_demo_radio import SR, _HISS, kerchunk, radio_channel, read_audio, tone_event, trim_silence, write_audio  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
DEV = ROOT.parent / "shared" / "data" / "intercepts-dev"
SLICES = {
    "tune": ["rc001", "rc002", "rc003", "rc004", "rc005", "rc010"],
    "held": ["rc006", "rc007", "rc008", "rc009", "rc012", "rc016", "rc019", "rc025"],
}
VOICE_SHIFT = {"tune": 1.0, "held": 0.92}  # resampling factor: < 1 = lower pitch and formants
SNRS = [25, 15, 10, 5]
MAX_CHARS = 220  # one line must fit one transmission (< 28 s of speech)


def clean_line(text: str) -> str:
    text = re.sub(r"\[[^\]]*\]", " ", text)  # editorial glosses: [=что], [говорил]
    text = text.replace("*", "")
    return re.sub(r"\s+", " ", text).strip()


def split_long(text: str) -> list[str]:
    """Cut a long turn at sentence ends into pieces of at most MAX_CHARS."""
    if len(text) <= MAX_CHARS:
        return [text]
    out, cur = [], ""
    for sent in re.split(r"(?<=[.!?…])\s+", text):
        if cur and len(cur) + 1 + len(sent) > MAX_CHARS:
            out.append(cur)
            cur = sent
        else:
            cur = (cur + " " + sent).strip()
    if cur:
        out.append(cur)
    return [p for p in out if len(p) <= 2 * MAX_CHARS]


def slice_lines(recordings: list[str]) -> list[tuple[str, str]]:
    lines = []
    for rc in recordings:
        for i, raw in enumerate((DEV / rc / "final_ru.txt").read_text(encoding="utf-8").splitlines(), 1):
            text = clean_line(raw)
            if re.search(r"[А-Яа-яЁё]", text):
                for j, piece in enumerate(split_long(text)):
                    lines.append((f"{rc}-{i:03d}.{j}", piece))
    return lines


def festival(text: str, cache: Path) -> np.ndarray:
    key = hashlib.sha256(text.encode()).hexdigest()[:16]
    wav = cache / f"{key}.wav"
    if not wav.exists() or wav.stat().st_size == 0:
        cache.mkdir(parents=True, exist_ok=True)
        # Festival's Russian front end writes an empty file for some punctuation runs ("ещё раз ...")
        spoken = re.sub(r"\s*(\.\s*){2,}|…", ". ", text)
        spoken = re.sub(r"\s+([,.?!])", r"\1", spoken).strip(" .,")  # nor a leading "..." or " ,"
        with tempfile.TemporaryDirectory() as td:
            txt = Path(td) / "l.txt"
            txt.write_text(spoken + "\n", encoding="utf-8")
            subprocess.run(["text2wave", "-eval", "(voice_msu_ru_nsh_clunits)", str(txt), "-o", str(wav)],
                           check=True, capture_output=True)
    if wav.stat().st_size == 0:
        return None
    return trim_silence(read_audio(wav))


def build(lines, audio, *, seed: int, hiss_db: float = -32.0, gap=(1.5, 5.0), stretch_s: float = 240.0):
    """Each line once, in order; squelch closed/open alternating every ``stretch_s``."""
    rng = np.random.default_rng(seed)
    pieces, truth = [], []
    t = pos = int(1.5 * SR)
    pieces.append(rng.standard_normal(pos) * 10 ** (-90 / 20))

    def fill(n, hiss):
        if hiss:
            return sosfilt(_HISS, rng.standard_normal(n)) * 10 ** (hiss_db / 20) * 1.25
        return rng.standard_normal(n) * 10 ** (-90 / 20)

    queue = [("line", i) for i in range(len(lines))]
    for k in range(len(queue) // 25):  # ~4 % non-speech events
        queue.insert(int(rng.integers(1, len(queue))), ("tone" if k % 2 else "kerchunk", -1))
    for kind, li in queue:
        hiss = int(t / SR / stretch_s) % 2 == 1
        if t > pos:
            pieces.append(fill(t - pos, hiss))
            pos = t
        sq = "open" if hiss else "closed"
        if kind == "line":
            snr = SNRS[int(rng.integers(len(SNRS)))]
            a, s0, s1 = radio_channel(audio[li], snr, rng, float(rng.uniform(0.96, 1.04)))
            truth.append(dict(kind="speech", start_s=round((t + s0) / SR, 3), end_s=round((t + s1) / SR, 3),
                              key_start_s=round(t / SR, 3), key_end_s=round((t + len(a)) / SR, 3),
                              text=lines[li][1], id=lines[li][0], snr_db=snr, squelch=sq))
        else:
            a = tone_event(rng) if kind == "tone" else kerchunk(rng)
            truth.append(dict(kind=kind, start_s=round(t / SR, 3), end_s=round((t + len(a)) / SR, 3), text="",
                              snr_db=None, squelch=sq))
        pieces.append(a)
        pos = t + len(a)
        t = pos + int(rng.uniform(*gap) * SR)
    pieces.append(fill(int(2 * SR), False))
    return np.concatenate(pieces).astype(np.float32), truth


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("out", type=Path, help="output folder")
    ap.add_argument("--slices", default="tune,held")
    ap.add_argument("--seed", type=int, default=12)
    args = ap.parse_args(argv)
    if not DEV.is_dir():
        sys.exit(f"{DEV}: not found (the intercept transcripts live in ../shared/data/)")
    for name in args.slices.split(","):
        lines = slice_lines(SLICES[name])
        audio, kept = [], []
        for line in lines:
            a = festival(line[1], args.out / "lines")
            if a is None:
                print(f"{line[0]}: Festival produced no audio, line left out", file=sys.stderr)
                continue
            kept.append(line)
            if VOICE_SHIFT[name] != 1.0:
                a = resample_poly(a, 1000, int(round(1000 * VOICE_SHIFT[name]))).astype(np.float32)
            audio.append(a)
        lines = kept
        sig, truth = build(lines, audio, seed=args.seed + (name == "held"))
        path = args.out / f"{name}.flac"
        write_audio(path, sig)
        speech = [e for e in truth if e["kind"] == "speech"]
        (args.out / f"{name}.truth.json").write_text(json.dumps(dict(
            audio=path.name, sample_rate=SR, duration_s=round(len(sig) / SR, 3), seed=args.seed,
            generator="tools/make_bench_radio.py", slice=name, recordings=SLICES[name],
            voice="Festival voice_msu_ru_nsh_clunits" + (f", resampled x{VOICE_SHIFT[name]}" if VOICE_SHIFT[name] != 1 else ""),
            snr_choices_db=SNRS, events=truth), ensure_ascii=False, indent=1), encoding="utf-8")
        print(f"{path}: {len(sig) / SR / 60:.1f} min, {len(speech)} transmissions, "
              f"{sum(e['end_s'] - e['start_s'] for e in speech) / 60:.1f} min of speech", file=sys.stderr)


if __name__ == "__main__":
    main()
