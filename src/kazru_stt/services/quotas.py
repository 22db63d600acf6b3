"""Per-user quotas: jobs active at once, audio minutes per calendar month (UTC)."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import func, select

from kazru_stt.db.models import Job, User
from kazru_stt.db.session import session_scope
from kazru_stt.domain.errors import TooManyRequests
from kazru_stt.domain.job_status import JobStatus
from kazru_stt.services.context import ServiceContext

ACTIVE_RETRY_S = 30  # a job usually frees its slot within this


def month_bounds(now: datetime | None = None) -> tuple[datetime, datetime]:
    now = now or datetime.now(UTC)
    start = now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    nxt = (
        start.replace(year=start.year + 1, month=1)
        if start.month == 12
        else start.replace(month=start.month + 1)
    )
    return start, nxt


def usage(ctx: ServiceContext, user_id: int) -> dict:
    s = ctx.settings
    start, reset = month_bounds()
    with session_scope(ctx.db_url) as db:
        user = db.get(User, user_id)
        active = db.scalar(
            select(func.count())
            .select_from(Job)
            .where(Job.owner_id == user_id, Job.status.in_(JobStatus.ACTIVE))
        )
        seconds = db.scalar(
            select(func.coalesce(func.sum(Job.duration_s), 0.0)).where(
                Job.owner_id == user_id, Job.created_at >= start
            )
        )
    return {
        "active_jobs": int(active or 0),
        "active_jobs_limit": user.quota_active_jobs
        if user and user.quota_active_jobs is not None
        else s.quota_active_jobs,
        "minutes_this_month": round(float(seconds or 0.0) / 60.0, 2),
        "monthly_minutes_limit": user.quota_monthly_minutes
        if user and user.quota_monthly_minutes is not None
        else s.quota_monthly_minutes,
        "month_resets_at": reset,
    }


def check_active_jobs(ctx: ServiceContext, user_id: int) -> None:
    u = usage(ctx, user_id)
    if u["active_jobs"] >= u["active_jobs_limit"]:
        raise TooManyRequests(
            f"you have {u['active_jobs']} transcriptions queued or running; the limit is "
            f"{u['active_jobs_limit']} at once",
            code="quota_exceeded",
            retry_after_s=ACTIVE_RETRY_S,
            details={"quota": "active_jobs", "limit": u["active_jobs_limit"]},
        )


def check_minutes(ctx: ServiceContext, user_id: int, duration_s: float) -> None:
    u = usage(ctx, user_id)
    if u["minutes_this_month"] + duration_s / 60.0 > u["monthly_minutes_limit"]:
        wait = (u["month_resets_at"] - datetime.now(UTC)).total_seconds()
        raise TooManyRequests(
            f"this recording would take you past your {u['monthly_minutes_limit']:g} minutes "
            f"of audio this month ({u['minutes_this_month']:g} used)",
            code="quota_exceeded",
            retry_after_s=wait,
            details={
                "quota": "monthly_minutes",
                "limit": u["monthly_minutes_limit"],
                "used": u["minutes_this_month"],
            },
        )
