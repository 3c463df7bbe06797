"""Score the translator's prompt on the tuning slice of the dev intercepts (rc001-rc005); the
other nine recordings stay for the figure reported in docs/translation.md.

    python experiments/translation/prompt_variants.py MODEL.gguf [DOCS...]

How the shipped prompt (engine.py, p2026.12.2/3) was chosen, chrF / BLEU on the tuning slice,
Qwen2.5-1.5B Q4_K_M, 78 lines: plain prompt 43.4 / 29.5; first prompt p2026.12.1 44.5 / 30.3;
+ call signs translated when they are words 46.2 / 32.7; + glossary hints in the format the
examples also use 47.7 / 32.8; + literal "I am X" register 48.1 / 36.6 (shipped). Those variants
patched the p2026.12.1 prompt; to re-run them, check out commit 0d3bc12 and take this file from
commit e062081 (`git show e062081:experiments/translation/prompt_variants.py`). Since the winner is
now the engine's own prompt, this script only scores the current one.
"""
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "bench"))

import bench_translation as bt  # noqa: E402
from overheard.translate import Translator  # noqa: E402
from overheard.translate.backends import LocalModel  # noqa: E402

TUNING = ("rc001", "rc002", "rc003", "rc004", "rc005")


def main(model: str, docs=TUNING) -> None:
    tr = Translator(LocalModel(model))
    chosen = [d for d in bt.dev_documents() if d[0] in docs]
    t = time.perf_counter()
    out = bt.run(tr, chosen, ROOT / "bench" / ".translation-cache")
    print(json.dumps({"version": tr.version, **bt.score(chosen, out), "wall_s": round(time.perf_counter() - t)}))


if __name__ == "__main__":
    main(sys.argv[1], *([tuple(sys.argv[2:])] if len(sys.argv) > 2 else []))
