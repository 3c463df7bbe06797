"""Saved web pages (``.html``) → the article's sentences, through the same quote and speaker
logic as news records.

The article text is taken by trafilatura (navigation, menus, footers, "read also" boxes and
cookie notices left out; precision favoured over recall), with the page's title, date and URL
from its metadata (``og:``/``article:`` tags, JSON-LD, ``<link rel=canonical>``). Sentences are
split at ., ! or ? outside quotation marks, so a quote stays one utterance.

What a saved page cannot say: whether it is the page as first published (sites edit articles),
and a date when the page carries none (then there is none; give ``--captured-at``).
"""

from __future__ import annotations

import re
from urllib.parse import urlparse

from .base import IngestError, ParsedSource
from .news import article_utterance

NAME, VERSION = "html-article", "1"
SUFFIXES = (".html", ".htm", ".xhtml")
MIN_WORDS = 8


def sentences(paragraph: str) -> list[str]:
    """Split at . ! ? … followed by a space and a capital/quote/dash, never inside «…» or “…”."""
    out, start, depth = [], 0, 0
    s = paragraph
    for i, ch in enumerate(s):
        if ch in "«“„":
            depth += 1
        elif ch in "»”" and depth:
            depth -= 1
        elif ch in ".!?…" and depth == 0:
            rest = s[i + 1:i + 3]
            if rest[:1] == " " and re.match(r"[A-ZА-ЯЁІЇЄҐ«“„\"—–-]", rest[1:2] or ""):
                out.append(s[start:i + 1].strip())
                start = i + 1
    out.append(s[start:].strip())
    return [x for x in out if x]


def read(text: str, *, kind: str | None = None) -> ParsedSource:
    import trafilatura

    doc = trafilatura.bare_extraction(text, with_metadata=True, favor_precision=True, include_comments=False,
                                      include_tables=False)
    body = (getattr(doc, "text", None) or "") if doc is not None else ""
    words = len(body.split())
    if words < MIN_WORDS:        # a menu or a cookie notice is not an article
        raise IngestError(f"HTML page: no article text found ({words} words left after removing"
                          " navigation and boilerplate)")
    title = getattr(doc, "title", None)
    date = getattr(doc, "date", None)
    url = getattr(doc, "url", None)
    published_at = None
    if date and re.fullmatch(r"\d{4}-\d{2}-\d{2}", date):
        published_at = f"{date}T00:00:00Z"
    utterances, line_no = [], 0
    for paragraph in body.split("\n"):
        line_no += 1
        paragraph = paragraph.strip()
        if not paragraph or (title and paragraph == title.strip() and not utterances):
            continue          # the headline repeated as the first paragraph
        for sentence in sentences(paragraph):
            utterances.append(article_utterance(sentence, line_no, published_at))
    if not utterances:
        raise IngestError("HTML page: no article text found (only its headline)")
    meta = {k: v for k, v in (("author", getattr(doc, "author", None)), ("site", getattr(doc, "sitename", None)
                                                                         or getattr(doc, "hostname", None)),
                              ("extractor", f"trafilatura {trafilatura.__version__}"),
                              ("paragraph_lines", "line_no counts paragraphs of the extracted text"))
            if v}
    if url:
        meta["site"] = meta.get("site") or urlparse(url).netloc
    return ParsedSource(reader=NAME, reader_version=VERSION, media_type="text/html", kind=kind or "article",
                        utterances=utterances, title=title, url=url if url and url.startswith("http") else None,
                        published_at=published_at, meta=meta)
