"""Batched Whisper transcription of short audio items (transmissions).

Whisper's encoder always runs on a 30 s window, so transcribing each 3-second
radio transmission on its own wastes most of the compute.  With ``pack=True``
several consecutive transmissions are laid into one 30 s window separated by
``gap_s`` of silence; words are mapped back to their transmission through
Whisper's word timestamps.  Windows are batched (``batch_size``) through the
encoder and the decoder.  The English gloss (``task="translate"``) reuses the
encoder output when each window holds one item; a translation of a packed
window cannot be split back reliably, so with packing every item that has
text is translated in a window of its own (batched).

Everything here is lazy: :func:`transcribe_items` consumes an iterator of
``(key, samples)`` and yields ``(key, Transcript)`` in input order, holding at
most one batch of windows in memory.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import asdict, dataclass, field
from functools import lru_cache
from typing import Any, Hashable, Iterable, Iterator, Sequence

import numpy as np

from . import hallucination
from .decode import SAMPLE_RATE
from .model import LoadedModel, load_model

WINDOW_S = 30.0


@dataclass(frozen=True)
class Word:
    start_s: float  # relative to the start of the item (transmission)
    end_s: float
    word: str
    probability: float


@dataclass
class Transcript:
    text: str  # transcript with hallucinations removed ("" = nothing credible)
    raw_text: str  # what Whisper produced, for audit
    lang: str | None
    lang_prob: float | None
    words: list[Word]
    avg_logprob: float | None  # Whisper decoder score of the window (shared when packed)
    no_speech_prob: float | None  # Whisper no-speech probability of the window (shared when packed)
    mean_word_logprob: float | None  # mean log word probability of this item's own words
    compression_ratio: float
    hallucination: bool
    hallucination_reason: str | None
    gloss_en: str | None  # machine translation to English (Whisper task=translate); None if not asked
    gloss_raw: str | None
    window: int  # index of the 30 s window this item was decoded in
    window_items: int  # how many items shared that window
    prompt: str = ""  # previous-text prompt the decoder was conditioned on ("" = none)
    fallback: str | None = None  # which re-decoding produced this text (None = the first pass)

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class TranscribeOptions:
    lang: str | None = None  # fixed language, or None to detect per window
    lang_candidates: tuple[str, ...] | None = None  # restrict detection, e.g. ("ru", "uk")
    lang_lock_after: int = 4  # lang=None: pack once this many confident detections in a row agree (0 = never)
    lang_lock_prob: float = 0.6
    task_gloss: bool = True  # also produce the English gloss
    beam_size: int = 5  # greedy lost 7 WER points on radio (docs/audio.md)
    gloss_beam_size: int = 5  # greedy translation of radio speech loops badly
    gloss_no_repeat_ngram_size: int = 3
    pack: bool | None = None  # None: pack when lang is fixed, one item per window when detecting
    gap_s: float = 0.0  # silence between packed items (the VAD padding already separates them; larger gaps make Whisper stop early)
    window_s: float = 29.5  # packing budget per window (<= 30 s)
    alone_ctx_pad_s: float | None = 5.0  # windows of one item each (retries; unpacked) get the item + this much context (None: the full one)
    audio_ctx_s: float = 30.0  # encoder input length; shorter costs less (attention is quadratic) and loses accuracy, cf. whisper.cpp --audio-ctx
    batch_size: int = 8  # windows per decoder batch
    encode_batch_size: int = 2  # windows per encoder call (bounds memory on CPU)
    word_timestamps: bool = True
    timestamps: bool = False  # timestamp tokens in packed windows: same WER with beam 5, more skipped items to retry
    max_new_tokens: int | None = None
    retry_skipped: bool = True  # re-run items a packed window left (nearly) empty, one per window
    retry_min_s: float = 0.8
    max_tokens_per_s: float = 12.0  # cap on decoded tokens per second of audio (stops loops early)
    suppress_blank: bool = True
    repetition_penalty: float = 1.0
    no_repeat_ngram_size: int = 0
    # radio-aware decoding (measured in bench/bench_asr.py; see docs/audio.md)
    prompt: str | None = None  # previous-text prompt, e.g. radio procedure words
    learn_callsigns: bool = False  # add call signs heard so far on this source ("я Шестой") to the prompt
    fallback: bool = False  # re-decode a doubtful item alone (beam 5, then beam 5 without repeated trigrams)
    fallback_logprob: float = -1.0  # Whisper's own thresholds for "doubtful"
    fallback_compression: float = 2.4
    band_hz: tuple[float, float] | None = None  # band-pass each item to the voice channel before decoding
    level_dbfs: float | None = None  # scale each item's active speech to this level before packing

    def resolved_pack(self) -> bool:
        return self.pack if self.pack is not None else (self.lang is not None)

    def to_dict(self) -> dict:
        d = asdict(self)
        d["pack"] = self.resolved_pack()
        return d


# Measured on simulated radio channels (bench/bench_asr.py, docs/audio.md): "accurate" is
# the defaults above; "fast" trades accuracy for speed, with its figures stated there.
PRESETS: dict[str, dict] = {
    "accurate": {},
    "fast": dict(audio_ctx_s=15.0),
}


def preset_options(name: str = "accurate", **overrides) -> TranscribeOptions:
    """The options of a named decoding preset, with ``overrides`` (e.g. ``lang``)."""
    if name not in PRESETS:
        raise ValueError(f"decoding preset {name!r}: expected one of {', '.join(PRESETS)}")
    return TranscribeOptions(**{**PRESETS[name], **overrides})


@dataclass
class _Item:
    key: Any
    audio: np.ndarray
    offset: int = 0  # sample offset within its window (set by packing)


@dataclass
class _Window:
    items: list[_Item] = field(default_factory=list)
    n: int = 0  # samples used


def _ffd(pieces: list[_Item], budget: int, gap: int) -> list[_Window]:
    """First-fit decreasing bin packing of pieces into windows; inside each
    window the pieces are laid in time (input) order."""
    bins: list[list[_Item]] = []
    used: list[int] = []
    for it in sorted(pieces, key=lambda x: -len(x.audio)):
        n = len(it.audio)
        for bi in range(len(bins)):
            if used[bi] + gap + n <= budget:
                bins[bi].append(it)
                used[bi] += gap + n
                break
        else:
            bins.append([it])
            used.append(n)
    windows = []
    for b in sorted(bins, key=lambda b: min(x.key for x in b)):
        w = _Window()
        for it in sorted(b, key=lambda x: x.key):
            it.offset = w.n + (gap if w.items else 0)
            w.items.append(it)
            w.n = it.offset + len(it.audio)
        windows.append(w)
    return windows


def _batches(items: Iterable[tuple[Hashable, np.ndarray]], opts: TranscribeOptions, keys: dict,
             pack_now=None) -> Iterator[list[_Window]]:
    """Group items into batches of windows.  With packing, pieces are
    collected until about ``batch_size`` windows' worth and bin-packed (first
    fit decreasing), which fills windows better than in-order packing.
    Items longer than a window are cut into window-size pieces; internal keys
    are ``(seq, piece, n_pieces)``; ``keys`` maps seq -> caller's key.
    ``pack_now()`` (asked per item) switches packing on and off as the run goes
    (a channel whose language has become clear)."""
    full = int(opts.window_s * SAMPLE_RATE)  # longest piece: one Whisper window
    budget = min(full, int((opts.audio_ctx_s - 0.5) * SAMPLE_RATE))  # packing budget per window
    gap = int(opts.gap_s * SAMPLE_RATE)
    pack = opts.resolved_pack()
    pack_now = pack_now or (lambda: pack)
    bs = max(1, opts.batch_size)
    pend: list[_Item] = []
    age: dict[tuple, int] = {}
    total = 0
    for seq, (key, audio) in enumerate(items):
        pack = pack_now()
        keys[seq] = key
        audio = np.asarray(audio, dtype=np.float32).reshape(-1)
        pieces = split_quiet(audio, budget if pack else full)
        for pi, piece in enumerate(pieces):
            pend.append(_Item((seq, pi, len(pieces)), piece))
            total += len(piece) + gap
        if not pack:
            while len(pend) >= bs:
                yield [_ffd([it], full, gap)[0] for it in pend[:bs]]
                pend = pend[bs:]
            total = sum(len(it.audio) + gap for it in pend)
        elif total >= bs * budget:
            windows = _ffd(pend, budget, gap)
            # emit well-filled windows; carry the items of under-filled ones
            # into the next batch once (bounded delay), where they pack better
            emit, carry = [], []
            for w in windows:
                if w.n >= 0.9 * budget or any(age.get(it.key, 0) >= 1 for it in w.items):
                    emit.append(w)
                else:
                    carry.extend(w.items)
            if not emit:
                emit, carry = windows, []
            for it in carry:
                age[it.key] = age.get(it.key, 0) + 1
            for w in emit:
                for it in w.items:
                    age.pop(it.key, None)
            yield emit
            pend = carry
            total = sum(len(it.audio) + gap for it in pend)
    if pend:
        yield _ffd(pend, budget, gap) if pack else [_ffd([it], full, gap)[0] for it in pend]


def split_quiet(audio: np.ndarray, max_len: int, frame: int = 320) -> list[np.ndarray]:
    """Cut audio longer than ``max_len`` samples into pieces of at most that length, each
    cut at the quietest 20 ms frame of the last 40 % of the allowed span (a pause between
    words, not the middle of one)."""
    pieces, start, n = [], 0, len(audio)
    while n - start > max_len:
        lo, hi = start + int(0.6 * max_len), start + max_len
        seg = audio[lo:hi]
        k = len(seg) // frame
        if k >= 2:
            e = np.mean(seg[: k * frame].reshape(k, frame).astype(np.float64) ** 2, axis=1)
            cut = lo + int(np.argmin(e)) * frame + frame // 2
        else:
            cut = hi
        pieces.append(audio[start:cut])
        start = cut
    pieces.append(audio[start:])
    return pieces


def _window_audio(w: _Window) -> np.ndarray:
    a = np.zeros(max(w.n, 1), dtype=np.float32)
    for it in w.items:
        a[it.offset : it.offset + len(it.audio)] = it.audio
    return a


# ------------------------------------------------------------------ radio-aware decoding
# "Шестой, я Первый": on military radio a station names itself after "я"
_SELF_ID = re.compile(r"(?<![\w-])я\s*[,—–-]?\s+[«\"']?([А-ЯЁЇІЄҐа-яёїієґ][а-яёїієґ'-]{2,})", re.IGNORECASE)
_NOT_A_CALLSIGN = {"NPRO", "VERB", "INFN", "PRCL", "CONJ", "PREP", "ADVB", "PRED", "GRND", "PRTF", "PRTS", "INTJ", "COMP"}


@lru_cache(maxsize=1)
def _morph():
    import pymorphy3

    return pymorphy3.MorphAnalyzer(lang="ru")


class CallsignMemory:
    """Call signs heard on one source as the run goes: the word after "я" in a
    self-identification, if it can be a name (not a pronoun, verb, adverb...) and was
    heard at least ``min_count`` times; the most frequent ``max_words`` go into the
    decoder prompt so that later transmissions spell them the same way."""

    def __init__(self, min_count: int = 2, max_words: int = 8):
        self.counts: Counter[str] = Counter()
        self.min_count = min_count
        self.max_words = max_words

    def learn(self, text: str) -> None:
        for m in _SELF_ID.finditer(text or ""):
            word = m.group(1).strip("'-")
            parse = _morph().parse(word.lower())[0]
            if parse.tag.POS in _NOT_A_CALLSIGN or "Apro" in parse.tag:
                continue
            self.counts[word[:1].upper() + word[1:].lower()] += 1

    def prompt_words(self) -> list[str]:
        return [w for w, c in self.counts.most_common(self.max_words) if c >= self.min_count]


class ChannelLanguage:
    """The language of one channel, learnt as the run goes (``lang=None``).

    Detecting the language of every transmission means one Whisper window per
    transmission (about 3x the cost of packing).  Instead transmissions are decoded alone,
    with detection, until ``lock_after`` confident detections in a row (transmissions of
    at least ``min_s`` with text) agree; from then on they are packed with that language.
    Each packed window is still checked: its own detection costs one decoder step on the
    encoder output already computed, and a window that confidently says another language
    unlocks the channel and has its transmissions decoded alone again."""

    def __init__(self, lock_after: int = 4, min_prob: float = 0.6, min_s: float = 1.5):
        self.lock_after, self.min_prob, self.min_s = lock_after, min_prob, min_s
        self.lang: str | None = None
        self.recent: list[str] = []
        self.switches = 0  # how many times a packed window contradicted the channel's language

    @property
    def locked(self) -> bool:
        return self.lang is not None

    def observe(self, lang: str, prob: float, duration_s: float, has_text: bool) -> None:
        """A transmission decoded alone with its own detection."""
        if self.locked or self.lock_after <= 0 or duration_s < self.min_s or not has_text:
            return
        self.recent = (self.recent + [lang if prob >= self.min_prob else "?"])[-self.lock_after :]
        if len(self.recent) == self.lock_after and len(set(self.recent)) == 1 and self.recent[0] != "?":
            self.lang = self.recent[0]

    def contradicts(self, lang: str, prob: float) -> bool:
        """A packed window's detection: True (and the channel unlocks) if it says another language."""
        if self.locked and lang != self.lang and prob >= self.min_prob:
            self.lang, self.recent = None, []
            self.switches += 1
            return True
        return False


