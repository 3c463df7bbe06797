"""Evidence packages: a zip with the selected originals, derived clips, transcripts, findings,
the audit rows that cover them, and a manifest of SHA-256 hashes — checkable on any machine
with ``overheard verify --package FILE.zip``, without the store.

Layout::

    manifest.json        format, selection, every member's path/sha256/size/role, sources
    manifest.sha256      "<sha256 of manifest.json>  manifest.json"
    originals/<sha256>   the original files, byte for byte (name = their own hash)
    clips/<utterance>.ogg  audio of transmissions that carry findings (derived)
    transcripts/<source sha256>.jsonl   every utterance with provenance (the export rows)
    findings.jsonl       one row per finding with its review status
    audit.jsonl          the hash-chained audit rows about these sources and their findings
    sealed.jsonl         the sealed rows themselves (sources, utterances, ASR, glosses, findings,
                         reviews, transcript versions, annotations), field by field
    seals.jsonl          every seal of the audit rows in audit.jsonl, to recompute their digests
    README.txt           what this is and how to check it
"""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from .. import __version__
from ..store import Store, utc_now
from ..store import seal as seals
from ..store.audit import row_hash

FORMAT = "overheard-evidence-package/2"      # /2 adds sealed.jsonl and seals.jsonl
OLD_FORMATS = ("overheard-evidence-package/1",)
README = """This is an overheard evidence package ({fmt}).

manifest.json lists every member with its SHA-256; manifest.sha256 holds the hash of
manifest.json itself. originals/ holds the original files byte for byte, each named by its
own SHA-256. audit.jsonl holds the store's audit-log rows about these sources: each row's
hash covers its content and the previous row's hash.

Check it with:   overheard verify --package {name}
or by hand:      sha256sum every member and compare with manifest.json.
English glosses in transcripts/ are machine translations (gloss_label says which), not human translations,
unless gloss_label says "analyst translation".
"""


class PackageError(Exception):
    pass


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def build_package(store: Store, out: Path, *, source_ids: list[int] | None = None,
                  clips: bool = True) -> dict:
    """Write the package atomically; returns the manifest."""
    if source_ids:
        sources = [store.conn.execute("SELECT * FROM sources WHERE id = ?", (i,)).fetchone() for i in source_ids]
    else:
        sources = store.conn.execute("SELECT * FROM sources WHERE id NOT IN (SELECT source_id FROM retracted)"
                                     " ORDER BY id").fetchall()
    if not sources:
        raise PackageError(f"{store.path}: no sources to package")
    members: list[dict] = []
    tmp = out.with_name(out.name + ".part")
    try:
        body = _write_zip(store, tmp, out, sources, members, clips)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    tmp.replace(out)
    with store.transaction():
        store.audit("export-package", f"package:{_sha(body)}", {
            "out": out.name, "sources": [s["sha256"] for s in sources], "members": len(members),
            "manifest_sha256": _sha(body)})
    return json.loads(body)


