"""Reads for operations: is the database there, how many jobs are in each status, how old
the oldest queued job is."""

from __future__ import annotations

from sqlalchemy import func, select, text

from kazru_stt.db.models import Job, utcnow
from kazru_stt.db.session import session_scope
from kazru_stt.domain.job_status import JobStage, JobStatus
from kazru_stt.services.context import ServiceContext


def ping_database(ctx: ServiceContext) -> None:
    with session_scope(ctx.db_url) as db:
        db.execute(text("SELECT 1"))


def jobs_by_status(ctx: ServiceContext) -> dict[str, int]:
    with session_scope(ctx.db_url) as db:
        counts = dict(db.execute(select(Job.status, func.count()).group_by(Job.status)).all())
    return {status: int(counts.get(status, 0)) for status in JobStatus.ALL}


def jobs_by_stage(ctx: ServiceContext) -> dict[str, int]:
    """Jobs whose work is in each stage: recognition (queued or running), diarization (a
    speakers' stage queued or running)."""
    with session_scope(ctx.db_url) as db:
        recognition = db.scalar(
            select(func.count()).where(Job.status.in_([JobStatus.QUEUED, JobStatus.PROCESSING]))
        )
        diarization = db.scalar(select(func.count()).where(Job.stage == JobStage.DIARIZATION))
    return {
        JobStage.RECOGNITION: int(recognition or 0),
        JobStage.DIARIZATION: int(diarization or 0),
    }


def oldest_queued_age_s(ctx: ServiceContext) -> float:
    """Seconds the longest-waiting queued job has waited (0 when none waits)."""
    with session_scope(ctx.db_url) as db:
        oldest = db.scalar(select(func.min(Job.enqueued_at)).where(Job.status == JobStatus.QUEUED))
    return max(0.0, (utcnow() - oldest).total_seconds()) if oldest else 0.0
