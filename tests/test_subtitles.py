import io
import json

from overheard.outputs.subtitles import write_srt, write_vtt


def test_vtt_and_srt_tracks_follow_transmission_times(demo_store):
    src = demo_store.conn.execute("SELECT * FROM sources WHERE reader = 'audio'").fetchone()
    rows = demo_store.conn.execute("SELECT start_s, end_s, text FROM utterances WHERE source_id = ? AND text != ''"
                                   " ORDER BY start_s", (src["id"],)).fetchall()
    buf = io.StringIO()
    n = write_vtt(demo_store, src, "transcript", buf)
    vtt = buf.getvalue()
    assert vtt.startswith("WEBVTT") and n == len(rows)
    first = rows[0]
    ms = int(round(first["start_s"] * 1000))
    assert f"00:00:{ms // 1000:02d}.{ms % 1000:03d} --> " in vtt
    assert first["text"].split()[0] in vtt
    buf = io.StringIO()
    write_srt(demo_store, src, "gloss", buf)
    srt = buf.getvalue()
    assert srt.startswith("1\n00:00:") and "," in srt.splitlines()[1]
    assert all(line.startswith("(MT) ") for line in srt.split("\n\n")[0].splitlines()[2:])


def test_findings_rows_export(cli, tmp_path):
    from conftest import TEXT_EXAMPLES
    cli("ingest", *TEXT_EXAMPLES)
    cli("analyze")
    r = cli("export", "--rows", "findings")
    rows = [json.loads(x) for x in r.stdout.splitlines()]
    assert rows and all(row["text"][row["span_start"]:row["span_end"]] == row["evidence"] for row in rows)
    assert all(row["review_status"] == "machine" and len(row["source_sha256"]) == 64 for row in rows)
    assert cli("export", "--format", "vtt").exit_code == 2          # needs one --source
