"""Readers for what investigators collect: Telegram and WhatsApp exports, subtitles, saved web
pages, legacy encodings (issue 14). Expected values are written out by hand from the fixtures."""

import json

import pytest

from overheard.ingest.readers import IngestError
from overheard.ingest.readers import html, subtitles, telegram, whatsapp
from overheard.ingest.readers.base import decode_text

from conftest import REPO

FIX = REPO / "tests" / "fixtures" / "exports"
TG = FIX / "telegram" / "ChatExport_2022-03-05" / "result.json"


# -- Telegram ----------------------------------------------------------------------------------

def test_telegram_messages_entities_and_attachments():
    p = telegram.read(TG.read_text(encoding="utf-8"))
    assert p.reader == "telegram-export" and p.kind == "message" and p.title == "Сводки"
    ids = [u.meta["message_id"] for u in p.utterances]
    assert ids == [102, 103, 104, 105, 106, 107, 108]          # the service message is not one
    first = p.utterances[0]
    assert first.text == "Перехват: «воды нет третий день, нас бросили» — подробнее здесь"
    assert first.captured_at == "2022-03-05T14:00:00Z"        # date_unixtime (UTC), not the local 17:00
    assert first.time_basis == "sent" and first.speaker == "Сводки" and first.channel == "Сводки"
    assert first.meta["forwarded_from"] == "Перехват 24"
    bold, link = first.meta["entities"]
    assert bold == {"type": "bold", "start": 10, "end": 45}     # 10 + len("«…»") = 10 + 35
    assert first.text[bold["start"]:bold["end"]] == "«воды нет третий день, нас бросили»"
    assert link["type"] == "text_link" and link["url"] == "https://example.org/p/1"
    assert first.text[link["start"]:link["end"]] == "здесь"
    assert p.utterances[2].meta["reply_to"] == 102
    atts = {a["message_id"]: a for a in p.attachments}
    assert set(atts) == {103, 104, 105, 106, 107}
    assert atts[103]["speech"] and atts[103]["media_type"] == "voice_message" and atts[103]["seq"] == 2
    assert atts[104]["speech"] and atts[104]["media_type"] == "video_message"
    assert not atts[105]["speech"] and atts[105]["media_type"] == "photo"
    assert atts[106]["missing"] == "not included in the export"


def test_telegram_whole_account_export_and_string_text():
    data = {"chats": {"list": [
        {"name": "A", "type": "personal_chat", "id": 1, "messages": [
            {"id": 1, "type": "message", "date": "2022-03-01T10:00:00", "from": "Оля", "text": "привет"}]},
        {"name": "B", "type": "private_group", "id": 2, "messages": [
            {"id": 7, "type": "message", "date_unixtime": "1646128800", "from": "Иван", "text": "живой"}]}]}}
    p = telegram.read(json.dumps(data))
    assert [(u.channel, u.text, u.captured_at) for u in p.utterances] == [
        ("A", "привет", "2022-03-01T10:00:00Z"), ("B", "живой", "2022-03-01T10:00:00Z")]
    assert "local" in p.meta["local_dates"]          # message 1 had only the local date
    assert p.title == "Telegram export (2 chats)"


@pytest.mark.parametrize("text,expect", [
    ('{"name": "x", "messages": [{"id": 1, "type": "mess', "not valid JSON"),
    ('{"name": "x"}', "no 'messages' list"),
    ('{"messages": [{"id": 1, "type": "service", "action": "pin_message"}]}', "no messages with text or media"),
])
def test_telegram_bad_exports_are_one_line(text, expect):
    with pytest.raises(IngestError, match=expect):
        telegram.read(text)


def test_telegram_media_paths_that_leave_the_export_are_refused():
    data = {"messages": [{"id": 1, "type": "message", "date_unixtime": "1646128800", "text": "",
                          "file": "../../etc/passwd", "media_type": "voice_message"}]}
    att = telegram.read(json.dumps(data)).attachments[0]
    assert att["missing"].startswith("refused")


# -- WhatsApp ----------------------------------------------------------------------------------

def test_whatsapp_android_us_layout():
    p = whatsapp.read((FIX / "whatsapp" / "WhatsApp Chat with Иван.txt").read_text(encoding="utf-8"))
    assert [(u.speaker, u.text, u.captured_at) for u in p.utterances] == [
        ("Иван", "Мама, у нас всё нормально\nне переживай", "2022-03-06T10:01:00Z"),
        ("Иван", "", "2022-03-06T10:02:00Z"),
        ("Мама", "", "2022-03-06T10:03:00Z"),
        ("Мама", "Сынок, береги себя", "2022-03-06T22:15:00Z")]
    assert p.meta["layout"] == "android" and p.meta["date_order"] == "mdy" and p.meta["system_lines"] == 1
    assert p.attachments == [{"path": "PTT-20220306-WA0003.opus", "media_type": "voice_message", "speech": True,
                              "seq": 2, "line_no": 4, "captured_at": "2022-03-06T10:02:00Z", "sender": "Иван"}]
    assert p.utterances[2].meta["attachment"]["media_type"] == "omitted"


def test_whatsapp_ios_layout_with_invisible_marks():
    p = whatsapp.read((FIX / "whatsapp" / "_chat.txt").read_text(encoding="utf-8"))
    assert p.meta["layout"] == "ios" and p.meta["date_order"] == "dmy"
    assert [(u.speaker, u.captured_at) for u in p.utterances] == [
        ("Иван", "2022-03-06T10:01:05Z"), ("Иван", "2022-03-06T10:01:40Z"), ("Мама", "2022-03-06T22:15:00Z")]
    assert p.attachments[0]["path"] == "00000031-AUDIO-2022-03-06-10-01-40.opus"