def condition(audio: np.ndarray, opts: "TranscribeOptions") -> np.ndarray:
    """Band-limit to the voice channel and bring active speech to a common level.
    Whisper's log-mel features are clamped 8 (log10) below the window's loudest bin,
    so in a packed window a quiet transmission next to a loud one loses detail."""
    a = np.asarray(audio, dtype=np.float32).reshape(-1)
    if opts.band_hz and len(a) > 64:
        from scipy.signal import butter, sosfiltfilt

        lo, hi = opts.band_hz
        sos = butter(4, [lo, min(hi, SAMPLE_RATE / 2 - 100)], btype="band", fs=SAMPLE_RATE, output="sos")
        a = sosfiltfilt(sos, a).astype(np.float32)
    if opts.level_dbfs is not None and len(a) >= 320:
        n = 320
        e = np.mean(a[: len(a) // n * n].reshape(-1, n).astype(np.float64) ** 2, axis=1)
        active = e[e > e.max() * 1e-4]  # frames within 40 dB of the loudest
        if active.size and active.mean() > 1e-10:
            gain = 10 ** (opts.level_dbfs / 20) / math.sqrt(active.mean())
            a = np.clip(a * gain, -1.0, 1.0).astype(np.float32)
    return a


class _Engine:
    def __init__(self, lm: LoadedModel, opts: TranscribeOptions):
        from faster_whisper.tokenizer import Tokenizer
        from faster_whisper.transcribe import get_suppressed_tokens

        self.lm = lm
        self.wm = lm.whisper
        self.opts = opts
        self.multilingual = self.wm.model.is_multilingual
        base_lang = opts.lang or "en"
        if not self.multilingual:
            base_lang = "en"
        self.tok = Tokenizer(self.wm.hf_tokenizer, self.multilingual, task="transcribe", language=base_lang)
        self.tok_tr = Tokenizer(self.wm.hf_tokenizer, self.multilingual, task="translate", language=base_lang)
        self.suppress = list(get_suppressed_tokens(self.tok, [-1]))
        self.lang_ids = {}
        if self.multilingual:
            for code in self.wm.supported_languages:
                tid = self.wm.hf_tokenizer.token_to_id(f"<|{code}|>")
                if tid is not None:
                    self.lang_ids[code] = tid
        self.callsigns = CallsignMemory() if opts.learn_callsigns else None
        self.windows = 0  # windows decoded so far: each gets its own number, kept or not
        self.channel = ChannelLanguage(opts.lang_lock_after, opts.lang_lock_prob) \
            if opts.lang is None and self.multilingual and opts.pack is None else None

    def prompt_text(self) -> str:
        """The previous-text prompt of the next batch: the fixed prompt plus call signs heard so far."""
        parts = [self.opts.prompt.strip()] if self.opts.prompt else []
        if self.callsigns is not None:
            parts += self.callsigns.prompt_words()
        return " ".join(parts)

    def _prompt(self, tok, lang: str, without_timestamps: bool, previous: str = "") -> list[int]:
        prev = tok.encode(" " + previous.strip()) if previous.strip() else []
        p = self.wm.get_prompt(tok, prev, without_timestamps=without_timestamps)
        if self.multilingual and lang in self.lang_ids:
            i = p.index(tok.language)
            p[i] = self.lang_ids[lang]
        return p

    def _generate(self, enc, prompts, beam_size, audio_s: float = 30.0, no_repeat: int | None = None):
        opts = self.opts
        max_length = self.wm.max_length
        n_prompt = max(len(p) for p in prompts)
        if opts.max_new_tokens is not None:
            max_length = min(max_length, n_prompt + opts.max_new_tokens)
        if opts.max_tokens_per_s:
            max_length = min(max_length, n_prompt + int(20 + opts.max_tokens_per_s * audio_s))
        return self.wm.model.generate(
            enc,
            prompts,
            beam_size=beam_size,
            patience=1.0,
            length_penalty=1.0,
            max_length=max_length,
            suppress_blank=opts.suppress_blank,
            suppress_tokens=self.suppress,
            return_scores=True,
            return_no_speech_prob=True,
            repetition_penalty=opts.repetition_penalty,
            no_repeat_ngram_size=opts.no_repeat_ngram_size if no_repeat is None else no_repeat,
            sampling_temperature=1.0,
        )

    def _frames(self, audios, alone: bool = False) -> int:
        """Encoder input frames for a batch: the audio context (even, <= 3000), or the full
        30 s when an item is longer than it; windows of one item each may get just enough
        context for the longest of them (``alone_ctx_pad_s``)."""
        longest = max(len(a) for a in audios) / SAMPLE_RATE
        if alone and self.opts.alone_ctx_pad_s is not None:
            return min(3000, int(math.ceil((longest + self.opts.alone_ctx_pad_s) * 50)) * 2)
        ctx = min(3000, int(math.ceil(self.opts.audio_ctx_s * 50)) * 2)
        return ctx if longest <= self.opts.audio_ctx_s - 0.2 else 3000

    def _encode(self, feats: np.ndarray):
        """Encoder in sub-batches of ``encode_batch_size``: on CPU a batch of 8
        30 s windows needs ~0.6 GB of attention buffers for no speed gain;
        the outputs (3 MB per window) are concatenated for the decoder."""
        eb = max(1, self.opts.encode_batch_size)
        if len(feats) <= eb or self.lm.device != "cpu":
            return self.wm.encode(feats)
        import ctranslate2

        parts = [np.asarray(self.wm.encode(feats[i : i + eb])) for i in range(0, len(feats), eb)]
        return ctranslate2.StorageView.from_array(np.ascontiguousarray(np.concatenate(parts), dtype=np.float32))

    def _detect(self, enc) -> list[tuple[str, float]]:
        out = []
        for probs in self.wm.model.detect_language(enc):
            cands = [(tok[2:-2], p) for tok, p in probs]
            if self.opts.lang_candidates:
                allowed = [(c, p) for c, p in cands if c in self.opts.lang_candidates]
                if allowed:
                    tot = sum(p for _, p in allowed) or 1.0
                    cands = [(c, p / tot) for c, p in allowed]
            out.append(max(cands, key=lambda cp: cp[1]))
        return out

    def run(self, windows: Sequence[_Window], *, beam_size: int | None = None,
            no_repeat: int | None = None, gloss: bool = True) -> list[tuple[Any, dict]]:
        from faster_whisper.audio import pad_or_trim
        from faster_whisper.transcribe import merge_punctuations

        first_index, self.windows = self.windows, self.windows + len(windows)

        fe = self.wm.feature_extractor
        audios = [_window_audio(w) for w in windows]
        frames = self._frames(audios, alone=all(len(w.items) == 1 for w in windows))
        feats = np.stack([pad_or_trim(fe(a)[..., :-1], frames) for a in audios]).astype(np.float32)
        enc = self._encode(feats)
        if self.opts.lang is not None or not self.multilingual:
            langs = [(self.opts.lang if self.multilingual else "en", 1.0)] * len(windows)
        else:
            langs = self._detect(enc)
        relang: set[int] = set()  # packed windows whose own detection contradicts the channel
        if self.channel is not None:
            for wi, w in enumerate(windows):
                if len(w.items) > 1 and self.channel.locked:
                    if self.channel.contradicts(*langs[wi]):
                        relang.add(wi)
                    else:
                        langs[wi] = (self.channel.lang, langs[wi][1] if langs[wi][0] == self.channel.lang else None)
        # timestamp tokens help Whisper cover a packed window; for a window with a
        # single item the no-timestamps mode transcribed more completely
        use_ts = self.opts.timestamps and any(len(w.items) > 1 for w in windows)
        previous = self.prompt_text()
        prompts = [self._prompt(self.tok, lg, not use_ts, previous) for lg, _ in langs]
        max_s = max(len(a) for a in audios) / SAMPLE_RATE
        results = self._generate(enc, prompts, beam_size or self.opts.beam_size, max_s, no_repeat)
        tokens = [[t for t in r.sequences_ids[0] if t < self.tok.eot] for r in results]
        win_scores = []
        for r in results:
            n = len(r.sequences_ids[0])
            cum = r.scores[0] * (n ** 1.0)
            win_scores.append((cum / (n + 1), float(r.no_speech_prob)))

        # word timestamps (needed to split packed windows)
        need_words = self.opts.word_timestamps or any(len(w.items) > 1 for w in windows)
        aligned: list[list[dict]] = [[] for _ in windows]
        if need_words and any(tokens):
            num_frames = [max(1, math.ceil(len(a) / fe.hop_length)) for a in audios]
            # one sot sequence per batch in CTranslate2's align(); use the
            # majority language (the alignment heads do not depend on it much)
            major = max(set(lg for lg, _ in langs), key=[lg for lg, _ in langs].count)
            tok_al = self.tok if major == (self.opts.lang or "en") else _lang_tokenizer(self, major)
            aligned = self.wm.find_alignment(tok_al, tokens, enc, num_frames)
            for al in aligned:
                merge_punctuations(al, "\"'“¿([{-", "\"'.。,，!！?？:：”)]}、")

        # English gloss.  One item per window: reuse the encoder output.
        # Packed windows: Whisper's translation cannot be split back into
        # items reliably, so each item with text gets its own window.
        packed = any(len(w.items) > 1 for w in windows)
        gloss_single: list[str | None] = [None] * len(windows)
        if gloss and self.opts.task_gloss and self.multilingual and not packed:
            gprompts = [self._prompt(self.tok_tr, lg, True) for lg, _ in langs]
            gres = self._generate(enc, gprompts, self.opts.gloss_beam_size, max_s, self.opts.gloss_no_repeat_ngram_size)
            gloss_single = [self.tok_tr.decode([t for t in r.sequences_ids[0] if t < self.tok_tr.eot]).strip() for r in gres]

        out: list[tuple[Any, dict]] = []
        for wi, w in enumerate(windows):
            lang, lang_p = langs[wi]
            avg_lp, nsp = win_scores[wi]
            words = [
                dict(word=a["word"], start=float(a["start"]), end=float(a["end"]), probability=float(a["probability"]))
                for a in aligned[wi]
                if a["word"]
            ] if aligned[wi] else []
            text_all = self.tok.decode(tokens[wi]).strip()
            bounds = [(it.offset / SAMPLE_RATE, (it.offset + len(it.audio)) / SAMPLE_RATE) for it in w.items]
            half_gap = self.opts.gap_s / 2
            per_item_words: list[list[dict]] = [[] for _ in w.items]
            if len(w.items) == 1:
                per_item_words[0] = words
            else:
                for wd in words:
                    mid = (wd["start"] + wd["end"]) / 2
                    idx = _nearest(bounds, mid, half_gap)
                    per_item_words[idx].append(wd)
            for ii, it in enumerate(w.items):
                b0 = bounds[ii][0]
                iw = [
                    Word(
                        start_s=round(max(0.0, wd["start"] - b0), 3),
                        end_s=round(max(0.0, wd["end"] - b0), 3),
                        word=wd["word"],
                        probability=round(wd["probability"], 4),
                    )
                    for wd in per_item_words[ii]
                ]
                if len(w.items) == 1:
                    text = text_all
                else:
                    text = "".join(x.word for x in iw).strip()
                mwl = (
                    float(np.mean([math.log(max(x.probability, 1e-6)) for x in iw])) if iw else None
                )
                out.append(
                    (
                        it.key,
                        dict(
                            text=text,
                            lang=lang if self.multilingual else "en",
                            lang_prob=None if lang_p is None else float(lang_p),
                            words=iw,
                            avg_logprob=float(avg_lp),
                            no_speech_prob=float(nsp),
                            mean_word_logprob=mwl,
                            gloss=gloss_single[wi] if (gloss and self.opts.task_gloss and not packed) else None,
                            lang_for_gloss=lang,
                            window=first_index + wi,
                            window_items=len(w.items),
                            duration_s=len(it.audio) / SAMPLE_RATE,
                            prompt=previous,
                            relang=wi in relang,
                        ),
                    )
                )
            if self.channel is not None and len(w.items) == 1 and self.opts.lang is None:
                self.channel.observe(lang, lang_p or 0.0, len(w.items[0].audio) / SAMPLE_RATE, bool(text_all))
        if gloss and self.opts.task_gloss and self.multilingual and packed:
            self._gloss_separately(windows, out)
        return out

    def _gloss_separately(self, windows: Sequence[_Window], out: list[tuple[Any, dict]]) -> None:
        from faster_whisper.audio import pad_or_trim

        fe = self.wm.feature_extractor
        audio = {it.key: it.audio for w in windows for it in w.items}
        todo = [(i, d) for i, (k, d) in enumerate(out) if d["text"].strip() and len(hallucination.check(d["text"]).clean_text) > 0]
        for i, (_k, d) in enumerate(out):
            d["gloss"] = ""
        bs = max(1, self.opts.batch_size)
        for j in range(0, len(todo), bs):
            chunk = todo[j : j + bs]
            feats = np.stack([pad_or_trim(fe(audio[out[i][0]])[..., :-1]) for i, _ in chunk]).astype(np.float32)
            enc = self._encode(feats)
            prompts = [self._prompt(self.tok_tr, d["lang_for_gloss"], True) for _, d in chunk]
            max_s = max(len(audio[out[i][0]]) for i, _ in chunk) / SAMPLE_RATE
            res = self._generate(enc, prompts, self.opts.gloss_beam_size, max_s, self.opts.gloss_no_repeat_ngram_size)
            for (i, d), r in zip(chunk, res):
                d["gloss"] = self.tok_tr.decode([t for t in r.sequences_ids[0] if t < self.tok_tr.eot]).strip()


def _lang_tokenizer(engine: _Engine, lang: str):
    from faster_whisper.tokenizer import Tokenizer

    return Tokenizer(engine.wm.hf_tokenizer, True, task="transcribe", language=lang)


def _nearest(bounds: list[tuple[float, float]], t: float, slack: float) -> int:
    best, bd = 0, float("inf")
    for i, (b0, b1) in enumerate(bounds):
        d = 0.0 if b0 - slack <= t <= b1 + slack else min(abs(t - b0), abs(t - b1))
        if d < bd:
            best, bd = i, d
    return best


def _merge_pieces(parts: list[dict]) -> dict:
    """Merge results of one item that was cut into several windows."""
    if len(parts) == 1:
        return parts[0]
    words, offset = [], 0.0
    for p in parts:
        words += [Word(w.start_s + offset, w.end_s + offset, w.word, w.probability) for w in p["words"]]
        offset += p["duration_s"]
    lps = [p["mean_word_logprob"] for p in parts if p["mean_word_logprob"] is not None]
    return dict(
        text=" ".join(p["text"] for p in parts if p["text"]).strip(),
        lang=parts[0]["lang"],
        lang_prob=parts[0]["lang_prob"],
        words=words,
        avg_logprob=float(np.mean([p["avg_logprob"] for p in parts])),
        no_speech_prob=float(np.min([p["no_speech_prob"] for p in parts])),
        mean_word_logprob=float(np.mean(lps)) if lps else None,
        gloss=None if parts[0]["gloss"] is None else " ".join(p["gloss"] for p in parts if p["gloss"]).strip(),
        lang_for_gloss=parts[0]["lang_for_gloss"],
        window=parts[0]["window"],
        window_items=max(p["window_items"] for p in parts),
        duration_s=offset,
        prompt=parts[0].get("prompt", ""),
        fallback=next((p["fallback"] for p in parts if p.get("fallback")), None),
    )


def _finish(d: dict) -> Transcript:
    multi = d["window_items"] > 1
    score = d["mean_word_logprob"] if multi else d["avg_logprob"]
    chk = hallucination.check(
        d["text"],
        duration_s=d["duration_s"],
        avg_logprob=score,
        no_speech_prob=d["no_speech_prob"] if not multi else None,
    )
    gloss_clean = None
    if d["gloss"] is not None:
        gloss_clean = "" if not chk.clean_text else hallucination.check(d["gloss"]).clean_text
    return Transcript(
        text=chk.clean_text,
        raw_text=d["text"],
        lang=d["lang"],
        lang_prob=d["lang_prob"],
        words=d["words"],
        avg_logprob=d["avg_logprob"],
        no_speech_prob=d["no_speech_prob"],
        mean_word_logprob=d["mean_word_logprob"],
        compression_ratio=round(hallucination.compression_ratio(d["text"]), 3),
        hallucination=chk.flag,
        hallucination_reason=chk.reason,
        gloss_en=gloss_clean,
        gloss_raw=d["gloss"],
        window=d["window"],
        window_items=d["window_items"],
        prompt=d.get("prompt", ""),
        fallback=d.get("fallback"),
    )


def transcribe_items(
    items: Iterable[tuple[Hashable, np.ndarray]],
    *,
    model: LoadedModel | str | None = None,
    options: TranscribeOptions | None = None,
) -> Iterator[tuple[Hashable, Transcript]]:
    """Transcribe ``(key, mono 16 kHz float32 samples)`` items lazily, in order."""
    opts = options or TranscribeOptions()
    lm = model if isinstance(model, LoadedModel) else load_model(model)
    eng = _Engine(lm, opts)
    keys: dict[int, Hashable] = {}
    pending: dict[int, list] = {}
    done: dict[int, Transcript] = {}
    next_seq = 0
    if opts.band_hz or opts.level_dbfs is not None:
        items = ((k, condition(a, opts)) for k, a in items)
    pack_now = (lambda: eng.channel.locked) if eng.channel is not None else None
    for batch in _batches(items, opts, keys, pack_now):
        res = eng.run(batch)
        res = _redo_language(eng, batch, res)
        res = _retry_skipped(eng, batch, res)
        res = _fallback(eng, batch, res)
        if eng.callsigns is not None:
            for _k, d in res:
                eng.callsigns.learn(hallucination.check(d["text"]).clean_text)
        for (seq, pi, npieces), d in res:
            parts = pending.setdefault(seq, [None] * npieces)
            parts[pi] = d
            if all(p is not None for p in parts):
                del pending[seq]
                done[seq] = _finish(_merge_pieces(parts))
        while next_seq in done:  # yield in input order
            yield keys.pop(next_seq), done.pop(next_seq)
            next_seq += 1
    while next_seq in done:
        yield keys.pop(next_seq), done.pop(next_seq)
        next_seq += 1


def _skipped(d: dict, opts: TranscribeOptions) -> bool:
    """Whisper sometimes stops early or skips an item inside a packed window."""
    if d["window_items"] <= 1 or d["duration_s"] < opts.retry_min_s:
        return False
    if not d["text"].strip():
        return True
    covered = sum(max(0.0, w.end_s - w.start_s) for w in d["words"])
    return d["duration_s"] >= 2.0 and covered < 0.25 * d["duration_s"]


def shared_runs(res: list, n: int = 5) -> set[int]:
    """Indexes of items that share a run of ``n`` words with another item of the same
    packed window: Whisper repeated a phrase and the word alignment gave a copy to a
    neighbour (seen once: one transmission's words inside another's text). Both are
    suspect and are decoded again alone."""
    grams: dict[tuple, set[tuple[int, int]]] = {}
    for i, (_k, d) in enumerate(res):
        if d["window_items"] <= 1:
            continue
        words = re.findall(r"\w+", d["text"].lower().replace("ё", "е"))
        for j in range(len(words) - n + 1):
            grams.setdefault(tuple(words[j: j + n]), set()).add((d["window"], i))
    out: set[int] = set()
    for owners in grams.values():
        for w in {w for w, _i in owners}:
            items = {i for ww, i in owners if ww == w}
            if len(items) > 1:
                out |= items
    return out


def _alone(batch: list[_Window], res: list, idx: list[int]) -> list[_Window]:
    """One window per item, for the items of ``res`` at ``idx`` (their audio from ``batch``)."""
    audio = {it.key: it.audio for w in batch for it in w.items}
    return [_ffd([_Item(res[i][0], audio[res[i][0]])], 1 << 40, 0)[0] for i in idx]


def _retry_skipped(eng: "_Engine", batch: list[_Window], res: list) -> list:
    """Re-transcribe, one per window, the items a packed window skipped, and those whose
    text shares a phrase with a neighbour in the window (:func:`shared_runs`)."""
    opts = eng.opts
    if not opts.retry_skipped:
        return res
    suspect = shared_runs(res)
    todo = [i for i, (_k, d) in enumerate(res) if _skipped(d, opts) or i in suspect]
    if not todo:
        return res
    res = list(res)
    bs = max(1, opts.batch_size)
    for j in range(0, len(todo), bs):
        idx = todo[j : j + bs]
        again = eng.run(_alone(batch, res, idx))
        for i, (k, d) in zip(idx, again):
            old = res[i][1]
            if i in suspect or len(d["text"].strip()) > len(old["text"].strip()):
                if old.get("gloss") is not None and d.get("gloss") is None:
                    d["gloss"] = old["gloss"]
                res[i] = (k, d)
    return res


def _redo_language(eng: "_Engine", batch: list[_Window], res: list) -> list:
    """Decode alone, with their own language detection, the items of packed windows whose
    detection contradicted the channel's language (see :class:`ChannelLanguage`)."""
    todo = [i for i, (_k, d) in enumerate(res) if d.get("relang")]
    if not todo:
        return res
    res = list(res)
    for i, (k, d) in zip(todo, eng.run(_alone(batch, res, todo))):
        res[i] = (k, d)
    return res


def _score(d: dict) -> float | None:
    """Per-item decoder confidence: the window's average log-probability when the
    item had the window to itself, else the mean log-probability of its own words."""
    return d["avg_logprob"] if d["window_items"] <= 1 else d["mean_word_logprob"]


def _confidence(d: dict) -> float:
    """Comparable across packed and lone decodings: the mean log-probability of the item's
    own words (the window score of a packed window is shared with its neighbours)."""
    c = d["mean_word_logprob"] if d["mean_word_logprob"] is not None else _score(d)
    return -99.0 if c is None else c


def _doubtful(d: dict, opts: TranscribeOptions) -> bool:
    text = d["text"].strip()
    if not text or d["duration_s"] < opts.retry_min_s:
        return False
    if hallucination.compression_ratio(text) > opts.fallback_compression:
        return True
    chk = hallucination.check(text, duration_s=d["duration_s"])
    if chk.flag and chk.reason and "loop" in chk.reason:
        return True
    score = _score(d)
    return score is not None and score < opts.fallback_logprob


# Deterministic on purpose: the same evidence must give the same transcript on a re-run
# (CTranslate2's sampling seed is per worker thread and cannot be pinned from Python).
FALLBACK_STEPS = (("beam5", dict(beam_size=5)), ("beam5-norepeat", dict(beam_size=5, no_repeat=3)))


def _fallback(eng: "_Engine", batch: list[_Window], res: list) -> list:
    """A per-transmission fallback: an item whose text loops or whose confidence is below
    ``fallback_logprob`` is decoded again alone with beam 5, then with beam 5 and no
    repeated trigram, until it passes; the most confident candidate is kept."""
    opts = eng.opts
    if not opts.fallback:
        return res
    todo = [i for i, (_k, d) in enumerate(res) if _doubtful(d, opts)]
    if not todo:
        return res
    res = list(res)
    best = {i: res[i][1] for i in todo}
    for name, kw in FALLBACK_STEPS:
        if not todo:
            break
        again = eng.run(_alone(batch, res, todo), gloss=False, **kw)
        still = []
        for i, (_k, d) in zip(todo, again):
            d["fallback"] = name
            d["gloss"] = res[i][1].get("gloss")
            old = best[i]
            if not d["text"].strip():
                still.append(i)
                continue
            if _confidence(d) > _confidence(old) or _doubtful(old, opts) and not _doubtful(d, opts):
                best[i] = d
            if _doubtful(best[i], opts):
                still.append(i)
        todo = still
    for i, d in best.items():
        res[i] = (res[i][0], d)
    return res


def transcribe_array(
    samples: np.ndarray,
    *,
    model: LoadedModel | str | None = None,
    options: TranscribeOptions | None = None,
) -> Transcript:
    """Transcribe one short clip (≤ a few minutes) held in memory."""
    for _k, t in transcribe_items([(0, samples)], model=model, options=options):
        return t
    raise RuntimeError("no result")  # pragma: no cover
