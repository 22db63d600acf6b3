"""The transcriber a worker (or the CLI) uses: the engine chosen per job, from settings."""

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


def yandex_engine(settings: Settings):
    """The cloud engine when credentials are set, else None."""
    if not (settings.yandex_api_key or settings.yandex_iam_token):
        return None
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


def make_transcriber(settings: Settings, model: str | None = None):
    """`model` (a name or directory) for jobs that name none (the CLI's --model)."""

    def transcribe(path, options: TranscribeOptions, progress):
        options = replace(
            options,
            third_languages=settings.third_language_set,
            third_language_action=settings.third_language_action,
        )
        return run_engine(
            path,
            options,
            local=lambda: local_engine(settings, options.model or model),
            yandex=yandex_engine(settings),
            fallback=settings.yandex_fallback,
            progress=progress,
        )

    return transcribe
