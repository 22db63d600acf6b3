"""The process's models: each loaded once for its settings, kept between jobs, dropped when
unused (registered with idle_models)."""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

from kazru_stt import idle_models
from kazru_stt.engines.model_store import BUNDLED_MODEL_NAME, bundled_model_dir, verify_model_dir
from kazru_stt.engines.whisper.decoding import EngineConfig
from kazru_stt.engines.whisper.model import WhisperEngine


def resolve_model(model_path: str | os.PathLike | None, cache_dir: Path) -> tuple[str, str]:
    """(directory, display name) of the model to load: the given path or the bundled one."""
    if model_path:
        path = verify_model_dir(Path(model_path).expanduser())
        return str(path), path.name
    return str(bundled_model_dir(cache_dir)), BUNDLED_MODEL_NAME


_engines: dict[EngineConfig, WhisperEngine] = {}
_engines_lock = threading.Lock()


def _cached_engine(config: EngineConfig) -> WhisperEngine:
    with _engines_lock:
        engine = _engines.get(config)
        if engine is None:
            engine = _engines[config] = WhisperEngine(config)
        engine.last_used = time.monotonic()
        return engine


def unload_idle(max_idle_s: float) -> list[str]:
    """Forget the models unused for `max_idle_s` (the next job loads them again); returns
    their names. A job still holding one keeps it until it ends. (The memory goes back to
    the system once for every kind of model: services.local_engine.unload_idle_models.)"""
    now = time.monotonic()
    with _engines_lock:
        idle = [c for c, e in _engines.items() if now - e.last_used >= max_idle_s]
        return [_engines.pop(c).model_name for c in idle]


def loaded_names() -> list[str]:
    with _engines_lock:
        return sorted({e.model_name for e in _engines.values()})


idle_models.register("whisper", unload_idle, loaded_names)


def get_engine(
    model_path: str | os.PathLike | None,
    cache_dir: Path,
    *,
    device: str = "auto",
    compute_type: str = "default",
    cpu_threads: int = 0,
    beam_size: int = 5,
    batch_size: int = 1,
    name: str | None = None,
) -> WhisperEngine:
    """The process-wide engine for these settings, loaded on first use; `name` is what
    transcripts call the model (default: its directory's name)."""
    model_dir, dir_name = resolve_model(model_path, cache_dir)
    return _cached_engine(
        EngineConfig(
            model_dir, name or dir_name, device, compute_type, cpu_threads, beam_size, batch_size
        )
    )
