"""The `overheard` command line: a thin layer over the Python API."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import List, Optional

import typer
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from . import __version__
from .cli_support import State, check_out, console, err, fail, open_store  # noqa: F401  (used by tests too)
from .store import Store, StoreError, default_store_path

app = typer.Typer(add_completion=False, no_args_is_help=True, pretty_exceptions_show_locals=False,
                  help="Searchable transcripts and evidence-backed morale findings from "
                       "open military voice traffic and soldiers' messages.")
def version_callback(value: bool):
    if value:
        console.print(f"overheard {__version__}")
        raise typer.Exit()


@app.callback()
def main_options(
    store: Path = typer.Option(None, "--store", envvar="OVERHEARD_STORE",
                               help="Store directory (default ./overheard-store)."),
    version: bool = typer.Option(False, "--version", callback=version_callback, is_eager=True,
                                 help="Print the version and exit.", metavar=" "),
):
    """Global options apply to every command."""
    State.store_path = store or default_store_path()


# --------------------------------------------------------------------------- ingest
def _ingest_plan(paths: list[Path], opts, as_json: bool, verbose: bool, missing: int) -> None:
    """ingest --dry-run: every file with the reader that would take it; nothing is written."""
    from .ingest import FileResult, discover, plan_file

    store = None
    try:
        store = Store(State.store_path, create=False) if (Path(State.store_path) / "overheard.db").exists() else None
    except StoreError:
        pass                  # no store yet: nothing is "already present"
    counts = {"would add": 0, "present": 0, "skipped": 0, "failed": missing}
    try:
        for path, skip in discover(paths):
            result = FileResult(path, "skipped", skip) if skip else plan_file(store, path, opts)
            for r in [result, *result.children]:
                counts[r.status] += 1
                if as_json:
                    print(json.dumps({"path": str(r.path), "status": r.status, "message": r.message},
                                     ensure_ascii=False))
                elif r.status != "skipped" or verbose:
                    colour = {"would add": "green", "present": "yellow", "failed": "red"}.get(r.status, "dim")
                    err.print(f"[{colour}]{r.status}[/] {escape(r.line())}")
    finally:
        if store is not None:
            store.close()
    if not as_json:
        err.print(f"dry run, nothing stored: {counts['would add']} would be added, {counts['present']} already present, "
                  f"{counts['skipped']} skipped{'' if verbose or not counts['skipped'] else ' (-v lists them)'}, "
                  f"{counts['failed']} would fail")
    if counts["failed"]:
        raise typer.Exit(1)


@app.command()
def ingest(
    paths: List[Path] = typer.Argument(..., help="Files or folders (recursive)."),
    kind: Optional[str] = typer.Option(None, help="radio|call|interview|message|article (what the file cannot say)."),
    captured_at: Optional[str] = typer.Option(None, "--captured-at", help="Capture/start time, ISO 8601 (naive = UTC)."),
    contributor: Optional[str] = typer.Option(None, help="Who supplied the material."),
    note: Optional[str] = typer.Option(None, help="Free-text note stored with each source."),
    lang: Optional[str] = typer.Option(None, help="Force the language (ru, uk, en…) instead of detecting it per utterance."),
    fmt: str = typer.Option("auto", "--format", help="Force a reader: auto|news|messages|text|transcript|telegram|whatsapp|subtitles|html."),
    text_col: Optional[str] = typer.Option(None, "--text-col", help="Messages: the text column."),
    time_col: Optional[str] = typer.Option(None, "--time-col", help="Messages: the time column."),
    sender_col: Optional[str] = typer.Option(None, "--sender-col", help="Messages: the sender column."),
    channel_col: Optional[str] = typer.Option(None, "--channel-col", help="Messages: the channel column."),
    delimiter: Optional[str] = typer.Option(None, help="CSV delimiter (sniffed when not given)."),
    frequency: Optional[str] = typer.Option(None, help="Radio frequency: Hz, or with k/M (148.5M = 148500000)."),
    channel: Optional[str] = typer.Option(None, help="Channel name for everything in these files."),
    receiver: Optional[str] = typer.Option(None, help="Receiver that made the recording."),
    url: Optional[str] = typer.Option(None, help="Where the material was published (when the file cannot say)."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Show what would be taken, by which reader, and what would fail; store nothing.", metavar=" "),
    sample_rate: Optional[float] = typer.Option(None, "--sample-rate", help="Raw IQ captures: samples per second (the file cannot say)."),
    iq: bool = typer.Option(False, "--iq", help="Treat .wav files as 2-channel I/Q baseband captures.", metavar=" "),
    channel_step: Optional[str] = typer.Option(None, "--channel-step", help="Captures: channel raster, 12.5k or 25k."),
    channels: Optional[str] = typer.Option(None, "--channels", help="Captures: explicit channel frequencies, comma-separated (Hz, or with k/M)."),
    demod: Optional[str] = typer.Option(None, "--demod", help="Captures: nfm (default) or am."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object per file.", metavar=" "),
    verbose: bool = typer.Option(False, "--verbose", "-v", help="Also list skipped files and why.", metavar=" "),
):
    """Add files to the store (idempotent: a file already present adds nothing)."""
    from .ingest import IngestOptions, discover, ingest_paths, printable
    from .ingest.readers.messages import Columns

    try:
        if demod not in (None, "nfm", "am"):
            raise ValueError(f"--demod {demod!r}: expected nfm or am")
        opts = IngestOptions(kind=kind, captured_at=captured_at, contributor=contributor, note=note,
                             lang=lang, format=fmt, delimiter=delimiter, frequency_hz=_hz(frequency, "--frequency") if frequency else None,
                             channel=channel, receiver=receiver, url=url, sample_rate=sample_rate, iq_wav=iq,
                             channel_step=_hz(channel_step, "--channel-step") if channel_step else None,
                             channels=[_hz(c, "--channels") for c in channels.split(",")] if channels else None,
                             demod=demod, columns=Columns(text_col, time_col, sender_col, channel_col))
    except ValueError as exc:
        raise fail(str(exc), 2)
    missing = [p for p in paths if not p.exists() and not p.is_symlink()]
    for p in missing:
        err.print(f"[red]failed[/] {escape(printable(str(p)))}: no such file or folder")
    if dry_run:
        _ingest_plan([p for p in paths if p not in missing], opts, as_json, verbose, len(missing))
        return
    if len(missing) == len(paths):       # nothing to take: do not create an empty store for it
        err.print(f"[bold]0 added[/], [red]{len(missing)} failed[/]  (no store created or changed)")
        raise typer.Exit(1)
    store = open_store(create=True)
    files = list(discover([p for p in paths if p not in missing]))
    counts = {"added": 0, "present": 0, "skipped": 0, "failed": len(missing)}
    utterances = 0
    with Progress(TextColumn("[bold]ingest"), BarColumn(), MofNCompleteColumn(),
                  TextColumn("{task.fields[name]}"), TimeElapsedColumn(), console=err,
                  transient=True, disable=as_json or len(files) < 2) as progress:
        task = progress.add_task("ingest", total=len(files), name="")

        def report(result):
            nonlocal utterances
            counts[result.status] += 1
            utterances += result.utterances
            progress.update(task, advance=1, name=result.path.name)
            if as_json:
                print(json.dumps({"path": str(result.path), "status": result.status,
                                  "message": result.message, "sha256": result.sha256,
                                  "source_id": result.source_id,
                                  "utterances": result.utterances}, ensure_ascii=False))
            elif result.status == "failed":
                err.print(f"[red]failed[/] {escape(result.line())}")
            elif result.status == "added":
                progress.console.print(f"[green]added[/]  {escape(result.line())}  "
                                       f"[dim]{result.sha256[:12]}[/]")
            elif result.status == "present":
                progress.console.print(f"[yellow]present[/] {escape(result.line())}")
            elif verbose:
                progress.console.print(f"[dim]skipped {escape(result.line())}[/]")

        ingest_paths(store, [], opts, on_file=report, files=files)
    if not as_json:
        err.print(f"[bold]{counts['added']} added[/] ({utterances} utterances), "
                  f"{counts['present']} already present, {counts['skipped']} skipped{'' if verbose or not counts['skipped'] else ' (-v lists them)'}, "
                  f"[{'red' if counts['failed'] else 'bold'}]{counts['failed']} failed[/]  "
                  f"[dim]store: {store.path}[/]")
    store.close()
    if counts["failed"]:
        raise typer.Exit(1)


def _hz(value: str, what: str) -> float:
    """'12.5k', '25k', '148.5M', '148500000' → Hz."""
    text = value.strip().lower().removesuffix("hz")
    scale = {"k": 1e3, "m": 1e6, "g": 1e9}.get(text[-1:], 1.0)
    try:
        return float(text[:-1] if scale != 1.0 else text) * scale
    except ValueError:
        raise ValueError(f"{what} {value!r}: not a frequency (e.g. 12.5k, 148.5M, 148500000)") from None


# --------------------------------------------------------------------------- search
@app.command()
def search(
    query: str = typer.Argument(..., help='Words (any inflected form matches, all required); "quoted phrase"'
                                ' matches literally; word* a prefix; OR between alternatives; NOT word or -word'
                                ' excludes. An English query also searches the English gloss.'),
    kind: Optional[str] = typer.Option(None, help="Only this kind of source."),
    source: Optional[str] = typer.Option(None, help="Only this source (id or SHA-256 prefix)."),
    lang: Optional[str] = typer.Option(None, help="Only utterances in this language."),
    since: Optional[str] = typer.Option(None, help="Only utterances at or after this time (ISO 8601)."),
    until: Optional[str] = typer.Option(None, help="Only utterances at or before this time (ISO 8601)."),
    code: Optional[str] = typer.Option(None, help="Only utterances with a finding of this indicator code."),
    stance: Optional[str] = typer.Option(None, help="…whose finding has this stance (self|reported|narration)."),
    status: Optional[str] = typer.Option(None, help="…whose finding has this review status (confirmed|rejected|machine)."),
    channel: Optional[str] = typer.Option(None, help="Only this channel."),
    limit: int = typer.Option(20, help="Maximum hits."),
    offset: int = typer.Option(0, help="Skip this many hits (paging)."),
    order: str = typer.Option("rank", help="rank (relevance among the newest 2,000 matches) | newest | time (capture time)."),
    boilerplate: bool = typer.Option(False, "--boilerplate", help="Include site boilerplate.", metavar=" "),
    scope: str = typer.Option("both", "--in", help="Where to look: text | gloss (the English gloss) | both."),
    as_json: bool = typer.Option(False, "--json", help="One JSON object per hit (the total goes to standard error).", metavar=" "),
):
    """Full-text search over every utterance, aware of Russian/Ukrainian word forms."""
    from .index.search import Filters, SearchError, count_matches, parse_query
    from .index.search import search as run_search
    from .ingest.readers.base import IngestError, parse_time

    store = open_store()
    try:
        _check_filter_values(store, kind=kind, code=code, stance=stance, status=status, lang=lang)
        filters = Filters(kind=kind, lang=lang, code=code, stance=stance, status=status, channel=channel,
                          since=parse_time(since, what="--since") if since else None,
                          until=_until(until) if until else None)
        if source:
            filters.source_id = store.resolve_source(source)["id"]
        hits = run_search(store.conn, query, filters, limit=limit, offset=offset, order=order,
                          include_boilerplate=boilerplate, scope=scope)
        filters.include_boilerplate = boilerplate
        total = count_matches(store.conn, parse_query(query, lang), filters, scope=scope, bound=COUNT_BOUND)
    except (SearchError, StoreError, IngestError) as exc:
        raise fail(str(exc), 2)
    said = f"more than {COUNT_BOUND:,}" if total > COUNT_BOUND else f"{total:,}"
    shown = f"{offset + 1}–{offset + len(hits)} of {said}" if hits else f"0 of {said}"
    if as_json:
        for hit in hits:
            print(json.dumps(hit.to_dict(), ensure_ascii=False))
        err.print(f"{shown} hit(s) for {query!r}")
        return
    table = Table(title=f"{shown} hit(s) for {query!r}" + (f" (in {scope})" if scope != "both" else ""),
                  show_lines=False)
    for col in ("id", "source", "kind", "lang", "when", "snippet"):
        table.add_column(col, overflow="fold", no_wrap=col in ("source", "when"))
    for hit in hits:
        snippet = escape(hit.snippet).replace("**", "\x00")
        parts = snippet.split("\x00")
        marked = "".join(f"[bold yellow]{p}[/]" if i % 2 else p for i, p in enumerate(parts))
        if hit.via == "gloss":
            marked = f"[dim]via the English gloss (translation):[/] {marked}\n[dim]{escape(hit.text[:120])}[/]"
        table.add_row(str(hit.utterance_id), hit.source_sha256[:12], hit.kind, hit.lang,
                      (hit.captured_at or "")[:16].replace("T", " "), marked)
    console.print(table)


COUNT_BOUND = 1000     # totals are exact up to this many matches


def _check_filter_values(store: Store, **values) -> None:
    """An unknown filter value is an error listing the valid ones — never a silent '0 hits'."""
    from .analyse.indicators import CODES, STANCES
    from .ingest.readers import KINDS
    valid = {"kind": KINDS, "code": CODES, "stance": STANCES, "status": ("confirmed", "rejected", "machine")}
    for name, value in values.items():
        if value is None:
            continue
        if name == "lang":
            langs = [r[0] for r in store.conn.execute("SELECT DISTINCT lang FROM utterances ORDER BY lang")]
            if value not in langs:
                raise StoreError(f"--lang {value!r}: no utterance in this store has that language"
                                 f" (present: {', '.join(langs) or 'none'})")
        elif value not in valid[name]:
            raise StoreError(f"--{name} {value!r}: expected one of {', '.join(valid[name])}")


def _until(value: str) -> str:
    from .ingest.readers.base import parse_time
    stamp = parse_time(value, what="--until")
    # a bare date means "to the end of that day"
    return stamp.replace("T00:00:00Z", "T23:59:59Z") if len(value.strip()) <= 10 else stamp


# --------------------------------------------------------------------------- export
@app.command()
def export(
    fmt: str = typer.Option("jsonl", "--format", help="jsonl|csv|vtt|srt|package|sigmf."),
    out: Optional[Path] = typer.Option(None, "--out", help="Output file (default: standard output; required for package)."),
    source: Optional[List[str]] = typer.Option(None, help="Only these sources (id, SHA-256 prefix or name); repeatable. vtt/srt need one."),
    rows: str = typer.Option("utterances", "--rows", help="jsonl/csv: utterances (with nested findings) or findings (one row each)."),
    track: str = typer.Option("transcript", "--track", help="vtt/srt: transcript or gloss (machine translation)."),
    clips: bool = typer.Option(True, "--clips/--no-clips", help="package: include audio clips of transmissions with findings.", metavar=" "),
):
    """Export utterances or findings with provenance, subtitle tracks, or an evidence package."""
    from .outputs.export import iter_findings, iter_utterances, write_csv, write_findings_csv, write_jsonl

    check_out(out)
    if fmt not in ("jsonl", "csv", "vtt", "srt", "package", "sigmf"):
        raise fail(f"--format {fmt!r}: expected jsonl, csv, vtt, srt, package or sigmf", 2)
    if rows not in ("utterances", "findings"):
        raise fail(f"--rows {rows!r}: expected utterances or findings", 2)
    store = open_store()
    try:
        sources = [store.resolve_source(x) for x in source or []]
    except StoreError as exc:
        raise fail(str(exc), 2)
    if fmt == "sigmf":
        from .sdr.capture import CaptureError
        from .outputs.sigmf import export_sigmf
        if len(sources) != 1 or out is None:
            raise fail("--format sigmf needs one --source (an SDR capture) and --out FILE.sigmf-meta", 2)
        try:
            n = export_sigmf(store, sources[0], out)
        except (CaptureError, ValueError) as exc:
            raise fail(str(exc))
        console.print(f"sigmf: {out.resolve()} ({n} annotations)")
        return
    if fmt == "package":
        from .outputs.package import PackageError, build_package
        if out is None:
            raise fail("--format package needs --out FILE.zip", 2)
        try:
            manifest = build_package(store, out, source_ids=[s["id"] for s in sources] or None, clips=clips)
        except PackageError as exc:
            raise fail(str(exc))
        console.print(f"package: {out.resolve()} ({len(manifest['members'])} members, "
                      f"{len(manifest['sources'])} originals, {manifest['counts']['findings']} findings, "
                      f"{manifest['counts']['audit_rows']} audit rows)")
        return

    def write(fh) -> int:
        if fmt in ("vtt", "srt"):
            from .outputs.subtitles import write_srt, write_vtt
            if len(sources) != 1:
                raise fail(f"--format {fmt} needs exactly one --source (an audio source)", 2)
            try:
                return (write_vtt if fmt == "vtt" else write_srt)(store, sources[0], track, fh)
            except ValueError as exc:
                raise fail(str(exc), 2)
        ids = [s["id"] for s in sources] or [None]
        if rows == "findings":
            it = (r for sid in ids for r in iter_findings(store, source_id=sid))
            return write_jsonl(it, fh) if fmt == "jsonl" else write_findings_csv(it, fh)
        it = (r for sid in ids for r in iter_utterances(store, source_id=sid))
        return write_jsonl(it, fh) if fmt == "jsonl" else write_csv(it, fh)

    if out:
        tmp = out.with_name(out.name + ".part")
        try:
            with open(tmp, "w", encoding="utf-8", newline="") as fh:
                n = write(fh)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
        tmp.replace(out)
        err.print(f"wrote {n} {'cues' if fmt in ('vtt', 'srt') else rows} to {out}")
    else:
        write(sys.stdout)


# --------------------------------------------------------------------------- verify
@app.command()
def verify(
    as_json: bool = typer.Option(False, "--json", help="Print the result as JSON.", metavar=" "),
    package: Optional[Path] = typer.Option(None, "--package", help="Check an evidence package (zip) instead of the store."),
    anchor: Optional[list[str]] = typer.Option(
        None, "--anchor", help="An audit head kept outside the store: ROW:HASH, a copy of audit-head.json, or an "
        "evidence package (its store_audit_head). Fails if that row is gone or differs. Repeatable."),
):
    """Re-hash every evidence file, walk the audit chain and recompute every sealed row; non-zero exit on any problem."""
    from .store.verify import AnchorError, read_anchor, verify_store

    if package is not None:
        from .outputs.package import verify_package
        rep = verify_package(package)
        _report_verification(rep.ok, rep.problems, [], as_json, {
            "members_checked": rep.members_checked, "originals": rep.originals, "audit_rows": rep.audit_rows,
            "rows_checked": rep.rows_checked},
            f"{package}: {rep.members_checked} members re-hashed ({rep.originals} originals), "
            f"{rep.audit_rows} audit rows checked, {rep.rows_checked} sealed rows recomputed")
        return
    try:
        anchors = [(*read_anchor(a), f"anchor {a}") for a in anchor or []]
    except AnchorError as exc:
        raise fail(str(exc), 2)
    report = verify_store(open_store(), anchors)
    _report_verification(report.ok, report.problems, report.warnings, as_json, {
        "evidence_checked": report.evidence_checked, "audit_rows": report.audit_rows,
        "rows_checked": report.rows_checked, "anchors_checked": report.anchors_checked,
        "audit_head": report.audit_head},
        f"{report.evidence_checked} evidence files re-hashed, {report.audit_rows} audit rows chained, "
        f"{report.rows_checked} sealed rows recomputed, {report.anchors_checked} head copies compared; "
        f"head {report.audit_head[:16]}…")


def _report_verification(ok: bool, problems: list[str], warnings: list[str], as_json: bool,
                         figures: dict, summary: str) -> None:
    if as_json:
        print(json.dumps({"ok": ok, "problems": problems, "warnings": warnings, **figures}, ensure_ascii=False))
    else:
        for p in problems:
            err.print(f"[red]FAIL[/] {escape(p)}")
        for w in warnings:
            err.print(f"[yellow]warn[/] {escape(w)}")
        console.print(f"{'[green]OK[/]' if ok else f'[red]{len(problems)} problem(s)[/]'}: {escape(summary)}")
    if not ok:
        raise typer.Exit(1)


# --------------------------------------------------------------------------- info
# --------------------------------------------------------------------------- retract / restore
@app.command()
def retract(
    source: str = typer.Argument(..., help="Source id, SHA-256 prefix or unique file name."),
    reason: str = typer.Option(..., "--reason", help="Why it is taken out (kept in the audit log and shown with it)."),
):
    """Take a wrongly ingested source, and everything derived from it, out of search, analysis,
    summaries, reports and exports. Nothing is deleted; audited; `restore` undoes it."""
    _retraction("retract", source, reason)


@app.command()
def restore(
    source: str = typer.Argument(..., help="Source id, SHA-256 prefix or unique file name."),
    reason: str = typer.Option(..., "--reason", help="Why it is put back (kept in the audit log)."),
):
    """Put a retracted source back (audited). `analyze` then reads any of its lines not yet read."""
    _retraction("restore", source, reason)


def _retraction(action: str, source: str, reason: str) -> None:
    from .store import retract as retraction
    from .store.audit import default_actor

    store = open_store()
    try:
        changed = getattr(retraction, action)(store, source, reason=reason, actor=default_actor())
    except StoreError as exc:
        raise fail(str(exc), 2)
    finally:
        store.close()
    done = "retracted" if action == "retract" else "restored"
    err.print(f"{done}: source {', '.join(map(str, changed))}"
              + (" (with the media attached to it)" if len(changed) > 1 else ""))


@app.command()
def info(as_json: bool = typer.Option(False, "--json", help="Print as JSON.", metavar=" ")):
    """What the store holds: counts, sources, languages."""
    store = open_store()
    counts = store.counts()
    langs = dict(store.conn.execute(
        "SELECT lang, count(*) FROM utterances GROUP BY lang ORDER BY 2 DESC").fetchall())
    kinds = dict(store.conn.execute(
        "SELECT kind, count(*) FROM utterances GROUP BY kind ORDER BY 2 DESC").fetchall())
    if as_json:
        retracted = [r[0] for r in store.conn.execute("SELECT source_id FROM retracted ORDER BY source_id")]
        print(json.dumps({"store": str(store.path), "schema_version": store.schema_version,
                          **counts, "languages": langs, "kinds": kinds, "retracted_sources": retracted},
                         ensure_ascii=False))
        return
    console.print(f"[bold]{store.path}[/] (schema v{store.schema_version})")
    console.print("  " + ", ".join(f"{v} {k}" for k, v in counts.items()))
    console.print("  languages: " + ", ".join(f"{k} {v}" for k, v in langs.items()))
    console.print("  kinds: " + ", ".join(f"{k} {v}" for k, v in kinds.items()))
    table = Table(title="sources")
    for col in ("id", "sha256", "name", "kind", "reader", "utterances", "when", "contributor"):
        table.add_column(col, overflow="fold", no_wrap=col in ("sha256", "when"))
    for row in store.conn.execute(
            "SELECT s.id, s.sha256, s.original_name, s.kind, s.reader, s.contributor,"
            " coalesce(s.captured_at, s.published_at) AS at,"
            " (SELECT count(*) FROM utterances u WHERE u.source_id = s.id) AS n,"
            " s.id IN (SELECT source_id FROM retracted) AS gone"
            " FROM sources s ORDER BY s.id"):
        name = escape(row["original_name"]) + (" [red](retracted)[/]" if row["gone"] else "")
        table.add_row(str(row["id"]), row["sha256"][:12], name, row["kind"],
                      row["reader"], str(row["n"]), (row["at"] or "")[:10], row["contributor"] or "")
    console.print(table)

# --------------------------------------------------------------------------- analyze
@app.command()
def analyze(as_json: bool = typer.Option(False, "--json", help="Print the run's counts as JSON.", metavar=" "),
            fast: bool = typer.Option(False, "--fast", help="Rules alone: ~2x faster, lower recall"
                                      " (a detector version of its own).", metavar=" ")):
    """Detect morale indicators in every utterance not yet analysed by the current detector."""
    from .analyse import load_detector
    from .analyse.apply import analyze_store, pending_count

    store = open_store()
    det = load_detector(fast=fast)
    todo = pending_count(store, det.version)
    with Progress(TextColumn("[bold]analyze"), BarColumn(), MofNCompleteColumn(),
                  TimeElapsedColumn(), console=err, transient=True,
                  disable=as_json or todo < 1000) as progress:
        task = progress.add_task("analyze", total=todo)
        report = analyze_store(store, det, on_batch=lambda n: progress.advance(task, n))
    if as_json:
        print(json.dumps(report.__dict__, ensure_ascii=False))
        return
    if report.run_id is None:
        console.print(f"nothing to do: every utterance already analysed by {det.version}")
        return
    console.print(f"run {report.run_id}: {report.analysed} utterances analysed by {det.version}, "
                  f"{report.findings} findings; {report.skipped} boilerplate skipped, "
                  f"{report.unsupported} unsupported language, {report.empty} empty, "
                  f"{report.truncated} truncated")
    rows = store.conn.execute(
        "SELECT f.code, f.stance, f.score, f.evidence, u.text, u.id FROM findings f"
        " JOIN utterances u ON u.id = f.utterance_id WHERE f.run_id = ?"
        " ORDER BY f.score DESC, f.id LIMIT 15", (report.run_id,)).fetchall()
    if rows:
        table = Table(title="strongest findings of this run")
        for col in ("utt", "code", "stance", "score", "evidence in context"):
            table.add_column(col, overflow="fold")
        for code, stance, score, evidence, text, uid in rows:
            table.add_row(str(uid), code, stance, f"{score:.2f}", _in_context(text, evidence))
        console.print(table)


def _in_context(text: str, evidence: str, width: int = 110) -> str:
    i = text.find(evidence)
    lo = max(0, i - 40) if i >= 0 else 0
    snippet = text[lo:lo + width]
    out = escape(snippet).replace(escape(evidence), f"[bold yellow]{escape(evidence)}[/]", 1)
    return ("…" if lo else "") + out + ("…" if lo + width < len(text) else "")


# --------------------------------------------------------------------------- eval
eval_app = typer.Typer(no_args_is_help=True, help="Measure components against gold data.")
app.add_typer(eval_app, name="eval")


@eval_app.command("indicators")
def eval_indicators(
    gold: Path = typer.Option(..., "--gold", exists=True, dir_okay=False,
                              help='Gold JSONL: {"id","lang","text","labels":[{"code","stance"}]} a line.'),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object (micro, macro, per_code, n).", metavar=" "),
    baseline: bool = typer.Option(True, "--baseline/--no-baseline",
                                  help="Also evaluate the plain keyword baseline, in the same run.", metavar=" "),
    misses: int = typer.Option(10, "--misses", help="How many worst misses to list."),
    fast: bool = typer.Option(False, "--fast", help="Evaluate the rules alone (analyze --fast).", metavar=" "),
    loro: bool = typer.Option(False, "--loro", help="Leave-one-recording-out: retrain the learned model"
                              " without each recording of the gold file, then score it (minutes).", metavar=" "),
):
    """Precision/recall/F1 and stance accuracy of the indicator detector on gold utterances."""
    from .analyse import evaluate as ev
    from .analyse import load_detector

    try:
        if loro:
            with Progress(TextColumn("[bold]LORO {task.description}"), BarColumn(), MofNCompleteColumn(),
                          TimeElapsedColumn(), console=err, transient=True, disable=as_json) as progress:
                n_groups = len({ev.recording_of(r["id"]) for r in ev.load_gold(gold)})
                task = progress.add_task("", total=n_groups)
                result = ev.evaluate_loro(gold, fast=fast, progress=lambda g: progress.update(
                    task, advance=1, description=g))
        else:
            result = ev.evaluate(load_detector(fast=fast), gold)
        base = ev.evaluate(__import__("overheard.analyse.baseline", fromlist=["KeywordBaseline"])
                           .KeywordBaseline(), gold) if baseline else None
    except (ValueError, OSError) as exc:
        raise fail(f"{gold}: {exc}", 2)
    if as_json:
        out = dict(result)
        if base is not None:
            out["baseline"] = {k: base[k] for k in ("micro", "macro", "per_code", "n", "detector")
                               if k in base}
        print(json.dumps(out, ensure_ascii=False))
        return
    ev.render_report(result, title=f"{'LORO: ' if loro else ''}detector {result.get('detector')} on {gold}",
                     console=console, show_misses=misses)
    if loro and "learned_only" in result:
        lo = result["learned_only"]["micro"]
        console.print(f"learned model alone (LORO): micro P {lo['precision']:.3f} R {lo['recall']:.3f}"
                      f" F1 {lo['f1']:.3f}")
    if base is not None:
        ev.render_comparison({"detector": result, "keyword baseline": base}, console=console)


# --------------------------------------------------------------------------- review
review_app = typer.Typer(help="The review queue: machine findings no analyst has decided on, most serious first.",
                         invoke_without_command=True)
app.add_typer(review_app, name="review")


def _queue_filter(store, code, source):
    from .review import QueueFilter
    try:
        _check_filter_values(store, code=code)
        return QueueFilter(code=code, source_id=store.resolve_source(source)["id"] if source else None)
    except StoreError as exc:
        raise fail(str(exc), 2)


@review_app.callback()
def review_queue(
    ctx: typer.Context,
    code: Optional[str] = typer.Option(None, "--code", help="Only findings of this indicator code."),
    source: Optional[str] = typer.Option(None, "--source", help="Only this source (id, SHA-256 prefix or name)."),
    limit: int = typer.Option(10, "--limit", help="How many findings of the queue to show."),
    as_json: bool = typer.Option(False, "--json", help="One JSON object per finding, with its context.", metavar=" "),
):
    """Show the queue with the turns around each finding; `confirm` / `reject` decide."""
    if ctx.invoked_subcommand:
        return
    from .review import item, pending_ids, progress
    store = open_store()
    qf = _queue_filter(store, code, source)
    done_n, total = progress(store, qf)
    items = [item(store, fid) for fid in pending_ids(store, qf, limit=limit)]
    if as_json:
        for it in items:
            print(json.dumps({"finding": it.finding, "utterance": it.utterance, "source": it.source,
                              "before": it.before, "after": it.after}, ensure_ascii=False, default=str))
        err.print(f"{done_n} of {total} reviewed")
        return
    console.print(f"[bold]{done_n} of {total}[/] findings reviewed; {total - done_n} in the queue"
                  + (f" (showing {len(items)})" if items else ""))

    def turn(t, mark=False):
        who = f"{t['speaker']}: " if t.get("speaker") else ""
        at = (f"{t['start_s']:.1f}s" if t.get("start_s") is not None else (t.get("captured_at") or "")[:16])
        line = f"  {'▶' if mark else ' '} #{t['seq']} [dim]{at}[/] {escape(who)}{escape(t['text'][:200])}"
        return f"[bold]{line}[/]" if mark else f"[dim]{line}[/]"

    for it in items:
        f, u, s = it.finding, it.utterance, it.source
        console.print(f"\n[bold]finding {f['id']}[/] {f['code']}/{f['stance']} score {f['score']:.2f} — "
                      f"“{escape(f['evidence'])}” — {escape(s['title'] or s['original_name'])} ({s['kind']})")
        for t in it.before:
            console.print(turn(t))
        console.print(turn(u, mark=True))
        for t in it.after:
            console.print(turn(t))
    if items:
        console.print("\n[dim]decide: overheard review confirm ID… | overheard review reject ID… [--note TEXT][/]")


def _decide(decision: str, ids: list[int], everything: bool, code, source, note: str) -> None:
    from .review import decide, pending_ids
    from .store.audit import default_actor
    from .web.actions import ActionError, NotFound
    store = open_store()
    if everything:
        if ids:
            raise fail("give finding ids or --all, not both", 2)
        ids = pending_ids(store, _queue_filter(store, code, source), limit=1_000_000)
    if not ids:
        raise fail("no findings to decide (give ids, or --all with --code/--source)", 2)
    try:
        results = decide(store, ids, decision, actor=default_actor(), note=note)
    except (ActionError, NotFound) as exc:
        raise fail(str(exc), 2)
    err.print(f"{len(results)} finding(s) {decision} (one audit row each)")


@review_app.command("confirm")
def review_confirm(
    ids: Optional[List[int]] = typer.Argument(None, help="Finding ids."),
    everything: bool = typer.Option(False, "--all", help="Every finding in the queue under --code/--source.", metavar=" "),
    code: Optional[str] = typer.Option(None, "--code", help="With --all: only this code."),
    source: Optional[str] = typer.Option(None, "--source", help="With --all: only this source."),
    note: str = typer.Option("", "--note", help="A note kept with each decision."),
):
    """Confirm findings (an analyst checked them against the transcript or audio)."""
    _decide("confirmed", list(ids or []), everything, code, source, note)


@review_app.command("reject")
def review_reject(
    ids: Optional[List[int]] = typer.Argument(None, help="Finding ids."),
    everything: bool = typer.Option(False, "--all", help="Every finding in the queue under --code/--source.", metavar=" "),
    code: Optional[str] = typer.Option(None, "--code", help="With --all: only this code."),
    source: Optional[str] = typer.Option(None, "--source", help="With --all: only this source."),
    note: str = typer.Option("", "--note", help="A note kept with each decision."),
):
    """Reject findings (the detector was wrong); they leave every rate."""
    _decide("rejected", list(ids or []), everything, code, source, note)


# --------------------------------------------------------------------------- train
train_app = typer.Typer(no_args_is_help=True, help="Rebuild trained components from their shipped corpora.")
app.add_typer(train_app, name="train")


@train_app.command("indicators")
def train_indicators(
    out: Path = typer.Option(None, "--out", help="Where to write the model (.npz); default: the shipped"
                             " model file inside the package."),
    corpus: Path = typer.Option(None, "--corpus", exists=True, file_okay=False,
                                help="Corpus folder with MANIFEST.json (default: the shipped corpus)."),
):
    """Train the learned indicator model (scikit-learn, deterministic) from the annotated corpus."""
    from .analyse import train as tr

    try:
        rows = tr.load_corpus(corpus or tr.CORPUS_DIR)
    except (ValueError, OSError) as exc:
        raise fail(str(exc), 2)
    target = out or tr.MODEL_PATH
    if not target.parent.exists():
        raise fail(f"{target}: folder {target.parent} does not exist", 2)
    with Progress(TextColumn("[bold]train {task.description}"), BarColumn(), MofNCompleteColumn(),
                  TimeElapsedColumn(), console=err, transient=True) as progress:
        task = progress.add_task("", total=len(tr.CODES))
        model = tr.train(rows, progress=lambda code: progress.update(task, advance=1, description=code))
    model.save(target)
    pos = ", ".join(f"{c} {n}" for c, n in model.meta["positives"].items())
    console.print(f"{target}: {model.version} from {len(rows)} utterances ({pos})")


# --------------------------------------------------------------------------- summary
@app.command()
def summary(
    by: str = typer.Option("week", "--by", help="Time bucket: day|week|month|all."),
    group: str = typer.Option("source", "--group", help="Group by source|channel|kind|all."),
    since: Optional[str] = typer.Option(None, help="From this time (ISO 8601)."),
    until: Optional[str] = typer.Option(None, help="Up to this time (ISO 8601)."),
    detector: Optional[str] = typer.Option(None, "--detector", help="Detector version (default: the latest run's)."),
    position: str = typer.Option("all", "--position", help="Count findings by speaker position: own (the speaker's "
                                 "own words) | reported (a speaker reporting others) | narration | all."),
    as_json: bool = typer.Option(False, "--json", help="One JSON object per group and bucket.", metavar=" "),
):
    """Morale indicators per 100 utterances, per group and time bucket, with Wilson 95% intervals."""
    from .analyse.apply import latest_detector_version
    from .ingest.readers.base import IngestError, parse_time
    from .report.summary import CODES, exclusions, morale_summary

    store = open_store()
    version = detector or latest_detector_version(store)
    if version is None:
        raise fail("no analysis in this store yet: run `overheard analyze` first")
    positions = {"all": None, "own": ("self",), "reported": ("reported",), "narration": ("narration",)}
    if position not in positions:
        raise fail(f"--position {position!r}: expected one of {', '.join(positions)}", 2)
    try:
        cells = morale_summary(store, version, by=by, group=group,
                               since=parse_time(since, what="--since") if since else None,
                               until=_until(until) if until else None, positions=positions[position])
    except (ValueError, IngestError) as exc:
        raise fail(str(exc), 2)
    left_out = exclusions(store, version)
    if as_json:
        for cell in cells:
            print(json.dumps({"detector_version": version, "position": position, **cell.to_dict()},
                             ensure_ascii=False))
        err.print(json.dumps({"denominators": left_out}))
        return
    if not cells:
        console.print("no analysed utterances in this range")
        return
    who = {"all": "every speaker position", "own": "speakers' own words only", "reported": "reported speech only",
           "narration": "narration only"}[position]
    table = Table(title=f"morale indicators per 100 utterances [Wilson 95%], detector {version}; findings: {who}",
                  caption="resolve stands beside the low-morale codes, never netted against them")
    table.add_column(group, overflow="fold")
    table.add_column(by)
    table.add_column("n", justify="right")
    table.add_column("low-morale indicators", overflow="fold")
    table.add_column("resolve", style="green")

    def fmt(code, r):
        lo, hi = r.ci95
        return f"{code} {r.per100:.1f} [dim][{lo:.1f}–{hi:.1f}][/]"

    for cell in cells:
        low = [fmt(c, cell.rates[c]) for c in CODES if c != "resolve" and cell.rates[c].count]
        res = cell.rates["resolve"]
        table.add_row(escape(cell.group), cell.bucket, str(cell.n), "\n".join(low) or "[dim]none[/]",
                      fmt("", res).strip() if res.count else "[dim]0[/]")
    console.print(table)
    e = left_out
    console.print(f"n = utterances the detector read ({e['analysed']:,} in all). Left out of every n: "
                  f"{e['boilerplate']:,} site boilerplate, {e['unsupported_language']:,} in a language the detector"
                  f" does not read, {e['empty']:,} empty, {e['not_analysed']:,} not yet analysed by this detector,"
                  f" {e['retracted']:,} of retracted sources."
                  + (f" {e['undated']:,} analysed utterances have no date: they are counted in the 'undated' bucket,"
                     " in no trend." if e["undated"] and by != "all" else ""))


# --------------------------------------------------------------------------- process
@app.command()
def process(
    model: Optional[str] = typer.Option(None, help="faster-whisper model name or path (default: embedded Whisper base)."),
    lang: Optional[str] = typer.Option(None, help="Fix the language (e.g. ru) instead of learning each channel's language."),
    gloss: bool = typer.Option(True, "--gloss/--no-gloss", help="Also produce the English gloss of each transmission.", metavar=" "),
    gloss_method: str = typer.Option("llm", "--gloss-method", help="llm: the translation stage on the transcript"
                                     " (default, measured better); whisper: Whisper's translate task on the audio."),
    source: Optional[List[str]] = typer.Option(None, help="Only these sources (id or SHA-256 prefix); repeatable."),
    analyze_after: bool = typer.Option(True, "--analyze/--no-analyze", help="Run indicator analysis on the new text.", metavar=" "),
    fast: bool = typer.Option(False, "--fast", help="Faster, less accurate decoding (15 s encoder context); figures in docs/audio.md.", metavar=" "),
    ray: Optional[str] = typer.Option(None, "--ray", metavar="ADDRESS", help="Transcribe the audio sources on a Ray"
                                      " cluster: auto (the cluster on this machine), HOST:PORT (a head node),"
                                      " ray://HOST:PORT (Ray Client) or local (start one here); see docs/scale.md."),
    as_json: bool = typer.Option(False, "--json", help="Print the report as JSON.", metavar=" "),
):
    """Run every pending stage (segment → transcribe → gloss → cues → analyse); resumable."""
    from .process import pending_sources, process_store
    from .scale import executor_for

    store = open_store()
    try:
        ids = [store.resolve_source(x)["id"] for x in source] if source else None
    except StoreError as exc:
        raise fail(str(exc), 2)
    todo = pending_sources(store, ids)
    total = sum((r["duration_s"] or 0) - (r["done_until_s"] or 0) for r in todo)
    started = __import__("time").perf_counter()
    with Progress(TextColumn("[bold]process"), BarColumn(),
                  TextColumn("{task.completed:.1f}/{task.total:.1f} audio min"),
                  TextColumn("{task.fields[rtf]}"), TextColumn("{task.fields[name]}"),
                  TimeElapsedColumn(), console=err, transient=True, disable=as_json or not todo) as progress:
        task = progress.add_task("process", total=max(total, 1) / 60, rtf="", name="")
        base = {"done": 0.0, "offset": 0.0}

        def on_source(row):
            base["offset"] += base["done"]
            base["done"] = 0.0
            progress.update(task, name=row["original_name"])

        def on_progress(_sid, done_s, _total):
            base["done"] = done_s
            audio_min = (base["offset"] + done_s) / 60
            wall = __import__("time").perf_counter() - started
            progress.update(task, completed=audio_min, rtf=f"{audio_min * 60 / wall:.0f}× real time" if wall else "")

        if gloss_method not in ("llm", "whisper"):
            raise fail(f"--gloss-method {gloss_method!r}: expected llm or whisper", 2)
        executor = None
        if ray is not None:
            try:
                executor = executor_for(ray)
            except RuntimeError as exc:
                raise fail(str(exc), 2)
            d = executor.describe()
            err.print(f"Ray cluster at {ray}: {d['nodes']} node(s), {d['cpus']:.0f} CPU(s); evidence by {d['evidence']}")
        nodes: set[str] = set()

        def on_result(row, result):
            # a cluster reports per source: the whole source's audio is done when its job is
            nodes.add(result.node)
            base["offset"] += (row["duration_s"] or 0.0) - (row["done_until_s"] or 0.0)
            audio_min = base["offset"] / 60
            wall = __import__("time").perf_counter() - started
            progress.update(task, completed=audio_min, name=f"{len(nodes)} node(s) in use",
                            rtf=f"{audio_min * 60 / wall:.0f}× real time" if wall else "")

        report = process_store(store, model=model, lang=lang, gloss=gloss, gloss_method=gloss_method, source_ids=ids,
                               analyze=analyze_after, on_progress=on_progress,
                               on_source=on_source if executor is None else None,
                               preset="fast" if fast else "accurate", executor=executor, on_result=on_result)
    if as_json:
        print(json.dumps({**report.__dict__, "realtime_factor": report.realtime_factor}, ensure_ascii=False))
    else:
        for line in report.failed:
            err.print(f"[red]failed[/] {escape(line)}")
        if report.sources:
            console.print(f"{report.sources} audio source(s): {report.transmissions} transmissions "
                          f"({report.hallucinations} marked as Whisper hallucination) from "
                          f"{report.audio_s / 60:.1f} audio min in {report.wall_s:.0f} s "
                          f"({report.realtime_factor or 0:.0f}× real time)")
        else:
            console.print("no audio waiting to be processed")
        t = report.translate
        if t and t.get("error"):
            err.print(f"[yellow]gloss skipped:[/] {escape(t['error'])} (run `overheard translate` later)")
        elif t and t.get("translated"):
            console.print(f"translation run {t['run_id']}: {t['translated']} glosses ({t['flagged']} flagged by the checks)")
        if report.analyze and report.analyze.get("run_id"):
            a = report.analyze
            console.print(f"analysis run {a['run_id']}: {a['analysed']} utterances, {a['findings']} findings")
    if report.failed:
        raise typer.Exit(1)


@app.command()
def translate(
    source: Optional[List[str]] = typer.Option(None, help="Only these sources (id, SHA-256 prefix or file name); repeatable."),
    only_findings: bool = typer.Option(False, "--only-findings", help="Only utterances with findings (no neighbouring turns).", metavar=" "),
    all_lines: bool = typer.Option(False, "--all", help="Every line that needs a gloss (findings and their context first).", metavar=" "),
    model: Optional[Path] = typer.Option(None, "--model", help="A GGUF model file instead of the embedded one."),
    endpoint: Optional[str] = typer.Option(None, "--endpoint", help="An OpenAI-compatible server (e.g. http://host:8080/v1);"
                                           " key from OVERHEARD_ENDPOINT_KEY."),
    endpoint_model: str = typer.Option("default", "--endpoint-model", help="Model name to ask the endpoint for."),
    glossary: Optional[List[Path]] = typer.Option(None, "--glossary", help="Extra glossary file(s), same format as the"
                                                  " shipped one (ru<TAB>en<TAB>kind<TAB>note<TAB>also); repeatable."),
    plain: bool = typer.Option(False, "--plain", help="The model prompted plainly: no glossary, no checks (for comparison).", metavar=" "),
    limit: Optional[int] = typer.Option(None, "--limit", min=1, help="Stop after this many lines (resume later)."),
    as_json: bool = typer.Option(False, "--json", help="Print the run's counts as JSON.", metavar=" "),
):
    """English glosses for Russian/Ukrainian lines that need one (new, stale or made by another translator)."""
    from .translate import BackendError, Glossary, GlossaryError, Translator, open_backend, translate_store
    from .audio.model import ModelAssemblyError

    if only_findings and all_lines:
        raise fail("--only-findings and --all exclude each other", 2)
    store = open_store()
    try:
        ids = [store.resolve_source(x)["id"] for x in source] if source else None
        backend = open_backend(str(model) if model else None, endpoint, endpoint_model)
        translator = Translator(backend, plain=plain, glossary=None if plain else Glossary.load(glossary or []))
    except (StoreError, BackendError, GlossaryError, ModelAssemblyError) as exc:
        raise fail(str(exc), 2)
    scope = "findings" if only_findings else "all" if all_lines else "context"
    with Progress(TextColumn("[bold]translate"), BarColumn(), MofNCompleteColumn(), TextColumn("{task.fields[pace]}"),
                  TimeElapsedColumn(), console=err, transient=True, disable=as_json) as progress:
        task = progress.add_task("translate", total=1, pace="")

        def on_plan(n, estimate_s):
            progress.update(task, total=max(n, 1))
            if n and not as_json:
                err.print(f"{n} line(s) to translate with {translator.version}: about "
                          f"{_duration(estimate_s)} at this store's pace")

        def on_line(_uid, gloss):
            progress.update(task, advance=1, pace=f"{gloss.seconds:.1f} s/line")

        try:
            report = translate_store(store, translator, scope=scope, source_ids=ids, limit=limit,
                                     on_plan=on_plan, on_line=on_line)
        except BackendError as exc:
            raise fail(str(exc))
    if as_json:
        print(json.dumps(report.to_dict(), ensure_ascii=False))
        return
    if not report.candidates:
        console.print(f"nothing to translate: every line in scope ({scope}) has a current gloss from {translator.version}")
        return
    d = report.to_dict()
    console.print(f"run {report.run_id}: {report.translated} line(s) glossed by {translator.version} in "
                  f"{_duration(report.seconds)} ({d['median_s_per_line']} s/line median); {report.flagged} flagged by "
                  f"the meaning checks ({report.retried} retried), {report.stale} re-made after a transcript correction")


def _duration(seconds: float) -> str:
    return f"{seconds:.0f} s" if seconds < 120 else f"{seconds / 60:.0f} min"


@app.command()
def gloss(
    utterance: int = typer.Argument(..., help="Utterance id."),
    set_text: Optional[str] = typer.Option(None, "--set", help="Your English for this line (an analyst translation)."),
    reason: str = typer.Option("", "--reason", help="Why (required with --set)."),
    as_json: bool = typer.Option(False, "--json", help="Print the gloss history as JSON.", metavar=" "),
):
    """Show a line's glosses (newest first) or set an analyst translation (versioned, audited)."""
    from .store.audit import default_actor
    from .translate import correct_gloss

    store = open_store()
    if set_text is not None:
        try:
            correct_gloss(store, utterance, set_text, actor=default_actor(), reason=reason)
        except (ValueError, LookupError) as exc:
            raise fail(str(exc), 2)
    rows = [dict(r) for r in store.conn.execute(
        "SELECT id, text, label, method, translator_version, flags, terms, seconds, actor, at, reason, run_id"
        " FROM glosses WHERE utterance_id = ? ORDER BY id DESC", (utterance,))]
    if as_json:
        print(json.dumps(rows, ensure_ascii=False))
        return
    u = store.conn.execute("SELECT text FROM utterances WHERE id = ?", (utterance,)).fetchone()
    if u is None:
        raise fail(f"utterance {utterance}: no such utterance", 2)
    console.print(f"[bold]{escape(u['text'])}[/]")
    for r in rows:
        flags = json.loads(r["flags"] or "[]")
        console.print(f"  #{r['id']} {escape(r['text'])}\n    [dim]{escape(r['label'])}; {escape(r['translator_version'] or r['method'])}"
                      + (f"; [red]check: {escape(', '.join(flags))}[/]" if flags else "") + "[/]")
        for t in json.loads(r["terms"] or "[]"):
            console.print(f"    [dim]{escape(t['ru'])} = {escape(t['en'])} ({t['kind']}){': ' + escape(t['note']) if t['note'] else ''}[/]")


