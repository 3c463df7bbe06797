"""Radio-aware decoding: call signs learnt per source, the channel's language learnt once,
voice-channel conditioning, per-transmission fallback (real Whisper model where decoding is
involved)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from overheard.audio.decode import SAMPLE_RATE, decode_all
from overheard.audio.transcribe import (CallsignMemory, ChannelLanguage, TranscribeOptions, _batches, condition,
                                        transcribe_items)

ROOT = Path(__file__).resolve().parents[1]
FIX = ROOT / "tests" / "fixtures" / "audio"


@pytest.fixture(scope="module")
def lm():
    from overheard.audio.model import load_model

    return load_model(None)


@pytest.fixture(scope="module")
def demo_lines():
    """The 16 committed Festival lines of made-up radio traffic (examples/audio)."""
    meta = json.loads((ROOT / "examples/audio/demo_lines_clean.json").read_text(encoding="utf-8"))
    a = decode_all(ROOT / "examples/audio/demo_lines_clean.ogg")
    return [(ln["text"], a[int(ln["start_s"] * SAMPLE_RATE): int(ln["end_s"] * SAMPLE_RATE)]) for ln in meta["lines"]]


def test_call_signs_are_learnt_from_self_identification():
    mem = CallsignMemory(min_count=2)
    mem.learn("Берёза, я Сокол. Как слышишь меня? Приём.")
    assert mem.prompt_words() == []                      # heard once: not yet
    mem.learn("Шестой, я сокол, понял тебя.")
    mem.learn("я понял, я тебе говорю, я уже там, я не слышу")  # verbs, pronouns, adverbs, particles
    mem.learn("Я Шестой. я шестой")
    assert mem.prompt_words() == ["Сокол", "Шестой"]
    assert "Понял" not in mem.counts and "Тебе" not in mem.counts and "Уже" not in mem.counts


def test_channel_language_locks_after_agreeing_detections_and_unlocks_on_contradiction():
    ch = ChannelLanguage(lock_after=3, min_prob=0.6, min_s=1.5)
    ch.observe("ru", 0.9, 0.8, True)                     # too short to count
    ch.observe("ru", 0.9, 3.0, False)                    # no text: does not count
    ch.observe("ru", 0.9, 3.0, True)
    ch.observe("uk", 0.7, 3.0, True)
    assert not ch.locked
    for _ in range(3):
        ch.observe("ru", 0.95, 3.0, True)
    assert ch.locked and ch.lang == "ru"
    assert not ch.contradicts("ru", 0.99) and not ch.contradicts("uk", 0.4)   # unsure: keep
    assert ch.contradicts("uk", 0.8) and not ch.locked and ch.switches == 1


def test_batches_switch_to_packing_when_asked():
    opts = TranscribeOptions(lang=None, batch_size=2, window_s=10.0)
    items = [(i, np.zeros(2 * SAMPLE_RATE, np.float32)) for i in range(12)]
    state = {"pack": False}
    sizes = []
    for batch in _batches(iter(items), opts, {}, lambda: state["pack"]):
        sizes.append([len(w.items) for w in batch])
        state["pack"] = True
    assert sizes[0] == [1, 1]                            # alone until the switch
    assert max(max(s) for s in sizes[1:]) > 1            # packed after it
    assert sum(sum(s) for s in sizes) == 12              # nothing lost or doubled


def test_conditioning_band_limits_and_levels_speech():
    t = np.arange(2 * SAMPLE_RATE) / SAMPLE_RATE
    voice = 0.01 * np.sin(2 * np.pi * 800 * t)           # -43 dBFS
    hiss = 0.01 * np.sin(2 * np.pi * 6000 * t)
    out = condition((voice + hiss).astype(np.float32), TranscribeOptions(band_hz=(250.0, 3400.0), level_dbfs=-20.0))
    spec = np.abs(np.fft.rfft(out))
    f = np.fft.rfftfreq(len(out), 1 / SAMPLE_RATE)
    assert spec[np.argmin(abs(f - 6000))] < 0.01 * spec[np.argmin(abs(f - 800))]
    rms_db = 10 * np.log10(np.mean(out.astype(np.float64) ** 2))
    assert -21.0 < rms_db < -19.0
    same = condition(voice.astype(np.float32), TranscribeOptions())
    assert np.allclose(same, voice)                      # off by default: untouched


def test_language_is_learnt_once_then_transmissions_are_packed(lm, demo_lines):
    items = [(i, a) for i, (_t, a) in enumerate(demo_lines)]
    out = dict(transcribe_items(items, model=lm, options=TranscribeOptions(lang=None, task_gloss=False,
                                                                            lang_lock_after=3)))
    assert all(t.lang == "ru" for t in out.values())
    first = [out[i].window_items for i in range(3)]
    later = [out[i].window_items for i in range(6, len(items))]
    assert first == [1, 1, 1] and max(later) > 1         # detect alone, then pack
    per_item = dict(transcribe_items(items, model=lm, options=TranscribeOptions(lang=None, task_gloss=False,
                                                                                 lang_lock_after=0)))
    assert len({t.window for t in per_item.values()}) == len(items)   # 0 = never lock: one window each
    assert len({t.window for t in out.values()}) < len(items) // 2 + 3


def test_prompt_and_call_signs_are_recorded_with_each_transcript(lm, demo_lines):
    items = [(i, a) for i, (_t, a) in enumerate(demo_lines)]
    opts = TranscribeOptions(lang="ru", task_gloss=False, prompt="Приём. Конец связи.", learn_callsigns=True,
                             batch_size=2, pack=False)  # small batches: later ones see what earlier ones heard
    out = [t for _k, t in transcribe_items(items, model=lm, options=opts)]
    assert out[0].prompt == "Приём. Конец связи."
    # "я Сокол" is said in lines 1, 3 and 15 of the script: learnt, then in later prompts
    assert any("Сокол" in t.prompt for t in out[8:]), [t.prompt for t in out]
    plain = [t for _k, t in transcribe_items(items[:2], model=lm, options=TranscribeOptions(lang="ru", task_gloss=False))]
    assert all(t.prompt == "" for t in plain)


def test_fallback_redecodes_doubtful_transmissions_alone(lm, demo_lines):
    items = [(i, a) for i, (_t, a) in enumerate(demo_lines[:4])]
    plain = TranscribeOptions(lang="ru", task_gloss=False, beam_size=1)
    off = dict(transcribe_items(items, model=lm, options=plain))
    assert all(t.fallback is None for t in off.values())
    # a threshold no decoding can reach makes every transmission doubtful: all steps run
    # (lone windows at full context: on these four clean clips that is where beam 5 alone
    # is measurably more confident than the packed greedy pass)
    strict = TranscribeOptions(lang="ru", task_gloss=False, beam_size=1, fallback=True, fallback_logprob=1.0,
                               alone_ctx_pad_s=None)
    out = dict(transcribe_items(items, model=lm, options=strict))
    assert {t.fallback for t in out.values()} <= {None, "beam5", "beam5-norepeat"}
    assert any(t.fallback for t in out.values())
    assert all(t.text for t in out.values())
    for k, t in out.items():  # a replacement is more confident than the first pass
        if t.fallback:
            assert t.mean_word_logprob > off[k].mean_word_logprob
        else:
            assert t.text == off[k].text
    again = dict(transcribe_items(items, model=lm, options=strict))
    assert [t.text for t in again.values()] == [t.text for t in out.values()]   # deterministic: reproducible


def test_presets_name_their_options_and_refuse_unknown_names():
    from overheard.audio.transcribe import preset_options

    acc, fast = preset_options("accurate", lang="ru"), preset_options("fast", lang="ru")
    assert acc == TranscribeOptions(lang="ru") and acc.beam_size == 5 and acc.audio_ctx_s == 30.0
    assert fast.audio_ctx_s < acc.audio_ctx_s and fast.lang == "ru"
    with pytest.raises(ValueError, match="turbo"):
        preset_options("turbo")


def test_a_phrase_shared_by_two_transmissions_of_one_window_marks_both():
    from overheard.audio.transcribe import shared_runs

    def d(text, window, items=3):
        return {"text": text, "window": window, "window_items": items}

    res = [(0, d("Береза, я Сокол, выдвигаемся к лесу, повторяю, выходите к точке сбора. Приём.", 1)),
           (1, d("Тайга, я Берёза, повторяю, выходите к точке сбора. Приём.", 1)),
           (2, d("Понял тебя, конец связи.", 1)),
           (3, d("Тайга, я Берёза, повторяю, выходите к точке сбора.", 2)),   # another window: fine
           (4, d("повторяю выходите к точке сбора приём", 5, items=1))]         # alone: fine
    assert shared_runs(res) == {0, 1}
    assert shared_runs(res[2:]) == set()
