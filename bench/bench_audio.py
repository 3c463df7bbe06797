#!/usr/bin/env python3
"""Benchmarks of the audio library (figures go to docs/audio.md).

    python bench/bench_audio.py wer-commands            # real Russian clips (shared/data/audio/ru-commands)
    python bench/bench_audio.py wer-sim [FILE]          # simulated channel, WER per SNR + detection P/R
    python bench/bench_audio.py speed FILE              # ours vs plain faster-whisper, same file, same model
    python bench/bench_audio.py memory FILE             # peak RSS of process_audio in a child process
    python bench/bench_audio.py robustness              # hf-receiver noise/music/tones, voice note

FILE is made by tools/make_demo_radio.py (its .truth.json beside it), e.g.
    python tools/make_demo_radio.py /tmp/bench/radio30.flac --duration 1800 --seed 1 \
        --lines-from examples/audio/demo_lines_clean.ogg
Results are printed and appended as JSON lines to bench/out/results.jsonl.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
SHARED = ROOT.parent / "shared" / "data" / "audio"
OUT = ROOT / "bench" / "out"


# ------------------------------------------------------------------ WER
from overheard.audio.wer import word_error_rate  # noqa: E402


def wer(refs: list[str], hyps: list[str]) -> tuple[float, int, int]:
    w = word_error_rate(refs, hyps)
    return (w.wer, w.errors, w.words)


def record(kind: str, data: dict) -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    data = {"bench": kind, "time": time.strftime("%Y-%m-%d %H:%M:%S"), **data}
    with open(OUT / "results.jsonl", "a", encoding="utf-8") as f:
        f.write(json.dumps(data, ensure_ascii=False) + "\n")
    print(json.dumps(data, ensure_ascii=False, indent=1))


# ------------------------------------------------------------------ detection
def match_detections(truth: list[dict], found: list[tuple[float, float]]) -> dict:
    """A truth speech event is detected when a found transmission overlaps it
    by >= 50 % of the event; a found transmission is a true positive when it
    overlaps any speech event by >= 50 % of itself."""
    speech = [e for e in truth if e["kind"] == "speech"]
    tp_found = 0
    for s, e in found:
        ov = max((max(0.0, min(e, t["end_s"]) - max(s, t["start_s"])) for t in speech), default=0.0)
        if ov >= 0.5 * (e - s):
            tp_found += 1
    det, start_err, end_err = 0, [], []
    for t in speech:
        best, bov = None, 0.0
        for s, e in found:
            ov = max(0.0, min(e, t["end_s"]) - max(s, t["start_s"]))
            if ov > bov:
                best, bov = (s, e), ov
        if best and bov >= 0.5 * (t["end_s"] - t["start_s"]):
            det += 1
            start_err.append(abs(best[0] - t["start_s"]) * 1000)
            end_err.append(abs(best[1] - t["end_s"]) * 1000)
    nonspeech = [e for e in truth if e["kind"] != "speech"]
    fa_nonspeech = sum(
        1 for t in nonspeech if any(min(e, t["end_s"]) - max(s, t["start_s"]) > 0 for s, e in found)
    )
    import statistics as st

    return dict(
        truth_speech=len(speech),
        found=len(found),
        precision=round(tp_found / max(1, len(found)), 4),
        recall=round(det / max(1, len(speech)), 4),
        start_err_ms_median=round(st.median(start_err), 1) if start_err else None,
        end_err_ms_median=round(st.median(end_err), 1) if end_err else None,
        start_err_ms_mean=round(st.mean(start_err), 1) if start_err else None,
        end_err_ms_mean=round(st.mean(end_err), 1) if end_err else None,
        nonspeech_events=len(nonspeech),
        nonspeech_events_hit=fa_nonspeech,
    )


def assign_text(truth: list[dict], items: list[tuple[float, float, str]]) -> list[str]:
    """Hypothesis text per truth speech event: all output overlapping it."""
    speech = [e for e in truth if e["kind"] == "speech"]
    hyp = ["" for _ in speech]
    for s, e, text in items:
        best, bov = None, 0.0
        for i, t in enumerate(speech):
            ov = max(0.0, min(e, t["end_s"]) - max(s, t["start_s"]))
            if ov > bov:
                best, bov = i, ov
        if best is not None:
            hyp[best] = (hyp[best] + " " + text).strip()
    return hyp


# ------------------------------------------------------------------ commands
def cmd_wer_commands(args):
    from overheard.audio.decode import decode_all
    from overheard.audio.model import load_model
    from overheard.audio.transcribe import TranscribeOptions, transcribe_items

    d = SHARED / "ru-commands"
    if not d.is_dir():
        sys.exit(f"missing {d}")
    rows = [ln.split("\t") for ln in (d / "transcripts.tsv").read_text(encoding="utf-8").splitlines()[1:] if ln.strip()]
    lm = load_model(args.model)
    res = {}
    for name, opts in [
        ("per-clip beam1", TranscribeOptions(lang="ru", pack=False, task_gloss=False, beam_size=1)),
        ("per-clip beam5", TranscribeOptions(lang="ru", pack=False, task_gloss=False, beam_size=5)),
        ("packed beam1", TranscribeOptions(lang="ru", pack=True, task_gloss=False, beam_size=1)),
        ("detect-lang beam1", TranscribeOptions(lang=None, task_gloss=False, beam_size=1)),
    ]:
        items = [(f, decode_all(d / f)) for f, _ in rows]
        t0 = time.perf_counter()
        out = dict(transcribe_items(items, model=lm, options=opts))
        dt = time.perf_counter() - t0
        hyps = [out[f].text for f, _ in rows]
        w, e, n = wer([r for _, r in rows], hyps)
        res[name] = dict(wer=round(w, 4), errors=e, words=n, seconds=round(dt, 2),
                         hyps=hyps, langs=[out[f].lang for f, _ in rows])
    oov = {}
    for f in sorted(d.glob("oov_*.wav")):
        out = dict(transcribe_items([(f.name, decode_all(f))], model=lm, options=TranscribeOptions(lang="ru", task_gloss=False)))
        oov[f.name] = out[f.name].text
    record("wer-commands", dict(model=lm.name, compute_type=lm.compute_type, refs=[r for _, r in rows], results=res, oov_transcripts=oov))


def _truth(path: Path) -> list[dict]:
    return json.loads(Path(str(path).rsplit(".", 1)[0] + ".truth.json").read_text(encoding="utf-8"))["events"]


def cmd_wer_sim(args):
    from overheard.audio.pipeline import process_audio

    f = Path(args.file or ROOT / "examples/audio/demo_radio.ogg")
    truth = _truth(f)
    speech = [e for e in truth if e["kind"] == "speech"]
    t0 = time.perf_counter()
    out = list(process_audio(f, lang="ru", gloss=False, model=args.model))
    dt = time.perf_counter() - t0
    hyps = assign_text(truth, [(p.start_s, p.end_s, p.text) for p in out])
    by_snr = {}
    for snr in sorted({e["snr_db"] for e in speech}, reverse=True):
        idx = [i for i, e in enumerate(speech) if e["snr_db"] == snr]
        w, e, n = wer([speech[i]["text"] for i in idx], [hyps[i] for i in idx])
        by_snr[f"{snr} dB"] = dict(wer=round(w, 4), errors=e, words=n, transmissions=len(idx))
    by_sq = {}
    for sq in ("closed", "open"):
        idx = [i for i, e in enumerate(speech) if e["squelch"] == sq]
        if idx:
            w, e, n = wer([speech[i]["text"] for i in idx], [hyps[i] for i in idx])
            by_sq[sq] = dict(wer=round(w, 4), words=n)
    w, e, n = wer([e["text"] for e in speech], hyps)
    det = match_detections(truth, [(p.start_s, p.end_s) for p in out])
    record("wer-sim", dict(file=str(f), seconds=round(dt, 2), wer_all=round(w, 4), words=n, by_snr=by_snr,
                           by_squelch=by_sq, detection=det,
                           hallucinations=sum(p.hallucination for p in out),
                           samples=[dict(ref=speech[i]["text"], hyp=hyps[i], snr=speech[i]["snr_db"]) for i in range(min(6, len(speech)))]))


def _corpus_wer(truth, items):
    """WER of all output text (time order) against all truth text (time order)."""
    ref = " ".join(e["text"] for e in truth if e["kind"] == "speech")
    hyp = " ".join(t for _, _, t in sorted(items))
    return wer([ref], [hyp])


def cmd_speed(args):
    import ctranslate2
    import faster_whisper
    from faster_whisper import BatchedInferencePipeline

    from overheard.audio.model import load_model
    from overheard.audio.pipeline import PipelineOptions, process_audio
    from overheard.audio.transcribe import TranscribeOptions

    f = Path(args.file)
    truth = _truth(f)
    from overheard.audio.decode import probe

    dur = probe(f).duration_s
    lm = load_model(args.model, cpu_threads=args.threads)
    results = {}

    def ours(name, **tk):
        gloss = tk.pop("gloss", False)
        opts = PipelineOptions(transcribe=TranscribeOptions(**tk), cpu_threads=args.threads)
        t0, c0 = time.perf_counter(), time.process_time()
        out = list(process_audio(f, lang="ru", gloss=gloss, model=lm, options=opts))
        dt, cpu = time.perf_counter() - t0, time.process_time() - c0
        w, e, n = _corpus_wer(truth, [(p.start_s, p.end_s, p.text) for p in out])
        det = match_detections(truth, [(p.start_s, p.end_s) for p in out])
        speech = [x for x in truth if x["kind"] == "speech"]
        hyps = assign_text(truth, [(p.start_s, p.end_s, p.text) for p in out])
        by_snr = {}
        for snr in sorted({x["snr_db"] for x in speech}, reverse=True):
            idx = [i for i, x in enumerate(speech) if x["snr_db"] == snr]
            ws = wer([speech[i]["text"] for i in idx], [hyps[i] for i in idx])
            by_snr[f"{snr} dB"] = round(ws[0], 4)
        results[name] = dict(wer_by_snr=by_snr, single_item_windows=sum(1 for p in out if p.options["window_items"] == 1),
                             gloss_nonempty=sum(1 for p in out if p.gloss_en),
                             seconds=round(dt, 1), x_realtime=round(dur / dt, 1), cpu_seconds=round(cpu, 1),
                             wer=round(w, 4), words=n, transmissions=len(out), windows=len({p.options["window"] for p in out}),
                             detection=det, options=tk | {"gloss": gloss})
        print(name, results[name], flush=True)

    def peer(name, **kw):
        pipe = BatchedInferencePipeline(model=lm.whisper)
        t0, c0 = time.perf_counter(), time.process_time()
        segs, info = pipe.transcribe(str(f), language="ru", vad_filter=True, **kw)
        segs = list(segs)
        dt, cpu = time.perf_counter() - t0, time.process_time() - c0
        w, e, n = _corpus_wer(truth, [(s.start, s.end, s.text) for s in segs])
        results[name] = dict(seconds=round(dt, 1), x_realtime=round(dur / dt, 1), cpu_seconds=round(cpu, 1),
                             wer=round(w, 4), words=n, segments=len(segs), duration_after_vad=round(info.duration_after_vad, 1),
                             options=kw | {"vad_filter": True, "language": "ru"})
        print(name, results[name], flush=True)

    which = args.which.split(",")
    # both sides warmed the same way (VAD model, ONNX session, CT2 allocations), on a clip that
    # is not the measured file; × real time is wall-clock on this machine, not derived from CPU time
    warm = ROOT / "examples/audio/demo_lines_clean.ogg"
    list(process_audio(warm, lang="ru", gloss=False, model=lm))
    list(BatchedInferencePipeline(model=lm.whisper).transcribe(str(warm), language="ru", vad_filter=True,
                                                                  batch_size=8)[0])
    for wname in which:
        if wname == "peer":
            peer("faster-whisper BatchedInferencePipeline (beam 5, batch 8)", batch_size=8, beam_size=5)
        elif wname == "peer-b1":
            peer("faster-whisper BatchedInferencePipeline (beam 1, batch 8)", batch_size=8, beam_size=1)
        elif wname == "ours":
            ours("overheard process defaults (beam 5, packed)")
        elif wname == "ours-b1":
            ours("overheard (beam 1, packed, batch 8)", beam_size=1)
        elif wname == "ours-b4":
            ours("overheard (beam 1, packed, batch 4)", beam_size=1, batch_size=4)
        elif wname == "ours-b5":
            ours("overheard (beam 5, packed, batch 8)", beam_size=5)
        elif wname == "ours-nopack":
            ours("overheard (beam 1, one transmission per window)", beam_size=1, pack=False)
        elif wname == "ours-gloss":
            ours("overheard (beam 1, packed) + English gloss", beam_size=1, gloss=True)
    record("speed", dict(file=str(f), duration_s=round(dur, 1), model=lm.name, compute_type=lm.compute_type,
                         cpu_threads=lm.cpu_threads, cpus=os.cpu_count(), faster_whisper=faster_whisper.__version__,
                         ctranslate2=ctranslate2.__version__, results=results))


def cmd_memory(args):
    f = Path(args.file)
    code = (
        "import sys,time,resource; sys.path.insert(0, %r)\n"
        "from overheard.audio.pipeline import process_audio\n"
        "t=time.perf_counter(); n=0\n"
        "for p in process_audio(%r, lang='ru', gloss=%s): n+=1\n"
        "print(n, time.perf_counter()-t, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)\n"
    ) % (str(ROOT / "src"), str(f), bool(args.gloss))
    t0 = time.perf_counter()
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    if r.returncode:
        sys.exit(r.stderr)
    n, secs, maxrss_kb = r.stdout.split()
    from overheard.audio.decode import probe

    dur = probe(f).duration_s
    record("memory", dict(file=str(f), duration_s=round(dur, 1), transmissions=int(n), seconds=round(float(secs), 1),
                          x_realtime=round(dur / float(secs), 1), peak_rss_mb=round(int(maxrss_kb) / 1024, 1),
                          gloss=bool(args.gloss), wall=round(time.perf_counter() - t0, 1)))


def cmd_robustness(args):
    from overheard.audio.pipeline import process_audio

    d = SHARED / "hf-receiver"
    res = {}
    for f in sorted(d.glob("*.wav")):
        out = list(process_audio(f, mode="radio", lang=None, gloss=False, model=args.model))
        res[f.name] = [dict(start=p.start_s, end=p.end_s, lang=p.lang, text=p.text, hall=p.hallucination_reason) for p in out]
    vn = SHARED / "ru-voice-note" / "my_voice.ogg"
    if vn.exists():
        out = list(process_audio(vn, mode="call", lang=None, gloss=True, model=args.model))
        res[vn.name] = [dict(start=p.start_s, end=p.end_s, lang=p.lang, lang_prob=round(p.lang_prob, 3), text=p.text,
                             gloss=p.gloss_en) for p in out]
    record("robustness", dict(results=res))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("what", choices=["wer-commands", "wer-sim", "speed", "memory", "robustness"])
    ap.add_argument("file", nargs="?")
    ap.add_argument("--model", default=None)
    ap.add_argument("--threads", type=int, default=0)
    ap.add_argument("--which", default="ours,peer", help="speed: comma list of ours (the shipped defaults), ours-b1,"
                    " ours-b4, ours-b5, ours-nopack, ours-gloss, peer (beam 5, as a user would call it), peer-b1")
    ap.add_argument("--gloss", action="store_true", help="memory: with the English gloss")
    args = ap.parse_args()
    {"wer-commands": cmd_wer_commands, "wer-sim": cmd_wer_sim, "speed": cmd_speed, "memory": cmd_memory,
     "robustness": cmd_robustness}[args.what](args)


if __name__ == "__main__":
    main()
