"""The peer for issue 11: the same GGUF model prompted plainly (no glossary, no checks).

Writes one JSON line per dev line to the cache file given, resumable.
    python experiments/translation/plain_baseline.py MODEL.gguf OUT.jsonl
"""
import json, sys, time
from pathlib import Path
from cyllama import LLM

DEV = Path(__file__).resolve().parents[3] / "shared" / "data" / "intercepts-dev"
PLAIN_SYSTEM = "Translate the user's text from Russian to English. Output only the translation."

def main(model, out):
    out = Path(out)
    done = {json.loads(l)["id"] for l in out.read_text().splitlines()} if out.exists() else set()
    llm = LLM(model, temperature=0.0, max_tokens=256, n_ctx=2048, verbose=False)
    with out.open("a") as f:
        for rec in sorted(DEV.glob("rc*/final_ru.txt")):
            for n, line in enumerate(rec.read_text(encoding="utf-8").splitlines(), 1):
                key = f"{rec.parent.name}-{n:03d}"
                if key in done or not line.strip():
                    continue
                t = time.perf_counter()
                en = str(llm.chat([{"role": "system", "content": PLAIN_SYSTEM}, {"role": "user", "content": line.strip()}])).strip()
                f.write(json.dumps({"id": key, "ru": line.strip(), "en": en, "s": round(time.perf_counter() - t, 3)}, ensure_ascii=False) + "\n")
                f.flush()

if __name__ == "__main__":
    main(*sys.argv[1:3])