@app.command()
def transcript(
    source: str = typer.Argument(..., help="Source id or SHA-256 prefix."),
    as_json: bool = typer.Option(False, "--json", help="One JSON object per transmission.", metavar=" "),
):
    """A source's transmissions: times, text, the English gloss (machine output) and findings."""
    from .outputs.export import iter_utterances

    store = open_store()
    try:
        src = store.resolve_source(source)
    except StoreError as exc:
        raise fail(str(exc), 2)
    rows = list(iter_utterances(store, source_id=src["id"]))
    if as_json:
        for row in rows:
            print(json.dumps(row, ensure_ascii=False))
        return
    title = (f"{src['original_name']}  sha256 {src['sha256'][:16]}…  {src['kind']}"
             + (f"  {src['frequency_hz'] / 1e6:.4f} MHz" if src["frequency_hz"] else "")
             + (f"  from {src['captured_at']}" if src["captured_at"] else ""))
    table = Table(title=escape(title), caption="gloss = machine translation (see `overheard gloss ID`), not a human translation, unless marked analyst")
    for col in ("#", "time", "lang", "text", "gloss (machine)", "findings"):
        table.add_column(col, overflow="fold")
    for row in rows:
        when = (f"{row['start_s']:7.1f}–{row['end_s']:.1f}s" if row["start_s"] is not None
                else (f"line {row['line_no']}" if row["line_no"] else ""))
        text = escape(row["text"]) if row["text"] else "[dim](no credible speech)[/]"
        finds = ", ".join(f"{f['code']}/{f['stance']}: “{escape(f['evidence'])}”" for f in row["findings"])
        table.add_row(str(row["seq"]), when, row["lang"], text, escape(row.get("gloss_en") or ""), finds)
    console.print(table)


