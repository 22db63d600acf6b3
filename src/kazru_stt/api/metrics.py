"""Prometheus metrics of the API process, whether each part the service depends on is
usable, the system-wide figures read from the database at each scrape (so every API replica
tells the same: queue depth, oldest queued job, live workers, jobs by status), and the ASGI
middleware that records requests by route template (bounded label values: never the raw path)."""

from __future__ import annotations

import shutil
import time

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from kazru_stt import job_metrics
from kazru_stt.api.readiness import check_parts
from kazru_stt.services import stats, workers
from kazru_stt.services.context import ServiceContext

REGISTRY = CollectorRegistry()
REQUESTS = Counter(
    "kazru_http_requests_total", "HTTP requests", ["method", "route", "status"], registry=REGISTRY
)
LATENCY = Histogram(
    "kazru_http_request_seconds", "HTTP request latency", ["method", "route"], registry=REGISTRY
)
# Live sessions (api/routes/realtime.py), this API process's.
LIVE_SESSIONS = Gauge("kazru_live_sessions", "Live sessions open", registry=REGISTRY)
LIVE_REFUSED = Counter(
    "kazru_live_refused_total", "Live sessions refused", ["reason"], registry=REGISTRY
)
LIVE_AUDIO = Counter(
    "kazru_live_audio_seconds_total", "Audio received by live sessions", registry=REGISTRY
)
LIVE_FINAL_LATENCY = Histogram(
    "kazru_live_final_latency_seconds",
    "From the arrival of an utterance's last audio to its final text",
    buckets=(0.25, 0.5, 0.75, 1.0, 1.5, 2.0, 3.0, 5.0, 10.0, 30.0),
    registry=REGISTRY,
)
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


class RequestMetrics:
    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def send_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_status)
        finally:
            route = getattr(scope.get("route"), "path", "unmatched")
            method = scope["method"] if scope["method"] in METHODS else "OTHER"
            REQUESTS.labels(method, route, str(status)).inc()
            LATENCY.labels(method, route).observe(time.perf_counter() - started)


class SystemCollector:
    """Figures of the whole deployment, read at scrape time."""

    def __init__(self, ctx: ServiceContext):
        self.ctx = ctx

    def collect(self):
        ctx = self.ctx
        parts = check_parts(ctx)
        up = GaugeMetricFamily(
            "kazru_part_up", "Whether a part the service depends on is usable", labels=["part"]
        )
        for name, usable in parts.items():
            up.add_metric([name], 1.0 if usable else 0.0)
        yield up
        if parts["database"]:  # else the figures below cannot be read: the rest still is
            yield from self._database_figures()
        yield from self._disk()

    def _database_figures(self):
        ctx = self.ctx
        by_status = GaugeMetricFamily(
            "kazru_jobs", "Jobs in the database by status", labels=["status"]
        )
        counts = stats.jobs_by_status(ctx)
        for status, count in counts.items():
            by_status.add_metric([status], count)
        yield by_status
        yield GaugeMetricFamily(
            "kazru_queue_depth", "Jobs waiting for a worker", value=counts.get("queued", 0)
        )
        yield GaugeMetricFamily(
            "kazru_oldest_queued_job_age_seconds",
            "How long the longest-waiting queued job has waited",
            value=stats.oldest_queued_age_s(ctx),
        )
        yield GaugeMetricFamily(
            "kazru_workers_live",
            "Worker processes that beat recently",
            value=workers.live_count(ctx),
        )
        for name, about, counts in (
            (
                "kazru_stage_jobs",
                "Jobs whose work is in a stage, queued or running (recognition, diarization)",
                stats.jobs_by_stage(ctx),
            ),
            (
                "kazru_stage_workers_live",
                "Live workers that run a stage (`kazru worker --stages`)",
                workers.live_by_stage(ctx),
            ),
        ):
            family = GaugeMetricFamily(name, about, labels=["stage"])
            for stage, count in counts.items():
                family.add_metric([stage], count)
            yield family

    def _disk(self):
        ctx = self.ctx
        disk = GaugeMetricFamily(
            "kazru_disk_free_bytes", "Free bytes where the service writes", labels=["volume"]
        )
        volumes = {"data": ctx.settings.data_dir}
        if not ctx.settings.resolved_storage_url.startswith("s3://"):
            volumes["storage"] = ctx.settings.resolved_storage_url.removeprefix("file://")
        for name, path in volumes.items():
            try:
                disk.add_metric([name], shutil.disk_usage(path).free)
            except OSError:
                pass  # not created yet
        yield disk


class _JobFigures:
    """Job metrics of this process and of the embedded workers' files, one family per name
    (an exposition may not name a family twice)."""

    def __init__(self, workers_dir):
        self.workers = CollectorRegistry(auto_describe=False)
        job_metrics.multiprocess_collector(workers_dir, self.workers)

    def collect(self):
        families = {}
        for source in (job_metrics.REGISTRY, self.workers):
            for family in source.collect():
                if family.name in families:
                    families[family.name].samples.extend(family.samples)
                else:
                    families[family.name] = family
        return list(families.values())


def exposition(ctx: ServiceContext) -> bytes:
    """This process's metrics, the system's, and those of the embedded workers."""
    scrape = CollectorRegistry(auto_describe=False)
    scrape.register(SystemCollector(ctx))
    scrape.register(_JobFigures(ctx.settings.data_dir / "metrics"))
    return generate_latest(REGISTRY) + generate_latest(scrape)
