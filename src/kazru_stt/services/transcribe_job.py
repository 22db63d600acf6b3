"""The transcriber a worker (or the CLI) uses: the engine chosen per job
(services.engine_registry), with fallback; and the process's local Whisper engine for a model.

When an engine fails for good in a way another may cover (Yandex after its own retries) and
the settings allow it, the recording is transcribed by that one and the transcript says so
in `warnings` (code `engine_fallback`); nothing is lost either way. Bad credentials are not
papered over: that is an operator's error to fix, and the job fails with `engine_auth`.
"""

from __future__ import annotations

import gc
import logging
import sys
from collections.abc import Callable
from dataclasses import replace

from kazru_stt.config import Settings
from kazru_stt.domain.errors import KazruError
from kazru_stt.domain.transcript import Transcript
from kazru_stt.job_metrics import YANDEX_FALLBACKS
from kazru_stt.pipeline import TranscribeOptions

log = logging.getLogger(__name__)


def local_engine(settings: Settings, model: str | None = None):
    """The local engine of a model: a registered name, a model directory, or the default."""
    from kazru_stt.engines.whisper_local import get_engine
    from kazru_stt.services.model_registry import resolve_or_path

    entry = resolve_or_path(settings, model)
    return get_engine(
        entry.path,
        settings.resolved_model_cache_dir,
        device=settings.device,
        compute_type=settings.compute_type,
        cpu_threads=settings.cpu_threads,
        beam_size=settings.beam_size,
        batch_size=settings.batch_size,
        name=entry.name,
    )


def unload_idle_models(settings: Settings) -> None:
    """Forget local models unused for KAZRU_MODEL_IDLE_S (reloaded by the next job): the
    Whisper models, and the speaker models where diarization has loaded them."""
    if settings.model_idle_s <= 0:
        return
    from kazru_stt.allocator import return_freed_memory
    from kazru_stt.engines.whisper_local import unload_idle

    for name in unload_idle(settings.model_idle_s):
        log.info("model %s unloaded after %g s unused", name, settings.model_idle_s)
    # (never imported just to ask)
    speaker_models = sys.modules.get("kazru_stt.diarization.speaker_models")
    if speaker_models is not None and speaker_models.unload_idle(settings.model_idle_s):
        gc.collect()
        return_freed_memory()
        log.info("speaker models unloaded after %g s unused", settings.model_idle_s)


def make_transcriber(settings: Settings, model: str | None = None):
    """`model` (a name or directory) for jobs that name none (the CLI's --model)."""

    def transcribe(path, options: TranscribeOptions, progress):
        options = replace(
            options,
            third_languages=settings.third_language_set,
            third_language_action=settings.third_language_action,
            stereo=settings.stereo_calls,
        )
        if model and not options.model:
            options = replace(options, model=model)
        return run_engine(path, options, settings, progress)

    return transcribe


def run_engine(
    path,
    options: TranscribeOptions,
    settings: Settings,
    progress: Callable[[float], None] | None = None,
) -> Transcript:
    from kazru_stt.services import engine_registry as registry

    spec = registry.usable(options.engine, settings)
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
        transcript = registry.usable(spec.fallback_to, settings).build(settings, other)
        transcript = transcript.transcribe_file(path, other, progress)
        if spec.name == registry.YANDEX:
            YANDEX_FALLBACKS.inc()
        transcript.warnings.append(
            {
                "code": "engine_fallback",
                "message": f"{spec.label} failed ({code}); transcribed with the "
                f"{spec.fallback_to} engine",
            }
        )
        return transcript
