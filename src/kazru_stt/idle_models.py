"""Models a process keeps loaded between jobs register here how to drop themselves when
unused; the worker asks here between jobs (services.local_engine.unload_idle_models). Only
what was imported registers, so asking never loads a model."""

from __future__ import annotations

import threading
from collections.abc import Callable

# unload_idle(max_idle_s) -> names of the models it dropped
Unloader = Callable[[float], list[str]]
# loaded() -> names of the models loaded now
Lister = Callable[[], list[str]]

_unloaders: dict[str, Unloader] = {}
_listers: dict[str, Lister] = {}
_lock = threading.Lock()


def register(kind: str, unload_idle: Unloader, loaded: Lister) -> None:
    with _lock:
        _unloaders[kind] = unload_idle
        _listers[kind] = loaded


def loaded() -> list[str]:
    """The models this process holds now (what an operator sees of a worker)."""
    with _lock:
        listers = list(_listers.values())
    return sorted(name for listed in listers for name in listed())


def unload_idle(max_idle_s: float) -> list[str]:
    """Drop every registered model unused for `max_idle_s`; their names."""
    with _lock:
        unloaders = list(_unloaders.values())
    return [name for unload in unloaders for name in unload(max_idle_s)]
