"""Ingest: files in, evidence + utterances out, one transaction per file.

A file is read and parsed completely before the store is touched; then its evidence
blob, source row, utterances, index rows, run and audit row are written in one
transaction. A failure anywhere leaves neither rows nor a blob behind.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Callable, Iterable, Iterator

from ..index.terms import index_terms
from ..store import Store, sha256_file
from ..store.db import DB_NAME
from . import archive, attachments, audio, capture
from .language import detect_language
from .readers import KINDS, IngestError, ParsedSource, parse_time
from .readers import html, messages, news, plaintext, subtitles, telegram, transcript, whatsapp
from .readers.base import decode_text

FORMATS = ("auto", "news", "messages", "text", "transcript", "telegram", "whatsapp", "subtitles", "html")
SKIP_NAMES = {"SOURCE.txt", "data_source.csv", "labels.jsonl"}
# One utterance is at most this long (the detector reads 20,000 characters; search snippets,
# lemma indexing and review stay cheap); longer paragraphs or messages are split into parts.
MAX_UTTERANCE_CHARS = 20_000
MAX_TEXT_BYTES = 64 * 2**20
SKIP_PREFIXES = ("README", "LICENSE", "LICENCE", "NOTICE", "COPYING")


@dataclass
class IngestOptions:
    kind: str | None = None
    captured_at: str | None = None
    contributor: str | None = None
    note: str | None = None
    lang: str | None = None
    format: str = "auto"
    columns: messages.Columns = field(default_factory=messages.Columns)
    delimiter: str | None = None
    frequency_hz: float | None = None
    channel: str | None = None
    receiver: str | None = None
    url: str | None = None                  # where the file was published, when the file cannot say
    sample_rate: float | None = None        # raw captures: what the file cannot say
    iq_wav: bool = False                    # treat .wav files as 2-channel I/Q baseband
    channel_step: float | None = None       # captures: channel raster in Hz (12500 or 25000)
    channels: list[float] | None = None     # captures: explicit channel frequencies in Hz
    demod: str | None = None                # captures: nfm (default) or am
    archive: dict | None = None             # set for the members of a zip (see archive.origin)

    def __post_init__(self):
        if self.kind is not None and self.kind not in KINDS:
            raise ValueError(f"--kind {self.kind!r}: expected one of {', '.join(KINDS)}")
        if self.format not in FORMATS:
            raise ValueError(f"--format {self.format!r}: expected one of {', '.join(FORMATS)}")
        if self.captured_at:
            try:
                self.captured_at = parse_time(self.captured_at, what="--captured-at")
            except IngestError as exc:
                raise ValueError(str(exc)) from None

    def params(self) -> dict:
        """The options recorded on the ingest run (lineage)."""
        out = {k: v for k, v in self.__dict__.items() if k not in ("columns", "archive") and v is not None}
        if self.archive:      # the temporary folder it was unpacked to is not lineage
            out["archive"] = {k: v for k, v in self.archive.items() if k not in ("root", "path")}
        cols = {k: v for k, v in self.columns.__dict__.items() if v}
        if cols:
            out["columns"] = cols
        return out


@dataclass
class FileResult:
    path: Path
    status: str                  # added | present | skipped | failed
    message: str = ""
    sha256: str | None = None
    source_id: int | None = None
    utterances: int = 0
    children: list["FileResult"] = field(default_factory=list)   # an export's media, reported after it

    def line(self) -> str:
        """One printable line: control characters in names and messages are escaped, so a
        file called "x\nadded  forged.txt" cannot forge a second report line."""
        text = f"{self.path}: {self.message}" if self.message else str(self.path)
        return printable(text)


def printable(text: str) -> str:
    """``text`` with newlines, tabs and other control characters written as escapes."""
    if text.isprintable():
        return text
    return "".join(ch if ch.isprintable() else ch.encode("unicode_escape").decode("ascii") for ch in text)


IGNORE_FILE = ".overheardignore"
NOTE_SUFFIXES = (".md", ".markdown", ".org")
SIDECAR_SUFFIX = ".meta.json"


def discover(paths: Iterable[str | os.PathLike]) -> Iterator[tuple[Path, str | None]]:
    """Files under ``paths`` (recursively), each with a reason when it is to be skipped. In a
    folder walk, ``.overheardignore`` files (gitignore syntax, relative to their folder) exclude
    files and folders; analysts' notes (markdown), metadata sidecars and export attachments are
    not sources of their own. A file named explicitly is always taken."""
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            ignores: list[tuple[Path, object]] = []       # (folder, spec) of the folders above
            for root, dirs, files in os.walk(path, onerror=lambda e: None):
                here = Path(root)
                if DB_NAME in files:                 # a store (perhaps this one): never evidence
                    dirs[:] = []
                    yield here, "an overheard store, not a source"
                    continue
                ignores = [(d, spec) for d, spec in ignores if here == d or d in here.parents]
                if IGNORE_FILE in files:
                    ignores.append((here, _ignore_spec(here / IGNORE_FILE)))
                kept_dirs = []
                for d in sorted(dirs):
                    if d.startswith("."):
                        continue
                    why = _ignored(here / d, ignores, is_dir=True)
                    if why:
                        yield here / d, why
                    else:
                        kept_dirs.append(d)
                dirs[:] = kept_dirs
                for name in sorted(files):
                    why = _ignored(here / name, ignores)
                    if why:
                        yield here / name, why
                    else:
                        yield from _classify(here / name, explicit=False)
        else:
            yield from _classify(path, explicit=True)


def _ignore_spec(path: Path):
    import pathspec
    try:
        lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        lines = []
    return pathspec.GitIgnoreSpec.from_lines(lines)


def _ignored(path: Path, ignores, is_dir: bool = False) -> str | None:
    for folder, spec in ignores:
        rel = path.relative_to(folder).as_posix() + ("/" if is_dir else "")
        if spec.match_file(rel):
            return f"matches {(folder / IGNORE_FILE)}"
    return None


def _classify(path: Path, explicit: bool) -> Iterator[tuple[Path, str | None]]:
    name = path.name
    if not explicit:
        if name.startswith("."):
            return
        if name in SKIP_NAMES or name.startswith(SKIP_PREFIXES):
            yield path, "documentation or metadata file, not a source"
            return
        if path.suffix.lower() in NOTE_SUFFIXES or name.lower().startswith(("notes", "заметки")):
            yield path, "analyst's notes (markdown or notes*), not a source; name the file to ingest it"
            return
        if name.endswith(SIDECAR_SUFFIX) and path.with_name(name[: -len(SIDECAR_SUFFIX)]).exists():
            yield path, f"metadata sidecar of {name[: -len(SIDECAR_SUFFIX)]} (read with it)"
            return
        reason = attachments.attachment_reason(path)
        if reason:
            yield path, reason
            return
    yield path, transcript.companion_reason(path) or capture.data_companion_reason(path)


def parse_file(path: Path, data: bytes, opts: IngestOptions) -> ParsedSource:
    """Choose the reader and parse; raises IngestError with a one-line reason. Utterances
    longer than MAX_UTTERANCE_CHARS are split into consecutive parts (see split_long)."""
    parsed = _parse(path, data, opts)
    parsed.utterances = [part for u in parsed.utterances for part in _split_utterance(u)]
    return parsed


def _split_utterance(u):
    if len(u.text) <= MAX_UTTERANCE_CHARS:
        return [u]
    from dataclasses import replace
    parts = split_long(u.text, MAX_UTTERANCE_CHARS)
    return [replace(u, text=t, quote_start=None, quote_end=None,
                    meta={**u.meta, "part": i, "parts": len(parts)}) for i, t in enumerate(parts, 1)]


def split_long(text: str, limit: int) -> list[str]:
    """Cut ``text`` into pieces of at most ``limit`` characters: after the last sentence end
    in the window, else at the last space, else hard."""
    out, i, n = [], 0, len(text)
    while n - i > limit:
        window = text[i:i + limit]
        cut = max(window.rfind(". "), window.rfind("! "), window.rfind("? "), window.rfind("… "))
        cut = cut + 1 if cut > limit // 2 else window.rfind(" ")
        if cut <= limit // 4:
            cut = limit
        out.append(text[i:i + cut].strip())
        i += cut
    out.append(text[i:].strip())
    return [t for t in out if t]


def _parse(path: Path, data: bytes, opts: IngestOptions) -> ParsedSource:
    text, encoding = decode_text(data)
    parsed = _read(path, text, opts)
    if encoding != "utf_8":
        parsed.meta["encoding"] = encoding        # what the bytes were read as
    return parsed


def choose_reader(path: Path, text: str, fmt: str = "auto") -> str:
    """The reader for a text file: the forced format, else by name and content."""
    if fmt != "auto":
        return fmt
    suffix = path.suffix.lower()
    if suffix in (".jsonl", ".ndjson", ".csv", ".tsv"):
        return "messages"
    if suffix in subtitles.SUFFIXES:
        return "subtitles"
    if suffix in html.SUFFIXES:
        return "html"
    if suffix == ".json" and _is_telegram(text):
        return "telegram"
    if transcript.matches(path):
        return "transcript"
    if suffix == ".txt" and whatsapp.looks_like(text):
        return "whatsapp"
    if news.looks_like(text.split("\n", 3)):
        return "news"
    return "text"


def _is_telegram(text: str) -> bool:
    head = text.lstrip()[:4096]
    if not head.startswith("{") or '"messages"' not in text[:2_000_000] and '"chats"' not in head:
        return False
    try:
        return telegram.looks_like(json.loads(text))
    except json.JSONDecodeError:
        # a truncated result.json is still a Telegram export: let its reader say what is wrong
        return '"type"' in head and ('"messages"' in head or '"chats"' in head)


def _read(path: Path, text: str, opts: IngestOptions) -> ParsedSource:
    suffix = path.suffix.lower()
    fmt = choose_reader(path, text, opts.format)
    if fmt == "telegram":
        return telegram.read(text, kind=opts.kind)
    if fmt == "whatsapp":
        return whatsapp.read(text, kind=opts.kind)
    if fmt == "subtitles":
        return subtitles.read(text, kind=opts.kind)
    if fmt == "html":
        return html.read(text, kind=opts.kind)
    if fmt == "news":
        return news.read(text, kind=opts.kind)
    if fmt == "transcript":
        if not transcript.matches(path):
            raise IngestError("transcript format needs a file named final_<lang>.txt")
        return transcript.read(text, path, kind=opts.kind)
    if fmt == "messages":
        msg_fmt = "jsonl" if suffix in (".jsonl", ".ndjson", ".json") else "csv"
        delimiter = opts.delimiter or ("\t" if suffix == ".tsv" else None)
        return messages.read(text, fmt=msg_fmt, columns=opts.columns, kind=opts.kind,
                             delimiter=delimiter)
    return plaintext.read(text, kind=opts.kind)


SIDECAR_FIELDS = ("captured_at", "contributor", "url", "frequency_hz", "channel", "receiver", "note", "kind", "lang")


def with_sidecar(path: Path, opts: IngestOptions) -> IngestOptions:
    """Options for one file, completed from ``NAME.meta.json`` beside it (what the file cannot say:
    capture time, URL, contributor, frequency, …). The sidecar wins over command-line defaults."""
    side = path.with_name(path.name + SIDECAR_SUFFIX)
    if not side.is_file():
        return opts
    try:
        data = json.loads(side.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise IngestError(f"sidecar {side.name}: not readable JSON ({getattr(exc, 'msg', exc)})") from None
    if not isinstance(data, dict):
        raise IngestError(f"sidecar {side.name}: expected a JSON object")
    unknown = sorted(set(data) - set(SIDECAR_FIELDS))
    if unknown:
        raise IngestError(f"sidecar {side.name}: unknown field(s) {', '.join(unknown)}"
                          f" (known: {', '.join(SIDECAR_FIELDS)})")
    if data.get("frequency_hz") is not None and not isinstance(data["frequency_hz"], (int, float)):
        raise IngestError(f"sidecar {side.name}: frequency_hz must be a number in Hz")
    try:
        return replace(opts, **{k: v for k, v in data.items() if v is not None})
    except ValueError as exc:            # IngestOptions checks kind and captured_at
        raise IngestError(f"sidecar {side.name}: {exc}") from None


def _checked(path: Path, opts: IngestOptions) -> IngestOptions:
    """The file's options (its sidecar applied), once it is known to be a non-empty regular file."""
    opts = with_sidecar(path, opts)
    if not path.is_file():
        raise IngestError("not a regular file" if path.exists() else "no such file (or a broken link)")
    if path.stat().st_size == 0:
        raise IngestError("empty file")
    return opts


