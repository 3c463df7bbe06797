"""Summaries and reports built from the store."""
