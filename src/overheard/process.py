"""`overheard process`: every pending stage for every audio source in the store —
segment → transcribe → gloss → voice cues — then indicator analysis of the new text.

Each transmission is stored in its own transaction together with the source's resume
point (``processing.done_until_s``), so a killed run loses at most the transmission in
flight and the next run continues from there (the decoder seeks, re-learning the noise
floor over a short warm-up before the resume point).
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Callable

from .store import Store, utc_now


@dataclass
class ProcessReport:
    sources: int = 0
    transmissions: int = 0
    hallucinations: int = 0
    audio_s: float = 0.0
    wall_s: float = 0.0
    failed: list[str] = field(default_factory=list)
    analyze: dict | None = None
    translate: dict | None = None

    @property
    def realtime_factor(self) -> float | None:
        return self.audio_s / self.wall_s if self.wall_s else None


def pending_sources(store: Store, source_ids: list[int] | None = None) -> list:
    sql = ("SELECT s.*, p.done_until_s, p.status AS pstatus FROM sources s JOIN processing p"
           " ON p.source_id = s.id WHERE p.status != 'done'"
           " AND s.id NOT IN (SELECT source_id FROM retracted)")
    params: list = []
    if source_ids:
        sql += f" AND s.id IN ({','.join('?' * len(source_ids))})"
        params = list(source_ids)
    return store.conn.execute(sql + " ORDER BY s.id", params).fetchall()


def _absolute(captured_at: str | None, offset_s: float) -> str | None:
    if not captured_at:
        return None
    start = datetime.fromisoformat(captured_at.replace("Z", "+00:00"))
    stamp = (start + timedelta(seconds=offset_s)).astimezone(timezone.utc)
    return stamp.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def process_store(store: Store, *, model: str | None = None, lang: str | None = None,
                  gloss: bool = True, source_ids: list[int] | None = None, analyze: bool = True,
                  gloss_method: str = "llm", translator=None, preset: str = "accurate",
                  on_progress: Callable[[int, float, float | None], None] | None = None,
                  on_source: Callable[[object], None] | None = None, executor=None,
                  on_result: Callable[[object, object], None] | None = None) -> ProcessReport:
    """Process pending audio sources. ``on_progress(source_id, done_s, total_s)`` after each
    decoded block; ``on_source(row)`` when a source starts. The English gloss (``gloss``) is
    made by ``gloss_method``: ``llm`` — the translation stage over the new transcripts
    (``translator``, default the embedded model), measured better than ``whisper`` —
    Whisper's translate task on the audio (an extra decoding pass).

    ``executor`` (see ``overheard.scale``): where the audio sources are decoded and transcribed;
    None processes them here, one at a time, writing each transmission as it comes. With an
    executor, each audio source is one job; this process writes every job's transmissions, as
    the job completes, in the same transactions and audit rows, recording where it ran;
    ``on_result(row, result)`` is called per job. SDR captures are processed here either way."""
    if gloss_method not in ("llm", "whisper"):
        raise ValueError(f"gloss method {gloss_method!r}: expected llm or whisper")
    whisper_gloss = gloss and gloss_method == "whisper"
    from .audio.transcribe import preset_options

    preset_options(preset)  # an unknown preset fails before anything is claimed
    from .audio.decode import AudioDecodeError
    from .audio.model import load_model
    from .sdr.capture import CaptureError
    from .audio.pipeline import PipelineOptions, process_audio

    report = ProcessReport()
    todo = pending_sources(store, source_ids)
    if not todo:
        if analyze:
            report.analyze = _analyze(store)
        return report
    run_ids: list[int] = []
    started = time.perf_counter()
    lm = load_model(model)
    if executor is not None:
        jobs_for = [s for s in todo if s["reader"] != "sdr-capture"]
        todo = [s for s in todo if s["reader"] == "sdr-capture"]
        run_ids += _process_on(executor, store, jobs_for, lm, report, lang=lang, gloss=gloss,
                               gloss_method=gloss_method, preset=preset, model=model, on_source=on_source,
                               on_result=on_result)
    for src in todo:
        report.sources += 1
        if on_source:
            on_source(src)
        meta = json.loads(src["meta"] or "{}")
        src_lang = lang or meta.get("lang")
        mode = meta.get("mode", "radio")
        resume = float(src["done_until_s"] or 0.0)
        tro = preset_options(preset, lang=src_lang, task_gloss=whisper_gloss)
        params = {"model": lm.lineage(), "mode": mode, "lang": src_lang, "gloss": gloss_method if gloss else None,
                  "resume_from_s": resume, "preset": preset, "transcribe": tro.to_dict()}
        run_id = _claim(store, src, lm, params, report)
        if run_id is None:
            continue
        run_ids.append(run_id)
        n = 0
        progress = (lambda d, t, sid=src["id"]: on_progress(sid, d, t)) if on_progress else None
        if src["reader"] == "sdr-capture":
            stream, resume = _capture_transmissions(store, src, lm, tro, progress), 0.0
        else:
            stream = ((tx, {}) for tx in process_audio(
                store.evidence.path_for(src["sha256"]), mode=mode, lang=src_lang, model=lm, gloss=whisper_gloss,
                skip_until_s=resume, progress=progress, options=PipelineOptions(mode=mode, transcribe=tro)))
        try:
            for tx, extra in stream:
                n += 1
                _store_transmission(store, src, tx, run_id, **extra)
                report.transmissions += 1
                report.hallucinations += int(tx.hallucination)
            status, error = "done", None
        except (AudioDecodeError, CaptureError) as exc:
            problem = getattr(exc, "problem", None) or str(exc)
            status, error = "failed", problem
            report.failed.append(f"{src['original_name']} (source {src['id']}): {problem}")
        except BaseException as exc:   # interrupted or a bug: record it, keep what is stored, re-raise
            _interrupted(store, src, run_id, exc, n)
            raise
        if status == "done":      # a failed source's length is not audio processed
            report.audio_s += max(0.0, (src["duration_s"] or 0.0) - resume)
        _finish(store, src, run_id, status, error, n, lm)
    if gloss and gloss_method == "llm" and run_ids:
        report.translate = _translate_new(store, run_ids, translator)
    report.wall_s = time.perf_counter() - started
    if analyze:
        report.analyze = _analyze(store)
    return report


def _claim(store: Store, src, lm, params: dict, report: ProcessReport) -> int | None:
    """Claim a source for this process (a run and a 'running' row), or None when another live
    process holds it (said in the report)."""
    from .audio.pipeline import PIPELINE_VERSION
    with store.transaction():
        holder = _live_holder(store.conn.execute("SELECT status, claimed_by FROM processing WHERE source_id = ?",
                                                 (src["id"],)).fetchone())
        if holder:
            report.failed.append(f"{src['original_name']} (source {src['id']}): being processed by {holder}; skipped")
            return None
        run_id = store.start_run("process", component=PIPELINE_VERSION, component_version=lm.name, params=params)
        store.conn.execute("UPDATE processing SET status = 'running', run_id = ?, error = NULL, claimed_by = ?,"
                           " updated_at = ? WHERE source_id = ?", (run_id, _me(), utc_now(), src["id"]))
    return run_id


def _interrupted(store: Store, src, run_id: int, exc: BaseException, n: int, **extra) -> None:
    """Record a source's run as interrupted (what is stored stays; the next run resumes it)."""
    with store.transaction():
        store.conn.execute("UPDATE processing SET status = 'interrupted', error = ?, updated_at = ?"
                           " WHERE source_id = ?", (f"{type(exc).__name__}: {exc}"[:500], utc_now(), src["id"]))
        store.finish_run(run_id, "interrupted")
        store.audit("process", f"source:{src['sha256']}", {
            "source_id": src["id"], "run_id": run_id, "status": "interrupted",
            "error": type(exc).__name__, "transmissions_added": n, **extra})


