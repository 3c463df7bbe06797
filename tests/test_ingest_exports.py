"""Ingesting messenger exports, subtitles, web pages and legacy encodings into a real store, with
their voice messages as linked sources transcribed in call mode (issue 14)."""

import hashlib
import json
import shutil

import pytest

from overheard import Store
from overheard.ingest import IngestOptions, ingest_paths
from overheard.store.verify import verify_store

from conftest import EXAMPLES, REPO

FIX = REPO / "tests" / "fixtures" / "exports"
TG_DIR = FIX / "telegram" / "ChatExport_2022-03-05"


def _by_status(results):
    out = {}
    for r in results:
        out.setdefault(r.status, []).append(r)
    return out


def test_telegram_export_becomes_messages_and_linked_voice_sources(store):
    results = ingest_paths(store, [FIX / "telegram"], IngestOptions(contributor="volunteer A"))
    st = _by_status(results)
    export = next(r for r in st["added"] if r.path.name == "result.json")
    assert export.utterances == 7
    children = [r for r in st["added"] if r.path.suffix in (".ogg", ".mp4")]
    assert sorted(r.path.name for r in children) == ["audio_1@05-03-2022_14-02-00.ogg",
                                                       "file_2@05-03-2022_14-05-00.mp4"]
    # the media file message 107 names is not in the export: one line naming the export and message
    [failed] = st["failed"]
    assert failed.message == "result.json message 107: voice_message file missing from the export"
    # the photo and the other media are not sources of their own when walking the folder
    skipped = {r.path.name: r.message for r in st["skipped"]}
    assert "attachment of the Telegram export" in skipped["photo_1@05-03-2022_14-07-00.jpg"]

    src = store.conn.execute("SELECT * FROM sources WHERE id = ?", (export.source_id,)).fetchone()
    assert src["reader"] == "telegram-export" and src["kind"] == "message" and src["title"] == "Сводки"
    photo = store.conn.execute("SELECT role, original_name FROM source_files WHERE source_id = ?",
                               (export.source_id,)).fetchall()
    assert [tuple(p) for p in photo] == [("attachment:photos/photo_1@05-03-2022_14-07-00.jpg",
                                          "photo_1@05-03-2022_14-07-00.jpg")]
    msg103 = store.conn.execute("SELECT id, meta, captured_at FROM utterances WHERE source_id = ? AND seq = 2",
                                (export.source_id,)).fetchone()
    assert json.loads(msg103["meta"])["message_id"] == 103 and msg103["captured_at"] == "2022-03-05T14:02:00Z"

    voice = store.conn.execute("SELECT * FROM sources WHERE original_name LIKE 'audio_1@%'").fetchone()
    meta = json.loads(voice["meta"])
    assert voice["kind"] == "message" and meta["mode"] == "call"          # VAD only, no squelch
    assert voice["captured_at"] == "2022-03-05T14:02:00Z" and voice["contributor"] == "volunteer A"
    assert meta["parent"] == {"source_id": export.source_id, "sha256": export.sha256, "name": "result.json",
                              "message_id": 103, "seq": 2, "utterance_id": msg103["id"],
                              "media_type": "voice_message", "path": "voice_messages/audio_1@05-03-2022_14-02-00.ogg",
                              "sender": "Сводки", "chat": "Сводки"}
    assert verify_store(store).ok               # the kept photo is a companion file of the export


def test_export_media_is_transcribed_in_call_mode(store):
    from overheard.process import process_store
    ingest_paths(store, [FIX / "telegram"])
    report = process_store(store, gloss=False, analyze=False)
    assert not report.failed, report.failed
    video = store.conn.execute("SELECT id FROM sources WHERE original_name LIKE 'file_2@%'").fetchone()[0]
    texts = [r[0] for r in store.conn.execute("SELECT text FROM utterances WHERE source_id = ?", (video,))]
    said = " ".join(texts).lower()
    # the demo line "Берёза, я Гром. Попали под обстрел. У нас двое трёхсотых. Нужна эвакуация."
    assert "обстрел" in said or "эвакуац" in said, texts
    captured = store.conn.execute("SELECT min(captured_at) FROM utterances WHERE source_id = ?", (video,)).fetchone()[0]
    assert captured.startswith("2022-03-05T14:05:0")      # the message's time plus the offset in the file
    modes = {json.loads(r[0])["mode"] for r in store.conn.execute(
        "SELECT r.params FROM runs r WHERE r.stage = 'process'")}
    assert modes == {"call"}
    # the report shows what was said in each voice/video message, tied to its message
    from overheard.report.data import ReportOptions
    from overheard.report.html import render_html
    html_text, _ = render_html(store, ReportOptions())
    section = html_text[html_text.index("Voice and video messages"):]
    assert texts[0][:40] in section and "video message in result.json message 104" in section


