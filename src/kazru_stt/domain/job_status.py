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


class JobStage(StrEnum):
    """Where a job's work is (`stage` on the job): waiting, its speech being recognised,
    its speakers being found (again, when asked after it completed), or nothing to do."""

    QUEUED = "queued"
    RECOGNITION = "recognition"
    DIARIZATION = "diarization"
    DONE = "done"


# In a job's result_meta while the speakers' stage of a new transcript is to run (stages
# apart): the first speakers are the machine's, no correction; the webhook goes after them.
SPEAKERS_FIRST = "speakers_first"


def stage_of(status: str, stored: str | None) -> JobStage:
    """A job's stage: the one stored while a stage runs apart (speakers found again on a
    completed job), else the status's."""
    if stored:
        return JobStage(stored)
    if status == JobStatus.QUEUED:
        return JobStage.QUEUED
    if status == JobStatus.PROCESSING:
        return JobStage.RECOGNITION
    return JobStage.DONE
