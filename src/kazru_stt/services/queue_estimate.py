"""A queued job's place in the queue and about how long until a worker takes it.

The place: 1 + the queued jobs queued before it (workers take them in that order; a job
re-queued by the sweep goes to the back, so it is what the queue holds now, not a promise).
The wait: the audio still to transcribe ahead of it (those jobs, and what the running ones
have left) times the median real-time factor of the last RECENT completed jobs, shared
among the live workers; None without history or without a live worker."""

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


def place(ctx: ServiceContext, job: Job) -> tuple[int | None, float | None]:
    """(place in the queue, estimated wait in s); (None, None) for a job not queued."""
    if job.status != JobStatus.QUEUED or job.enqueued_at is None:
        return None, None
    with session_scope(ctx.db_url) as db:
        count, audio = db.execute(
            select(func.count(), func.coalesce(func.sum(Job.duration_s), 0.0)).where(
                Job.status == JobStatus.QUEUED, Job.enqueued_at < job.enqueued_at
            )
        ).one()
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
        running = db.execute(
            select(Job.duration_s, Job.progress).where(Job.status == JobStatus.PROCESSING)
        ).all()
    factors = sorted(
        (done - began).total_seconds() / seconds
        for began, done, seconds in recent
        if began and done and seconds  # (the query keeps only these; said for the types)
    )
    live = workers.live_count(ctx)
    if not factors or not live:
        return int(count) + 1, None
    left = float(audio or 0.0) + sum((d or 0.0) * (1 - p / 100) for d, p in running)
    return int(count) + 1, left * factors[len(factors) // 2] / live