def test_whatsapp_exports_android_and_ios(store):
    results = ingest_paths(store, [FIX / "whatsapp"])
    st = _by_status(results)
    assert not st.get("failed"), [r.line() for r in st.get("failed", [])]
    chats = {r.path.name: r for r in st["added"] if r.path.suffix == ".txt"}
    assert chats["WhatsApp Chat with Иван.txt"].utterances == 4 and chats["_chat.txt"].utterances == 3
    notes = store.conn.execute("SELECT original_name, kind, captured_at, meta FROM sources"
                               " WHERE reader = 'audio' ORDER BY original_name").fetchall()
    assert [(n[0], n[1], n[2]) for n in notes] == [
        ("00000031-AUDIO-2022-03-06-10-01-40.opus", "message", "2022-03-06T10:01:40Z"),
        ("PTT-20220306-WA0003.opus", "message", "2022-03-06T10:02:00Z")]
    assert json.loads(notes[1][3])["parent"]["line_no"] == 4


def test_truncated_telegram_export_is_one_line_and_stores_nothing(tmp_path):
    bad = tmp_path / "export" / "result.json"
    bad.parent.mkdir()
    bad.write_text((TG_DIR / "result.json").read_text(encoding="utf-8")[:900], encoding="utf-8")
    with Store(tmp_path / "s") as st:
        [r] = ingest_paths(st, [bad.parent])
        assert r.status == "failed" and r.message.startswith("Telegram export: not valid JSON")
        assert st.counts()["sources"] == 0


def test_subtitles_html_and_cp1251_in_one_folder(store, tmp_path):
    folder = tmp_path / "mixed"
    folder.mkdir()
    (folder / "intercept.srt").write_text("1\n00:00:01,000 --> 00:00:02,500\nГРОМ: Нужна эвакуация\n", encoding="utf-8")
    from test_read_exports import ARTICLE
    (folder / "article.html").write_text(ARTICLE, encoding="utf-8")
    (folder / "letter.txt").write_bytes("Мама, нас обманули, сказали что учения.".encode("cp1251"))
    results = {r.path.name: r for r in ingest_paths(store, [folder])}
    assert {k: v.status for k, v in results.items()} == {"intercept.srt": "added", "article.html": "added",
                                                         "letter.txt": "added"}
    rows = {r["original_name"]: r for r in store.conn.execute("SELECT * FROM sources")}
    assert rows["intercept.srt"]["reader"] == "subtitles"
    assert rows["article.html"]["reader"] == "html-article"
    assert rows["article.html"]["url"] == "https://example.org/news/2022/03/soldiers"
    assert json.loads(rows["letter.txt"]["meta"])["encoding"] == "cp1251"
    letter = store.conn.execute("SELECT text FROM utterances u JOIN sources s ON s.id = u.source_id"
                                " WHERE s.original_name = 'letter.txt'").fetchone()[0]
    assert letter == "Мама, нас обманули, сказали что учения."
    cue = store.conn.execute("SELECT start_s, end_s, speaker, text FROM utterances u JOIN sources s"
                             " ON s.id = u.source_id WHERE s.reader = 'subtitles'").fetchone()
    assert tuple(cue) == (1.0, 2.5, "ГРОМ", "Нужна эвакуация")


def test_notes_ignore_file_and_sidecar(store, tmp_path):
    folder = tmp_path / "case"
    (folder / "drafts").mkdir(parents=True)
    (folder / "notes.md").write_text("# my notes\nSoldier says he is afraid", encoding="utf-8")
    (folder / "drafts" / "draft.txt").write_text("Не источник", encoding="utf-8")
    (folder / "skip-me.txt").write_text("Тоже не источник", encoding="utf-8")
    (folder / ".overheardignore").write_text("drafts/\nskip-*.txt\n", encoding="utf-8")
    (folder / "call.txt").write_text("Нас тут осталось пятеро.", encoding="utf-8")
    (folder / "call.txt.meta.json").write_text(json.dumps({"captured_at": "2022-03-09T06:00:00+03:00",
                                                           "url": "https://t.me/x/1", "contributor": "B",
                                                           "kind": "call"}), encoding="utf-8")
    results = {r.path.name: r for r in ingest_paths(store, [folder])}
    assert results["call.txt"].status == "added"
    assert "analyst's notes" in results["notes.md"].message
    assert results["drafts"].status == "skipped" and ".overheardignore" in results["drafts"].message
    assert results["skip-me.txt"].status == "skipped"
    assert "metadata sidecar of call.txt" in results["call.txt.meta.json"].message
    assert "draft.txt" not in results
    src = store.conn.execute("SELECT kind, url, contributor, captured_at FROM sources").fetchone()
    assert tuple(src) == ("call", "https://t.me/x/1", "B", "2022-03-09T03:00:00Z")
    # named explicitly, a notes file is taken
    [r] = ingest_paths(store, [folder / "notes.md"])
    assert r.status == "added"


