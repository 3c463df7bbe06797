"""Clips: one transmission's audio cut out of its original into the store's ``derived/``
folder (never into ``evidence/``), recorded with the run that made it."""

from __future__ import annotations

from pathlib import Path

from ..store import Store, sha256_file


class ClipError(Exception):
    pass


def clip_for(store: Store, utterance_id: int, *, pad_s: float = 0.0) -> Path:
    """The clip's path, cutting it on first use. Cached per (utterance, padding)."""
    row = store.conn.execute(
        "SELECT c.path, c.sha256 FROM clips c WHERE c.utterance_id = ? AND c.pad_s = ?",
        (utterance_id, pad_s)).fetchone()
    if row is not None:
        path = store.derived_dir / row["path"]
        if path.exists() and sha256_file(path) == row["sha256"]:
            return path
    utt = store.conn.execute(
        "SELECT u.start_s, u.end_s, s.sha256, s.reader FROM utterances u JOIN sources s ON s.id = u.source_id"
        " WHERE u.id = ?", (utterance_id,)).fetchone()
    if utt is None:
        raise ClipError(f"utterance {utterance_id}: no such utterance")
    if utt["start_s"] is None or utt["reader"] != "audio":
        raise ClipError(f"utterance {utterance_id}: not from an audio source, nothing to cut")
    from ..audio.clips import cut_clip
    rel = Path("clips") / utt["sha256"][:2] / f"{utt['sha256']}_{utterance_id}_{pad_s:g}.ogg"
    path = store.derived_dir / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".part.ogg")
    cut_clip(store.evidence.path_for(utt["sha256"]), utt["start_s"], utt["end_s"], tmp, pad_s=pad_s)
    tmp.replace(path)
    digest = sha256_file(path)
    with store.transaction() as conn:
        run_id = store.start_run("clip", component="overheard.audio.clips", component_version="1",
                                 params={"utterance_id": utterance_id, "pad_s": pad_s, "format": "ogg/opus"})
        conn.execute("INSERT OR REPLACE INTO clips(utterance_id, path, sha256, start_s, end_s, pad_s, run_id)"
                     " VALUES (?,?,?,?,?,?,?)", (utterance_id, str(rel), digest, utt["start_s"], utt["end_s"],
                                                 pad_s, run_id))
        store.finish_run(run_id)
    return path
