#!/usr/bin/env python3
"""ASR accuracy and speed on simulated radio channels: overheard vs plain faster-whisper, one run.

    python tools/make_bench_radio.py bench/data                  # once (needs Festival)
    python bench/bench_asr.py --slice tune --configs peer,default,b5,b5-prompt
    python bench/bench_asr.py --slice held                       # the shipped default vs the peer

The peer is what a user would otherwise call: ``faster_whisper.BatchedInferencePipeline``
on the same embedded Whisper base (same loaded model, int8, same threads),
``language="ru"``, ``vad_filter=True``, ``batch_size=8``, beam 5 (its default).  Both
sides get the whole file; model load is excluded for both; a warm-up run on the demo file
precedes all measured runs.  WER: lower case, ё→е, punctuation and hyphens removed, all
output in time order against all reference lines in time order (corpus WER); per SNR
and squelch state the output overlapping each reference transmission is scored.
CPU-s = process CPU time (all threads); ×RT = audio seconds / wall seconds.
Figures are appended to bench/out/results.jsonl and summarised in docs/audio.md.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "bench"))
from bench_audio import _truth, match_detections, record  # noqa: E402
from overheard.audio.wer import errors_per_reference_word, normalise_words as normalise  # noqa: E402

DATA = ROOT / "bench" / "data"
RADIO_PROMPT = "Приём. Как слышишь? Понял. Конец связи."


def configs():
    from overheard.audio.segment import SegmentOptions, SquelchOptions, VadParams
    from overheard.audio.transcribe import TranscribeOptions, preset_options

    # the decoding shipped before issue 12 (greedy, timestamp tokens, 30 s windows): every
    # ablation below names what it changes from it
    base = TranscribeOptions(task_gloss=False, beam_size=1, timestamps=True, audio_ctx_s=30.0, alone_ctx_pad_s=None)
    b5 = replace(base, beam_size=5)
    nots = replace(b5, timestamps=False)
    return {  # name: (kind, transcribe options, pipeline options)
        "default": ("ours", None, {}),  # whatever TranscribeOptions() ships
        "before": ("ours", base, dict(segment=SegmentOptions(vad=VadParams(threshold=0.4)))),  # as shipped before issue 12
        "alone-full": ("ours", TranscribeOptions(task_gloss=False, alone_ctx_pad_s=None), {}),  # lone items in 30 s windows
        "alone2": ("ours", TranscribeOptions(task_gloss=False, alone_ctx_pad_s=2.0), {}),
        "alone5": ("ours", TranscribeOptions(task_gloss=False, alone_ctx_pad_s=5.0), {}),
        "fast-alone2": ("ours", TranscribeOptions(task_gloss=False, audio_ctx_s=15.0, alone_ctx_pad_s=2.0), {}),
        "fast-alone5": ("ours", TranscribeOptions(task_gloss=False, audio_ctx_s=15.0, alone_ctx_pad_s=5.0), {}),
        "ctx15": ("ours", TranscribeOptions(task_gloss=False, audio_ctx_s=15.0), {}),
        "fast": ("ours", replace(preset_options("fast"), task_gloss=False), {}),  # overheard process --fast
        "b5-nots-ctx30": ("ours", replace(nots, audio_ctx_s=30.0), {}),
        "b1": ("ours", replace(base, beam_size=1), {}),
        "b5": ("ours", b5, {}),
        "b5-nots": ("ours", nots, {}),
        "b3-nots": ("ours", replace(nots, beam_size=3), {}),
        "b5-nots-bs16": ("ours", replace(nots, batch_size=16), {}),
        "b5-nots-bs24": ("ours", replace(nots, batch_size=24), {}),
        "b3-nots-bs16": ("ours", replace(nots, beam_size=3, batch_size=16), {}),
        "b5-bs16": ("ours", replace(b5, batch_size=16), {}),
        "b5-nots-ctx15": ("ours", replace(nots, audio_ctx_s=15.0), {}),
        "b5-nots-ctx20": ("ours", replace(nots, audio_ctx_s=20.0), {}),
        "b5-nots-ctx10": ("ours", replace(nots, audio_ctx_s=10.0), {}),
        "b5-nots-ctx12": ("ours", replace(nots, audio_ctx_s=12.0), {}),
        "b5-nots-ctx8": ("ours", replace(nots, audio_ctx_s=8.0), {}),
        "b3-nots-ctx10": ("ours", replace(nots, beam_size=3, audio_ctx_s=10.0), {}),
        "b1-nots-ctx10": ("ours", replace(nots, beam_size=1, audio_ctx_s=10.0), {}),
        "b5-ctx10": ("ours", replace(b5, audio_ctx_s=10.0), {}),
        "b2-nots": ("ours", replace(nots, beam_size=2), {}),
        "b1-nots": ("ours", replace(nots, beam_size=1), {}),
        "b5-nopack": ("ours", replace(b5, pack=False), {}),
        "b5-prompt": ("ours", replace(b5, prompt=RADIO_PROMPT), {}),
        "b5-callsigns": ("ours", replace(b5, learn_callsigns=True), {}),
        "b5-prompt-callsigns": ("ours", replace(b5, prompt=RADIO_PROMPT, learn_callsigns=True), {}),
        "b5-fallback": ("ours", replace(b5, fallback=True), {}),  # measured when it also sampled at T=0.4, 0.8
        "b5-nots-fallback": ("ours", replace(nots, fallback=True), {}),
        "b1-nots-fallback": ("ours", replace(nots, beam_size=1, fallback=True), {}),
        "b5-level": ("ours", replace(b5, level_dbfs=-20.0), {}),
        "b5-band": ("ours", replace(b5, band_hz=(250.0, 3400.0)), {}),
        "b1-fallback": ("ours", replace(base, beam_size=1, fallback=True), {}),
        # segmentation ablations on the shipped decoding: does the VAD cut word onsets?
        "thr40": ("ours", None, dict(segment=SegmentOptions(vad=VadParams(threshold=0.4)))),  # the VAD before
        "pad250": ("ours", None, dict(segment=SegmentOptions(vad=VadParams(speech_pad_ms=250)))),
        "pad400": ("ours", None, dict(segment=SegmentOptions(vad=VadParams(speech_pad_ms=400)))),
        "pad400-thr30": ("ours", None, dict(segment=SegmentOptions(vad=VadParams(threshold=0.3, speech_pad_ms=400)))),
        "notrim": ("ours", None, dict(segment=SegmentOptions(squelch=SquelchOptions(max_trim_s=0.0)))),
        "novad": ("ours", None, dict(segment=SegmentOptions(use_vad=False))),
        "detect-each": ("ours", TranscribeOptions(task_gloss=False, lang_lock_after=0), dict(lang=None)),  # per transmission
        "detect-lock": ("ours", TranscribeOptions(task_gloss=False), dict(lang=None)),  # until the channel's language is clear
        "peer": ("peer", dict(batch_size=8), {}),
        "peer-detect": ("peer", dict(batch_size=8, language=None), {}),
        "peer-b1": ("peer", dict(batch_size=8, beam_size=1), {}),
        "peer-bs16": ("peer", dict(batch_size=16), {}),
    }


def score(truth, items, dur, wall, cpu) -> dict:
    speech = [e for e in truth if e["kind"] == "speech"]
    ref, owner = [], []
    for k, e in enumerate(speech):
        words = normalise(e["text"])
        ref += words
        owner += [k] * len(words)
    hyp = normalise(" ".join(t for _, _, t in sorted(items)))
    charge = errors_per_reference_word(ref, hyp)
    by = {}
    for key, vals in (("snr_db", (25, 15, 10, 5)), ("squelch", ("closed", "open"))):
        for v in vals:
            idx = [i for i, k in enumerate(owner) if speech[k][key] == v]
            if idx:
                by[f"{v} dB" if key == "snr_db" else v] = round(sum(charge[i] for i in idx) / len(idx), 4)
    errs = sum(charge)
    return dict(wer=round(errs / max(1, len(ref)), 4), errors=errs, words=len(ref), wer_by=by, seconds=round(wall, 1),
                cpu_seconds=round(cpu, 1), x_realtime=round(dur / wall, 1), x_realtime_per_2_cpus=round(2 * dur / cpu, 1))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--slice", default="held", help="tune or held (bench/data/<slice>.flac)")
    ap.add_argument("--file", type=Path, default=None, help="any file with a .truth.json beside it")
    ap.add_argument("--configs", default="peer,default")
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    f = args.file or DATA / f"{args.slice}.flac"
    if not f.exists():
        sys.exit(f"{f}: not found; make it with: python tools/make_bench_radio.py bench/data")

    import ctranslate2
    import faster_whisper
    from faster_whisper import BatchedInferencePipeline

    from overheard.audio.decode import probe
    from overheard.audio.model import load_model
    from overheard.audio.pipeline import PipelineOptions, process_audio

    truth = _truth(f)
    dur = probe(f).duration_s
    lm = load_model(None, cpu_threads=args.threads)
    table = configs()
    # warm both paths (VAD ONNX session, CTranslate2 buffers) before anything is timed
    list(process_audio(ROOT / "examples/audio/demo_radio.ogg", lang="ru", gloss=False, model=lm))
    list(BatchedInferencePipeline(model=lm.whisper).transcribe(str(ROOT / "examples/audio/demo_radio.ogg"), language="ru",
                                                                  vad_filter=True)[0])
    results = {}
    for name in args.configs.split(","):
        kind, opts, popts = table[name]
        popts = dict(popts)
        lang = popts.pop("lang", "ru")
        t0, c0 = time.perf_counter(), time.process_time()
        if kind == "peer":
            segs, info = BatchedInferencePipeline(model=lm.whisper).transcribe(str(f), **(dict(language="ru", vad_filter=True) | opts))
            items = [(s.start, s.end, s.text) for s in segs]
            wall, cpu = time.perf_counter() - t0, time.process_time() - c0
            r = score(truth, items, dur, wall, cpu) | dict(options=opts | dict(language="ru", vad_filter=True))
        else:
            po = PipelineOptions(transcribe=opts, cpu_threads=args.threads, cues=False, **popts)
            out = list(process_audio(f, lang=lang, gloss=False, model=lm, options=po))
            wall, cpu = time.perf_counter() - t0, time.process_time() - c0
            items = [(p.start_s, p.end_s, p.text) for p in out]
            r = score(truth, items, dur, wall, cpu)
            r |= dict(transmissions=len(out), windows=len({p.options["window"] for p in out}),
                      fallbacks=sum(1 for p in out if p.options.get("fallback")),
                      langs=dict(__import__("collections").Counter(p.lang for p in out)),
                      detection=match_detections(truth, [(p.start_s, p.end_s) for p in out]),
                      options=out[0].options["transcribe"] if out else None,
                      segment=out[0].options["segment"] if out else None)
        results[name] = r
        print(f"{name:22s} WER {r['wer']:.3f}  {r['x_realtime']:5.1f}x RT  CPU {r['cpu_seconds']:6.1f}s  {r['wer_by']}", flush=True)
    record("asr", dict(file=str(f), duration_s=round(dur, 1), model=lm.name, cpu_threads=lm.cpu_threads, cpus=os.cpu_count(),
                       faster_whisper=faster_whisper.__version__, ctranslate2=ctranslate2.__version__, results=results))


if __name__ == "__main__":
    main()
