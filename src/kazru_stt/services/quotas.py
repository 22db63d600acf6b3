"""Quotas: per user, jobs active at once and audio minutes per calendar month (UTC); per
workspace, where an admin set one, audio minutes per month of the jobs filed there."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from kazru_stt.db.models import AudioUsage, Job, User, Workspace, utcnow
from kazru_stt.db.session import session_scope
from kazru_stt.domain.error_codes import ErrorCode
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


def _usage(db: Session, ctx: ServiceContext, user_id: int) -> dict:
    s = ctx.settings
    start, reset = month_bounds()
    user = db.get(User, user_id)
    active = db.scalar(
        select(func.count())
        .select_from(Job)
        .where(Job.owner_id == user_id, Job.status.in_(JobStatus.ACTIVE))
    )
    seconds = db.scalar(
        select(func.coalesce(func.sum(AudioUsage.seconds), 0.0)).where(
            AudioUsage.user_id == user_id, AudioUsage.created_at >= start
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


def usage(ctx: ServiceContext, user_id: int, uploading: int = 0) -> dict:
    """The user's quotas and use; `uploading`: their uploads in progress (they count as
    active jobs: each will be one)."""
    with session_scope(ctx.db_url) as db:
        u = _usage(db, ctx, user_id)
    u["uploading"] = uploading
    return u


def _refuse_active(u: dict, uploading: int = 0) -> None:
    if u["active_jobs"] + uploading >= u["active_jobs_limit"]:
        busy = u["active_jobs"] + uploading
        raise TooManyRequests(
            f"you have {busy} transcriptions uploading, queued or running; the limit is "
            f"{u['active_jobs_limit']} at once",
            code=ErrorCode.QUOTA_EXCEEDED,
            retry_after_s=ACTIVE_RETRY_S,
            details={"quota": "active_jobs", "limit": u["active_jobs_limit"]},
        )


def _refuse_minutes(u: dict, duration_s: float) -> None:
    if u["minutes_this_month"] + duration_s / 60.0 > u["monthly_minutes_limit"]:
        wait = (u["month_resets_at"] - datetime.now(UTC)).total_seconds()
        raise TooManyRequests(
            f"this recording would take you past your {u['monthly_minutes_limit']:g} minutes "
            f"of audio this month ({u['minutes_this_month']:g} used)",
            code=ErrorCode.QUOTA_EXCEEDED,
            retry_after_s=wait,
            details={
                "quota": "monthly_minutes",
                "limit": u["monthly_minutes_limit"],
                "used": u["minutes_this_month"],
            },
        )


def check_active_jobs(ctx: ServiceContext, user_id: int, uploading: int = 0) -> None:
    """429 `quota_exceeded` when one more job (beside `uploading` in progress) is too many."""
    _refuse_active(usage(ctx, user_id), uploading)


def workspace_minutes(db: Session, workspace_id: int) -> float:
    start, _reset = month_bounds()
    seconds = db.scalar(
        select(func.coalesce(func.sum(AudioUsage.seconds), 0.0)).where(
            AudioUsage.workspace_id == workspace_id, AudioUsage.created_at >= start
        )
    )
    return round(float(seconds or 0.0) / 60.0, 2)


def _refuse_workspace_minutes(db: Session, workspace_id: int, duration_s: float) -> None:
    space = db.scalars(
        select(Workspace).where(Workspace.id == workspace_id).with_for_update()
    ).first()
    if space is None or space.quota_monthly_minutes is None:
        return
    used = workspace_minutes(db, workspace_id)
    if used + duration_s / 60.0 > space.quota_monthly_minutes:
        _start, reset = month_bounds()
        raise TooManyRequests(
            f"this recording would take the workspace past its "
            f"{space.quota_monthly_minutes:g} minutes of audio this month ({used:g} used)",
            code=ErrorCode.QUOTA_EXCEEDED,
            retry_after_s=(reset - datetime.now(UTC)).total_seconds(),
            details={
                "quota": "workspace_monthly_minutes",
                "limit": space.quota_monthly_minutes,
                "used": used,
            },
        )


def charge(
    db: Session,
    ctx: ServiceContext,
    user_id: int,
    job_id: str,
    duration_s: float,
    workspace_id: int | None = None,
) -> None:
    """Inside the transaction that inserts the job: check the quotas again with the user's
    (and workspace's) row locked (PostgreSQL; SQLite has one writer at a time), so racing
    uploads cannot pass together, and write the minutes to the ledger."""
    db.execute(select(User.id).where(User.id == user_id).with_for_update())
    u = _usage(db, ctx, user_id)
    _refuse_active(u)
    _refuse_minutes(u, duration_s)
    if workspace_id is not None:
        _refuse_workspace_minutes(db, workspace_id, duration_s)
    db.add(
        AudioUsage(
            user_id=user_id,
            job_id=job_id,
            workspace_id=workspace_id,
            seconds=duration_s,
            created_at=utcnow(),
        )
    )
