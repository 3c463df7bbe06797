"""Content-addressed originals: ``evidence/ab/cdef…`` named by SHA-256, written once, read-only."""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path

CHUNK = 1 << 20


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


class EvidenceChanged(Exception):
    """The bytes copied into evidence are not the bytes that were hashed."""


class EvidenceStore:
    def __init__(self, root: Path):
        self.root = root

    def path_for(self, sha256: str) -> Path:
        return self.root / sha256[:2] / sha256[2:]

    def put_bytes(self, data: bytes, sha256: str | None = None) -> tuple[str, bool]:
        """Store ``data``; returns (sha256, created). Never overwrites an existing original."""
        sha256 = sha256 or hashlib.sha256(data).hexdigest()
        return sha256, self._place(sha256, lambda fh: fh.write(data))

    def put_file(self, src: Path, sha256: str) -> bool:
        """Copy ``src`` in (streamed, for large recordings); returns True when newly created.
        The copy is hashed as it is written: a file that changed since it was hashed (a
        recording still being written) raises EvidenceChanged and nothing is placed."""
        def copy(fh):
            digest = hashlib.sha256()
            with open(src, "rb") as inp:
                while chunk := inp.read(CHUNK):
                    digest.update(chunk)
                    fh.write(chunk)
            if digest.hexdigest() != sha256:
                raise EvidenceChanged(f"{src.name} changed while being ingested (still being written?)")
        return self._place(sha256, copy)

    def _place(self, sha256: str, write) -> bool:
        final = self.path_for(sha256)
        if final.exists():
            return False
        final.parent.mkdir(parents=True, exist_ok=True)
        # Write beside the target, fsync, then link into place: a crash leaves at most a
        # stray temp file, never a half-written original under its hash name.
        fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=final.parent)
        try:
            with os.fdopen(fd, "wb") as fh:
                write(fh)
                fh.flush()
                os.fsync(fh.fileno())
            os.chmod(tmp, 0o444)
            try:
                os.link(tmp, final)       # fails if another writer placed it first
                created = True
            except FileExistsError:
                created = False
        finally:
            os.unlink(tmp)
        return created

    def remove(self, sha256: str) -> None:
        """Only for rolling back a blob this process just created in a failed transaction."""
        path = self.path_for(sha256)
        if path.exists():
            os.chmod(path, 0o644)
            path.unlink()

    def _entries(self):
        """Every file under the evidence folder, as (subfolder, file), in order."""
        if not self.root.exists():
            return
        for sub in sorted(self.root.iterdir()):
            if sub.is_dir():
                for f in sorted(sub.iterdir()):
                    yield sub, f

    def partial_files(self):
        """Temp files of writes that never finished (a process killed mid-ingest)."""
        return (f for _, f in self._entries() if f.name.startswith(".tmp-"))

    def remove_stale_partials(self, older_than_s: float = 3600.0) -> int:
        """Delete partial writes older than ``older_than_s`` (a younger one may belong to an
        ingest running now in another process). Returns how many were removed."""
        import time
        now, n = time.time(), 0
        for f in self.partial_files():
            try:
                if now - f.stat().st_mtime > older_than_s:
                    f.chmod(0o644)
                    f.unlink()
                    n += 1
            except OSError:
                pass
        return n

    def iter_files(self):
        for sub, f in self._entries():
            if not f.name.startswith(".tmp-"):
                yield sub.name + f.name, f