@app.command()
def clip(
    utterance: int = typer.Argument(..., help="Utterance (transmission) id."),
    pad: float = typer.Option(0.0, help="Seconds of context on each side."),
    out: Optional[Path] = typer.Option(None, "--out", help="Also copy the clip here."),
):
    """Cut one transmission's audio out of its original (a derived file with lineage)."""
    from .outputs.clips import ClipError, clip_for

    check_out(out)
    store = open_store()
    try:
        path = clip_for(store, utterance, pad_s=pad)
    except ClipError as exc:
        raise fail(str(exc), 2)
    if out:
        out.write_bytes(path.read_bytes())
        path = out
    console.print(str(path))


# --------------------------------------------------------------------------- report
@app.command()
def report(
    out: Path = typer.Option(Path("report.html"), "--out", help="HTML file to write (self-contained, opens offline)."),
    pdf: Optional[Path] = typer.Option(None, "--pdf", help="Also print a PDF (needs Chromium)."),
    since: Optional[str] = typer.Option(None, help="From this time (ISO 8601)."),
    until: Optional[str] = typer.Option(None, help="Up to this time (ISO 8601; a bare date includes that day)."),
    by: str = typer.Option("week", "--by", help="Time bucket: day|week|month."),
    source: Optional[List[str]] = typer.Option(None, help="Only these sources (id, SHA-256 prefix or name); repeatable."),
    channel: Optional[List[str]] = typer.Option(None, help="Only these channels; repeatable."),
    reviewed_only: bool = typer.Option(False, "--reviewed-only", help="Count and quote only analyst-confirmed findings.", metavar=" "),
):
    """Write the morale report: corpus, trends with Wilson bands, the evidence per code, methods."""
    from .ingest.readers.base import IngestError, parse_time
    from .report.data import ReportOptions
    from .report.html import ReportError, write_report

    if by not in ("day", "week", "month"):
        raise fail(f"--by {by!r}: expected day, week or month", 2)
    check_out(out)
    check_out(pdf)
    store = open_store()
    try:
        opts = ReportOptions(since=parse_time(since, what="--since") if since else None,
                             until=_until(until) if until else None, by=by,
                             source_ids=[store.resolve_source(x)["id"] for x in source or []],
                             channels=list(channel or []), reviewed_only=reviewed_only)
    except (StoreError, IngestError) as exc:
        raise fail(str(exc), 2)
    if store.counts()["sources"] == 0:
        raise fail(f"{store.path}: the store is empty; ingest something first")
    try:
        data = write_report(store, opts, out, pdf)
    except ReportError as exc:
        raise fail(str(exc))
    note = " (nothing in this selection: the report says so)" if data.empty else ""
    console.print(f"report: {out.resolve()}{note}")
    if pdf:
        console.print(f"pdf:    {pdf.resolve()}")



# --------------------------------------------------------------------------- web workbench
from .web.cli import register as register_web  # noqa: E402  (imports typer only; FastAPI loads on use)

register_web(app)


def main():
    app()


if __name__ == "__main__":
    main()
