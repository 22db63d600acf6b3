"""Media: probe and decode any container PyAV reads to 16 kHz mono float32."""

from kazru_stt.media.decode import (
    SAMPLE_RATE,
    MediaInfo,
    check_duration,
    iter_audio,
    load_audio,
    media_name,
    probe,
)

__all__ = [
    "SAMPLE_RATE",
    "MediaInfo",
    "check_duration",
    "iter_audio",
    "load_audio",
    "media_name",
    "probe",
]
