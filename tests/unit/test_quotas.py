"""Quotas on a real SQLite database: jobs at once and audio minutes a month, per-user limits
over the install's, a ledger that deleting jobs does not shrink, and the month's bounds."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import delete

from kazru_stt.db.models import Job
from kazru_stt.db.session import session_scope
from kazru_stt.domain.error_codes import ErrorCode
from kazru_stt.domain.errors import TooManyRequests
from kazru_stt.domain.job_status import JobStatus
from kazru_stt.services import accounts, quotas
from tests.api_app import ApiApp


@pytest.fixture
def api(tmp_path):
    return ApiApp(tmp_path, quota_active_jobs=2, quota_monthly_minutes=10)


def _job(db, user_id: int, job_id: str, status: str = JobStatus.QUEUED) -> None:
    db.add(Job(id=job_id, owner_id=user_id, status=status, filename="a.wav"))


def _charge(api, user_id: int, job_id: str, seconds: float) -> None:
    with session_scope(api.ctx.db_url) as db:
        quotas.charge(db, api.ctx, user_id, job_id, seconds)
        _job(db, user_id, job_id)


def test_active_jobs_count_uploads_in_progress(api):
    user = accounts.create_user(api.ctx, "a@b.kz")
    quotas.check_active_jobs(api.ctx, user["id"], uploading=1)  # 1 of 2
    with pytest.raises(TooManyRequests) as refused:
        quotas.check_active_jobs(api.ctx, user["id"], uploading=2)
    assert refused.value.code == ErrorCode.QUOTA_EXCEEDED
    assert refused.value.details == {"quota": "active_jobs", "limit": 2}
    assert refused.value.retry_after_s == quotas.ACTIVE_RETRY_S


def test_minutes_are_charged_once_and_deleting_jobs_gives_none_back(api):
    user = accounts.create_user(api.ctx, "a@b.kz")
    _charge(api, user["id"], "j1", 6 * 60)
    with session_scope(api.ctx.db_url) as db:
        db.execute(delete(Job).where(Job.id == "j1"))
    assert quotas.usage(api.ctx, user["id"])["minutes_this_month"] == 6.0
    with pytest.raises(TooManyRequests) as refused:
        _charge(api, user["id"], "j2", 5 * 60)  # 6 + 5 > 10
    assert refused.value.details["quota"] == "monthly_minutes"
    # The month resets on the 1st, so that is when to come back.
    assert 0 < refused.value.retry_after_s <= 31 * 24 * 3600
    _charge(api, user["id"], "j3", 4 * 60)  # 6 + 4 = 10: still within
    assert quotas.usage(api.ctx, user["id"])["minutes_this_month"] == 10.0


def test_a_users_own_limits_win_over_the_installs(api):
    admin = accounts.create_user(api.ctx, "admin@b.kz", admin=True)
    user = accounts.create_user(api.ctx, "a@b.kz")
    caller = accounts.Caller(admin["id"], admin["email"], True)
    accounts.update_user(api.ctx, user["id"], {"quota_active_jobs": 5}, actor=caller, address=None)
    used = quotas.usage(api.ctx, user["id"], uploading=3)
    assert used["active_jobs_limit"] == 5 and used["monthly_minutes_limit"] == 10
    assert used["uploading"] == 3
    quotas.check_active_jobs(api.ctx, user["id"], uploading=4)


def test_finished_jobs_free_their_slot(api):
    user = accounts.create_user(api.ctx, "a@b.kz")
    with session_scope(api.ctx.db_url) as db:
        _job(db, user["id"], "done", JobStatus.COMPLETED)
        _job(db, user["id"], "running", JobStatus.PROCESSING)
    assert quotas.usage(api.ctx, user["id"])["active_jobs"] == 1


@pytest.mark.parametrize(
    "now, start, reset",
    [
        (datetime(2026, 12, 31, 23, 59, tzinfo=UTC), (2026, 12), (2027, 1)),
        (datetime(2027, 1, 1, 0, 0, tzinfo=UTC), (2027, 1), (2027, 2)),
        (datetime(2028, 2, 29, 12, 0, tzinfo=UTC), (2028, 2), (2028, 3)),
    ],
)
def test_the_month_runs_from_the_first_to_the_first(now, start, reset):
    first, nxt = quotas.month_bounds(now)
    assert (first.year, first.month, first.day, first.hour) == (*start, 1, 0)
    assert (nxt.year, nxt.month, nxt.day) == (*reset, 1)
