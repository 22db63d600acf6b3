"""Prometheus metrics of the jobs, recorded where the work happens: created in the API,
finished in the workers.

A worker started by `kazru serve` writes them to files in the serve's metrics directory
(prometheus_client's multiprocess mode, PROMETHEUS_MULTIPROC_DIR set for the child) and the
API's `/metrics` adds them up; a worker started alone serves them on KAZRU_METRICS_PORT.
Labels are bounded: engine names, job statuses and our own error codes."""

from __future__ import annotations

import os
from pathlib import Path

from prometheus_client import CollectorRegistry, Counter, Histogram, multiprocess, start_http_server

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
REGISTRY = CollectorRegistry()

JOBS_CREATED = Counter(
    "kazru_jobs_created_total", "Jobs accepted by the API, by engine", ["engine"], registry=REGISTRY
)
JOBS_FINISHED = Counter(
    "kazru_jobs_finished_total",
    "Jobs a worker finished, by engine, final status and error code",
    ["engine", "status", "code"],
    registry=REGISTRY,
)
PROCESSING = Histogram(
    "kazru_job_processing_seconds",
    "Wall time of a job on a worker",
    ["engine"],
    buckets=(1, 5, 15, 30, 60, 120, 300, 600, 1200, 3600, 7200),
    registry=REGISTRY,
)
REAL_TIME_FACTOR = Histogram(
    "kazru_job_real_time_factor",
    "Processing time divided by the recording's duration",
    ["engine"],
    buckets=(0.02, 0.05, 0.1, 0.2, 0.3, 0.5, 0.75, 1.0, 1.5, 2.0, 3.0, 5.0),
    registry=REGISTRY,
)
QUEUE_WAIT = Histogram(
    "kazru_job_queue_wait_seconds",
    "Time from queueing to a worker taking the job",
    buckets=(0.5, 1, 5, 15, 30, 60, 120, 300, 600, 1800, 3600),
    registry=REGISTRY,
)
RECOGNITIONS = Counter(
    "kazru_recognitions_total",
    "Recordings a worker's engine recognised, by engine (a reused transcript is none)",
    ["engine"],
    registry=REGISTRY,
)
REUSED = Counter(
    "kazru_transcripts_reused_total",
    "Jobs completed from an earlier job's transcript of the same recording and recipe",
    registry=REGISTRY,
)
AUDIO_SECONDS = Counter(
    "kazru_audio_seconds_total", "Seconds of audio transcribed", ["engine"], registry=REGISTRY
)
YANDEX_REQUESTS = Counter(
    "kazru_yandex_requests_total",
    "Calls to Yandex SpeechKit, by outcome (ok, retried, failed)",
    ["outcome"],
    registry=REGISTRY,
)
YANDEX_FALLBACKS = Counter(
    "kazru_yandex_fallbacks_total",
    "Jobs Yandex could not transcribe that the local engine did",
    registry=REGISTRY,
)


def record_job(engine: str, status: str, code: str, seconds: float, audio_s: float | None) -> None:
    JOBS_FINISHED.labels(engine, status, code).inc()
    PROCESSING.labels(engine).observe(seconds)
    if audio_s:
        if status == "completed":
            AUDIO_SECONDS.labels(engine).inc(audio_s)
        REAL_TIME_FACTOR.labels(engine).observe(seconds / audio_s)


def multiprocess_collector(directory: Path, registry: CollectorRegistry) -> None:
    """Add the files that worker children write under `directory` to `registry`."""
    if directory.is_dir():
        multiprocess.MultiProcessCollector(registry, path=str(directory))


def serve_alone(port: int) -> None:
    """A worker on its own serves its metrics over HTTP (not in multiprocess mode)."""
    if port and not os.environ.get(MULTIPROC_ENV):
        start_http_server(port, registry=REGISTRY)
