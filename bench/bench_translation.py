"""Translation quality on the dev intercepts: overheard's translator against the same model
prompted plainly (the peer a user would otherwise call), side by side in one run.

    python bench/bench_translation.py [--model PATH] [--cache DIR] [--limit N] [--audio]

For every line of ../shared/data/intercepts-dev/*/final_ru.txt both translators produce an
English line; each recording's lines are joined into one document and scored against the
human final_en.txt (which is not always line-aligned, hence document level): chrF and
BLEU (sacrebleu, corpus over the recordings). Also: negation kept (lines with не/нет/ни…
whose English has a negation), numbers kept (lines with a number whose English states
it), lines flagged by the checks, and seconds per line. Outputs are cached per translator
version, so an interrupted run resumes.

``--audio`` adds the speech path, where audio exists: each dev line is spoken by Festival's
Russian voice (Debian festival + festvox-ru) and passed through the simulated voice-radio
channel of tools/make_demo_radio.py at 15 dB SNR; then (a) Whisper base translates the audio
(``task=translate``, the old gloss) and (b) Whisper base transcribes it and overheard's
translator glosses the transcript (what ``process`` does by default). Same scoring.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from overheard.translate import Translator, open_backend  # noqa: E402
from overheard.translate.checks import _missing_numbers, has_negation, source_numbers, NEGATION_EN  # noqa: E402

DEV = ROOT.parent / "shared" / "data" / "intercepts-dev"


def dev_documents(limit: int | None = None):
    docs = []
    for ru in sorted(DEV.glob("rc*/final_ru.txt")):
        en = ru.with_name("final_en.txt")
        lines = [ln.strip() for ln in ru.read_text(encoding="utf-8").splitlines() if ln.strip()]
        ref = " ".join(ln.strip() for ln in en.read_text(encoding="utf-8").splitlines() if ln.strip())
        docs.append((ru.parent.name, lines, ref))
    if limit:
        out, n = [], 0
        for name, lines, ref in docs:
            if n >= limit:
                break
            out.append((name, lines[: limit - n], ref))
            n += len(out[-1][1])
        docs = out
    return docs


def read_cache(path: Path) -> dict:
    """Outputs a previous (maybe interrupted) run stored, by (recording, line index)."""
    if not path.exists():
        return {}
    rows = (json.loads(ln) for ln in path.read_text(encoding="utf-8").splitlines())
    return {(d["doc"], d["i"]): d for d in rows}


def run(translator: Translator, docs, cache_dir: Path) -> dict:
    cache_file = cache_dir / f"{translator.version.replace('/', '_').replace(':', '_')}.jsonl"
    cache = read_cache(cache_file)
    out = {}
    with cache_file.open("a", encoding="utf-8") as f:
        for name, lines, _ in docs:
            for i, line in enumerate(lines):
                if (name, i) not in cache:
                    g = translator.translate(line, "ru")
                    d = {"doc": name, "i": i, "ru": line, "en": g.text, "flags": g.flags, "s": g.seconds,
                         "attempts": g.attempts}
                    f.write(json.dumps(d, ensure_ascii=False) + "\n")
                    f.flush()
                    cache[(name, i)] = d
                out[(name, i)] = cache[(name, i)]
    return out


def speech_path(docs, translator: Translator, cache_dir: Path) -> dict[str, dict]:
    """Whisper-translate of synthetic radio audio vs. Whisper transcript + our translator."""
    import numpy as np
    sys.path.insert(0, str(ROOT / "tools"))
    from make_demo_radio import festival_lines, radio_channel
    from overheard.audio.model import load_model
    wav_dir = cache_dir / "speech"
    wav_dir.mkdir(exist_ok=True)
    lm = load_model(None)
    rng = np.random.default_rng(15)
    out = {"whisper translate (audio)": {}, "whisper transcript + overheard translate": {}}
    cache_file = cache_dir / f"speech+{translator.version.replace(':', '_')}.jsonl"
    cache = read_cache(cache_file)
    with cache_file.open("a", encoding="utf-8") as f:
        for name, lines, _ in docs:
            for i, line in enumerate(lines):
                d = cache.get((name, i))
                if d is None:
                    npy = wav_dir / f"{name}-{i}.npy"
                    if not npy.exists():
                        try:
                            clean = festival_lines([line])[0]
                        except Exception:      # Festival says nothing for a line of dots or bare digits
                            clean = np.zeros(1600, dtype=np.float32)
                        audio, _, _ = radio_channel(clean, 15.0, rng) if clean.any() else (clean, 0, 0)
                        np.save(npy, audio.astype(np.float32))
                    audio = np.load(npy)
                    t = time.perf_counter()
                    segs, _ = lm.whisper.transcribe(audio, language="ru", task="translate", beam_size=5)
                    wt = " ".join(x.text.strip() for x in segs)
                    wt_s = time.perf_counter() - t
                    segs, _ = lm.whisper.transcribe(audio, language="ru", task="transcribe", beam_size=5)
                    asr = " ".join(x.text.strip() for x in segs)
                    g = translator.translate(asr, "ru") if asr.strip() else None
                    d = {"doc": name, "i": i, "ru": line, "asr": asr, "whisper_en": wt, "whisper_s": round(wt_s, 3),
                         "ours_en": g.text if g else "", "ours_s": g.seconds if g else 0.0,
                         "ours_flags": g.flags if g else ["empty"]}
                    f.write(json.dumps(d, ensure_ascii=False) + "\n")
                    f.flush()
                out["whisper translate (audio)"][(name, i)] = {"ru": line, "en": d["whisper_en"], "s": d["whisper_s"],
                                                              "flags": []}
                out["whisper transcript + overheard translate"][(name, i)] = {
                    "ru": line, "en": d["ours_en"], "s": d["ours_s"], "flags": d["ours_flags"]}
    return out


def score(docs, out) -> dict:
    import sacrebleu
    hyps = [" ".join(out[(name, i)]["en"] for i in range(len(lines))) for name, lines, _ in docs]
    refs = [ref for _, _, ref in docs]
    rows = [out[(name, i)] for name, lines, _ in docs for i in range(len(lines))]
    neg = [r for r in rows if has_negation(r["ru"])]
    num = [r for r in rows if source_numbers(r["ru"])]
    return {
        "chrF": round(sacrebleu.corpus_chrf(hyps, [refs]).score, 1),
        "BLEU": round(sacrebleu.corpus_bleu(hyps, [refs]).score, 1),
        "negation_kept": f"{sum(bool(NEGATION_EN.search(r['en'])) for r in neg)}/{len(neg)}",
        "numbers_kept": f"{sum(not _missing_numbers(r['ru'], r['en'], 'ru') for r in num)}/{len(num)}",
        "flagged": sum(bool(r.get("flags")) for r in rows),
        "retried": sum(r.get("attempts", 1) > 1 for r in rows),
        "lines": len(rows),
        "s_per_line_median": round(statistics.median(r["s"] for r in rows), 2),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", help="GGUF file (default: the embedded model)")
    ap.add_argument("--endpoint", help="OpenAI-compatible server instead of a local model")
    ap.add_argument("--cache", default=str(ROOT / "bench" / ".translation-cache"))
    ap.add_argument("--limit", type=int, help="only the first N lines (a quick look)")
    ap.add_argument("--docs", help="comma-separated recordings (e.g. rc006,rc008) instead of all")
    ap.add_argument("--audio-only", action="store_true", help="only the speech path (with --audio)")
    ap.add_argument("--audio", action="store_true", help="also the speech path (needs Festival's Russian voice)")
    args = ap.parse_args()
    if not DEV.is_dir():
        print(f"skipped: {DEV} is absent (the shared data sets sit beside the checkout)")
        return
    cache = Path(args.cache)
    cache.mkdir(parents=True, exist_ok=True)
    docs = dev_documents(args.limit)
    if args.docs:
        docs = [d for d in docs if d[0] in args.docs.split(",")]
    backend = open_backend(args.model, args.endpoint)
    results = {}
    text_runs = () if args.audio_only else (("plain prompt (peer)", Translator(backend, plain=True)),
                                             ("overheard translate", Translator(backend)))
    for name, tr in text_runs:
        t = time.perf_counter()
        out = run(tr, docs, cache)
        results[name] = {**score(docs, out), "version": tr.version, "wall_s": round(time.perf_counter() - t, 1)}
    if args.audio:
        import shutil
        if not shutil.which("text2wave"):
            print("--audio skipped: Festival is not installed (apt-get install festival festvox-ru)")
        else:
            for name, out in speech_path(docs, Translator(backend), cache).items():
                results[name] = {**score(docs, out), "version": name, "wall_s": None}
    width = max(len(k) for k in results)
    print(f"dev intercepts: {len(docs)} recordings, {sum(len(x[1]) for x in docs)} lines; "
          f"model {backend.identity.get('model')}")
    cols = ["chrF", "BLEU", "negation_kept", "numbers_kept", "flagged", "retried", "s_per_line_median"]
    print(" " * width + "  " + "  ".join(f"{c:>17}" for c in cols))
    for name, r in results.items():
        print(f"{name:<{width}}  " + "  ".join(f"{str(r[c]):>17}" for c in cols))
    print(json.dumps(results, ensure_ascii=False))


if __name__ == "__main__":
    main()
