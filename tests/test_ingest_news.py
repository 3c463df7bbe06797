import pytest

from overheard.ingest import IngestOptions, ingest_file
from overheard.ingest.quotes import find_quote
from overheard.ingest.readers import IngestError
from overheard.ingest.readers import news

from conftest import EXAMPLES

SEED = EXAMPLES / "news" / "000_8507744cc2eb13bf.txt"


def test_seed_record_becomes_sentences_with_quotes_and_boilerplate(store):
    result = ingest_file(store, SEED)
    assert result.status == "added" and result.utterances == 23
    src = store.source_by_sha(result.sha256)
    assert src["title"].startswith("Captured Russian soldiers cry")
    assert src["published_at"] == "2022-03-02T00:00:00Z"
    assert src["url"].startswith("https://www.mirror.co.uk/")
    assert src["kind"] == "article"
    rows = {r["text"]: r for r in store.conn.execute("SELECT * FROM utterances")}
    boiler = [t for t, r in rows.items() if r["is_boilerplate"]]
    assert boiler == ["Get all the latest news sent to your inbox. Sign up for the free Mirror newsletter"]
    assert all(r["lang"] == "en" for r in rows.values())
    scared = next(r for t, r in rows.items() if "I'm scared" in t)
    assert scared["text"][scared["quote_start"]:scared["quote_end"]].startswith("Mum, I'm in Ukraine")


@pytest.mark.parametrize("sentence, quote, role", [
    ('He also read out that the soldier said: "The only thing I want right now is to kill myself.',
     "The only thing I want right now is to kill myself.", "soldier"),
    ("One captive was filmed speaking to his mother over the phone, telling her: They sent us to death, everyone killed everyone.",
     "They sent us to death, everyone killed everyone.", "prisoner"),
    ("In another clip, a different Russian prisoner said: We came for training. We were lied to and thats why I am here.",
     "We came for training. We were lied to and thats why I am here.", "prisoner"),
    ("His comrade added: At the beginning we were told that we were going for training.",
     "At the beginning we were told that we were going for training.", "soldier"),
    ("«Нам сказали, что это учения», — рассказал пленный солдат.", "Нам сказали, что это учения", "prisoner"),
    ("The analyst said the troops were 'sent to their deaths' in Ukraine.", "sent to their deaths", "analyst"),
])
def test_quote_span_and_speaker_role(sentence, quote, role):
    q = find_quote(sentence)
    assert q is not None
    assert sentence[q.start:q.end] == quote
    assert q.speaker_role == role


def test_named_speaker_is_kept():
    q = find_quote('Mr Cardillo continued: "There were periods where we heard them crying."')
    assert q.speaker == "Mr Cardillo"


def test_apostrophes_are_not_quotes():
    assert find_quote("I'm sure it's the soldiers' own fault, isn't it") is None


@pytest.mark.parametrize("body, message", [
    ("Title\nhttps://example.com/a\nA sentence.\n", "found a URL"),
    ("Title\n2022-03-02\nhttps://example.com/a\nA sentence.\n", "not a date YYYYMMDD"),
    ("Title\n20221399\nhttps://example.com/a\nA sentence.\n", "not a real calendar date"),
    ("Title\n20220302\nexample dot com\nA sentence.\n", r"not an http\(s\) URL"),
    ("Title\n20220302\nhttps://example.com/a\n\n", "no sentences"),
])
def test_malformed_news_records(body, message):
    with pytest.raises(IngestError, match=message):
        news.read(body)


def test_malformed_record_fails_cleanly_through_ingest(store, tmp_path):
    bad = tmp_path / "bad.txt"
    bad.write_text("Title\n2022-03-02\nhttps://example.com/a\nA sentence.\n")
    result = ingest_file(store, bad)
    assert result.status == "failed" and "line 2" in result.message
    assert store.counts()["sources"] == 0 and not list(store.evidence.iter_files())


def test_kind_flag_overrides(store):
    result = ingest_file(store, SEED, IngestOptions(kind="interview", contributor="desk A"))
    src = store.source_by_sha(result.sha256)
    assert src["kind"] == "interview" and src["contributor"] == "desk A"
