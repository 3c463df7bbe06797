"""Plain text: one utterance a paragraph (paragraphs separated by blank lines)."""

from __future__ import annotations

from .base import IngestError, ParsedSource, ParsedUtterance

NAME, VERSION = "plain-text", "1"


def read(text: str, *, kind: str | None = None) -> ParsedSource:
    utterances, block, first = [], [], None
    for n, line in enumerate(text.split("\n") + [""], start=1):
        if line.strip():
            block.append(line.strip())
            first = first or n
        elif block:
            utterances.append(ParsedUtterance(text=" ".join(block), line_no=first))
            block, first = [], None
    if not utterances:
        raise IngestError("no text")
    return ParsedSource(reader=NAME, reader_version=VERSION, media_type="text/plain",
                        kind=kind or "message", utterances=utterances)