def _finish(store: Store, src, run_id: int, status: str, error: str | None, n: int, lm, **where) -> None:
    with store.transaction():
        _update_relative_cues(store, src)
        store.conn.execute("UPDATE processing SET status = ?, error = ?, updated_at = ? WHERE source_id = ?",
                           (status, error, utc_now(), src["id"]))
        store.finish_run(run_id, status)
        store.audit("process", f"source:{src['sha256']}", {
            "source_id": src["id"], "run_id": run_id, "status": status, "error": error,
            "transmissions_added": n, "model": lm.name, "model_sha256": lm.sha256, **where})


def _process_on(executor, store: Store, todo: list, lm, report: ProcessReport, *, lang, gloss, gloss_method,
                preset, model, on_source, on_result) -> list[int]:
    """The audio sources as jobs on ``executor``; their results written here as they complete."""
    from pathlib import Path

    from .audio.transcribe import preset_options
    from .scale import AudioJob, run_audio_job

    desc = executor.describe()
    shared = executor.evidence_shared()
    claimed: dict[int, tuple] = {}
    run_ids, jobs = [], []
    for src in todo:
        meta = json.loads(src["meta"] or "{}")
        src_lang = lang or meta.get("lang")
        mode = meta.get("mode", "radio")
        resume = float(src["done_until_s"] or 0.0)
        tro = preset_options(preset, lang=src_lang, task_gloss=gloss and gloss_method == "whisper")
        run_id = _claim(store, src, lm, {
            "model": lm.lineage(), "mode": mode, "lang": src_lang, "gloss": gloss_method if gloss else None,
            "resume_from_s": resume, "preset": preset, "transcribe": tro.to_dict(), **desc}, report)
        if run_id is None:
            continue
        report.sources += 1
        run_ids.append(run_id)
        claimed[src["id"]] = (src, run_id, resume)
        path = store.evidence.path_for(src["sha256"])
        jobs.append(AudioJob(src["id"], src["original_name"], src["sha256"], Path(src["original_name"]).suffix,
                             mode, src_lang, model, gloss and gloss_method == "whisper", resume, tro,
                             cpu_threads=executor.threads_per_job,
                             path=str(path) if shared else None, data=None if shared else path.read_bytes()))
        if on_source:
            on_source(src)
    try:
        for result in executor.map(run_audio_job, jobs):
            src, run_id, resume = claimed.pop(result.source_id)
            for tx in result.transmissions:
                _store_transmission(store, src, tx, run_id)
                report.transmissions += 1
                report.hallucinations += int(tx.hallucination)
            status = "failed" if result.error else "done"
            if result.error:
                report.failed.append(f"{src['original_name']} (source {src['id']}): {result.error}")
            else:
                report.audio_s += max(0.0, (src["duration_s"] or 0.0) - resume)
            _finish(store, src, run_id, status, result.error, len(result.transmissions), lm,
                    executor=desc["executor"], ran_on=result.node, job_wall_s=round(result.wall_s, 2))
            if on_result:
                on_result(src, result)
    except BaseException as exc:     # interrupted: what is written stays; the rest resumes next time
        for src, run_id, _ in claimed.values():
            _interrupted(store, src, run_id, exc, 0, **desc)
        raise
    finally:
        executor.close()
    return run_ids


