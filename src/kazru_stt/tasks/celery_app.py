"""The Celery app. Broker from settings: Redis when scaled out, kombu's SQLAlchemy transport
on a SQLite file for the embedded default; the same task code either way."""

from __future__ import annotations

from pathlib import Path

from celery import Celery
from kombu.transport import TRANSPORT_ALIASES

from kazru_stt.config import get_settings

QUEUE = "kazru"  # recognition; everything, unless KAZRU_STAGES_APART
DIARIZE_QUEUE = "kazru.diarization"  # the speakers' stage, when stages run apart
TRANSCRIBE_TASK = "kazru.transcribe"  # sent by name (runtime._enqueue), run by tasks.jobs
DIARIZE_TASK = "kazru.diarize"  # a job's speakers' stage, or found again (services/rediarize)
STAGES = ("asr", "diarization", "all")  # what `kazru worker --stages` takes


def queues_of(stages: str, apart: bool) -> list[str]:
    """The queues a worker of these stages takes its tasks from."""
    if not apart:
        return [QUEUE]
    return {"asr": [QUEUE], "diarization": [DIARIZE_QUEUE], "all": [QUEUE, DIARIZE_QUEUE]}[stages]


def diarize_queue() -> str:
    return DIARIZE_QUEUE if get_settings().stages_apart else QUEUE


TRANSPORT_ALIASES.setdefault("kazru-sqla", "kazru_stt.tasks.sqla_transport:Transport")
TRANSPORT_ALIASES.setdefault("kazru-redis", "kazru_stt.tasks.redis_transport:Transport")


def broker_url() -> str:
    url = get_settings().resolved_broker_url
    if url.startswith("sqla+sqlite:///"):
        Path(url.removeprefix("sqla+sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    # The same transports with fewer wake-ups. Not rediss://: kombu turns TLS on by that
    # name when no TLS options are given.
    if url.startswith(("sqla+", "redis://")):
        url = "kazru-" + url
    return url


def make_app() -> Celery:
    url = broker_url()
    app = Celery("kazru_stt", broker=url, include=["kazru_stt.tasks.jobs"])
    app.conf.update(
        task_default_queue=QUEUE,
        task_acks_late=True,  # a job is acknowledged when done, not when taken
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,  # one long job at a time per worker
        task_ignore_result=True,  # results live in our database
        broker_connection_retry_on_startup=True,
        worker_hijack_root_logger=False,
        worker_send_task_events=False,
        worker_enable_remote_control=False,  # nothing here sends commands to workers
        task_serializer="json",
        accept_content=["json"],
    )
    if url.startswith(("kazru-redis://", "rediss://")):
        app.conf.broker_transport_options = {
            # Redelivery of an unacked message waits this long; the sweep is the real guarantee.
            "visibility_timeout": 3600,
            # How long one BRPOP waits. A message ends it at once, so a longer wait costs no
            # latency, only fewer wake-ups of an idle worker (kombu's default: every 1 s).
            "polling_interval": 10,
        }
    return app


app = make_app()
