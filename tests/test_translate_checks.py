"""The glossary and the meaning checks of the translation stage (no model needed)."""

import pytest

from overheard.translate.checks import check, english_numbers, source_numbers
from overheard.translate.glossary import Glossary, GlossaryError


@pytest.fixture(scope="module")
def glossary():
    return Glossary.load()


def found(glossary, text):
    return {m.term.ru: text[m.start:m.end] for m in glossary.find(text)}


def test_glossary_finds_inflected_jargon_slang_and_procedure(glossary):
    hits = found(glossary, "Они въёбывают наше подразделение, у нас трое двухсотых и двое трёхсотых, приём")
    assert hits["двухсотый"] == "двухсотых"
    assert hits["трехсотый"] == "трёхсотых"
    assert hits["въебывать"] == "въёбывают"
    assert hits["приём"] == "приём"
    assert "птичка" in found(glossary, "птичку сбили над посадкой")


def test_glossary_marks_slurs_and_keeps_multiword_terms_whole(glossary):
    ms = glossary.find("хохлы работают по нашим, конец связи")
    kinds = {m.term.ru: m.term.kind for m in ms}
    assert kinds["хохол"] == "slur"
    assert "конец связи" in kinds
    # "работать по" needs both words: plain "работать" is not military jargon
    assert "работать по" not in found(glossary, "я работаю на заводе")
    assert found(glossary, "работаем по посадке")["работать по"] == "работаем по"


def test_a_negated_term_is_left_to_the_model(glossary):
    # "не понял" means "did not copy": the hint "понял = roger" would turn it into its opposite
    assert "понял" not in found(glossary, "Не понял, повтори")
    assert "понял" in found(glossary, "Понял, повтори")
    assert found(glossary, "а его и нету нихуя")["ни хера"] == "нихуя"


def test_glossary_does_not_fire_on_unrelated_words(glossary):
    assert found(glossary, "Мама, я тебя люблю, скоро увидимся") == {}


def test_user_glossary_extends_and_overrides(tmp_path):
    extra = tmp_path / "mine.tsv"
    extra.write_text("# ours\nприём\treceiving, over\tprocedure\tour house style\nсемечки\tsunflower seeds\tslang\n",
                     encoding="utf-8")
    g = Glossary.load([extra])
    assert g.version != Glossary.load().version
    by_ru = {t.ru: t for t in g.terms}
    assert by_ru["приём"].en == "receiving, over"          # a later entry wins
    assert "семечки" in {m.term.ru for m in g.find("дай семечки")}


def test_bad_glossary_file_names_file_and_line(tmp_path):
    bad = tmp_path / "bad.tsv"
    bad.write_text("приём\tover\tprocedure\nарта\tartillery\tweapon\n", encoding="utf-8")
    with pytest.raises(GlossaryError, match=r"bad.tsv:2: kind 'weapon'"):
        Glossary.load([bad])
    with pytest.raises(GlossaryError, match="cannot read"):
        Glossary.load([tmp_path / "missing.tsv"])


@pytest.mark.parametrize("source, gloss, expected", [
    ("Нет воды, третий день, патроны заканчиваются", "No water, third day, running out of ammo", []),
    ("Нет воды, третий день", "Water, day 3", ["negation-dropped"]),
    ("Я не пойду на штурм", "I will go to the assault", ["negation-dropped"]),
    ("тут осталось пятеро, приём", "five left here, over", []),
    ("тут осталось пятеро, приём", "few are left here, over", ["number-lost:5"]),
    ("93-9-6-6, как приняли?", "93-9-66, how did you copy?", []),
    ("двадцать пять человек", "25 people", []),
    ("двадцать пять человек", "twenty-five people", []),
    ("Я не пойду", "Я не пойду", ["wrong-language", "negation-dropped"]),
    ("Да", "", ["empty"]),
])
def test_meaning_checks(source, gloss, expected):
    assert check(source, gloss) == expected


def test_numbers_read_from_words_and_digits():
    totals = {t for t, _ in source_numbers("сто двадцать человек, 3 танка, трое раненых")}
    assert {120, 3} <= totals
    assert {120, 3} <= english_numbers("one hundred twenty men, three tanks, 3 wounded")


def test_long_text_goes_in_whole_sentence_chunks_that_cover_it():
    from overheard.translate.engine import CHUNK_CHARS, chunks
    text = "Нет воды третий день. " * 80 + "слово " * 300 + "Конец."
    pieces = list(chunks(text))
    assert len(pieces) >= 3 and all(len(p) <= CHUNK_CHARS for _, p in pieces)
    assert all(text[o:o + len(p)] == p for o, p in pieces)                 # offsets are true
    assert pieces[0][1].endswith("день.")                                  # cut between sentences
    covered = "".join(p for _, p in pieces).replace(" ", "")
    assert covered == text.replace(" ", "")                                 # nothing lost
    assert list(chunks("Короткий текст.")) == [(0, "Короткий текст.")]


def test_the_retry_prompt_names_the_words_that_went_missing():
    from overheard.translate.engine import describe
    text = "Чего не пришлют? Их там пятеро."
    d = describe(["negation-dropped", "number-lost:5"], text, "ru")
    assert '"не пришлют"' in d and "5" in d


def test_a_join_that_does_not_hash_right_is_refused_and_leaves_nothing(tmp_path, monkeypatch):
    """The embedded model is trusted only when the joined parts hash to the pinned SHA-256."""
    from overheard.audio.model import ModelAssemblyError
    from overheard.translate import model
    parts = []
    for n in range(3):
        p = tmp_path / f"part{n:02d}.bin"
        p.write_bytes(b"GGUF" + bytes([n]) * 1000)
        parts.append(p)
    monkeypatch.setattr(model, "part_paths", lambda: parts)
    cache = tmp_path / "cache"
    with pytest.raises(ModelAssemblyError, match="expected cc324af0"):
        model.ensure_embedded_llm(cache)
    assert list(cache.iterdir()) == []            # no half-joined or unverified model left behind
