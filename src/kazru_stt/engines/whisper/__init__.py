"""The local engine: Whisper through faster-whisper (CTranslate2), offline.

One model per process (loading takes a second and ~150 MB); `get_engine` caches it
(cache.py). The model and its decoding (model.py, decoding.py), our result types
(results.py), and where we reach into faster-whisper (encoder_reuse.py).
Decoding options are chosen against Whisper's known failure modes: no conditioning on
previous text (a loop cannot feed itself), a short temperature ladder, and the
compression-ratio / log-prob / no-speech gates; the pipeline adds its own filters.
"""

from kazru_stt.engines.whisper.cache import get_engine, resolve_model, unload_idle
from kazru_stt.engines.whisper.decoding import (
    GREEDY_ONLY,
    TEMPERATURES,
    EngineConfig,
    detector_frames,
    resolved_compute_type,
)
from kazru_stt.engines.whisper.encoder_reuse import EncoderReuse
from kazru_stt.engines.whisper.model import WhisperEngine
from kazru_stt.engines.whisper.results import RawSegment, RawWord

__all__ = [
    "GREEDY_ONLY",
    "TEMPERATURES",
    "EncoderReuse",
    "EngineConfig",
    "RawSegment",
    "RawWord",
    "WhisperEngine",
    "detector_frames",
    "get_engine",
    "resolve_model",
    "resolved_compute_type",
    "unload_idle",
]