def ingest_file(store: Store, path: Path, opts: IngestOptions | None = None) -> FileResult:
    opts = opts or IngestOptions()
    try:
        opts = _checked(path, opts)
        if archive.is_archive(path):
            return archive.ingest_archive(store, path, opts, FileResult,
                                          lambda st, folder, o: ingest_paths(st, [folder], o))
        if capture.is_capture(path, opts.iq_wav):
            return capture.ingest_capture(store, path, opts, FileResult)
        if audio.is_audio(path):
            return audio.ingest_audio(store, path, opts, FileResult)
        size = path.stat().st_size
        if size > MAX_TEXT_BYTES:     # text is read whole: bound memory before reading
            raise IngestError(f"{size / 2**20:,.0f} MiB of text is over the {MAX_TEXT_BYTES // 2**20} MiB"
                              " limit for one text source; split the file")
        data = path.read_bytes()
    except OSError as exc:
        return FileResult(path, "failed", f"cannot read ({exc.strerror or exc})")
    except IngestError as exc:
        return FileResult(path, "failed", str(exc))
    sha = hashlib.sha256(data).hexdigest()
    existing = store.source_by_sha(sha)
    if existing is not None:
        return FileResult(path, "present", f"already present as source {existing['id']}",
                          sha, existing["id"])
    try:
        parsed = parse_file(path, data, opts)
    except IngestError as exc:
        return FileResult(path, "failed", str(exc), sha)

    rows = _utterance_rows(parsed, opts)
    speech, kept, problems = attachments.resolve(path, parsed)
    try:
        kept = [(att, f, sha256_file(f)) for att, f in kept]
    except OSError as exc:
        return FileResult(path, "failed", f"cannot read an attachment ({exc.strerror or exc})", sha)
    created = False
    placed: list[str] = []
    try:
        with store.transaction() as conn:
            again = store.source_by_sha(sha)        # a concurrent ingest may have won
            if again is not None:
                return FileResult(path, "present", f"already present as source {again['id']}",
                                  sha, again["id"])
            run_id = store.start_run("ingest", component=parsed.reader,
                                     component_version=parsed.reader_version, params=opts.params())
            source_id = _insert_source(store, conn, path, data, sha, parsed, opts, run_id)
            first = _insert_utterances(conn, source_id, run_id, rows)
            created = store.evidence.put_bytes(data, sha)[1]
            files = {}
            for att, f, f_sha in kept:           # photos, stickers, documents: kept, not analysed
                if store.evidence.put_file(f, f_sha):
                    placed.append(f_sha)
                role = f"attachment:{att['path']}"
                conn.execute("INSERT INTO source_files(source_id, sha256, role, original_name, size)"
                             " VALUES (?,?,?,?,?)", (source_id, f_sha, role, f.name, f.stat().st_size))
                files[role] = f_sha
            store.finish_run(run_id)
            store.audit("ingest", f"source:{sha}", {
                "source_id": source_id, "sha256": sha, "size": len(data),
                "original_name": path.name, "reader": parsed.reader, "kind": parsed.kind,
                "utterances": len(rows), "run_id": run_id, "contributor": opts.contributor,
                **({"files": files} if files else {}),
            }, seal={"sources": [source_id], "utterances": range(first, first + len(rows))})
    except BaseException:
        if created:
            store.evidence.remove(sha)
        for f_sha in placed:
            store.evidence.remove(f_sha)
        raise
    kept_note = f", {len(kept)} attachment(s) kept" if kept else ""
    result = FileResult(path, "added", f"{len(rows)} utterances ({parsed.reader}, {parsed.kind}){kept_note}",
                        sha, source_id, len(rows))
    result.children = [FileResult(p, status, message) for status, p, message in problems]
    for att, f in speech:
        link = attachments.parent_link(source_id, sha, path.name, att, first + att["seq"] - 1 if att.get("seq") else None)
        child_opts = replace(opts, kind="message", format="auto", captured_at=att.get("captured_at") or opts.captured_at)
        try:
            result.children.append(audio.ingest_audio(store, f, child_opts, FileResult, parent=link))
        except (KeyboardInterrupt, SystemExit):
            raise
        except Exception as exc:
            result.children.append(FileResult(f, "failed", f"{attachments.label(path, att)}: {type(exc).__name__}: {exc}"))
    return result


