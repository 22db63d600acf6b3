"""The local engine: Whisper through our pipeline, with the process's models (loaded once,
kept between jobs, dropped when idle)."""

from __future__ import annotations

import logging

from kazru_stt import idle_models
from kazru_stt.allocator import return_freed_memory
from kazru_stt.config import Settings
from kazru_stt.domain.engine_names import EngineName
from kazru_stt.domain.transcript import Transcript
from kazru_stt.engines.whisper import WhisperEngine, get_engine
from kazru_stt.pipeline import TranscribeOptions
from kazru_stt.pipeline.transcribe import transcribe_file
from kazru_stt.services import model_registry

log = logging.getLogger(__name__)


def whisper_model(settings: Settings, model: str | None = None) -> WhisperEngine:
    """The Whisper model of a name: a registered one, a model directory, or the default."""
    entry = model_registry.resolve_or_path(settings, model)
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


class LocalPipeline:
    """Whisper through our pipeline (regions, language per passage, guards, speakers)."""

    name = EngineName.LOCAL

    def __init__(self, settings: Settings, options: TranscribeOptions):
        self.whisper = whisper_model(settings, options.model)
        self.model_name = self.whisper.model_name
        # A job that names its model gets that model everywhere; otherwise a language with
        # a model of its own (KAZRU_LANGUAGE_MODELS) has its passages written by it.
        self.by_language = {}
        if options.model is None:
            self.by_language = {
                code: whisper_model(settings, name)
                for code, name in model_registry.language_models(settings).items()
                if name != self.model_name
            }

    def transcribe_file(self, path, options, progress=None) -> Transcript:
        # The job's terms reach every model that writes its passages.
        whisper = self.whisper.hinted(options.hint)
        by_language = {code: model.hinted(options.hint) for code, model in self.by_language.items()}
        return transcribe_file(path, options, whisper, progress, by_language)


def unload_idle_models(settings: Settings) -> None:
    """Forget local models unused for KAZRU_MODEL_IDLE_S (reloaded by the next job): the
    Whisper models, and the speaker models where diarization has loaded them."""
    if settings.model_idle_s <= 0:
        return
    gone = idle_models.unload_idle(settings.model_idle_s)
    for name in gone:
        log.info("model %s unloaded after %g s unused", name, settings.model_idle_s)
    if gone:  # their memory back to the system now, not at the next allocation
        return_freed_memory()
