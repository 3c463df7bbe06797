"""Word error rate, one way for tests, benchmarks and any comparison of transcripts.

Words are compared after the normalisation every figure in docs/ uses: lower case, ё → е,
dashes and punctuation to spaces. The alignment itself is jiwer's (Levenshtein over words,
rapidfuzz underneath); nothing here re-implements it."""

from __future__ import annotations

import re
from dataclasses import dataclass

_DASHES = re.compile(r"[-‐‑–—]")
_PUNCT = re.compile(r"[^\w\s]")


def normalise_words(text: str) -> list[str]:
    t = _DASHES.sub(" ", (text or "").lower().replace("ё", "е"))
    return _PUNCT.sub(" ", t).split()


@dataclass(frozen=True)
class WER:
    wer: float           # errors / reference words (0 when there are no reference words and no errors)
    errors: int          # substitutions + deletions + insertions
    words: int           # reference words
    substitutions: int = 0
    deletions: int = 0
    insertions: int = 0


def _process(ref: list[str], hyp: list[str]):
    import jiwer
    return jiwer.process_words(" ".join(ref), " ".join(hyp))


def word_error_rate(refs: list[str] | str, hyps: list[str] | str) -> WER:
    """WER of hypotheses against references, pair by pair, pooled (errors over all reference words)."""
    refs = [refs] if isinstance(refs, str) else list(refs)
    hyps = [hyps] if isinstance(hyps, str) else list(hyps)
    if len(refs) != len(hyps):
        raise ValueError(f"{len(refs)} references but {len(hyps)} hypotheses")
    s = d = i = n = 0
    for ref, hyp in zip(refs, hyps):
        rw, hw = normalise_words(ref), normalise_words(hyp)
        n += len(rw)
        if not rw:
            i += len(hw)
            continue
        if not hw:
            d += len(rw)
            continue
        out = _process(rw, hw)
        s, d, i = s + out.substitutions, d + out.deletions, i + out.insertions
    errors = s + d + i
    return WER(errors / n if n else float(errors > 0), errors, n, s, d, i)


def errors_per_reference_word(ref: list[str], hyp: list[str]) -> list[int]:
    """One alignment of the whole hypothesis against the whole reference (both already
    normalised words); the errors charged to each reference word: its substitution or deletion,
    plus the insertions that follow it (those before the first word go to the first). Sums over
    any grouping of reference words (a transmission, an SNR) whatever the hypothesis' segmentation."""
    charge = [0] * max(1, len(ref))
    if not ref or not hyp:
        charge[0] += len(hyp)
        for k in range(len(ref)):
            charge[k] += 1
        return charge
    for chunk in _process(ref, hyp).alignments[0]:
        if chunk.type in ("substitute", "delete"):
            for k in range(chunk.ref_start_idx, chunk.ref_end_idx):
                charge[k] += 1
        elif chunk.type == "insert":
            charge[max(0, chunk.ref_start_idx - 1)] += chunk.hyp_end_idx - chunk.hyp_start_idx
    return charge
