"""Process-wide objects of a worker or API process: the service context and the
transcriber (pipeline + engine), built lazily once."""

from __future__ import annotations

from functools import lru_cache

from kazru_stt.config import get_settings
from kazru_stt.services.context import ServiceContext


def _enqueue(job_id: str) -> None:
    from kazru_stt.tasks.jobs import transcribe

    transcribe.delay(job_id)


@lru_cache(maxsize=1)
def service_context() -> ServiceContext:
    return ServiceContext(settings=get_settings(), enqueue=_enqueue)


@lru_cache(maxsize=1)
def transcriber():
    from kazru_stt.services.transcribe_job import make_transcriber

    return make_transcriber(get_settings())


def queue_check() -> None:
    """Raise if the broker cannot be reached."""
    from kazru_stt.tasks.celery_app import app

    with app.connection_for_write() as conn:
        conn.ensure_connection(max_retries=1, timeout=3)
