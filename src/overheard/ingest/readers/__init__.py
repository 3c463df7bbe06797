"""Readers turn one file's bytes into a ParsedSource; they never touch the store."""

from .base import KINDS, IngestError, ParsedSource, ParsedUtterance, decode_utf8, parse_time

__all__ = ["KINDS", "IngestError", "ParsedSource", "ParsedUtterance", "decode_utf8", "parse_time"]
