"""A large Russian corpus for the store, web and detector benchmarks whose vocabulary grows
like real text's, and query sets that keep warm-up and measurement apart.

Source: every real Russian sentence in ../shared/data — the intercept transcripts
(intercepts-dev, final_ru.txt), the Radio-Analyzer recordings kept for development
(radio-analyzer-more: original transcripts and labelled lines), CEDR and ru-goemotions — about
20,000 lines (the shipped examples when ../shared is absent: a much smaller vocabulary, said in
the output). Utterances are drawn from that text, not from a fixed list of lines:

- 10 % are real lines verbatim (radio repeats its procedure phrases; so do messages);
- the rest are walks of a word-bigram chain over all the lines (each word followed by a word
  that followed it somewhere in real text), as long as real lines are long;
- 10 % of the words of a walk are put in another grammatical form of the same word
  (pymorphy3's lexeme), so new real word forms keep appearing as the corpus grows, as they do
  in a year of real traffic, instead of the vocabulary stopping at the source's.

``CorpusStats`` measures what was built (distinct utterances, distinct word forms at several
sizes, the Heaps exponent) so a benchmark prints it rather than claims it.
"""

from __future__ import annotations

import csv
import hashlib
import json
import math
import random
import re
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "data"
WORD = re.compile(r"[А-Яа-яЁёІіЇїЄєҐґ]+(?:-[А-Яа-яЁё]+)?")


def _csv_texts(path: Path, column: str = "text") -> list[str]:
    with open(path, encoding="utf-8", newline="") as f:
        return [row[column] for row in csv.DictReader(f) if row.get(column)]


def real_lines() -> tuple[list[str], str]:
    """The real Russian lines and a one-line description of where they came from."""
    parts: dict[str, list[str]] = {}
    dev = SHARED / "intercepts-dev"
    if dev.exists():
        parts["intercepts-dev"] = [ln for f in sorted(dev.glob("rc*/final_ru.txt"))
                                   for ln in f.read_text(encoding="utf-8").splitlines()]
    more = SHARED / "radio-analyzer-more"
    if more.exists():
        lines = [ln for f in sorted(more.rglob("transcript_original.txt"))
                 for ln in f.read_text(encoding="utf-8").splitlines()]
        labels = more / "labels.jsonl"
        if labels.exists():
            lines += [json.loads(ln)["text"] for ln in labels.read_text(encoding="utf-8").splitlines() if ln.strip()]
        parts["radio-analyzer-more"] = lines
    cedr = SHARED / "cedr" / "cedr-main-train.csv"
    if cedr.exists():
        parts["cedr"] = _csv_texts(cedr)
    goemo = sorted((SHARED / "ru-goemotions").glob("*.csv"))
    if goemo:
        parts["ru-goemotions"] = [t for f in goemo for t in _csv_texts(f, _text_column(f))]
    if not parts:
        parts["examples (../shared absent)"] = [
            ln for f in sorted((ROOT / "examples" / "intercepts").rglob("*.txt"))
            for ln in f.read_text(encoding="utf-8").splitlines()]
    seen, lines = set(), []
    for name in parts:
        for ln in parts[name]:
            ln = " ".join(ln.split())
            if len(ln.split()) >= 2 and WORD.search(ln) and ln not in seen:
                seen.add(ln)
                lines.append(ln)
    said = ", ".join(f"{k} {len(v):,}" for k, v in parts.items())
    return lines, f"{len(lines):,} distinct real lines ({said})"


def _text_column(path: Path) -> str:
    with open(path, encoding="utf-8", newline="") as f:
        header = next(csv.reader(f))
    for name in ("ru_text", "text_ru", "text"):
        if name in header:
            return name
    return header[0]


class Generator:
    """Utterances drawn from real lines (see the module's docstring). Deterministic per seed."""

    def __init__(self, lines: list[str], seed: int = 20261203, verbatim: float = 0.10, inflect: float = 0.10):
        self.lines, self.rng = lines, random.Random(seed)
        self.verbatim, self.inflect = verbatim, inflect
        self.next: dict[str, list[str]] = {}
        self.starts: list[str] = []
        self.lengths: list[int] = []
        for ln in lines:
            words = ln.split()
            self.starts.append(words[0])
            self.lengths.append(len(words))
            for a, b in zip(words, words[1:]):
                self.next.setdefault(a, []).append(b)
        self._forms: dict[str, list[str]] = {}
        self._morph = None

    def _other_form(self, word: str) -> str:
        m = WORD.fullmatch(word.strip(".,!?;:«»\"()"))
        if not m:
            return word
        core = m.group(0)
        forms = self._forms.get(core.lower())
        if forms is None:
            if self._morph is None:
                import pymorphy3
                self._morph = pymorphy3.MorphAnalyzer(lang="ru")
            p = self._morph.parse(core.lower())[0]
            forms = sorted({f.word for f in p.lexeme})[:60] if p.is_known else [core.lower()]
            self._forms[core.lower()] = forms
        new = self.rng.choice(forms)
        if core[:1].isupper():
            new = new[:1].upper() + new[1:]
        return word.replace(core, new, 1)

    def utterance(self) -> str:
        rng = self.rng
        if rng.random() < self.verbatim:
            return rng.choice(self.lines)
        target = min(40, rng.choice(self.lengths))     # a paragraph of a talk show is not one utterance
        word = rng.choice(self.starts)
        out = [word]
        while len(out) < target:
            nxt = self.next.get(word)
            word = rng.choice(nxt) if nxt else rng.choice(self.starts)
            out.append(word)
        if self.inflect:
            out = [self._other_form(w) if rng.random() < self.inflect else w for w in out]
        return " ".join(out)


