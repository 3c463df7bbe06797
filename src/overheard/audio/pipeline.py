"""decode -> segment -> transcribe (+ English gloss) -> voice cues, lazily.

:func:`process_audio` yields one :class:`ProcessedTransmission` at a time, in
time order, so the caller can persist each as it comes.  To resume after a
kill, pass ``skip_until_s`` = ``end_s`` of the last persisted transmission:
decoding seeks to just before it (``warmup_s`` earlier, so the squelch's noise
floor is re-learnt) and transmissions starting before it are not transcribed
again.
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass, field, replace
from typing import Callable, Iterator, Literal

import numpy as np

from .cues import VoiceCues, measure as measure_cues
from .decode import iter_blocks, probe
from .model import LoadedModel, load_model
from .segment import SegmentOptions, Transmission, segment_blocks
from .transcribe import TranscribeOptions, Word, transcribe_items

PIPELINE_VERSION = "overheard.audio/1"
GLOSS_LABEL = "machine translation to English by Whisper (task=translate); not a human translation"


@dataclass
class ProcessedTransmission:
    index: int
    start_s: float  # source time, seconds
    end_s: float
    text: str  # transcript, hallucinations removed ("" = nothing credible)
    raw_text: str  # Whisper's output as is
    lang: str | None
    lang_prob: float | None
    words: list[Word]  # times are source times (seconds)
    avg_logprob: float | None
    no_speech_prob: float | None
    mean_word_logprob: float | None
    hallucination: bool
    hallucination_reason: str | None
    gloss_en: str | None  # machine output, see gloss_label
    gloss_label: str | None
    cues: VoiceCues | None
    transmission: Transmission  # segmentation details (gate, level, floor, SNR)
    options: dict = field(repr=False)  # lineage: model + sha256, versions, parameters

    @property
    def duration_s(self) -> float:
        return self.end_s - self.start_s

    def to_dict(self) -> dict:
        d = asdict(self)
        d["transmission"].pop("params", None)  # already in options
        return d


@dataclass(frozen=True)
class PipelineOptions:
    mode: Literal["radio", "call"] = "radio"
    segment: SegmentOptions | None = None  # None: defaults for the mode
    transcribe: TranscribeOptions | None = None  # None: defaults (lang/gloss from process_audio)
    cues: bool = True
    block_s: float = 30.0
    warmup_s: float = 20.0  # decoded before skip_until_s to re-learn the noise floor
    compute_type: str = "int8"
    cpu_threads: int = 0  # 0 = all available
    device: str = "cpu"
    trim_every: int = 16  # release_memory() every N transmissions (0 = never)
    mmap_threshold: int = 16 * 2**20  # limit_heap_growth(); 0 = leave malloc alone


_libc = None
_MMAP_SET = False


def limit_heap_growth(mmap_threshold: int = 16 * 2**20) -> bool:
    """glibc only: serve allocations >= ``mmap_threshold`` (CTranslate2's
    encoder attention buffers, ~150 MB per call) with mmap, so they go back
    to the OS when freed instead of fragmenting the heap; glibc's default
    threshold adapts upwards and lets them pile up.  Process-wide, idempotent."""
    global _libc, _MMAP_SET
    if _MMAP_SET:
        return True
    try:
        import ctypes

        if _libc is None:
            _libc = ctypes.CDLL("libc.so.6")
        _MMAP_SET = bool(_libc.mallopt(-3, int(mmap_threshold)))  # M_MMAP_THRESHOLD
    except (OSError, AttributeError):
        _MMAP_SET = False
    return _MMAP_SET


def release_memory() -> bool:
    """glibc only: ``malloc_trim(0)`` -- hand freed heap pages back to the OS.
    Without it, freed numpy/CTranslate2 buffers fragment the heap and RSS
    creeps up over a long recording (measured: 1.68 GB peak on 3 hours).
    Cheap (called once per ``trim_every`` transmissions).  False if not glibc."""
    global _libc
    try:
        import ctypes

        if _libc is None:
            _libc = ctypes.CDLL("libc.so.6")
        return bool(_libc.malloc_trim(0))
    except (OSError, AttributeError):
        return False


def lineage(lm: LoadedModel, seg: SegmentOptions, tro: TranscribeOptions, source: str | None) -> dict:
    import av

    return {
        "pipeline": PIPELINE_VERSION,
        **lm.lineage(),
        "pyav": av.__version__,
        "source": source,
        "segment": seg.to_dict(),
        "transcribe": tro.to_dict(),
        "gloss_label": GLOSS_LABEL if tro.task_gloss else None,
    }


def process_audio(
    path: str | os.PathLike,
    *,
    mode: Literal["radio", "call"] = "radio",
    lang: str | None = None,
    model: str | LoadedModel | None = None,
    gloss: bool = True,
    progress: Callable[[float, float | None], None] | None = None,
    skip_until_s: float = 0.0,
    options: PipelineOptions | None = None,
) -> Iterator[ProcessedTransmission]:
    """Process one recording lazily.

    ``mode="radio"``: squelch + VAD segmentation into transmissions;
    ``mode="call"``: VAD only (calls, voice notes).  ``lang``: fixed language
    (e.g. ``"ru"``) or None to detect per transmission.  ``model``: None for
    the embedded Whisper base, or any faster-whisper model name/path, or a
    :class:`LoadedModel`.  ``progress(done_s, total_s)`` is called after each
    decoded block.  Raises :class:`~overheard.audio.decode.AudioDecodeError`
    for unreadable input (possibly after yielding what came before a
    corruption).
    """
    o = options or PipelineOptions(mode=mode)
    if o.mode != mode:
        o = replace(o, mode=mode)
    seg_opts = o.segment or SegmentOptions(mode=mode)
    if seg_opts.mode != mode:
        seg_opts = replace(seg_opts, mode=mode)
    tro = o.transcribe or TranscribeOptions()
    tro = replace(tro, lang=lang if lang is not None else tro.lang, task_gloss=gloss)
    info = probe(path)  # fail fast with AudioDecodeError
    if o.mmap_threshold:
        limit_heap_growth(o.mmap_threshold)
    lm = model if isinstance(model, LoadedModel) else load_model(
        model, device=o.device, compute_type=o.compute_type, cpu_threads=o.cpu_threads
    )
    lin = lineage(lm, seg_opts, tro, str(path))
    lin["source_info"] = asdict(info)
    total = info.duration_s

    start = max(0.0, skip_until_s - o.warmup_s) if skip_until_s > 0 else 0.0

    def blocks():
        for b in iter_blocks(path, block_s=o.block_s, start_s=start):
            yield b
            if progress is not None:
                progress(b.end_s, total)

    held: dict[int, tuple[Transmission, np.ndarray]] = {}

    def items():
        for tx, a in segment_blocks(blocks(), seg_opts):
            if tx.start_s < skip_until_s - 1e-3:
                continue
            held[tx.index] = (tx, a)
            yield tx.index, a

    for n_done, (key, tr) in enumerate(transcribe_items(items(), model=lm, options=tro), 1):
        tx, a = held.pop(key)
        if o.trim_every and n_done % o.trim_every == 0:
            release_memory()
        yield from_transcript(tx.index, tx.start_s, tx.end_s, tr, a, transmission=tx, cues=o.cues,
                              options={**lin, "window": tr.window, "window_items": tr.window_items,
                                       "prompt": tr.prompt, "fallback": tr.fallback})


def from_transcript(index: int, start_s: float, end_s: float, tr, samples: np.ndarray, *,
                    transmission, cues: bool = True, options: dict | None = None) -> ProcessedTransmission:
    """One transmission's result from its Whisper transcript and audio (word times moved to
    source time, voice cues measured). Shared by recordings and demodulated SDR channels."""
    words = [Word(round(start_s + w.start_s, 3), round(start_s + w.end_s, 3), w.word, w.probability)
             for w in tr.words]
    vc = measure_cues(samples, text=tr.text or None, words=tr.words if tr.text else None) if cues else None
    return ProcessedTransmission(
        index=index, start_s=start_s, end_s=end_s, text=tr.text, raw_text=tr.raw_text, lang=tr.lang,
        lang_prob=tr.lang_prob, words=words, avg_logprob=tr.avg_logprob, no_speech_prob=tr.no_speech_prob,
        mean_word_logprob=tr.mean_word_logprob, hallucination=tr.hallucination,
        hallucination_reason=tr.hallucination_reason, gloss_en=tr.gloss_en,
        gloss_label=GLOSS_LABEL if tr.gloss_en is not None else None, cues=vc, transmission=transmission,
        options=options or {})


def process_to_list(path: str | os.PathLike, **kw) -> list[ProcessedTransmission]:
    """Convenience for short files and tests."""
    return list(process_audio(path, **kw))

