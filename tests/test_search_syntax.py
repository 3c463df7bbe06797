"""Search syntax (OR, NOT/-, phrases, prefixes), totals, --in text|gloss|both, and exit codes for
malformed queries and unknown filter values (issue 15). Expected hits are read off the five
messages in examples/messages.jsonl by hand:
  1 "Мама, мне страшно, нас обстреливают третий день."      (ru)
  2 "Еды нет, воды нет, командиры сбежали."                 (ru)
  3 "Нас убили бы всех, если бы не отошли."                 (ru)
  4 "Мамо, мені страшно, ми тут уже тиждень без зв'язку."   (uk)
  5 "Держимся, пацаны, всё будет нормально."                (ru)
"""

import json

import pytest

from overheard.index.search import Filters, SearchError, count_matches, parse_query, search
from overheard.ingest import ingest_paths

from conftest import EXAMPLES


@pytest.fixture
def msgs(store):
    [r] = ingest_paths(store, [EXAMPLES / "messages.jsonl"])
    first = store.conn.execute("SELECT min(id) FROM utterances").fetchone()[0]
    store.ids = {n: first + n - 1 for n in range(1, 6)}
    return store


def _seqs(store, query, **kw):
    ids = {h.utterance_id for h in search(store.conn, query, Filters(), limit=50, **kw)}
    return sorted(n for n, i in store.ids.items() if i in ids)


@pytest.mark.parametrize("query,expect", [
    ("страх", [1, 4]),                         # word family: страшно (ru), страшно (uk)
    ("страх мама", [1, 4]),                    # both required; мамо (uk) is in мама's word family
    ("страх OR воды", [1, 2, 4]),
    ("воды OR держимся OR убили", [2, 3, 5]),
    ("страх -обстреливают", [4]),
    ("страх NOT обстреливают", [4]),
    ("нас NOT убили", [1, 4]),                 # нас ~ мы ~ ми (uk): message 3 is excluded
    ('"нет воды"', [2]),                       # "Еды нет, воды нет": нет·воды, punctuation is ignored
    ('"командиры воды"', []),                  # a phrase is literal, in order
    ("обстрел*", [1]),
    ("коман*", [2]),
    ("страх OR воды -командиры", [1, 4]),      # NOT binds to its own OR-part: (воды NOT командиры) is empty
])
def test_boolean_phrase_and_prefix_queries(msgs, query, expect):
    assert _seqs(msgs, query) == expect


@pytest.mark.parametrize("query,message", [
    ('"нет воды', "quotation mark is not closed"),
    ("NOT страх", "only excluded words"),
    ("-страх", "only excluded words"),
    ("OR страх", "OR needs a term on each side"),
    ("страх OR", "OR needs a term on each side"),
    ("страх NOT", "NOT needs a term after it"),
    ("  ", "no words"),
])
def test_malformed_queries_name_the_problem(msgs, query, message):
    with pytest.raises(SearchError, match=message):
        parse_query(query)


def test_totals_are_exact_up_to_the_bound(msgs):
    parsed = parse_query("нет OR страх OR нас")
    assert count_matches(msgs.conn, parsed, Filters()) == 4          # messages 1, 2, 3, 4
    assert count_matches(msgs.conn, parsed, Filters(), bound=2) == 3  # bound + 1: "more than 2"


def test_english_gloss_is_searchable_and_hits_say_how(msgs):
    from overheard.translate.stage import correct_gloss
    correct_gloss(msgs, msgs.ids[2], "No food, no water, the commanders ran away.", actor="ana", reason="test")
    both = search(msgs.conn, "water", Filters())
    assert [(h.utterance_id, h.via) for h in both] == [(msgs.ids[2], "gloss")]
    assert search(msgs.conn, "water", Filters(), scope="text") == []
    gloss_only = search(msgs.conn, "воды", Filters(), scope="gloss")
    assert gloss_only == []                   # the Russian word is not in any English gloss
    assert [h.utterance_id for h in search(msgs.conn, "воды", Filters(), scope="text")] == [msgs.ids[2]]
    with pytest.raises(SearchError, match="--in 'english'"):
        search(msgs.conn, "water", Filters(), scope="english")
    # the snippet marks the matched English words (any form: "commander" finds "commanders")
    (hit,) = search(msgs.conn, "commander water", Filters())
    assert hit.via == "gloss" and hit.snippet == "No food, no **water**, the **commanders** ran away."
    # a quoted English phrase: matched and marked as a whole, in either scope
    (hit,) = search(msgs.conn, '"ran away"', Filters(), scope="gloss")
    assert hit.snippet == "No food, no water, the commanders **ran away**."
    assert search(msgs.conn, '"away ran"', Filters(), scope="gloss") == []


