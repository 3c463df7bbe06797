"""Audio library: decode -> segment into transmissions -> transcribe ->
English gloss -> voice cues.  Pure functions with dataclass results.

Heavy dependencies (PyAV, faster-whisper, scipy) are imported by the
submodules, so ``import overheard.audio`` stays cheap.
"""

from .decode import SAMPLE_RATE, AudioBlock, AudioDecodeError, AudioInfo, iter_blocks, probe, read_range

__all__ = [
    "SAMPLE_RATE",
    "AudioBlock",
    "AudioDecodeError",
    "AudioInfo",
    "iter_blocks",
    "probe",
    "read_range",
    "process_audio",
    "ProcessedTransmission",
]


def __getattr__(name):  # lazy: keep faster-whisper out of plain imports
    if name in ("process_audio", "ProcessedTransmission", "PipelineOptions"):
        from . import pipeline

        return getattr(pipeline, name)
    raise AttributeError(name)
