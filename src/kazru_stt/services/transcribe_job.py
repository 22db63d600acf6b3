"""The transcriber a worker uses: the pipeline with the engine chosen by settings."""

from __future__ import annotations

from kazru_stt.config import Settings
from kazru_stt.pipeline import TranscribeOptions, transcribe_file


def local_engine(settings: Settings):
    from kazru_stt.engines.whisper_local import get_engine

    return get_engine(
        settings.model_path,
        settings.resolved_model_cache_dir,
        device=settings.device,
        compute_type=settings.compute_type,
        cpu_threads=settings.cpu_threads,
        beam_size=settings.beam_size,
    )


def make_transcriber(settings: Settings):
    def transcribe(path, options: TranscribeOptions, progress):
        return transcribe_file(path, options, local_engine(settings), progress=progress)

    return transcribe
