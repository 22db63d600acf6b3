"""Recognition engines by name, and the one path a recording takes through them.

An engine transcribes a whole file (`FileEngine`). Its entry (`EngineSpec`) says what it can
do, whether the settings allow it, how to build it for a job, and which failures of it
another engine may cover. The API, the CLI, the web form, the settings check and the
dispatch all ask here; `register` adds one (the built-in ones at the end of this module).

`make_transcriber` is what a worker (or the CLI) runs a job's recording with:
`run_with_fallback` builds the job's engine and, when it fails for good in a way another may
cover (Yandex after its own retries) and the settings allow it, transcribes with that one and
says so in the transcript's `warnings` (code `engine_fallback`); nothing is lost either way.
Bad credentials are not papered over: that is an operator's error to fix, and the job fails
with `engine_auth`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Protocol

from kazru_stt.config import Settings
from kazru_stt.domain.engine_names import EngineName
from kazru_stt.domain.error_codes import ErrorCode
from kazru_stt.domain.errors import InvalidOptionError, KazruError
from kazru_stt.domain.transcript import Transcript
from kazru_stt.engines.yandex.errors import YandexError
from kazru_stt.job_metrics import YANDEX_FALLBACKS
from kazru_stt.pipeline.options import TranscribeOptions

log = logging.getLogger(__name__)

# What an engine can do (EngineSpec.capabilities).
WORD_TIMES = "word_times"
DIARIZATION = "diarization"
CHANNELS = "channels"  # one speaker per channel of a stereo call
OFFLINE = "offline"


class FileEngine(Protocol):
    @property
    def name(self) -> str: ...

    @property
    def model_name(self) -> str: ...

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
    never_fall_back: frozenset[ErrorCode] = field(default_factory=frozenset)
    fallback_allowed: Callable[[Settings], bool] = lambda _settings: False
    fallbacks_counted: Callable[[], None] | None = None  # a metric of the falls back


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
            code=ErrorCode.INVALID_OPTION,
        )
    return _ENGINES[name]


def usable(name: str, settings: Settings) -> EngineSpec:
    """The engine, if these settings allow it (else `engine_not_configured`)."""
    spec = get(name)
    if not spec.configured(settings):
        raise InvalidOptionError(
            f"the {name} engine is not configured ({spec.missing})",
            code=ErrorCode.ENGINE_NOT_CONFIGURED,
        )
    return spec


def configured(settings: Settings) -> list[EngineSpec]:
    return [s for s in _ENGINES.values() if s.configured(settings)]


def make_transcriber(settings: Settings, model: str | None = None):
    """A job's recording to a transcript, as these settings say; `model` (a name or
    directory) for jobs that name none (the CLI's --model)."""

    def transcribe(path, options: TranscribeOptions, progress):
        options = replace(
            options,
            third_languages=settings.third_language_set,
            third_language_action=settings.third_language_action,
            stereo=settings.stereo_calls,
        )
        if model and not options.model:
            options = replace(options, model=model)
        return run_with_fallback(path, options, settings, progress)

    return transcribe


def run_with_fallback(
    path,
    options: TranscribeOptions,
    settings: Settings,
    progress: Callable[[float], None] | None = None,
) -> Transcript:
    spec = usable(options.engine, settings)
    try:
        return spec.build(settings, options).transcribe_file(path, options, progress)
    except spec.fallback_on as exc:
        code = exc.code if isinstance(exc, KazruError) else type(exc).__name__
        if (
            spec.fallback_to is None
            or not spec.fallback_allowed(settings)
            or code in spec.never_fall_back
        ):
            raise
        log.warning(
            "%s failed (%s); falling back to the %s engine", spec.name, code, spec.fallback_to
        )
        other = replace(options, engine=spec.fallback_to)
        engine = usable(spec.fallback_to, settings).build(settings, other)
        transcript = engine.transcribe_file(path, other, progress)
        if spec.fallbacks_counted:
            spec.fallbacks_counted()
        transcript.warnings.append(
            {
                "code": "engine_fallback",
                "message": f"{spec.label} failed ({code}); transcribed with the "
                f"{spec.fallback_to} engine",
            }
        )
        return transcript


# --- the built-in engines -----------------------------------------------------------------


def _local(settings: Settings, options: TranscribeOptions) -> FileEngine:
    # Imported on use: Whisper's libraries take seconds, and the API never runs them.
    from kazru_stt.services.local_engine import LocalPipeline  # noqa: PLC0415

    return LocalPipeline(settings, options)


def _yandex(settings: Settings, _options: TranscribeOptions) -> FileEngine:
    # Imported on use, as the local engine is: a job names one engine.
    from kazru_stt.engines.yandex.client import YandexConfig  # noqa: PLC0415
    from kazru_stt.engines.yandex.engine import YandexEngine  # noqa: PLC0415

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


register(
    EngineSpec(
        name=EngineName.LOCAL,
        label="Local (offline)",
        capabilities=frozenset({WORD_TIMES, DIARIZATION, CHANNELS, OFFLINE}),
        build=_local,
    )
)
register(
    EngineSpec(
        name=EngineName.YANDEX,
        label="Yandex SpeechKit (cloud)",
        capabilities=frozenset({WORD_TIMES, CHANNELS}),
        build=_yandex,
        configured=lambda s: bool(s.yandex_api_key or s.yandex_iam_token),
        missing="KAZRU_YANDEX_API_KEY or KAZRU_YANDEX_IAM_TOKEN",
        fallback_to=EngineName.LOCAL,
        fallback_on=(YandexError,),
        never_fall_back=frozenset({ErrorCode.ENGINE_AUTH}),  # an operator's error, no outage
        fallback_allowed=lambda s: s.yandex_fallback,
        fallbacks_counted=YANDEX_FALLBACKS.inc,
    )
)