def _utterance_rows(parsed: ParsedSource, opts: IngestOptions) -> list[tuple]:
    rows = []
    for seq, utt in enumerate(parsed.utterances, start=1):
        lang = opts.lang or utt.lang or detect_language(utt.text, parsed.lang_hint)
        lemmas, roots = index_terms(utt.text, lang)
        captured_at, basis = utt.captured_at, utt.time_basis
        if captured_at is None and opts.captured_at:
            captured_at, basis = opts.captured_at, "captured"
        rows.append((seq, utt.line_no, parsed.kind, utt.text, lang, utt.start_s, utt.end_s,
                     captured_at, basis, utt.channel or opts.channel, utt.speaker,
                     utt.speaker_role, utt.quote_start, utt.quote_end, int(utt.is_boilerplate),
                     json.dumps(utt.meta, ensure_ascii=False, sort_keys=True), lemmas, roots))
    return rows


def _insert_source(store, conn, path, data, sha, parsed, opts, run_id) -> int:
    from ..store import utc_now
    original_path, extra = archive.origin(path, opts)
    cur = conn.execute(
        "INSERT INTO sources(sha256, size, media_type, reader, kind, original_name, original_path,"
        " title, url, published_at, captured_at, frequency_hz, channel, receiver, contributor,"
        " note, meta, ingested_at, run_id) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
        (sha, len(data), parsed.media_type, parsed.reader, parsed.kind, path.name,
         original_path, parsed.title, parsed.url or opts.url, parsed.published_at, opts.captured_at,
         opts.frequency_hz, opts.channel, opts.receiver, opts.contributor, opts.note,
         json.dumps({**parsed.meta, **extra}, ensure_ascii=False, sort_keys=True), utc_now(), run_id))
    return cur.lastrowid


