"""overheard: searchable transcripts and evidence-backed morale findings from open
military voice traffic and soldiers' messages."""

__version__ = "0.1.0"

from .store import Store, StoreError  # noqa: E402

__all__ = ["Store", "StoreError", "__version__"]