def _translate_new(store: Store, run_ids: list[int], translator) -> dict:
    """Gloss the utterances these runs transcribed; a missing model is reported, not fatal
    (the transcripts are stored; `overheard translate` makes the glosses later)."""
    from .audio.model import ModelAssemblyError
    from .translate import BackendError, Translator, embedded_model, translate_store

    ids = [r[0] for r in store.conn.execute(
        f"SELECT id FROM utterances WHERE run_id IN ({','.join('?' * len(run_ids))}) AND text != ''", run_ids)]
    if not ids:
        return {"translated": 0}
    try:
        translator = translator or Translator(embedded_model())
        return translate_store(store, translator, utterance_ids=ids).to_dict()
    except (BackendError, ModelAssemblyError) as exc:
        return {"translated": 0, "error": str(exc)}


def _me() -> str:
    import os
    import socket
    return f"{socket.gethostname()}:{os.getpid()}"


def _live_holder(row) -> str | None:
    """Who else is processing this source right now (a live process on this host), if anyone.
    A claim left by a killed run is stale and is taken over: that is how a run resumes."""
    import os
    import socket
    if row is None or row["status"] != "running" or not row["claimed_by"]:
        return None
    host, _, pid = row["claimed_by"].rpartition(":")
    if row["claimed_by"] == _me() or host != socket.gethostname() or not pid.isdigit():
        return None      # another host's claim cannot be checked here: the store is one machine's
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return None
    except PermissionError:
        pass
    return f"process {pid}"