def _insert_utterances(conn, source_id: int, run_id: int, rows: list[tuple]) -> int:
    """Returns the id of the first row (ids are consecutive)."""
    first = conn.execute("SELECT coalesce(max(id), 0) + 1 FROM utterances").fetchone()[0]
    conn.executemany(
        "INSERT INTO utterances(id, source_id, run_id, seq, line_no, kind, text, lang, start_s, end_s,"
        " captured_at, time_basis, channel, speaker, speaker_role, quote_start, quote_end,"
        " is_boilerplate, meta, search_lemmas, search_roots)"
        " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
        [(first + i, source_id, run_id, *row) for i, row in enumerate(rows)])
    conn.executemany(
        "INSERT INTO utterances_fts(rowid, text, search_lemmas, search_roots) VALUES (?,?,?,?)",
        [(first + i, row[3], row[-2], row[-1]) for i, row in enumerate(rows)])
    return first


def ingest_paths(store: Store, paths: Iterable[str | os.PathLike], opts: IngestOptions | None = None,
                 on_file: Callable[[FileResult], None] | None = None,
                 files: list[tuple[Path, str | None]] | None = None) -> list[FileResult]:
    """Ingest every file under ``paths``; one file's failure never stops the others."""
    # temp files of an ingest killed mid-write are never evidence: removed here, where such
    # files are made, once surely dead (not on every store open: that walk would cost each
    # command and each web request thread)
    store.evidence.remove_stale_partials()
    results = []
    outcome: dict[Path, str] = {}          # file -> status, for companions reported after it
    deferred: list[tuple[Path, str, Path]] = []

    def emit(result: FileResult) -> None:
        results.append(result)
        if on_file:
            on_file(result)

    def companion(path: Path, skip: str, owner: Path) -> FileResult:
        status = outcome.get(owner)
        if status in ("failed", None):
            why = "it failed" if status == "failed" else "it was not ingested"
            return FileResult(path, "skipped", f"samples of {owner.name} (not stored: {why})")
        return FileResult(path, "skipped", skip)

    for path, skip in (files if files is not None else discover(paths)):
        owner = capture.data_companion_owner(path) if skip else None
        if owner is not None:
            if owner in outcome:
                emit(companion(path, skip, owner))
            else:
                deferred.append((path, skip, owner))  # said once its metadata has been tried
            continue
        try:
            result = FileResult(path, "skipped", skip) if skip else ingest_file(store, path, opts)
        except (KeyboardInterrupt, SystemExit):
            raise
        except Exception as exc:      # a reader bug must not stop the batch; say what happened
            result = FileResult(path, "failed", f"unexpected error: {type(exc).__name__}: {exc}")
        outcome[path] = result.status
        emit(result)
        for child in result.children:
            emit(child)
    for path, skip, owner in deferred:
        emit(companion(path, skip, owner))
    return results


