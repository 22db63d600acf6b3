"""The periodic work: the recovery sweep, retention and (for a worker) its live beat. Every
worker runs it beside its jobs; `kazru scheduler` runs it alone, for deployments whose
workers scale to zero."""

from __future__ import annotations

import logging
import threading
import time

from kazru_stt.config import get_settings
from kazru_stt.tasks.runtime import service_context

log = logging.getLogger(__name__)


def _safely(what: str, work) -> None:
    try:
        work()
    except Exception:  # one failed pass must not stop the loop
        log.exception("%s failed", what)


def run_periodic(stop: threading.Event, worker_id: str | None = None) -> None:
    """Until `stop` is set: beat and unload idle models (workers), sweep and retention at
    their intervals, each failure logged and the loop kept going."""
    from kazru_stt.services import workers
    from kazru_stt.services.local_engine import unload_idle_models
    from kazru_stt.services.retention import run_retention
    from kazru_stt.services.sweep import sweep

    settings = get_settings()
    ctx = service_context()
    last_retention = last_sweep = None
    while True:
        now = time.monotonic()
        if worker_id is not None:
            _safely("worker beat", lambda: workers.beat(ctx, worker_id))
            _safely("model unload", lambda: unload_idle_models(settings))
        if last_sweep is None or now - last_sweep >= settings.sweep_interval_s:
            last_sweep = now
            _safely("sweep", lambda: sweep(ctx))
        if last_retention is None or now - last_retention >= settings.retention_interval_s:
            last_retention = now
            _safely("retention run", lambda: run_retention(ctx))
        wait = min(settings.sweep_interval_s, settings.retention_interval_s, workers.BEAT_S)
        if stop.wait(wait):
            return
