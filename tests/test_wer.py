"""The one word-error-rate helper: hand-counted cases and the normalisation every figure uses."""

import pytest

from overheard.audio.wer import errors_per_reference_word, normalise_words, word_error_rate


def test_hand_counted_substitution_deletion_insertion():
    w = word_error_rate("the cat sat on the mat", "the cat sit on mat")     # sat→sit, the deleted
    assert (w.errors, w.words, w.substitutions, w.deletions, w.insertions) == (2, 6, 1, 1, 0)
    assert w.wer == pytest.approx(2 / 6)
    w = word_error_rate("приём как слышишь", "приём приём как слышишь меня")   # two insertions
    assert (w.errors, w.insertions, w.wer) == (2, 2, pytest.approx(2 / 3))


def test_pooled_over_pairs_not_averaged():
    w = word_error_rate(["a b c d", "e"], ["a b c d", "x"])                  # 1 error in 5 words
    assert (w.errors, w.words, w.wer) == (1, 5, pytest.approx(0.2))
    assert word_error_rate(["", "a"], ["b", "a"]).errors == 1                 # an empty reference: insertions
    assert word_error_rate([""], [""]).wer == 0.0
    with pytest.raises(ValueError, match="2 references but 1 hypotheses"):
        word_error_rate(["a", "b"], ["a"])


def test_normalisation_case_yo_dashes_punctuation():
    assert normalise_words("Приём, «Берёза»! Как-нибудь — да.") == ["прием", "береза", "как", "нибудь", "да"]
    assert word_error_rate("Приём! Берёза.", "прием береза").errors == 0


def test_errors_charged_to_reference_words():
    ref, hyp = "a b c d".split(), "a x c d e".split()     # b substituted; e inserted after d
    assert errors_per_reference_word(ref, hyp) == [0, 1, 0, 1]
    assert errors_per_reference_word("a b".split(), "z a b".split()) == [1, 0]   # before the first word
    assert errors_per_reference_word("a b c".split(), []) == [1, 1, 1]
    assert errors_per_reference_word([], ["a", "b"]) == [2]
