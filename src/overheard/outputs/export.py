"""Export utterances with their provenance (JSONL or CSV)."""

from __future__ import annotations

import csv
import json
from typing import IO, Iterator

from ..store import Store
from ..store.retract import NOT_RETRACTED

FIELDS = ["utterance_id", "source_id", "source_sha256", "source_name", "reader", "kind", "seq",
          "line_no", "lang", "text", "start_s", "end_s", "captured_at", "time_basis", "channel",
          "speaker", "speaker_role", "quote_start", "quote_end", "quote", "is_boilerplate",
          "title", "url", "frequency_hz", "capture_center_hz", "receiver", "contributor", "run_id", "run_stage",
          "tool_version", "gloss_en", "gloss_label", "asr", "findings"]


def iter_utterances(store: Store, *, source_id: int | None = None,
                    detector_version: str | None = None, utterance_ids: list[int] | None = None) -> Iterator[dict]:
    """Utterances joined with their source and ingest run, oldest first (``utterance_ids``: only
    these, e.g. the hits of a search)."""
    where, params = f"WHERE {NOT_RETRACTED}", []
    if source_id is not None:
        where, params = f"WHERE {NOT_RETRACTED} AND u.source_id = ?", [source_id]
    if utterance_ids is not None:
        where += f" AND u.id IN (SELECT value FROM json_each(?))"
        params.append(json.dumps(list(utterance_ids)))
    sql = (
        "SELECT u.*, s.sha256, s.original_name, s.reader, s.title, s.url, s.frequency_hz,"
        " s.receiver, s.contributor, r.tool_version, r.stage"
        " FROM utterances u JOIN sources s ON s.id = u.source_id JOIN runs r ON r.id = u.run_id"
        f" {where} ORDER BY u.id")
    findings_sql = ("SELECT code, stance, score, span_start, span_end, evidence, method,"
                    " detector_version, run_id FROM findings WHERE utterance_id = ?"
                    + (" AND detector_version = ?" if detector_version else "") + " ORDER BY id")
    gloss_sql = "SELECT text, label FROM glosses WHERE utterance_id = ? ORDER BY id DESC LIMIT 1"
    asr_sql = ("SELECT avg_logprob, no_speech_prob, lang_prob, hallucination, hallucination_reason, raw_text"
               " FROM asr WHERE utterance_id = ?")
    for row in store.conn.execute(sql, params):
        quote = (row["text"][row["quote_start"]:row["quote_end"]]
                 if row["quote_start"] is not None else None)
        fparams = (row["id"], detector_version) if detector_version else (row["id"],)
        findings = [dict(f) for f in store.conn.execute(findings_sql, fparams)]
        # an SDR transmission's own RF frequency is its channel's centre, not the capture's
        channel_hz = json.loads(row["meta"] or "{}").get("channel_hz")
        yield {
            "utterance_id": row["id"], "source_id": row["source_id"], "source_sha256": row["sha256"],
            "source_name": row["original_name"], "reader": row["reader"], "kind": row["kind"],
            "seq": row["seq"], "line_no": row["line_no"], "lang": row["lang"], "text": row["text"],
            "start_s": row["start_s"], "end_s": row["end_s"], "captured_at": row["captured_at"],
            "time_basis": row["time_basis"], "channel": row["channel"], "speaker": row["speaker"],
            "speaker_role": row["speaker_role"], "quote_start": row["quote_start"],
            "quote_end": row["quote_end"], "quote": quote, "is_boilerplate": bool(row["is_boilerplate"]),
            "title": row["title"], "url": row["url"],
            "frequency_hz": channel_hz if channel_hz is not None else row["frequency_hz"],
            "capture_center_hz": row["frequency_hz"] if channel_hz is not None else None,
            "receiver": row["receiver"], "contributor": row["contributor"],
            "run_id": row["run_id"], "run_stage": row["stage"], "tool_version": row["tool_version"],
            **_audio_fields(store, row, gloss_sql, asr_sql), "findings": findings,
        }


def _audio_fields(store: Store, row, gloss_sql: str, asr_sql: str) -> dict:
    """The English gloss (any source: text sources are translated too) and, for audio, ASR details."""
    gloss = store.conn.execute(gloss_sql, (row["id"],)).fetchone()
    asr = store.conn.execute(asr_sql, (row["id"],)).fetchone() if row["start_s"] is not None else None
    return {"gloss_en": gloss["text"] if gloss else None, "gloss_label": gloss["label"] if gloss else None,
            "asr": dict(asr) if asr else None}


def write_jsonl(rows, out: IO[str]) -> int:
    n = 0
    for row in rows:
        out.write(json.dumps(row, ensure_ascii=False) + "\n")
        n += 1
    return n


def write_csv(rows, out: IO[str]) -> int:
    writer = csv.DictWriter(out, fieldnames=FIELDS)
    writer.writeheader()
    n = 0
    for row in rows:
        row = dict(row)
        row["findings"] = json.dumps(row["findings"], ensure_ascii=False)
        row["asr"] = json.dumps(row["asr"], ensure_ascii=False) if row["asr"] else ""
        writer.writerow(row)
        n += 1
    return n


FINDING_FIELDS = ["finding_id", "code", "stance", "score", "span_start", "span_end", "evidence", "method",
                  "detector_version", "run_id", "review_status", "utterance_id", "text", "lang", "gloss_en",
                  "source_id", "source_sha256", "source_name", "kind", "line_no", "start_s", "end_s",
                  "captured_at", "time_basis", "channel", "contributor"]


def iter_findings(store: Store, *, source_id: int | None = None) -> Iterator[dict]:
    """One row per finding, with the utterance and source it points into and its review status."""
    where, params = f"WHERE {NOT_RETRACTED}", []
    if source_id is not None:
        where, params = f"WHERE {NOT_RETRACTED} AND u.source_id = ?", [source_id]
    sql = (
        "SELECT f.id AS finding_id, f.code, f.stance, f.score, f.span_start, f.span_end, f.evidence, f.method,"
        " f.detector_version, f.run_id, fs.status AS review_status, u.id AS utterance_id, u.text, u.lang,"
        " (SELECT g.text FROM glosses g WHERE g.utterance_id = u.id ORDER BY g.id DESC LIMIT 1) AS gloss_en,"
        " s.id AS source_id, s.sha256 AS source_sha256, s.original_name AS source_name, u.kind, u.line_no,"
        " u.start_s, u.end_s, u.captured_at, u.time_basis, coalesce(u.channel, s.channel) AS channel,"
        " s.contributor"
        " FROM findings f JOIN finding_status fs ON fs.finding_id = f.id"
        " JOIN utterances u ON u.id = f.utterance_id JOIN sources s ON s.id = u.source_id"
        f" {where} ORDER BY f.id")
    for row in store.conn.execute(sql, params):
        yield dict(row)


def write_findings_csv(rows, out: IO[str]) -> int:
    writer = csv.DictWriter(out, fieldnames=FINDING_FIELDS)
    writer.writeheader()
    n = 0
    for row in rows:
        writer.writerow(row)
        n += 1
    return n
