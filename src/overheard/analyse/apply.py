"""Run the indicator detector over the store: every utterance not yet analysed by the
current detector version gets its findings, tied to one run (lineage).

Work goes in batches, one transaction each, so a killed run loses at most one batch and
the next run carries on where it stopped. Findings of older detector versions stay,
tied to their own runs.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from ..store import Store
from ..store.retract import NOT_RETRACTED

BATCH = 5000


@dataclass
class AnalyzeReport:
    run_id: int | None
    detector_version: str
    analysed: int = 0
    findings: int = 0
    skipped: int = 0          # boilerplate: stored, never analysed
    unsupported: int = 0
    empty: int = 0
    truncated: int = 0


def pending_count(store: Store, version: str) -> int:
    return store.conn.execute(
        "SELECT count(*) FROM utterances u WHERE NOT EXISTS (SELECT 1 FROM analyses a"
        f" WHERE a.utterance_id = u.id AND a.detector_version = ?) AND {NOT_RETRACTED}", (version,)).fetchone()[0]


def analyze_store(store: Store, detector=None, *, batch: int = BATCH,
                  on_batch: Callable[[int], None] | None = None) -> AnalyzeReport:
    from .hybrid import load_detector
    det = detector or load_detector()
    version = det.version
    report = AnalyzeReport(None, version)
    if pending_count(store, version) == 0:
        return report
    with store.transaction():
        report.run_id = store.start_run("analyze", component="indicator-detector",
                                        component_version=version, params={"batch": batch})
    last_id = 0
    while True:
        rows = store.conn.execute(
            "SELECT u.id, u.text, u.lang, u.is_boilerplate FROM utterances u"
            " WHERE u.id > ? AND NOT EXISTS (SELECT 1 FROM analyses a"
            "  WHERE a.utterance_id = u.id AND a.detector_version = ?)"
            f" AND {NOT_RETRACTED}"
            " ORDER BY u.id LIMIT ?", (last_id, version, batch)).fetchall()
        if not rows:
            break
        last_id = rows[-1][0]
        content = [r for r in rows if not r[3]]
        results = dict(zip((r[0] for r in content),
                           det.analyze_many([(r[1], r[2]) for r in content])))
        analyses, findings = [], []
        for uid, text, _lang, boiler in rows:
            if boiler:
                analyses.append((uid, version, "skipped", "site boilerplate", report.run_id))
                report.skipped += 1
                continue
            res = results[uid]
            analyses.append((uid, version, res.status, res.note, report.run_id))
            if res.status in ("unsupported", "empty", "truncated"):
                setattr(report, res.status, getattr(report, res.status) + 1)
            for f in res.findings:
                findings.append((uid, f.code, f.stance, round(float(f.score), 4), f.start, f.end,
                                 text[f.start:f.end], f.method, version, report.run_id))
        with store.transaction() as conn:
            first = conn.execute("SELECT coalesce(max(id), 0) + 1 FROM findings").fetchone()[0]
            conn.executemany("INSERT INTO analyses(utterance_id, detector_version, status, note, run_id)"
                             " VALUES (?,?,?,?,?)", analyses)
            conn.executemany(
                "INSERT INTO findings(utterance_id, code, stance, score, span_start, span_end, evidence,"
                " method, detector_version, run_id) VALUES (?,?,?,?,?,?,?,?,?,?)", findings)
            store.audit("analyze", f"run:{report.run_id}", {
                "run_id": report.run_id, "detector_version": version,
                "utterances": [rows[0][0], rows[-1][0]], "analysed": len(rows),
                "findings": len(findings)}, seal={"findings": range(first, first + len(findings))})
        report.analysed += len(rows)
        report.findings += len(findings)
        if on_batch:
            on_batch(len(rows))
    with store.transaction():
        store.finish_run(report.run_id)
    return report


def latest_detector_version(store: Store) -> str | None:
    row = store.conn.execute("SELECT component_version FROM runs WHERE stage = 'analyze'"
                             " ORDER BY id DESC LIMIT 1").fetchone()
    return row[0] if row else None
