"""Prometheus metrics of the API process."""

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

REGISTRY = CollectorRegistry()
REQUESTS = Counter(
    "kazru_http_requests_total", "HTTP requests", ["method", "route", "status"], registry=REGISTRY
)
LATENCY = Histogram(
    "kazru_http_request_seconds", "HTTP request latency", ["method", "route"], registry=REGISTRY
)
JOBS_BY_STATUS = Gauge(
    "kazru_jobs", "Jobs in the database by status", ["status"], registry=REGISTRY
)