def _analyze(store: Store) -> dict:
    from .analyse.apply import analyze_store
    return asdict(analyze_store(store))


def _store_transmission(store: Store, src, tx, run_id: int, *, channel: str | None = None,
                        captured_at: str | None = None, meta: dict | None = None,
                        clip_samples=None) -> None:
    from .index.terms import index_terms
    from .ingest.language import detect_language

    text = "" if tx.hallucination else (tx.text or "").strip()
    lang = tx.lang or (detect_language(text) if text else "und")
    lemmas, roots = index_terms(text, lang) if text else ("", "")
    captured = captured_at or _absolute(src["captured_at"], tx.start_s)
    seg = asdict(tx.transmission)
    seg.pop("params", None)
    meta = dict(meta or {})
    if tx.hallucination:
        meta["hallucination"] = True
    with store.transaction() as conn:
        # numbered inside the write lock, so two writers can never take the same number
        seq = conn.execute("SELECT coalesce(max(seq), 0) + 1 FROM utterances WHERE source_id = ?",
                           (src["id"],)).fetchone()[0]
        uid = conn.execute(
            "INSERT INTO utterances(source_id, run_id, seq, kind, text, lang, start_s, end_s, captured_at,"
            " time_basis, channel, meta, search_lemmas, search_roots)"
            " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            (src["id"], run_id, seq, src["kind"], text, lang, round(tx.start_s, 3), round(tx.end_s, 3),
             captured, "captured" if captured else "offset", channel or src["channel"],
             json.dumps(meta), lemmas, roots)).lastrowid
        conn.execute("INSERT INTO utterances_fts(rowid, text, search_lemmas, search_roots) VALUES (?,?,?,?)",
                     (uid, text, lemmas, roots))
        conn.execute(
            "INSERT INTO asr(utterance_id, raw_text, lang_prob, avg_logprob, no_speech_prob, mean_word_logprob,"
            " hallucination, hallucination_reason, words, segment, run_id) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
            (uid, tx.raw_text or "", tx.lang_prob, tx.avg_logprob, tx.no_speech_prob, tx.mean_word_logprob,
             int(tx.hallucination), tx.hallucination_reason,
             json.dumps([[w.start_s, w.end_s, w.word, round(w.probability, 3)] for w in tx.words],
                        ensure_ascii=False),
             json.dumps(seg, default=str), run_id))
        sealed = {"utterances": [uid], "asr": [uid]}
        if tx.gloss_en and not tx.hallucination:
            sealed["glosses"] = [conn.execute("INSERT INTO glosses(utterance_id, lang, text, label, method, run_id, translator_version,"
                         " source_sha256) VALUES (?,?,?,?,?,?,?,?)",
                         (uid, "en", tx.gloss_en.strip(), tx.gloss_label, "whisper-translate", run_id,
                          "whisper-translate", hashlib.sha256(text.encode()).hexdigest())).lastrowid]
            conn.execute("INSERT INTO gloss_fts(rowid, text) VALUES (?, ?)", (uid, tx.gloss_en.strip()))
        if tx.cues is not None:
            c = tx.cues
            conn.execute(
                "INSERT INTO voice_cues(utterance_id, f0_median_hz, f0_spread_st, loudness_dbfs, voiced_fraction,"
                " syllables_per_s, cues, run_id) VALUES (?,?,?,?,?,?,?,?)",
                (uid, c.f0_median_hz, c.f0_iqr_semitones, c.loudness_dbfs, c.voiced_fraction,
                 c.syllables_per_s, json.dumps(c.to_dict()), run_id))
        if clip_samples is not None:
            _store_demodulated_clip(store, conn, src, uid, tx, clip_samples, run_id)
        conn.execute("UPDATE processing SET done_until_s = max(done_until_s, ?), transmissions = transmissions + 1,"
                     " updated_at = ? WHERE source_id = ?", (tx.end_s, utc_now(), src["id"]))
        # every committed transmission is covered by the audit chain, even if the run dies next
        store.audit("transmission", f"source:{src['sha256']}", {
            "source_id": src["id"], "utterance_id": uid, "run_id": run_id, "start_s": round(tx.start_s, 3),
            "end_s": round(tx.end_s, 3), "text_sha256": hashlib.sha256(text.encode()).hexdigest()}, seal=sealed)


