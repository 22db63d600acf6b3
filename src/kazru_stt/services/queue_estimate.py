"""How long a queued job will wait before a worker takes it: the audio still to transcribe
ahead of it (the queued jobs before it, and what the running ones have left) times the
median real-time factor of the last RECENT completed jobs, shared among the live workers.
An estimate, not a promise: None without history or without a live worker."""

from __future__ import annotations

from sqlalchemy import func, select

from kazru_stt.db.models import Job
from kazru_stt.db.session import session_scope
from kazru_stt.domain.job_status import JobStatus
from kazru_stt.services import workers
from kazru_stt.services.context import ServiceContext

# Recent enough to follow a change of model or machine, many enough that one odd job (a
# silent file, a retry) does not move the median.
RECENT = 50


def wait_s(ctx: ServiceContext, job: Job) -> float | None:
    if job.status != JobStatus.QUEUED or job.enqueued_at is None:
        return None
    with session_scope(ctx.db_url) as db:
        recent = db.execute(
            select(Job.started_at, Job.finished_at, Job.duration_s)
            .where(
                Job.status == JobStatus.COMPLETED,
                Job.duration_s > 0,
                Job.started_at.is_not(None),
                Job.finished_at.is_not(None),
            )
            .order_by(Job.finished_at.desc())
            .limit(RECENT)
        ).all()
        ahead = db.scalar(
            select(func.coalesce(func.sum(Job.duration_s), 0.0)).where(
                Job.status == JobStatus.QUEUED, Job.enqueued_at < job.enqueued_at
            )
        )
        running = db.execute(
            select(Job.duration_s, Job.progress).where(Job.status == JobStatus.PROCESSING)
        ).all()
    factors = sorted(
        (done - began).total_seconds() / audio
        for began, done, audio in recent
        if began and done and audio  # (the query keeps only these; said for the types)
    )
    live = workers.live_count(ctx)
    if not factors or not live:
        return None
    left = float(ahead or 0.0) + sum((d or 0.0) * (1 - p / 100) for d, p in running)
    return left * factors[len(factors) // 2] / live
