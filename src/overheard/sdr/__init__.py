"""Raw SDR captures -> channels -> NFM/AM audio -> transmissions.

    from overheard.sdr import iter_capture_transmissions, transcribe_capture, write_annotations

    txs = list(transcribe_capture("rec.sigmf-meta", lang="ru"))
    write_annotations("rec.sigmf-meta", txs)     # -> rec.overheard.sigmf-meta

Readers (:mod:`.capture`): SigMF (``.sigmf-meta``/``.sigmf-data``, ``.sigmf``
archives), raw ``.cu8``/``.cs8``/``.cs16``/``.cf32``, 2-channel I/Q WAV; all
streamed from a memory map.  Channeliser (:mod:`.channelize`): one shared FFT
per frame for carrier detection on every channel of a 12.5/25 kHz raster and
fast-convolution extraction of the active ones.  Demodulators
(:mod:`.demod`): NFM discriminator + de-emphasis, AM envelope; 16 kHz audio
for :func:`overheard.audio.segment.segment_blocks`.

Only numpy, scipy and ``sigmf`` are needed (the audio segmenter and Whisper
come from :mod:`overheard.audio`).
"""

from .annotate import build_annotated_meta, write_annotations
from .capture import Capture, CaptureError, CaptureSegment, open_capture
from .pipeline import (
    CaptureTransmission,
    ChannelActivity,
    ChannelAudio,
    SdrOptions,
    iter_capture_transmissions,
    iter_channel_audio,
    iter_channels,
    iter_channels_audio,
    scan_capture,
    transcribe_capture,
)

__all__ = [
    "Capture",
    "CaptureError",
    "CaptureSegment",
    "CaptureTransmission",
    "ChannelActivity",
    "ChannelAudio",
    "SdrOptions",
    "build_annotated_meta",
    "iter_capture_transmissions",
    "iter_channel_audio",
    "iter_channels",
    "iter_channels_audio",
    "open_capture",
    "scan_capture",
    "transcribe_capture",
    "write_annotations",
]