def test_bad_sidecar_is_one_line(store, tmp_path):
    (tmp_path / "a.txt").write_text("Текст", encoding="utf-8")
    (tmp_path / "a.txt.meta.json").write_text('{"captured": "yesterday"}', encoding="utf-8")
    [r] = [x for x in ingest_paths(store, [tmp_path / "a.txt"])]
    assert r.status == "failed" and r.message.startswith("sidecar a.txt.meta.json: unknown field(s) captured")
    assert store.counts()["sources"] == 0


def test_data_source_csv_dates_the_intercept_transcripts(store):
    ingest_paths(store, [EXAMPLES / "intercepts"])
    rows = store.conn.execute("SELECT s.published_at, s.url, count(u.id), min(u.captured_at), min(u.time_basis)"
                              " FROM sources s JOIN utterances u ON u.source_id = s.id"
                              " WHERE s.meta LIKE '%\"recording\": \"rc003\"%' GROUP BY s.id").fetchone()
    # data_source.csv: radio_and_calls/mp3/003.mp3;https://twitter.com/serobga/status/1519248444007018496;…;27.04.2022
    assert rows[0] == "2022-04-27T00:00:00Z" and rows[1] == "https://twitter.com/serobga/status/1519248444007018496"
    assert rows[3] == "2022-04-27T00:00:00Z" and rows[4] == "published"
    undated = store.conn.execute("SELECT count(*) FROM utterances WHERE captured_at IS NULL").fetchone()[0]
    assert undated == 0


def test_cli_dry_run_stores_nothing_and_unknown_format_lists_readers(cli, tmp_path):
    r = cli("ingest", "--dry-run", FIX / "telegram")
    assert r.exit_code == 1          # message 107's media is missing: said before anything is stored
    assert "would add" in r.output and "telegram-export" in r.output and "message 107" in r.output
    assert not cli.store_dir.exists()
    bad = cli("ingest", "--format", "tiktok", FIX / "telegram")
    assert bad.exit_code == 2 and "expected one of" in bad.output and "telegram" in bad.output and "whatsapp" in bad.output


def test_forced_reader_on_the_wrong_file_fails_clearly(store):
    [r] = ingest_paths(store, [EXAMPLES / "messages.jsonl"], IngestOptions(format="telegram"))
    assert r.status == "failed" and r.message.startswith("Telegram export:")


def test_export_attachment_outside_the_folder_is_refused(store, tmp_path):
    export = tmp_path / "export"
    (export / "voice_messages").mkdir(parents=True)
    outside = tmp_path / "secret.ogg"
    shutil.copyfile(TG_DIR / "voice_messages" / "audio_1@05-03-2022_14-02-00.ogg", outside)
    (export / "voice_messages" / "link.ogg").symlink_to(outside)
    (export / "result.json").write_text(json.dumps({"name": "x", "messages": [
        {"id": 1, "type": "message", "date_unixtime": "1646488800", "text": "",
         "file": "voice_messages/link.ogg", "media_type": "voice_message"}]}), encoding="utf-8")
    results = ingest_paths(store, [export / "result.json"])
    assert [r.status for r in results] == ["added", "failed"]
    assert "resolves outside the export folder" in results[1].message
    assert store.counts()["sources"] == 1


# -- zip archives ------------------------------------------------------------------------------

def _zip_of_export(tmp_path, extra=()):
    import zipfile
    out = tmp_path / "collection.zip"
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as z:
        for f in sorted((REPO / "examples" / "telegram").rglob("*")):
            if f.is_file():
                z.write(f, f"case/{f.relative_to(REPO / 'examples').as_posix()}")
        z.writestr("case/letter.txt", "Мама, нас обманули, сказали что учения.".encode("cp1251"))
        for name, data in extra:
            z.writestr(name, data)
    return out