def test_whatsapp_day_first_is_inferred_from_a_day_over_12():
    p = whatsapp.read("13.03.2022, 08:00 - A: раз\n01.04.2022, 09:30 - B: два\n")
    assert [u.captured_at for u in p.utterances] == ["2022-03-13T08:00:00Z", "2022-04-01T09:30:00Z"]
    assert "over 12" in p.meta["date_order_why"]


def test_whatsapp_unknown_layout_names_the_line():
    with pytest.raises(IngestError, match="line 1: no date/time layout"):
        whatsapp.read("Monday 5 March: A said hi\n")
    assert not whatsapp.looks_like("Просто заметка\nбез дат\n")


# -- subtitles ---------------------------------------------------------------------------------

SRT = """1
00:00:01,000 --> 00:00:03,500
КОМАНДИР: Приём, как слышишь?

2
00:00:04,250 --> 00:00:06,000
<i>Слышу тебя.</i>
Двое трёхсотых.
"""

VTT = """WEBVTT

NOTE written by hand
two lines

intro
00:01.000 --> 00:02.500 align:start
<v Иван>Воды нет</v>

01:00:00.000 --> 01:00:01.000
{\\an8}Держимся
"""


def test_srt_cues_become_timed_utterances_with_speakers():
    p = subtitles.read(SRT)
    assert [(u.start_s, u.end_s, u.speaker, u.text, u.line_no) for u in p.utterances] == [
        (1.0, 3.5, "КОМАНДИР", "Приём, как слышишь?", 3),
        (4.25, 6.0, None, "Слышу тебя. Двое трёхсотых.", 7)]
    assert p.meta["format"] == "srt" and p.media_type == "application/x-subrip"


def test_vtt_voice_tags_notes_and_hours():
    p = subtitles.read(VTT)
    assert [(u.start_s, u.end_s, u.speaker, u.text) for u in p.utterances] == [
        (1.0, 2.5, "Иван", "Воды нет"), (3600.0, 3601.0, None, "Держимся")]


def test_subtitles_without_cues_or_with_backwards_cues_fail_clearly():
    with pytest.raises(IngestError, match="no cues"):
        subtitles.read("WEBVTT\n\njust text\n")
    with pytest.raises(IngestError, match="line 2: cue ends"):
        subtitles.read("1\n00:00:05,000 --> 00:00:01,000\nx\n")


# -- HTML ----------------------------------------------------------------------------------------

ARTICLE = """<!DOCTYPE html><html lang="ru"><head><meta charset="utf-8">
<title>«Нас бросили»: солдаты жалуются на командование — Новости</title>
<meta property="og:url" content="https://example.org/news/2022/03/soldiers">
<meta property="article:published_time" content="2022-03-07T10:00:00+03:00">
<meta name="author" content="Анна Иванова"></head><body>
<nav><a href="/">Главная</a> | <a href="/politics">Политика</a> | <a href="/war">Война</a></nav>
<article><h1>«Нас бросили»: солдаты жалуются на командование</h1>
<p>Военнослужащий, попросивший не называть его имени, рассказал изданию о ситуации на передовой.</p>
<p>«Воды нет уже третий день. Командиры уехали, нас бросили», — сказал он в телефонном разговоре. По его словам, раненых не эвакуируют.</p>
</article><aside>Читайте также: Курс рубля упал</aside>
<footer>© 2022 Новости. Все права защищены.</footer></body></html>"""


def test_html_article_text_metadata_and_quotes():
    p = html.read(ARTICLE)
    texts = [u.text for u in p.utterances]
    assert texts == [
        "Военнослужащий, попросивший не называть его имени, рассказал изданию о ситуации на передовой.",
        "«Воды нет уже третий день. Командиры уехали, нас бросили», — сказал он в телефонном разговоре.",
        "По его словам, раненых не эвакуируют."]
    assert not any("Главная" in t or "Курс рубля" in t or "права защищены" in t for t in texts)
    assert p.title == "«Нас бросили»: солдаты жалуются на командование"
    assert p.url == "https://example.org/news/2022/03/soldiers" and p.published_at == "2022-03-07T00:00:00Z"
    quoted = p.utterances[1]
    assert quoted.text[quoted.quote_start:quoted.quote_end].startswith("Воды нет уже третий день")
    assert all(u.captured_at == "2022-03-07T00:00:00Z" and u.time_basis == "published" for u in p.utterances)


def test_html_without_article_text_fails_clearly():
    with pytest.raises(IngestError, match="no article text"):
        html.read("<html><body><nav><a href='/'>Главная</a></nav></body></html>")


# -- encodings -----------------------------------------------------------------------------------

RU = "Воды нет третий день. Командир сказал держаться, а сам уехал. Нас тут осталось пятеро."


@pytest.mark.parametrize("encoding,name", [("utf-8", "utf_8"), ("cp1251", "cp1251"), ("koi8_r", "koi8_r"),
                                           ("utf-16", "utf_16")])
def test_legacy_encodings_are_detected_and_named(encoding, name):
    text, found = decode_text(RU.encode(encoding))
    assert text == RU and found == name


def test_binary_is_not_taken_for_text():
    with pytest.raises(IngestError, match="not text"):
        decode_text(bytes(range(256)) * 4)
