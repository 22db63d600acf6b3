"""Process-wide objects of a worker or API process: the service context and the
transcriber (pipeline + engine), built lazily once."""

from __future__ import annotations

import logging
from functools import lru_cache

from kazru_stt.config import get_settings
from kazru_stt.services.context import ServiceContext

log = logging.getLogger(__name__)
# What this worker process runs (`kazru worker --stages`): a diarization-only worker loads no
# Whisper model at start.
worker_stages = "all"


def _enqueue(job_id: str) -> None:
    """Send the job's message. The job is already saved, so a broker failure must not fail
    the request: one more try (kombu can recover from a broker error yet publish on the
    channel it just closed), then the sweep re-sends it once it has waited too long."""
    from kazru_stt.tasks.celery_app import TRANSCRIBE_TASK, app

    for attempt in (1, 2):
        try:
            app.send_task(TRANSCRIBE_TASK, args=[job_id])  # by name: the API never loads tasks
            return
        except Exception:
            if attempt == 1:
                log.warning("job %s: queueing failed, trying again", job_id, exc_info=True)
            else:
                log.exception("job %s: not queued now, the sweep will re-send it", job_id)


def _enqueue_diarize(job_id: str, actor_id: int | None) -> None:
    """Send a speakers' stage; a lost one is re-sent by the sweep (its heartbeat stops)."""
    from kazru_stt.tasks.celery_app import DIARIZE_TASK, app, diarize_queue

    try:
        app.send_task(DIARIZE_TASK, args=[job_id, actor_id], queue=diarize_queue())
    except Exception:
        log.exception("job %s: speakers' stage not queued now, the sweep will re-send it", job_id)


@lru_cache(maxsize=1)
def service_context() -> ServiceContext:
    return ServiceContext(
        base_settings=get_settings(),
        enqueue=_enqueue,
        extra={"enqueue_diarize": _enqueue_diarize},
    )


def transcriber():
    """A job's transcriber, as the settings in effect now say (an administrator may have
    changed the third languages since the last job; the models stay loaded)."""
    from kazru_stt.services.engines import make_transcriber

    return make_transcriber(service_context().settings)


def queue_check() -> None:
    """Raise if the broker cannot be reached."""
    from kazru_stt.tasks.celery_app import app

    with app.connection_for_write() as conn:
        conn.ensure_connection(max_retries=1, timeout=3)