def test_zip_archive_members_become_sources_with_their_path_in_provenance(store, tmp_path):
    import zipfile
    link = zipfile.ZipInfo("case/evil-link")
    link.external_attr = (0o120777 << 16)
    zpath = _zip_of_export(tmp_path, extra=[("../../escape.txt", "x"), ("/abs.txt", "y")])
    with zipfile.ZipFile(zpath, "a") as z:
        z.writestr(link, "/etc/passwd")
    results = ingest_paths(store, [zpath], IngestOptions(contributor="C"))
    top = results[0]
    assert top.status == "added" and top.message.startswith("zip archive,") and "3 refused" in top.message
    lines = {}
    for r in results[1:]:     # a media file is reported added (with its message) and skipped (in the walk)
        key = r.path.as_posix().split("!/", 1)[-1]
        if key not in lines or r.status == "added":
            lines[key] = r
    assert lines["../../escape.txt"].status == "failed" and "unsafe path" in lines["../../escape.txt"].message
    assert "symbolic link" in lines["case/evil-link"].message
    assert lines["case/letter.txt"].status == "added"
    assert lines["case/telegram/ChatExport_2022-03-05/result.json"].status == "added"
    assert lines["case/telegram/ChatExport_2022-03-05/voice_messages/audio_1@05-03-2022_14-02-00.ogg"].status == "added"
    letter = store.conn.execute("SELECT original_path, meta, contributor FROM sources"
                                " WHERE original_name = 'letter.txt'").fetchone()
    assert letter["original_path"] == f"{zpath.resolve()}!/case/letter.txt" and letter["contributor"] == "C"
    meta = json.loads(letter["meta"])
    assert meta["archive"] == {"source_id": top.source_id, "sha256": top.sha256, "name": "collection.zip",
                               "member": "case/letter.txt"}
    assert meta["encoding"] == "cp1251"
    zrow = store.conn.execute("SELECT reader, kind FROM sources WHERE id = ?", (top.source_id,)).fetchone()
    assert tuple(zrow) == ("zip-archive", "archive")
    assert verify_store(store).ok
    assert not (tmp_path / "escape.txt").exists()
    # the same archive again adds nothing
    assert ingest_paths(store, [zpath])[0].status == "present"


def test_zip_bomb_is_refused_from_its_directory(store, tmp_path):
    import zipfile
    bomb = tmp_path / "bomb.zip"
    with zipfile.ZipFile(bomb, "w", compression=zipfile.ZIP_DEFLATED) as z:
        z.writestr("zeros.txt", b"\0" * (40 * 2**20))         # 40 MiB of zeros deflate to ~40 KiB
    [r] = ingest_paths(store, [bomb])
    assert r.status == "failed" and "zip bomb" in r.message
    assert store.counts()["sources"] == 0
    from overheard.ingest import plan_file
    planned = plan_file(store, bomb, IngestOptions())          # --dry-run says the same, first
    assert planned.status == "failed" and planned.message == r.message


# ------------------------------------------------------------------ found by mutation testing
def test_dry_run_says_exactly_what_ingest_would_do(store, tmp_path):
    from overheard.audio.clips import cut_clip
    from overheard.ingest import plan_file
    clip = tmp_path / "radio.ogg"
    cut_clip(EXAMPLES / "audio" / "demo_radio.ogg", 0.0, 90.0, clip)
    r = plan_file(store, clip, IngestOptions(kind="radio"))
    assert (r.status, r.message) == ("would add", "audio reader, radio (radio mode), 1.5 min")
    text = plan_file(store, EXAMPLES / "messages.jsonl", IngestOptions())
    assert text.status == "would add" and text.utterances == 5 and text.source_id is None
    assert text.sha256 == hashlib.sha256((EXAMPLES / "messages.jsonl").read_bytes()).hexdigest()
    big = tmp_path / "big.txt"
    with open(big, "wb") as f:
        f.truncate(64 * 2**20 + 1)
    assert plan_file(store, big, IngestOptions()).message == "over the 64 MiB limit for one text source"


def test_overheardignore_with_a_broken_byte_still_applies(store, tmp_path):
    folder = tmp_path / "drop"
    folder.mkdir()
    (folder / ".overheardignore").write_bytes(b"# caf\xe9 notes\nskip-*.txt\n")
    (folder / "skip-me.txt").write_text("Нас обстреливают третий день подряд.\n", encoding="utf-8")
    (folder / "keep.txt").write_text("Нас обстреливают третий день подряд, держимся.\n", encoding="utf-8")
    names = {r.path.name: r.status for r in ingest_paths(store, [folder])}
    assert names.get("keep.txt") == "added" and "skip-me.txt" not in {n for n, s in names.items() if s == "added"}


def test_a_long_paragraph_is_cut_after_an_ellipsis():
    from overheard.ingest import split_long
    text = "а" * 70 + "… " + "б" * 40
    assert split_long(text, 100) == ["а" * 70 + "…", "б" * 40]
