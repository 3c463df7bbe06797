"""Zip archives (how exports and collections are passed around): the zip is kept as evidence,
and each member is ingested as a source of its own by the reader it would get on disk, with the
archive and the member's path in its provenance (``original_path`` = ``archive.zip!/member``,
``meta.archive``).

Unpacking is bounded before anything is extracted: members with absolute paths, ``..`` parts,
backslashes, drive letters or symlink entries are refused one by one (each one line); an archive
over MAX_MEMBERS members, MAX_TOTAL bytes unpacked, or any member inflating more than MAX_RATIO
times past RATIO_FLOOR bytes (a zip bomb) is refused whole, from its directory alone. Members
are copied out in chunks with their declared size enforced, to a temporary folder removed after.
"""

from __future__ import annotations

import shutil
import stat
import tempfile
import zipfile
from pathlib import Path
from typing import Callable

from ..store import Store, sha256_file
from .original import Original, store_original

NAME, VERSION = "zip-archive", "1"
MAX_MEMBERS = 100_000
MAX_TOTAL = 16 * 2**30
MAX_RATIO = 1000
RATIO_FLOOR = 10 * 2**20
_CHUNK = 2**20


def is_archive(path: Path) -> bool:
    return path.suffix.lower() == ".zip" and zipfile.is_zipfile(path)


def unsafe_member(info: zipfile.ZipInfo) -> str | None:
    """Why a member may not be unpacked, or None."""
    name = info.filename
    parts = name.split("/")
    if name.startswith("/") or "\\" in name or (len(name) > 1 and name[1] == ":") or any(p == ".." for p in parts):
        return "unsafe path (absolute, '..', backslash or drive letter)"
    if stat.S_ISLNK(info.external_attr >> 16):
        return "symbolic link inside the archive"
    if info.flag_bits & 0x1:
        return "encrypted member (no password support)"
    return None


def inspect(path: Path) -> tuple[list[zipfile.ZipInfo], list[tuple[zipfile.ZipInfo, str]], str | None]:
    """From the zip's directory alone: its file members, the ones refused with why, and the
    reason the whole archive is refused (a bomb), if any. Raises OSError / BadZipFile."""
    with zipfile.ZipFile(path) as z:
        infos = [i for i in z.infolist() if not i.is_dir()]
    refused = [(i, why) for i in infos if (why := unsafe_member(i))]
    return infos, refused, _bomb(infos)


def _bomb(infos: list[zipfile.ZipInfo]) -> str | None:
    if len(infos) > MAX_MEMBERS:
        return f"{len(infos):,} members, over the {MAX_MEMBERS:,} limit"
    total = sum(i.file_size for i in infos)
    if total > MAX_TOTAL:
        return f"{total / 2**30:,.1f} GiB unpacked, over the {MAX_TOTAL // 2**30} GiB limit"
    for i in infos:
        if i.file_size > RATIO_FLOOR and i.file_size > MAX_RATIO * max(i.compress_size, 1):
            return (f"member {i.filename} inflates {i.compress_size:,} → {i.file_size:,} bytes"
                    f" (over {MAX_RATIO}×: a zip bomb?)")
    return None


def _extract(z: zipfile.ZipFile, info: zipfile.ZipInfo, dest: Path) -> None:
    dest.parent.mkdir(parents=True, exist_ok=True)
    written = 0
    with z.open(info) as src, open(dest, "wb") as out:
        while chunk := src.read(_CHUNK):
            written += len(chunk)
            if written > info.file_size:          # the directory lied about the size
                raise zipfile.BadZipFile(f"member {info.filename} is larger than its header says")
            out.write(chunk)


def ingest_archive(store: Store, path: Path, opts, result_cls, ingest_folder: Callable) -> object:
    """Keep the zip as evidence, then ingest its members with ``ingest_folder(store, folder,
    opts)`` (the caller's folder ingest: one reader per file, exports with their media)."""
    from dataclasses import replace

    try:
        sha = sha256_file(path)
        infos, refused, bomb = inspect(path)
    except (OSError, zipfile.BadZipFile) as exc:
        return result_cls(path, "failed", f"not a readable zip archive ({exc})")
    existing = store.source_by_sha(sha)
    if existing is not None:
        return result_cls(path, "present", f"already present as source {existing['id']}", sha, existing["id"])
    if bomb:
        return result_cls(path, "failed", f"zip archive refused: {bomb}", sha)
    members = [i for i in infos if not unsafe_member(i)]
    original_path, extra = origin(path, opts)          # a zip inside a zip: outer.zip!/inner.zip
    result = store_original(store, Original(
        path, sha, NAME, VERSION, meta={"members": len(infos), "refused": len(refused), **extra},
        columns={"size": path.stat().st_size, "media_type": "application/zip", "kind": "archive",
                 "original_name": path.name, "original_path": original_path, "url": opts.url,
                 "captured_at": opts.captured_at, "contributor": opts.contributor, "note": opts.note},
        audit={"members": len(infos)}, pending=False), opts, result_cls)
    if result.status != "added":
        return result
    source_id = result.source_id
    result.message = f"zip archive, {len(members)} member(s) unpacked" + (f", {len(refused)} refused" if refused else "")
    result.children = [result_cls(Path(f"{path}!/{i.filename}"), "failed", f"refused: {why}") for i, why in refused]
    work = Path(tempfile.mkdtemp(prefix="overheard-zip-"))
    try:
        with zipfile.ZipFile(path) as z:
            for info in members:
                try:
                    _extract(z, info, work / info.filename)
                except (OSError, zipfile.BadZipFile, RuntimeError) as exc:
                    result.children.append(result_cls(Path(f"{path}!/{info.filename}"), "failed",
                                                      f"cannot unpack ({exc})"))
        link = {"source_id": source_id, "sha256": sha, "name": path.name, "path": original_path,
                "root": str(work)}
        for child in ingest_folder(store, work, replace(opts, archive=link)):
            try:
                shown = Path(f"{path}!/{child.path.relative_to(work).as_posix()}")
            except ValueError:
                shown = child.path
            child.path = shown
            result.children.append(child)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return result


def origin(path: Path, opts) -> tuple[str, dict]:
    """(original_path, meta to add) for a file: inside an archive, ``archive.zip!/member``."""
    link = getattr(opts, "archive", None)
    if not link:
        return str(path.resolve()), {}
    member = path.relative_to(Path(link["root"])).as_posix()
    return f"{link['path']}!/{member}", {"archive": {"source_id": link["source_id"], "sha256": link["sha256"],
                                                    "name": link["name"], "member": member}}
