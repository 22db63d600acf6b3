"""The names of the built-in recognition engines (`engine` in the API, the CLI, job rows and
transcripts). More can be registered (services.engines), so an engine's name is a `str`."""

from __future__ import annotations

from enum import StrEnum


class EngineName(StrEnum):
    LOCAL = "local"  # Whisper through our pipeline, offline (the default)
    YANDEX = "yandex"  # Yandex SpeechKit, in the cloud