def _update_relative_cues(store: Store, src) -> None:
    """Each transmission's cues against its channel's baseline (the source when no channel)."""
    from .audio.cues import channel_baseline, relative_to_baseline

    if src["channel"]:
        scope = ("SELECT v.utterance_id, v.cues FROM voice_cues v JOIN utterances u ON u.id = v.utterance_id"
                 " JOIN sources s ON s.id = u.source_id WHERE coalesce(u.channel, s.channel) = ?", (src["channel"],))
    else:
        scope = ("SELECT v.utterance_id, v.cues FROM voice_cues v JOIN utterances u ON u.id = v.utterance_id"
                 " WHERE u.source_id = ?", (src["id"],))
    rows = [(uid, json.loads(c)) for uid, c in store.conn.execute(*scope)]
    if not rows:
        return
    base = channel_baseline(c for _, c in rows)
    store.conn.executemany("UPDATE voice_cues SET relative = ? WHERE utterance_id = ?",
                           [(json.dumps({"baseline_n": base.n, **relative_to_baseline(c, base)}), uid)
                            for uid, c in rows])


def _capture_transmissions(store: Store, src, lm, tro, progress):
    """Channelise + demodulate an SDR capture and transcribe each transmission; yields
    (ProcessedTransmission, store options). Transmissions already stored (same channel and
    first sample) are skipped, which makes a killed run resumable."""
    from .audio.pipeline import from_transcript
    from .audio.transcribe import transcribe_items
    from .ingest.capture import materialised
    from .sdr import iter_capture_transmissions

    meta = json.loads(src["meta"])
    done = set()
    for (m,) in store.conn.execute("SELECT meta FROM utterances WHERE source_id = ?", (src["id"],)):
        m = json.loads(m)
        done.add((m.get("channel_hz"), m.get("sample_start")))
    with materialised(store, src) as path:
        held = {}

        def items():
            for tx in iter_capture_transmissions(
                    path, channel_step=meta.get("channel_step"), channels=meta.get("channels"),
                    demod=meta.get("demod"), sample_rate=src["sample_rate"], center_freq=src["frequency_hz"],
                    start_time=src["captured_at"], progress=progress):
                key = (tx.channel_hz, tx.sample_start)
                if key not in done:
                    held[key] = tx
                    yield key, tx.samples

        for key, tr in transcribe_items(items(), model=lm, options=tro):
            tx = held.pop(key)
            ptx = from_transcript(tx.index, tx.start_s, tx.end_s, tr, tx.samples, transmission=tx.transmission)
            utc = (tx.utc_start.astimezone(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")
                   if tx.utc_start else None)
            yield ptx, {
                "channel": f"{tx.channel_hz / 1e6:.4f} MHz", "captured_at": utc, "clip_samples": tx.samples,
                "meta": {"channel_hz": tx.channel_hz, "sample_start": tx.sample_start,
                         "sample_count": tx.sample_count, "carrier_sample_start": tx.carrier_sample_start,
                         "carrier_sample_count": tx.carrier_sample_count, "freq_lower_edge": tx.freq_lower_edge,
                         "freq_upper_edge": tx.freq_upper_edge, "rf_snr_db": tx.rf_snr_db}}


def _store_demodulated_clip(store: Store, conn, src, uid: int, tx, samples, run_id: int) -> None:
    """The demodulated audio of an SDR transmission is derived data: kept as its clip."""
    from pathlib import Path
    from .audio.clips import write_audio
    from .store import sha256_file

    rel = Path("clips") / src["sha256"][:2] / f"{src['sha256']}_{uid}_0.ogg"
    path = store.derived_dir / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    write_audio(path, samples)
    conn.execute("INSERT OR REPLACE INTO clips(utterance_id, path, sha256, start_s, end_s, pad_s, run_id)"
                 " VALUES (?,?,?,?,?,0,?)", (uid, str(rel), sha256_file(path), tx.start_s, tx.end_s, run_id))
