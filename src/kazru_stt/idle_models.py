"""Models a process keeps loaded between jobs register here how to drop themselves when
unused; the worker asks here between jobs (services.local_engine.unload_idle_models). Only
what was imported registers, so asking never loads a model."""

from __future__ import annotations

import threading
from collections.abc import Callable

# unload_idle(max_idle_s) -> names of the models it dropped
Unloader = Callable[[float], list[str]]

_unloaders: dict[str, Unloader] = {}
_lock = threading.Lock()


def register(kind: str, unload_idle: Unloader) -> None:
    with _lock:
        _unloaders[kind] = unload_idle


def unload_idle(max_idle_s: float) -> list[str]:
    """Drop every registered model unused for `max_idle_s`; their names."""
    with _lock:
        unloaders = list(_unloaders.values())
    return [name for unload in unloaders for name in unload(max_idle_s)]
