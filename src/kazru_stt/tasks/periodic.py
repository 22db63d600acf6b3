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


def run_periodic(stop: threading.Event, worker_id: str | None = None) -> None:
    """Until `stop` is set: beat (workers), sweep and retention at their intervals, each
    failure logged and the loop kept going."""
    from kazru_stt.services import workers
    from kazru_stt.services.retention import run_retention
    from kazru_stt.services.sweep import sweep

    settings = get_settings()
    last_retention = last_sweep = None
    while True:
        if worker_id is not None:
            try:
                workers.beat(service_context(), worker_id)
            except Exception:
                log.exception("worker beat failed")
        now = time.monotonic()
        if last_sweep is None or now - last_sweep >= settings.sweep_interval_s:
            last_sweep = now
            try:
                sweep(service_context())
            except Exception:
                log.exception("sweep failed")
        if worker_id is not None and settings.model_idle_s > 0:
            from kazru_stt.engines.whisper_local import unload_idle

            for name in unload_idle(settings.model_idle_s):
                log.info("model %s unloaded after %g s unused", name, settings.model_idle_s)
        if last_retention is None or now - last_retention >= settings.retention_interval_s:
            last_retention = now
            try:
                run_retention(service_context())
            except Exception:
                log.exception("retention run failed")
        wait = min(settings.sweep_interval_s, settings.retention_interval_s, workers.BEAT_S)
        if stop.wait(wait):
            return
