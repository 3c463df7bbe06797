import pytest

from overheard.ingest.language import detect_language


@pytest.mark.parametrize("text, lang", [
    ("Я тебе говорю", "ru"),
    ("Аа, я Шестой, цель пока открывается.", "ru"),
    ("Понял, приём.", "ru"),
    ("Мені страшно, ми тут уже тиждень.", "uk"),
    ("Як справи, друже? Тримаємося.", "uk"),
    ("Де наша підтримка", "uk"),
    ("I'm scared, we're firing at everyone.", "en"),
    ("Wir haben keine Munition mehr.", "de"),
    ("12345 !!!", "und"),
])
def test_detect(text, lang):
    assert detect_language(text) == lang


def test_hint_breaks_ties_only_when_words_allow():
    assert detect_language("Так", hint="uk") == "uk"
    assert detect_language("Так", hint="ru") == "ru"
