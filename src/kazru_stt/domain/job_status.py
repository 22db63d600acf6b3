"""The life of a job: the one list of its statuses."""

from __future__ import annotations

from enum import StrEnum, nonmember


class JobStatus(StrEnum):
    QUEUED = "queued"
    PROCESSING = "processing"
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELED = "canceled"
    EXPIRED = "expired"
    # The sets code and pages test a status against (not statuses themselves; in the
    # class body the names above are still their strings).
    ACTIVE = nonmember(frozenset({QUEUED, PROCESSING}))
    TERMINAL = nonmember(frozenset({COMPLETED, FAILED, CANCELED, EXPIRED}))
    ALL = nonmember((QUEUED, PROCESSING, COMPLETED, FAILED, CANCELED, EXPIRED))