def plan_file(store: Store | None, path: Path, opts: IngestOptions) -> FileResult:
    """What ``ingest`` would do with one file, by which reader — nothing is stored (--dry-run).
    Text files are parsed fully, so a file that would fail says why now."""
    try:
        opts = _checked(path, opts)
        if archive.is_archive(path):
            import zipfile
            try:
                infos, refused, bomb = archive.inspect(path)
            except zipfile.BadZipFile as exc:
                raise IngestError(f"not a readable zip archive ({exc})") from None
            if bomb:                       # what ingest would say, before anything is unpacked
                raise IngestError(f"zip archive refused: {bomb}")
            return FileResult(path, "would add", f"zip archive, {len(infos) - len(refused)} member(s) to unpack"
                                                 f" and ingest{f', {len(refused)} refused' if refused else ''}")
        if capture.is_capture(path, opts.iq_wav):
            return FileResult(path, "would add", "SDR capture (capture reader; `overheard process` channelises it)")
        if audio.is_audio(path):
            from ..audio.decode import AudioDecodeError, probe
            try:
                info = probe(path)
            except AudioDecodeError as exc:
                raise IngestError(exc.problem) from None
            kind = opts.kind or audio.default_kind(path)
            return FileResult(path, "would add", f"audio reader, {kind} ({audio.mode_for(kind)} mode), "
                                                 f"{(info.duration_s or 0) / 60:.1f} min")
        if path.stat().st_size > MAX_TEXT_BYTES:
            raise IngestError(f"over the {MAX_TEXT_BYTES // 2**20} MiB limit for one text source")
        data = path.read_bytes()
        sha = hashlib.sha256(data).hexdigest()
        if store is not None and (row := store.source_by_sha(sha)) is not None:
            return FileResult(path, "present", f"already present as source {row['id']}", sha, row["id"])
        parsed = parse_file(path, data, opts)
    except OSError as exc:
        return FileResult(path, "failed", f"cannot read ({exc.strerror or exc})")
    except IngestError as exc:
        return FileResult(path, "failed", str(exc))
    speech, kept, problems = attachments.resolve(path, parsed)
    extra = f"; {len(speech)} voice/video file(s) to transcribe, {len(kept)} kept" if parsed.attachments else ""
    enc = f", read as {parsed.meta['encoding']}" if parsed.meta.get("encoding") else ""
    result = FileResult(path, "would add", f"{len(parsed.utterances)} utterances ({parsed.reader}, {parsed.kind}"
                                           f"{enc}){extra}", sha, None, len(parsed.utterances))
    result.children = [FileResult(p, status, message) for status, p, message in problems]
    return result
