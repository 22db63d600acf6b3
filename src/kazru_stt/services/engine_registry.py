"""Recognition engines by name: the one place an engine is added.

An engine transcribes a whole file (`FileEngine`). Its entry (`EngineSpec`) says what it can
do, whether the settings allow it, how to build it for a job, and which failures of it
another engine may cover. The API, the CLI, the web form, the settings check and the
dispatch all ask here; `register` adds one (the built-in ones at the end of this module).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

from kazru_stt.domain.errors import InvalidOptionError
from kazru_stt.services import model_registry

if TYPE_CHECKING:
    from kazru_stt.config import Settings
    from kazru_stt.domain.transcript import Transcript
    from kazru_stt.pipeline.options import TranscribeOptions

LOCAL = "local"
YANDEX = "yandex"

# What an engine can do (EngineSpec.capabilities).
WORD_TIMES = "word_times"
DIARIZATION = "diarization"
CHANNELS = "channels"  # one speaker per channel of a stereo call
OFFLINE = "offline"


class FileEngine(Protocol):
    name: str
    model_name: str

    def transcribe_file(
        self,
        path,
        options: TranscribeOptions,
        progress: Callable[[float], None] | None = None,
    ) -> Transcript: ...


@dataclass(frozen=True)
class EngineSpec:
    name: str
    label: str  # for people (the web form)
    capabilities: frozenset[str]
    build: Callable[[Settings, TranscribeOptions], FileEngine]
    configured: Callable[[Settings], bool] = lambda _settings: True
    missing: str = ""  # what to set when not configured
    # Failures another engine may cover (with a warning in the transcript), when allowed.
    fallback_to: str | None = None
    fallback_on: tuple[type[Exception], ...] = ()
    never_fall_back: frozenset[str] = field(default_factory=frozenset)  # error codes
    fallback_allowed: Callable[[Settings], bool] = lambda _settings: False


_ENGINES: dict[str, EngineSpec] = {}


def register(spec: EngineSpec) -> EngineSpec:
    _ENGINES[spec.name] = spec
    return spec


def unregister(name: str) -> None:
    _ENGINES.pop(name, None)


def names() -> list[str]:
    return list(_ENGINES)


def get(name: str) -> EngineSpec:
    if name not in _ENGINES:
        raise InvalidOptionError(
            f"engine {name!r} is not available; engines: {', '.join(_ENGINES)}",
            code="invalid_option",
        )
    return _ENGINES[name]


def usable(name: str, settings: Settings) -> EngineSpec:
    """The engine, if these settings allow it (else `engine_unavailable`)."""
    spec = get(name)
    if not spec.configured(settings):
        raise InvalidOptionError(
            f"the {name} engine is not configured ({spec.missing})", code="engine_unavailable"
        )
    return spec


def configured(settings: Settings) -> list[EngineSpec]:
    return [s for s in _ENGINES.values() if s.configured(settings)]


# --- the built-in engines -----------------------------------------------------------------


class LocalPipeline:
    """Whisper through our pipeline (regions, language per passage, guards, speakers)."""

    name = LOCAL

    def __init__(self, settings: Settings, options: TranscribeOptions):
        from kazru_stt.services.transcribe_job import local_engine

        self.whisper = local_engine(settings, options.model)
        self.model_name = self.whisper.model_name
        # A job that names its model gets that model everywhere; otherwise a language with
        # a model of its own (KAZRU_LANGUAGE_MODELS) has its passages written by it.
        self.by_language = {}
        if options.model is None:
            self.by_language = {
                code: local_engine(settings, name)
                for code, name in model_registry.language_models(settings).items()
                if name != self.model_name
            }

    def transcribe_file(self, path, options, progress=None):
        from kazru_stt.pipeline.transcribe import transcribe_file

        return transcribe_file(path, options, self.whisper, progress, self.by_language)


def _yandex(settings: Settings, _options: TranscribeOptions) -> FileEngine:
    from kazru_stt.engines.yandex.client import YandexConfig
    from kazru_stt.engines.yandex.engine import YandexEngine

    return YandexEngine(
        YandexConfig(
            api_key=settings.yandex_api_key,
            iam_token=settings.yandex_iam_token,
            folder_id=settings.yandex_folder_id,
            stt_url=settings.yandex_stt_url.rstrip("/"),
            operation_url=settings.yandex_operation_url.rstrip("/"),
            max_attempts=settings.yandex_max_attempts,
            retry_base_s=settings.yandex_retry_base_s,
            poll_initial_s=settings.yandex_poll_initial_s,
        )
    )


def _yandex_errors() -> tuple[type[Exception], ...]:
    from kazru_stt.engines.yandex.errors import YandexError

    return (YandexError,)


register(
    EngineSpec(
        name=LOCAL,
        label="Local (offline)",
        capabilities=frozenset({WORD_TIMES, DIARIZATION, CHANNELS, OFFLINE}),
        build=LocalPipeline,
    )
)
register(
    EngineSpec(
        name=YANDEX,
        label="Yandex SpeechKit (cloud)",
        capabilities=frozenset({WORD_TIMES, CHANNELS}),
        build=_yandex,
        configured=lambda s: bool(s.yandex_api_key or s.yandex_iam_token),
        missing="KAZRU_YANDEX_API_KEY or KAZRU_YANDEX_IAM_TOKEN",
        fallback_to=LOCAL,
        fallback_on=_yandex_errors(),
        never_fall_back=frozenset({"engine_auth"}),  # an operator's error, not an outage
        fallback_allowed=lambda s: s.yandex_fallback,
    )
)
