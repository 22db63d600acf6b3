"""Celery tasks: each takes an id, calls a service, and is safe to run twice. Each worker
process also runs the periodic work: the recovery sweep, retention, webhook delivery."""

from __future__ import annotations

import logging
import os
import socket
import threading

from celery.signals import worker_ready, worker_shutdown

from kazru_stt.config import get_settings
from kazru_stt.tasks import runtime
from kazru_stt.tasks.celery_app import DIARIZE_TASK, TRANSCRIBE_TASK, app
from kazru_stt.tasks.periodic import run_periodic
from kazru_stt.tasks.runtime import service_context, transcriber

log = logging.getLogger(__name__)
WORKER_ID = f"{socket.gethostname()}:{os.getpid()}"
_periodic_stop = threading.Event()
_dispatcher = None


@app.task(name=TRANSCRIBE_TASK, acks_late=True, reject_on_worker_lost=True)
def transcribe(job_id: str) -> str:
    from kazru_stt.services.run_job import run_job

    return run_job(service_context(), job_id, WORKER_ID, transcriber())


@app.task(name=DIARIZE_TASK, acks_late=True, reject_on_worker_lost=True)
def diarize(job_id: str, actor_id: int | None) -> str:
    from kazru_stt.services import rediarize

    return rediarize.run(service_context(), job_id, actor_id, WORKER_ID)


@worker_ready.connect
def _start_periodic(**_kwargs) -> None:
    global _dispatcher
    from kazru_stt.services.local_engine import whisper_model
    from kazru_stt.services.webhooks import Dispatcher

    settings = get_settings()
    if settings.resolved_storage_url.startswith("s3://"):
        from kazru_stt.storage.s3 import prune_cache

        if removed := prune_cache(settings.resolved_s3_cache_dir):
            log.info("removed the cached recordings of %d stopped workers", removed)
    if runtime.worker_stages != "diarization":  # (that one never needs Whisper)
        whisper_model(settings)  # load the model now, not inside the first job
    # Right away: recover what a crash left behind, then every few seconds.
    threading.Thread(
        target=run_periodic,
        args=(_periodic_stop, WORKER_ID),
        daemon=True,
        name="kazru-periodic",
    ).start()
    _dispatcher = Dispatcher(service_context()).start()


@worker_shutdown.connect
def _stop_periodic(**_kwargs) -> None:
    from kazru_stt.services import workers

    _periodic_stop.set()
    if _dispatcher is not None:
        _dispatcher.stop()
    try:
        workers.gone(service_context(), WORKER_ID)
    except Exception:
        log.warning("could not record this worker's stop")
