"""Celery tasks: each takes an id, calls a service, and is safe to run twice."""

from __future__ import annotations

import logging
import os
import socket
import threading

from celery.signals import worker_ready, worker_shutdown

from kazru_stt.config import get_settings
from kazru_stt.tasks.celery_app import app
from kazru_stt.tasks.runtime import service_context, transcriber

log = logging.getLogger(__name__)
WORKER_ID = f"{socket.gethostname()}:{os.getpid()}"
_sweeper_stop = threading.Event()


@app.task(name="kazru.transcribe", acks_late=True, reject_on_worker_lost=True)
def transcribe(job_id: str) -> str:
    from kazru_stt.services.processing import run_job

    return run_job(service_context(), job_id, WORKER_ID, transcriber())


@app.task(
    name="kazru.webhook",
    autoretry_for=(Exception,),
    retry_backoff=2,
    retry_backoff_max=300,
    retry_jitter=True,
    max_retries=6,
)
def deliver_webhook(job_id: str) -> None:
    from kazru_stt.services.webhooks import deliver

    deliver(service_context(), job_id)


def _sweep_forever() -> None:
    from kazru_stt.services.sweep import sweep

    interval = get_settings().sweep_interval_s
    while not _sweeper_stop.wait(interval):
        try:
            sweep(service_context())
        except Exception:
            log.exception("sweep failed")


@worker_ready.connect
def _start_sweeper(**_kwargs) -> None:
    from kazru_stt.services.sweep import sweep
    from kazru_stt.services.transcribe_job import local_engine

    local_engine(get_settings())  # load the model now, not inside the first job

    try:
        sweep(service_context())  # right away: recover what a crash left behind
    except Exception:
        log.exception("initial sweep failed")
    threading.Thread(target=_sweep_forever, daemon=True, name="kazru-sweeper").start()


@worker_shutdown.connect
def _stop_sweeper(**_kwargs) -> None:
    _sweeper_stop.set()
