"""What leaves the store: export rows (JSONL/CSV), subtitles (WebVTT/SRT), SigMF annotations,
evidence packages and audio clips. Each reads the store and never changes evidence."""
