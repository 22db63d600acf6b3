"""The periodic work: the recovery sweep, retention and (for a worker) its live beat. Every
worker runs it beside its jobs; `kazru scheduler` runs it alone, for deployments whose
workers scale to zero."""

from __future__ import annotations

import logging
import threading
import time
from functools import partial

from kazru_stt.config import get_settings
from kazru_stt.db.session import database_down, log_step_failure
from kazru_stt.tasks import runtime
from kazru_stt.tasks.runtime import service_context

log = logging.getLogger(__name__)


def _safely(what: str, work) -> bool:
    """Run one step; False if the database was down (any other failure is logged)."""
    try:
        work()
    except Exception as exc:  # one failed pass must not stop the loop
        log_step_failure(log, what, exc)
        return not database_down(exc)
    return True


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
    # No worker could beat while the database was down: a job's old heartbeat says nothing
    # about its worker until a whole stale period has passed since then.
    database_down_at = -settings.heartbeat_stale_s
    while True:
        now = time.monotonic()
        if worker_id is not None:
            if not _safely(
                "worker beat", lambda: workers.beat(ctx, worker_id, runtime.worker_stages)
            ):
                database_down_at = now
            _safely("model unload", lambda: unload_idle_models(settings))
        if last_sweep is None or now - last_sweep >= settings.sweep_interval_s:
            last_sweep = now
            take_over = now - database_down_at >= settings.heartbeat_stale_s
            if not _safely("sweep", partial(sweep, ctx, take_over=take_over)):
                database_down_at = now
        if last_retention is None or now - last_retention >= settings.retention_interval_s:
            last_retention = now
            _safely("retention run", lambda: run_retention(ctx))
        wait = min(settings.sweep_interval_s, settings.retention_interval_s, workers.BEAT_S)
        if stop.wait(wait):
            return
