"""The transcriber a worker (or the CLI) uses: the engine chosen per job (engines.registry),
from settings; and the process's local Whisper engine for a model."""

from __future__ import annotations

from dataclasses import replace

from kazru_stt.config import Settings
from kazru_stt.pipeline import TranscribeOptions
from kazru_stt.pipeline.dispatch import run_engine


def local_engine(settings: Settings, model: str | None = None):
    """The local engine of a model: a registered name, a model directory, or the default."""
    from kazru_stt.engines.model_registry import resolve_or_path
    from kazru_stt.engines.whisper_local import get_engine

    entry = resolve_or_path(settings, model)
    return get_engine(
        entry.path,
        settings.resolved_model_cache_dir,
        device=settings.device,
        compute_type=settings.compute_type,
        cpu_threads=settings.cpu_threads,
        beam_size=settings.beam_size,
        name=entry.name,
    )


def make_transcriber(settings: Settings, model: str | None = None):
    """`model` (a name or directory) for jobs that name none (the CLI's --model)."""

    def transcribe(path, options: TranscribeOptions, progress):
        options = replace(
            options,
            third_languages=settings.third_language_set,
            third_language_action=settings.third_language_action,
        )
        if model and not options.model:
            options = replace(options, model=model)
        return run_engine(path, options, settings, progress)

    return transcribe
