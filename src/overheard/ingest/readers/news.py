"""News records in the seed layout: title / YYYYMMDD / URL / one sentence a line."""

from __future__ import annotations

import re
from datetime import date
from urllib.parse import urlparse

from ..boilerplate import is_boilerplate
from ..quotes import find_quote
from .base import IngestError, ParsedSource, ParsedUtterance

NAME, VERSION = "news-record", "1"
URL_RE = re.compile(r"^https?://\S+$")
DATEISH = re.compile(r"^[\d\-./ ]{6,12}$")


def looks_like(lines: list[str]) -> bool:
    """A news record if line 2 or 3 is shaped like its date or URL lines."""
    head = [ln.strip() for ln in lines[:3]] + ["", "", ""]
    return bool(DATEISH.match(head[1]) or URL_RE.match(head[1]) or URL_RE.match(head[2]))


def article_utterance(sentence: str, line_no: int, published_at: str | None) -> ParsedUtterance:
    """One sentence of an article: site boilerplate marked, a quote's span and speaker found."""
    utt = ParsedUtterance(text=sentence, line_no=line_no, captured_at=published_at,
                          time_basis="published" if published_at else None,
                          is_boilerplate=is_boilerplate(sentence))
    quote = None if utt.is_boilerplate else find_quote(sentence)
    if quote:
        utt.quote_start, utt.quote_end = quote.start, quote.end
        utt.speaker, utt.speaker_role = quote.speaker, quote.speaker_role
    return utt


def read(text: str, *, kind: str | None = None) -> ParsedSource:
    lines = text.split("\n")
    if len(lines) < 3:
        raise IngestError("news record: needs title, date and URL lines")
    title, date_line, url_line = (ln.strip() for ln in lines[:3])
    if not title:
        raise IngestError("news record: line 1 (title) is empty")
    if URL_RE.match(date_line):
        raise IngestError("news record: line 2 should be the date YYYYMMDD, found a URL (date line missing?)")
    if not re.fullmatch(r"\d{8}", date_line):
        raise IngestError(f"news record: line 2 {date_line!r} is not a date YYYYMMDD")
    try:
        published = date(int(date_line[:4]), int(date_line[4:6]), int(date_line[6:]))
    except ValueError:
        raise IngestError(f"news record: line 2 {date_line!r} is not a real calendar date") from None
    parsed_url = urlparse(url_line)
    if not URL_RE.match(url_line) or not parsed_url.netloc:
        raise IngestError(f"news record: line 3 {url_line[:60]!r} is not an http(s) URL")

    published_at = published.isoformat() + "T00:00:00Z"
    utterances = []
    for n, raw in enumerate(lines[3:], start=4):
        sentence = raw.strip()
        if not sentence:
            continue
        utterances.append(article_utterance(sentence, n, published_at))
    if not utterances:
        raise IngestError("news record: no sentences after the URL line")
    return ParsedSource(reader=NAME, reader_version=VERSION, media_type="text/x-news-record",
                        kind=kind or "article", utterances=utterances, title=title,
                        url=url_line, published_at=published_at,
                        meta={"site": parsed_url.netloc})
