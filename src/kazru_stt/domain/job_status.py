"""The life of a job: the one list of its statuses."""

from __future__ import annotations


class JobStatus:
    QUEUED = "queued"
    PROCESSING = "processing"
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELED = "canceled"
    EXPIRED = "expired"
    ALL = (QUEUED, PROCESSING, COMPLETED, FAILED, CANCELED, EXPIRED)
    ACTIVE = frozenset({QUEUED, PROCESSING})
    TERMINAL = frozenset({COMPLETED, FAILED, CANCELED, EXPIRED})