@dataclass
class CorpusStats:
    """What a built corpus holds: measured while it is written."""
    utterances: int = 0
    tokens: int = 0
    distinct_utterances: int = 0
    vocabulary: int = 0
    heaps: list[tuple[int, int]] = field(default_factory=list)   # (tokens so far, distinct word forms)
    source: str = ""

    def beta(self) -> float | None:
        """Heaps' exponent between the first and the last point (real text: ~0.4–0.7)."""
        if len(self.heaps) < 2 or self.heaps[0][1] == self.heaps[-1][1]:
            return None
        (n1, v1), (n2, v2) = self.heaps[0], self.heaps[-1]
        return math.log(v2 / v1) / math.log(n2 / n1)

    def line(self) -> str:
        b = self.beta()
        curve = ", ".join(f"{n / 1e6:.1f}M→{v:,}" for n, v in self.heaps)
        return (f"corpus: {self.utterances:,} utterances ({self.distinct_utterances:,} distinct, "
                f"{self.utterances - self.distinct_utterances:,} repeats), {self.tokens:,} words, "
                f"{self.vocabulary:,} distinct word forms; tokens→forms {curve}"
                + (f"; Heaps β {b:.2f}" if b else "") + f"; from {self.source}")


def write_corpus(folder: Path, total: int, per_file: int = 20_000, seed: int = 20261203,
                 start_unix: int = 1646092800) -> tuple[list[Path], CorpusStats, dict[str, int]]:
    """JSONL message files of ``per_file`` utterances (time, channel, text); the stats; and the
    frequency of every word form (lower case), for choosing queries."""
    lines, source = real_lines()
    gen = Generator(lines, seed=seed)
    stats = CorpusStats(source=source)
    freq: dict[str, int] = {}
    digests: set[bytes] = set()
    checkpoints = {total // 100, total // 10, total}
    files, written = [], 0
    while written < total:
        n = min(per_file, total - written)
        path = folder / f"traffic_{len(files):04d}.jsonl"
        with open(path, "w", encoding="utf-8") as fh:
            for j in range(n):
                text = gen.utterance()
                digests.add(hashlib.blake2b(text.encode(), digest_size=8).digest())
                for w in WORD.findall(text.lower()):
                    freq[w] = freq.get(w, 0) + 1
                    stats.tokens += 1
                k = written + j
                fh.write(json.dumps({"time": start_unix + k * 7, "channel": f"ch{k % 8}", "text": text},
                                    ensure_ascii=False) + "\n")
                if k + 1 in checkpoints:
                    stats.heaps.append((stats.tokens, len(freq)))
        files.append(path)
        written += n
    stats.utterances, stats.distinct_utterances, stats.vocabulary = written, len(digests), len(freq)
    return files, stats, freq


@dataclass
class QuerySets:
    """Queries for a search benchmark: ``warmup`` is run first; ``cold`` and ``unseen`` are
    never run before they are measured, and share no lemma with ``warmup`` or each other."""
    cold: list[str]
    warmup: list[str]
    unseen: list[str]


def query_sets(freq: dict[str, int], lines: list[str], per_set: int = 40, seed: int = 7) -> QuerySets:
    """Words drawn across the frequency range (common, middle, rare: a third each), with two
    quoted phrases (two neighbouring words of a real line) and two prefix queries in each set,
    as an analyst types them."""
    import pymorphy3
    morph = pymorphy3.MorphAnalyzer(lang="ru")
    rng = random.Random(seed)
    words = sorted((w for w, c in freq.items() if len(w) >= 4 and c >= 2), key=lambda w: -freq[w])
    n = len(words)
    bands = [words[: max(1, n // 100)], words[n // 100: n // 10], words[n // 10:]]
    used: set[str] = set()

    def draw(k: int) -> list[str]:
        out = []
        while len(out) < k:
            band = bands[len(out) % 3]
            w = rng.choice(band)
            lemma = morph.parse(w)[0].normal_form
            if lemma in used:
                continue
            used.add(lemma)
            out.append(w)
        return out

    def phrase() -> str:
        while True:
            pair = WORD.findall(rng.choice(lines).lower())
            if len(pair) < 2:
                continue
            i = rng.randrange(len(pair) - 1)
            lemmas = {morph.parse(w)[0].normal_form for w in pair[i:i + 2]}
            if len(pair[i]) >= 3 and len(pair[i + 1]) >= 3 and not lemmas & used:
                used.update(lemmas)
                return f'"{pair[i]} {pair[i + 1]}"'

    sets = []
    for _ in range(3):
        ws = draw(per_set - 2)
        prefixes = [w[:5] + "*" for w in ws[-2:] if len(w) > 5] or [w + "*" for w in ws[-2:]]
        sets.append(ws[:-2] + [phrase(), phrase()] + prefixes)
    return QuerySets(*sets)
