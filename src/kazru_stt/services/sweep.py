"""Recovery of lost work: jobs whose worker stopped beating, and queued jobs whose queue
message was lost. Idempotent and safe to run from every worker at once (conditional
UPDATEs); re-sending a queued job is harmless because workers claim before working."""

from __future__ import annotations

import logging
from datetime import timedelta

from sqlalchemy import select, update

from kazru_stt.db.models import Job, utcnow
from kazru_stt.db.session import rows_changed, session_scope
from kazru_stt.domain.error_codes import ErrorCode
from kazru_stt.domain.job_status import JobStatus
from kazru_stt.services import rediarize
from kazru_stt.services.context import ServiceContext

log = logging.getLogger(__name__)


def sweep(ctx: ServiceContext, *, take_over: bool = True) -> dict[str, int]:
    """Re-queue (or fail, after too many attempts) running jobs whose worker stopped beating
    (unless `take_over` is False: just after a database outage, when no worker could beat),
    and re-send queued jobs that waited too long."""
    s = ctx.settings
    now = utcnow()
    stale = now - timedelta(seconds=s.heartbeat_stale_s)
    requeue: list[str] = []
    failed = 0
    with session_scope(ctx.db_url) as db:
        lost = (
            db.execute(
                select(Job.id, Job.attempts, Job.heartbeat_at).where(
                    Job.status == JobStatus.PROCESSING, Job.heartbeat_at < stale
                )
            ).all()
            if take_over
            else []
        )
        for job_id, attempts, beat in lost:
            still = (
                (Job.id == job_id)
                & (Job.status == JobStatus.PROCESSING)
                & (Job.heartbeat_at == beat)
            )
            if attempts >= s.job_max_attempts:
                failed += rows_changed(
                    db.execute(
                        update(Job)
                        .where(still)
                        .values(
                            status=JobStatus.FAILED,
                            error_code=ErrorCode.WORKER_LOST,
                            error_message=f"the worker stopped {attempts} times while transcribing",
                            finished_at=now,
                        )
                    )
                )
            elif rows_changed(
                db.execute(
                    update(Job)
                    .where(still)
                    .values(status=JobStatus.QUEUED, worker_id=None, enqueued_at=now, progress=0)
                )
            ):
                requeue.append(job_id)
        # Queued for long with no worker picking it up: its message may be lost.
        forgotten = db.scalars(
            select(Job.id).where(Job.status == JobStatus.QUEUED, Job.enqueued_at < stale)
        ).all()
        for job_id in forgotten:
            db.execute(update(Job).where(Job.id == job_id).values(enqueued_at=now))
            requeue.append(job_id)
    for job_id in requeue:
        if ctx.enqueue:
            ctx.enqueue(job_id)
    resent = rediarize.resend_stale(ctx) if take_over else 0
    if requeue or failed or resent:
        log.info(
            "sweep: re-queued %d, failed %d, speakers' stages re-sent %d",
            len(requeue),
            failed,
            resent,
        )
    return {"requeued": len(requeue), "failed": failed, "rediarized": resent}