def _write_zip(store: Store, tmp: Path, out: Path, sources, members: list[dict], clips: bool) -> bytes:
    """Fill the zip; returns the manifest's bytes. (Reads are not one snapshot: a writer
    working meanwhile can add rows between the transcripts and the audit rows.)"""
    from ..audio.decode import AudioDecodeError
    from .clips import ClipError, clip_for
    from .export import iter_findings, iter_utterances

    with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED) as z:
        def add(path: str, data: bytes, role: str) -> None:
            z.writestr(path, data)
            members.append({"path": path, "sha256": _sha(data), "size": len(data), "role": role})

        def add_file(path: str, src: Path, role: str, sha: str | None = None) -> None:
            data = src.read_bytes()
            digest = _sha(data)
            if sha is not None and digest != sha:
                raise PackageError(f"{path}: the store's copy no longer matches its hash; run overheard verify")
            z.writestr(path, data)
            members.append({"path": path, "sha256": digest, "size": len(data), "role": role})

        finding_rows, utterance_ids = [], set()
        for src in sources:
            blob = store.evidence.path_for(src["sha256"])
            if not blob.exists():
                raise PackageError(f"source {src['id']} ({src['original_name']}): evidence file missing; run overheard verify")
            add_file(f"originals/{src['sha256']}", blob, "original", src["sha256"])
            for extra in store.conn.execute("SELECT sha256 FROM source_files WHERE source_id = ?", (src["id"],)):
                add_file(f"originals/{extra[0]}", store.evidence.path_for(extra[0]), "original", extra[0])
            rows = list(iter_utterances(store, source_id=src["id"]))
            utterance_ids.update(r["utterance_id"] for r in rows)
            add(f"transcripts/{src['sha256']}.jsonl",
                "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows).encode(), "transcript")
            finding_rows += list(iter_findings(store, source_id=src["id"]))
        add("findings.jsonl", "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in finding_rows).encode(),
            "findings")
        if clips:
            for uid in sorted({r["utterance_id"] for r in finding_rows if r["start_s"] is not None}):
                try:
                    try:
                        clip = clip_for(store, uid, pad_s=0.5)
                    except ClipError:          # SDR transmissions: their demodulated clip only
                        clip = clip_for(store, uid, pad_s=0.0)
                    add_file(f"clips/{uid}.ogg", clip, "clip")
                except (ClipError, ValueError, OSError, AudioDecodeError):
                    continue
        audit_rows = _covering_audit_rows(store, sources, {r["finding_id"] for r in finding_rows}, utterance_ids)
        audit_rows, sealed_rows, seal_rows = _sealed_closure(store, sources, audit_rows)
        add("audit.jsonl", "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in audit_rows).encode(), "audit")
        add("sealed.jsonl", "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in sealed_rows).encode(), "sealed")
        add("seals.jsonl", "".join(json.dumps(r) + "\n" for r in seal_rows).encode(), "seals")
        add("README.txt", README.format(fmt=FORMAT, name=out.name).encode(), "readme")
        head = store.conn.execute("SELECT id, hash FROM audit_log ORDER BY id DESC LIMIT 1").fetchone()
        manifest = {
            "format": FORMAT, "created_at": utc_now(), "tool_version": __version__,
            "store_audit_head": {"row": head[0], "hash": head[1]} if head else None,
            "sources": [{k: src[k] for k in ("id", "sha256", "original_name", "kind", "reader", "size",
                                              "captured_at", "frequency_hz", "channel", "contributor")}
                        for src in sources],
            "counts": {"findings": len(finding_rows), "utterances": len(utterance_ids),
                       "audit_rows": len(audit_rows)},
            "members": members,
        }
        body = json.dumps(manifest, ensure_ascii=False, indent=1, sort_keys=True).encode()
        z.writestr("manifest.json", body)
        z.writestr("manifest.sha256", f"{_sha(body)}  manifest.json\n")
    return body


def _sealed_closure(store: Store, sources, audit_rows: list[dict]) -> tuple[list[dict], list[dict], list[list]]:
    """The rows of these sources and every row sealed by an audit row that sealed one of them (an
    analyze batch spans sources), with all their seals and the audit rows that made them — so that
    verify --package can recompute each digest, and notice a row deleted before export."""
    conn = store.conn
    rows: set[tuple[str, int]] = set()
    for src in sources:
        rows |= {(t, k) for t, ids in seals.source_rows(conn, src["id"]).items() for k in ids}
    audit_ids: set[int] = set()
    while True:
        more = {a for t, k in rows for (a,) in conn.execute(
            "SELECT audit_id FROM seals INDEXED BY seals_row WHERE tbl = ? AND row_id = ?", (t, k))} - audit_ids
        if not more:
            break
        audit_ids |= more
        for a in more:
            rows |= {(t, k) for t, k in conn.execute("SELECT tbl, row_id FROM seals WHERE audit_id = ?", (a,))}
    seal_rows = [[a, t, k, h.hex(), f.hex()] for a in sorted(audit_ids) for a, t, k, h, f in conn.execute(
        "SELECT audit_id, tbl, row_id, hash, fields FROM seals WHERE audit_id = ? ORDER BY tbl, row_id", (a,))]
    sealed_rows = []
    for table in seals.SEALED:
        keys = sorted(k for t, k in rows if t == table)
        for key, *values in seals.select_rows(conn, table, keys):
            sealed_rows.append({"table": table, "id": key, "values": dict(zip(seals.SEALED[table], values))})
    have = {r["id"] for r in audit_rows}
    extra = [dict(conn.execute("SELECT * FROM audit_log WHERE id = ?", (a,)).fetchone())
             for a in sorted(audit_ids - have)]
    return sorted(audit_rows + extra, key=lambda r: r["id"]), sealed_rows, seal_rows


def _covering_audit_rows(store: Store, sources, finding_ids: set[int], utterance_ids: set[int]) -> list[dict]:
    targets = {f"source:{s['sha256']}" for s in sources}
    targets |= {f"utterance:{u}" for u in utterance_ids} | {f"finding:{f}" for f in finding_ids}
    out = []
    for row in store.conn.execute("SELECT * FROM audit_log ORDER BY id"):
        details = json.loads(row["details"])
        about = (row["target"] in targets
                 or details.get("finding_id") in finding_ids
                 or details.get("utterance_id") in utterance_ids
                 or (row["action"] == "analyze" and details.get("utterances")
                     and any(details["utterances"][0] <= u <= details["utterances"][1] for u in utterance_ids)))
        if about:
            out.append(dict(row))
    return out


@dataclass
class PackageReport:
    problems: list[str] = field(default_factory=list)
    members_checked: int = 0
    originals: int = 0
    audit_rows: int = 0
    rows_checked: int = 0

    @property
    def ok(self) -> bool:
        return not self.problems


# A member larger than this, or one that inflates more than MAX_RATIO times past
# RATIO_FLOOR bytes, is refused before it is read: a small zip must not make verify read
# gigabytes (zip bombs). Evidence audio and text compress far less than that.
MAX_MEMBER_BYTES = 64 * 2**30
MAX_RATIO = 1000
RATIO_FLOOR = 10 * 2**20
_CHUNK = 2**20


def _unsafe_name(name: str) -> bool:
    """Absolute paths, drive letters, backslashes and '..' parts could write outside a
    folder when someone unpacks the package."""
    parts = name.split("/")
    return (name.startswith("/") or "\\" in name or (len(name) > 1 and name[1] == ":")
            or any(p in ("..", ".") for p in parts) or not name)


def _member_sha(z: zipfile.ZipFile, info: zipfile.ZipInfo) -> str:
    """SHA-256 of a member, streamed (memory stays at one chunk whatever its size)."""
    h = hashlib.sha256()
    with z.open(info) as fh:
        while chunk := fh.read(_CHUNK):
            h.update(chunk)
    return h.hexdigest()


def _manifest_problems(manifest) -> list[str]:
    """Shape checks, so that a malformed manifest is one FAIL line, never a traceback."""
    if not isinstance(manifest, dict):
        return ["manifest.json: not a JSON object"]
    out = []
    members = manifest.get("members")
    if not isinstance(members, list):
        return ["manifest.json: 'members' is not a list"]
    for i, m in enumerate(members):
        if not isinstance(m, dict) or not all(isinstance(m.get(k), str) for k in ("path", "sha256", "role")):
            out.append(f"manifest.json: member {i} is not an object with string path, sha256 and role")
    sources = manifest.get("sources")
    if not isinstance(sources, list):
        out.append("manifest.json: 'sources' is not a list")
    else:
        for i, src in enumerate(sources):
            if not isinstance(src, dict) or not isinstance(src.get("sha256"), str):
                out.append(f"manifest.json: source {i} has no sha256")
        if not sources:
            out.append("manifest.json: the package holds no sources (nothing to verify)")
    return out


def verify_package(path: Path) -> PackageReport:
    rep = PackageReport()
    try:
        z = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as exc:
        rep.problems.append(f"{path}: not a readable zip ({exc})")
        return rep
    with z:
        infos = z.infolist()
        all_names = [i.filename for i in infos]
        names = set(all_names)
        for dup in sorted({n for n in all_names if all_names.count(n) > 1}):
            rep.problems.append(f"{dup}: appears more than once in the zip (ambiguous)")
        for info in infos:
            if _unsafe_name(info.filename):
                rep.problems.append(f"{info.filename!r}: unsafe member name (absolute, '..' or backslash)")
            elif info.file_size > MAX_MEMBER_BYTES or (
                    info.file_size > RATIO_FLOOR and info.file_size > MAX_RATIO * max(info.compress_size, 1)):
                rep.problems.append(f"{info.filename}: refused, {info.file_size:,} bytes from"
                                    f" {info.compress_size:,} compressed (size or compression-ratio cap)")
        for required in ("manifest.json", "manifest.sha256", "audit.jsonl"):
            if required not in names:
                rep.problems.append(f"{path}: {required} missing")
        if rep.problems:
            return rep
        by_name = {i.filename: i for i in infos}
        body = z.read("manifest.json")
        claimed = z.read("manifest.sha256").decode("utf-8", "replace").split()
        if not claimed or claimed[0] != _sha(body):
            rep.problems.append("manifest.json: altered (its hash differs from manifest.sha256)")
        try:
            manifest = json.loads(body)
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            rep.problems.append(f"manifest.json: not valid JSON ({getattr(exc, 'msg', exc)})")
            return rep
        shape = _manifest_problems(manifest)
        if shape:
            rep.problems += shape
            return rep
        if manifest.get("format") != FORMAT and manifest.get("format") not in OLD_FORMATS:
            rep.problems.append(f"manifest.json: unknown format {manifest.get('format')!r}")
        listed = set()
        for m in manifest["members"]:
            listed.add(m["path"])
            if m["path"] not in names:
                rep.problems.append(f"{m['path']}: missing from the package")
                continue
            digest = _member_sha(z, by_name[m["path"]])
            rep.members_checked += 1
            if digest != m["sha256"]:
                rep.problems.append(f"{m['path']}: altered (hash differs from the manifest)")
            if m["role"] == "original":
                rep.originals += 1
                if m["path"].rsplit("/", 1)[-1] != digest:
                    rep.problems.append(f"{m['path']}: original does not hash to its own name")
        for extra in sorted(names - listed - {"manifest.json", "manifest.sha256"}):
            rep.problems.append(f"{extra}: in the package but not in the manifest")
        for src in manifest["sources"]:
            if f"originals/{src['sha256']}" not in listed:
                rep.problems.append(f"source {src['sha256'][:16]}…: its original is not in the package")
        audit_rows, problems = _check_audit(z.read("audit.jsonl"), manifest)
        rep.audit_rows = len(audit_rows)
        rep.problems += problems
        if manifest.get("format") == FORMAT:
            missing = [m for m in ("sealed.jsonl", "seals.jsonl") if m not in listed or m not in names]
            rep.problems += [f"{path}: {m} missing" for m in missing]
            if not missing:
                rep.problems += _check_sealed(z, manifest, audit_rows, rep)
    return rep


def _jsonl(z: zipfile.ZipFile, name: str, problems: list[str]) -> list:
    out = []
    for n, line in enumerate(z.read(name).decode("utf-8", "replace").splitlines(), start=1):
        try:
            out.append(json.loads(line))
        except json.JSONDecodeError:
            problems.append(f"{name} line {n}: not valid JSON")
    return out


def _check_sealed(z: zipfile.ZipFile, manifest: dict, audit_rows: list[dict], rep: PackageReport) -> list[str]:
    """Recompute every sealed row and every seal digest, as verify does on a store, then check that
    the exported rows (transcripts, findings, the manifest's sources) say what the sealed rows say."""
    problems: list[str] = []
    claims = {}
    for r in audit_rows:
        try:
            sealed = json.loads(r["details"]).get("sealed")
        except (json.JSONDecodeError, TypeError, AttributeError):
            continue
        if isinstance(sealed, dict):
            claims[r["id"]] = (r["action"], sealed)
    seal_rows, rows = [], {t: {} for t in seals.SEALED}
    for n, e in enumerate(_jsonl(z, "seals.jsonl", problems), start=1):
        try:
            a, t, k, h, f = e
            seal_rows.append((int(a), str(t), int(k), bytes.fromhex(h), bytes.fromhex(f)))
        except (TypeError, ValueError):
            problems.append(f"seals.jsonl line {n}: not [audit row, table, row id, hash, fields]")
    for n, r in enumerate(_jsonl(z, "sealed.jsonl", problems), start=1):
        if (not isinstance(r, dict) or r.get("table") not in seals.SEALED or not isinstance(r.get("id"), int)
                or not isinstance(r.get("values"), dict)
                or set(r["values"]) != set(seals.SEALED[r["table"]])):
            problems.append(f"sealed.jsonl line {n}: not a sealed row (table, id, every sealed field)")
            continue
        rows[r["table"]][r["id"]] = r["values"]
    report = seals.SealReport()
    seal_rows.sort(key=lambda e: (e[0], e[1], e[2]))
    seals.check_digests(((a, t, k, h) for a, t, k, h, _ in seal_rows), claims, report)
    actions = {k: v[0] for k, v in claims.items()}
    for table, fields in seals.SEALED.items():
        mine = sorted(((k, a, h, f) for a, t, k, h, f in seal_rows if t == table))
        seals.check_rows(table, ([k, *(v[f] for f in fields)] for k, v in sorted(rows[table].items())),
                         mine, actions, report)
    rep.rows_checked = report.rows_checked
    problems += report.problems
    problems += _exported_vs_sealed(z, manifest, rows)
    return problems


def _exported_vs_sealed(z: zipfile.ZipFile, manifest: dict, rows: dict[str, dict]) -> list[str]:
    """The readable files of the package must say what the sealed rows say."""
    problems: list[str] = []

    def compare(what: str, exported: dict, sealed: dict | None, pairs) -> None:
        if sealed is None:
            problems.append(f"{what}: no sealed row backs it")
            return
        for out_name, field_name in pairs:
            if out_name in exported and exported[out_name] != sealed[field_name]:
                problems.append(f"{what}: {out_name} differs from the sealed row")

    for src in manifest["sources"]:
        compare(f"manifest source {src.get('id')}", src, rows["sources"].get(src.get("id")),
                [(f, f) for f in ("sha256", "original_name", "kind", "reader", "size", "captured_at",
                                  "frequency_hz", "channel", "contributor")])
    latest_gloss = {}
    for gid, g in sorted(rows["glosses"].items()):
        latest_gloss[g["utterance_id"]] = g["text"]
    findings_of: dict[int, list] = {}
    for fid, f in sorted(rows["findings"].items()):
        findings_of.setdefault(f["utterance_id"], []).append(f)
    utterance_fields = [(f, f) for f in ("source_id", "seq", "line_no", "lang", "text", "start_s", "end_s",
                                         "captured_at", "time_basis", "speaker", "speaker_role",
                                         "quote_start", "quote_end")]
    for name in sorted(n for n in z.namelist() if n.startswith("transcripts/")):
        for n, r in enumerate(_jsonl(z, name, problems), start=1):
            if not isinstance(r, dict):
                problems.append(f"{name} line {n}: not an object")
                continue
            uid = r.get("utterance_id")
            what = f"{name} line {n} (utterance {uid})"
            compare(what, r, rows["utterances"].get(uid), utterance_fields)
            if uid in rows["utterances"] and r.get("gloss_en") != latest_gloss.get(uid):
                problems.append(f"{what}: gloss_en differs from the sealed gloss")
            if uid in rows["utterances"] and isinstance(r.get("findings"), list):
                sealed = [(f["code"], f["stance"], f["span_start"], f["span_end"], f["evidence"])
                          for f in findings_of.get(uid, [])]
                out = [(f.get("code"), f.get("stance"), f.get("span_start"), f.get("span_end"), f.get("evidence"))
                       for f in r["findings"] if isinstance(f, dict)]
                if out != sealed:
                    problems.append(f"{what}: its findings differ from the sealed findings")
    decisions: dict[int, str] = {}
    for rid, rv in sorted(rows["reviews"].items()):
        decisions[rv["finding_id"]] = rv["decision"]
    if "findings.jsonl" in z.namelist():
        for n, r in enumerate(_jsonl(z, "findings.jsonl", problems), start=1):
            if not isinstance(r, dict):
                problems.append(f"findings.jsonl line {n}: not an object")
                continue
            fid = r.get("finding_id")
            sealed = rows["findings"].get(fid)
            compare(f"findings.jsonl line {n} (finding {fid})", r, sealed,
                    [(f, f) for f in ("utterance_id", "code", "stance", "score", "span_start", "span_end",
                                      "evidence", "method", "detector_version", "run_id")])
            if sealed is not None:
                status = decisions.get(fid) or ("confirmed" if sealed["method"].startswith("analyst:") else "machine")
                if r.get("review_status") != status:
                    problems.append(f"findings.jsonl line {n} (finding {fid}): review_status {r.get('review_status')!r}"
                                    f" differs from the sealed reviews ({status})")
    return problems


def _check_audit(data: bytes, manifest: dict) -> tuple[list[dict], list[str]]:
    problems, rows = [], []
    keys = ("id", "at", "actor", "action", "target", "details", "prev_hash", "hash")
    for n, line in enumerate(data.decode("utf-8", "replace").splitlines(), start=1):
        try:
            row = json.loads(line)
        except json.JSONDecodeError:
            problems.append(f"audit.jsonl line {n}: not valid JSON")
            continue
        if (not isinstance(row, dict) or any(k not in row for k in keys) or not isinstance(row["id"], int)
                or not all(isinstance(row[k], str) for k in ("at", "actor", "action", "target", "hash"))
                or not isinstance(row["details"], (str, type(None)))
                or not isinstance(row["prev_hash"], (str, type(None)))):
            problems.append(f"audit.jsonl line {n}: not an audit row (missing fields or wrong types)")
            continue
        rows.append(row)
    previous = None
    ingested = set()
    for r in rows:
        if row_hash(r["id"], r["at"], r["actor"], r["action"], r["target"], r["details"], r["prev_hash"]) != r["hash"]:
            problems.append(f"audit.jsonl row {r['id']}: content altered")
        if previous is not None and r["id"] == previous["id"] + 1 and r["prev_hash"] != previous["hash"]:
            problems.append(f"audit.jsonl row {r['id']}: chain link to row {previous['id']} broken")
        if r["action"] == "ingest":
            try:
                details = json.loads(r["details"])
            except (json.JSONDecodeError, TypeError):
                details = None
            if isinstance(details, dict):
                ingested.add(details.get("sha256"))
        previous = r
    for src in manifest.get("sources", []):
        if src["sha256"] not in ingested:
            problems.append(f"source {src['sha256'][:16]}…: no ingest row in audit.jsonl")
    return rows, problems
