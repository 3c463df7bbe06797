import multiprocessing as mp
import os

import pytest

from overheard import Store
from overheard.ingest import ingest_file, ingest_paths

from conftest import EXAMPLES


def test_invalid_utf8_empty_and_broken_link_each_fail_and_others_ingest(cli, tmp_path):
    d = tmp_path / "batch"
    d.mkdir()
    (d / "bad.txt").write_bytes(b"Title\n\xff\xfe broken\n")
    (d / "empty.txt").write_bytes(b"")
    (d / "blank.txt").write_text("  \n\n")
    os.symlink(d / "gone.txt", d / "dangling.txt")
    (d / "good.txt").write_text("A paragraph that is fine.\n")
    r = cli("ingest", d)
    assert r.exit_code == 1
    out = r.stderr if hasattr(r, "stderr") else r.output
    assert "bad.txt: not valid UTF-8 (bad byte 0xff at offset 6)" in out
    assert "empty.txt: empty file" in out
    assert "blank.txt: empty file" in out
    assert "dangling.txt: no such file" in out
    assert "1 added" in out and "4 failed" in out
    with Store(cli.store_dir) as store:
        assert store.counts()["sources"] == 1
        assert len(list(store.evidence.iter_files())) == 1


def test_same_file_twice_adds_nothing(cli):
    first = cli("ingest", EXAMPLES / "messages.jsonl")
    again = cli("ingest", EXAMPLES / "messages.jsonl")
    assert first.exit_code == again.exit_code == 0
    assert "already present" in again.output and "0 added" in again.output
    with Store(cli.store_dir) as store:
        assert store.counts()["utterances"] == 5 and store.counts()["audit_rows"] == 1


def test_database_failure_mid_file_leaves_no_rows_and_no_blob(store, tmp_path):
    # A real SQLite failure half-way through the utterance inserts of one file.
    store.conn.execute(
        "CREATE TEMP TRIGGER boom BEFORE INSERT ON utterances WHEN NEW.text LIKE '%poison%'"
        " BEGIN SELECT RAISE(ABORT, 'disk on fire'); END")
    f = tmp_path / "m.txt"
    f.write_text("fine paragraph\n\nthe poison paragraph\n")
    with pytest.raises(Exception, match="disk on fire"):
        ingest_file(store, f)
    assert store.counts() == {**store.counts(), "sources": 0, "utterances": 0, "audit_rows": 0}
    assert store.conn.execute("SELECT count(*) FROM runs").fetchone()[0] == 0
    assert not list(store.evidence.iter_files())
    store.conn.execute("DROP TRIGGER boom")
    assert ingest_file(store, f).status == "added"   # and the same file goes in afterwards


def _ingest_many(store_dir, paths, queue):
    with Store(store_dir) as store:
        queue.put([r.status for r in ingest_paths(store, paths)])


def test_two_concurrent_ingests_into_one_store_both_succeed(tmp_path):
    store_dir = tmp_path / "store"
    Store(store_dir).close()
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir(), b.mkdir()
    for i in range(15):
        (a / f"a{i}.txt").write_text(f"Message a{i}\n\nsecond paragraph {i}\n")
        (b / f"b{i}.txt").write_text(f"Сообщение b{i}\n\nвторой абзац {i}\n")
    ctx = mp.get_context("spawn")
    queue = ctx.Queue()
    procs = [ctx.Process(target=_ingest_many, args=(store_dir, [d], queue)) for d in (a, b)]
    for p in procs:
        p.start()
    statuses = [queue.get(timeout=120) for _ in procs]
    for p in procs:
        p.join(timeout=60)
        assert p.exitcode == 0
    assert all(s == ["added"] * 15 for s in statuses)
    with Store(store_dir) as store:
        assert store.counts()["sources"] == 30 and store.counts()["utterances"] == 60
        from overheard.store.verify import verify_store
        assert verify_store(store).ok


def test_a_newline_in_a_file_name_cannot_forge_report_lines(cli, tmp_path):
    """Issue 13, Low 13: every printed name is escaped, one file = one line."""
    d = tmp_path / "in"
    d.mkdir()
    (d / "ok.txt\nadded  forged.txt: 99 utterances").write_text("Мне страшно, мам.", encoding="utf-8")
    (d / "bad\tname.txt").write_bytes(b"\xff\xfe\xfa not text")
    r = cli("ingest", d)
    lines = r.output.splitlines()
    assert not any(l.startswith("added  forged.txt") for l in lines), r.output
    added = [l for l in lines if l.startswith("added")]
    assert len(added) == 1 and "\\n" in added[0], r.output
    assert any(l.startswith("failed") and "bad\\tname.txt" in l for l in lines), r.output


def test_a_huge_paragraph_is_split_and_a_huge_file_refused(cli, tmp_path):
    """Issue 13, Medium 5: a text with single newlines only became one enormous utterance;
    now no utterance exceeds 20,000 characters (parts in order, nothing lost), and a text
    source over 64 MiB is refused before it is read."""
    import json
    import time
    from overheard import Store
    sentence = "Воды нет третий день, пацаны держатся как могут. "
    text = "\n".join(sentence * 40 for _ in range(120))         # ~235,000 characters, no blank line
    (tmp_path / "long.txt").write_text(text, encoding="utf-8")
    r = cli("ingest", tmp_path / "long.txt")
    assert r.exit_code == 0, r.output
    with Store(cli.store_dir) as store:
        rows = store.conn.execute("SELECT text FROM utterances ORDER BY seq").fetchall()
        assert len(rows) > 10 and max(len(t) for (t,) in rows) <= 20_000
        assert "".join(t.replace(" ", "") for (t,) in rows) == text.replace("\n", "").replace(" ", "")
    t0 = time.perf_counter()
    out = cli("search", "воды", "--json", "--limit", "5")
    assert out.exit_code == 0 and len(out.stdout.strip().splitlines()) >= 1
    assert time.perf_counter() - t0 < 10
    big = tmp_path / "big.txt"
    with open(big, "wb") as fh:
        fh.truncate(65 * 2**20)                                  # sparse: 65 MiB of NULs
    r = cli("ingest", big)
    assert r.exit_code == 1 and "over the 64 MiB limit for one text source" in r.output, r.output