def test_cli_totals_and_exit_codes(cli):
    assert cli("ingest", EXAMPLES / "messages.jsonl").exit_code == 0
    r = cli("search", "нет OR страх OR нас", "--limit", "2")
    assert r.exit_code == 0 and "1–2 of 4 hit(s)" in r.output
    j = cli("search", "страх", "--json")
    assert sorted(json.loads(line)["text"][:4] for line in j.stdout.splitlines()) == ["Мама", "Мамо"]
    assert "of 2 hit(s)" in j.stderr
    for args, message in [(("страх", "--kind", "radi"), "--kind 'radi': expected one of radio"),
                          (("страх", "--code", "fearr"), "--code 'fearr': expected one of"),
                          (("страх", "--stance", "mine"), "--stance 'mine': expected one of"),
                          (("страх", "--status", "done"), "--status 'done': expected one of confirmed"),
                          (("страх", "--lang", "de"), "--lang 'de': no utterance in this store has that language"),
                          (('"нет воды',), "quotation mark is not closed"),
                          (("страх", "--in", "english"), "--in 'english'")]:
        bad = cli("search", *args)
        assert bad.exit_code == 2 and message in bad.output, (args, bad.output)
    none = cli("search", "танк")
    assert none.exit_code == 0 and "0 of 0 hit(s)" in none.output


# ------------------------------------------------------------------ found by mutation testing
def test_a_quoted_single_word_is_that_form_only(msgs):
    assert _seqs(msgs, "страх") == [1, 4]                     # any form of the word family
    assert _seqs(msgs, '"страх"') == []                       # no message has the form страх itself
    assert _seqs(msgs, '"страшно"') == [1, 4]                 # (the same spelling in Ukrainian)


def test_only_excluded_words_are_refused_with_the_reason(msgs):
    with pytest.raises(SearchError) as e:
        search(msgs.conn, "-нас", Filters())
    assert str(e.value) == ("query '-нас': a part with only excluded words (NOT/-) matches nothing;"
                            " add a word to look for")


def test_phrase_highlight_in_mixed_case_text_and_at_the_start_of_a_gloss(msgs):
    (hit,) = search(msgs.conn, '"мама мне"', Filters())         # across a comma, capitalised
    assert hit.highlights == [(0, 9)] and hit.text[0:9] == "Мама, мне"
    from overheard.translate.stage import correct_gloss
    correct_gloss(msgs, msgs.ids[2], "No food, no water, the commanders ran away.", actor="ana", reason="test")
    (g,) = search(msgs.conn, '"no food"', Filters(), scope="gloss")
    assert g.snippet == "**No food**, no water, the commanders ran away."


def test_text_match_wins_over_gloss_match_for_a_glossed_utterance(msgs):
    from overheard.translate.stage import correct_gloss
    correct_gloss(msgs, msgs.ids[1], "Mum, I'm scared, they have been shelling us for three days.",
                  actor="ana", reason="test")
    (hit,) = search(msgs.conn, "обстреливают", Filters())
    assert hit.via == "text" and hit.snippet.count("**") == 2


def test_snippet_of_a_long_text_is_cut_around_the_match_with_ellipses():
    from overheard.index.search import make_snippet
    text = "слово " * 60 + "страшно " + "слово " * 60
    at = text.index("страшно")
    snip = make_snippet(text, [(at, at + 7)], width=60)
    assert snip.startswith("…") and snip.endswith("…") and "**страшно**" in snip and len(snip) < 90
    assert make_snippet(text, [], width=60) == text[:60] + "…"          # no match shown: the start
    assert make_snippet("коротко", [], width=60) == "коротко"
