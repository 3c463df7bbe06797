"""Property-based fuzzing (Hypothesis) of everything that reads outside input: the text readers,
the search query parser, SigMF metadata and evidence-package manifests. Arbitrary bytes and
structured-but-wrong inputs must give a clean result or one clear error — never a traceback,
never a half-written store (issue 13, "fuzzing as a habit"). Budgets are bounded so that
`make test` stays fast; raise them locally with HYPOTHESIS_PROFILE=deep.
"""
from __future__ import annotations

import json
import os
import zipfile
from pathlib import Path

import pytest

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

settings.register_profile("ci", max_examples=60, deadline=None,
                          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
settings.register_profile("deep", max_examples=2000, deadline=None,
                          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

# lines that look like the formats the readers know, to get past their first checks
_LINE = st.one_of(
    st.text(max_size=80),
    st.sampled_from(["Title: Война", "Date: 2022-03-02", "URL: https://example.org/a", "Author: X",
                     "Source: Mirror", "", "---", '"Мне страшно," he said.', "Published: yesterday",
                     "######## START OF 00:00 ########", "id,text,time", "text\tsender",
                     '{"text": "привет", "time": "2022-03-01T10:00:00Z"}', '{"text": 5}', "[1, 2]",
                     '{"text": "x", "time": 1e300}', "Date: 32.13.2022",
                     # messenger exports, subtitles, web pages (issue 14)
                     '{"name": "x", "messages": [{"id": 1, "type": "message", "text": ["a", {"type": "bold"}]}]}',
                     '{"messages": [{"id": "z", "date_unixtime": "1e99", "file": "../x.ogg", "text": 5}]}',
                     '{"chats": {"list": [{"messages": [null, 3, {"text": [{"text": 1}]}]}]}}',
                     "12/31/21, 11:59 PM - Иван: привет", "[06.03.22, 10:01:05] Иван: <attached: a.opus>",
                     "31.02.2022, 25:61 - A: b", "3/6/22, 10:02 AM - B: PTT-1.opus (file attached)",
                     "WEBVTT", "00:00:01,000 --> 00:00:02,000", "00:00:05.000 --> 00:00:01.000",
                     "<v Иван>Воды нет", "<html><body><p>Текст статьи</p></body></html>", "<nav>menu</nav>"]),
)
_DOC = st.lists(_LINE, max_size=12).map("\n".join)
_NAMES = ["a.txt", "a.jsonl", "a.csv", "a.tsv", "final_ru.txt", "a.md", "result.json", "a.srt", "a.vtt",
          "a.html", "chat.txt"]


def _assert_clean(fn):
    from overheard.ingest.readers import IngestError
    try:
        return fn()
    except IngestError as exc:
        msg = str(exc)
        assert msg and "\n" not in msg, repr(msg)
        return None


@given(data=st.one_of(st.binary(max_size=1500), _DOC.map(lambda s: s.encode("utf-8"))),
       name=st.sampled_from(_NAMES),
       fmt=st.sampled_from(["auto", "news", "messages", "text", "transcript", "telegram", "whatsapp",
                            "subtitles", "html"]))
def test_readers_give_a_result_or_one_clear_error(tmp_path_factory, data, name, fmt):
    from overheard.ingest import IngestOptions, parse_file
    folder = tmp_path_factory.mktemp("fuzz")
    path = folder / name
    path.write_bytes(data)
    parsed = _assert_clean(lambda: parse_file(path, data, IngestOptions(format=fmt)))
    if parsed is not None:
        for u in parsed.utterances:
            assert isinstance(u.text, str)


@given(data=st.one_of(st.binary(max_size=800), _DOC.map(lambda s: s.encode("utf-8"))),
       name=st.sampled_from(_NAMES))
def test_ingest_never_half_writes(tmp_path_factory, data, name):
    """Whatever the bytes, a file is stored whole (source + utterances + evidence + audit) or
    not at all."""
    from overheard import Store
    from overheard.ingest import IngestOptions, ingest_file
    root = tmp_path_factory.mktemp("fuzzstore")
    path = root / name
    path.write_bytes(data)
    with Store(root / "store") as store:
        res = ingest_file(store, path, IngestOptions())
        counts = store.counts()
        assert res.status in ("added", "failed", "skipped"), res
        if res.status == "added":
            assert counts["sources"] == 1 and len(list(store.evidence.iter_files())) == 1
        else:
            assert counts["sources"] == 0 and counts["utterances"] == 0
            assert not list(store.evidence.iter_files()), "a failed file left evidence behind"
            assert "\n" not in (res.message or "")


@given(query=st.text(max_size=60), lang=st.sampled_from([None, "ru", "uk", "en"]))
def test_query_parser_accepts_or_refuses_cleanly(query, lang):
    from overheard.index.search import SearchError, parse_query
    try:
        parse_query(query, lang)
    except SearchError as exc:
        assert str(exc) and "\n" not in str(exc)


_JSONISH = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), st.text(max_size=20)),
    lambda kids: st.one_of(st.lists(kids, max_size=4), st.dictionaries(st.text(max_size=12), kids, max_size=4)),
    max_leaves=12)


@given(glob=st.dictionaries(st.sampled_from(["core:datatype", "core:sample_rate", "core:version", "core:dataset",
                                             "core:num_channels", "core:metadata_only", "core:trailing_bytes"]),
                            _JSONISH, max_size=6),
       captures=_JSONISH, extra=_JSONISH)
def test_sigmf_metadata_gives_a_capture_or_one_clear_error(tmp_path_factory, glob, captures, extra):
    from overheard.sdr.capture import CaptureError, open_capture
    folder = tmp_path_factory.mktemp("sigmf")
    meta = {"global": glob, "captures": captures, "annotations": extra}
    (folder / "x.sigmf-meta").write_text(json.dumps(meta), encoding="utf-8")
    (folder / "x.sigmf-data").write_bytes(b"\x01\x02" * 64)
    try:
        open_capture(folder / "x.sigmf-meta")
    except CaptureError as exc:
        assert "\n" not in str(exc)


@given(manifest=_JSONISH, audit=st.lists(_JSONISH.map(json.dumps), max_size=3))
def test_package_verify_reports_problems_never_raises(tmp_path_factory, manifest, audit):
    import hashlib
    from overheard.outputs.package import verify_package
    path = tmp_path_factory.mktemp("pkg") / "p.zip"
    body = json.dumps(manifest).encode()
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("manifest.json", body)
        z.writestr("manifest.sha256", f"{hashlib.sha256(body).hexdigest()}  manifest.json\n")
        z.writestr("audit.jsonl", "\n".join(audit))
    rep = verify_package(path)
    assert not rep.ok and all("\n" not in p for p in rep.problems)
