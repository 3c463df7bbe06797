"""`overheard export --format sigmf`: a new ``.sigmf-meta`` with one annotation per stored
transmission of an SDR capture, referencing the evidence copy of the samples. The original
recording is never altered."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

from ..store import Store


def export_sigmf(store: Store, src, out: Path) -> int:
    from ..ingest.capture import materialised
    from ..sdr import open_capture, write_annotations

    if src["reader"] != "sdr-capture":
        raise ValueError(f"source {src['id']} ({src['original_name']}) is not an SDR capture")
    if store.path.resolve() in out.resolve().parents and "evidence" in out.resolve().parts:
        raise ValueError(f"{out}: refusing to write inside the evidence folder")
    txs = []
    for text, meta in store.conn.execute(
            "SELECT text, meta FROM utterances WHERE source_id = ? ORDER BY seq", (src["id"],)):
        m = json.loads(meta)
        if "sample_start" in m:
            txs.append(SimpleNamespace(text=text, **{k: m[k] for k in (
                "sample_start", "sample_count", "carrier_sample_start", "carrier_sample_count",
                "freq_lower_edge", "freq_upper_edge")}))
    meta = json.loads(src["meta"])
    with materialised(store, src) as path:
        cap = open_capture(path, sample_rate=src["sample_rate"], center_freq=src["frequency_hz"])
        # the annotations reference the samples' evidence copy, which outlives this temp dir
        cap.data_path = str(store.evidence.path_for(meta["files"].get("sigmf-data", meta["files"]["primary"])["sha256"]))
        write_annotations(cap, txs, out, generator="overheard")
    return len(txs)
