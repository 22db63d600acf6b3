"""Reads for operations: is the database there, how many jobs are in each status."""

from __future__ import annotations

from sqlalchemy import func, select, text

from kazru_stt.db.models import Job
from kazru_stt.db.session import session_scope
from kazru_stt.domain.job_status import JobStatus
from kazru_stt.services.context import ServiceContext


def ping_database(ctx: ServiceContext) -> None:
    with session_scope(ctx.db_url) as db:
        db.execute(text("SELECT 1"))


def jobs_by_status(ctx: ServiceContext) -> dict[str, int]:
    with session_scope(ctx.db_url) as db:
        counts = dict(db.execute(select(Job.status, func.count()).group_by(Job.status)).all())
    return {status: int(counts.get(status, 0)) for status in JobStatus.ALL}
