"""Waiting out a part's outage: what counts as one, how long it is waited out, the rate
limiter letting requests through while its Redis is down, refusals saying when to retry,
and the sweep not taking running jobs over just after a database outage."""

from __future__ import annotations

import asyncio
import socket
from datetime import timedelta

import pytest
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError, OperationalError

from kazru_stt.api.errors import error_response
from kazru_stt.api.rate_limit import RateLimit
from kazru_stt.config import Settings
from kazru_stt.db.models import Job, utcnow
from kazru_stt.db.session import database_down, session_scope
from kazru_stt.domain.error_codes import ErrorCode
from kazru_stt.domain.errors import KazruError
from kazru_stt.domain.job_status import JobStatus
from kazru_stt.outages import retry_during_outage
from kazru_stt.services.sweep import sweep
from tests.api_app import ApiApp
from tests.conftest import tone_wav


class Down(Exception):
    pass


def test_work_is_tried_again_until_the_outage_ends():
    calls = []

    def work():
        calls.append(1)
        if len(calls) < 3:
            raise Down
        return "stored"

    outage = lambda exc: isinstance(exc, Down)  # noqa: E731
    assert retry_during_outage(work, is_outage=outage, what="t", give_up_after_s=30) == "stored"
    assert len(calls) == 3


def test_other_errors_and_long_outages_are_raised():
    calls = []

    def broken():
        calls.append(1)
        raise ValueError("not an outage")

    with pytest.raises(ValueError):
        retry_during_outage(broken, is_outage=lambda e: False, what="t", give_up_after_s=30)
    assert len(calls) == 1

    def down():
        raise Down

    with pytest.raises(Down):  # the first pause (0.5 s) would pass the deadline
        retry_during_outage(down, is_outage=lambda e: True, what="t", give_up_after_s=0.1)


def test_what_counts_as_the_database_being_down():
    assert database_down(OperationalError("SELECT 1", {}, Exception("connection refused")))
    assert not database_down(IntegrityError("INSERT", {}, Exception("duplicate key")))
    assert not database_down(ValueError("x"))


def test_requests_pass_while_the_rate_limit_store_is_down(tmp_path):
    with socket.socket() as s:  # a port nothing listens on: every connection is refused
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    passed = []

    async def app(scope, receive, send):
        passed.append(scope["path"])

    limiter = RateLimit(
        app, Settings(data_dir=tmp_path, rate_limit_storage=f"redis://127.0.0.1:{port}/0")
    )
    scope = {
        "type": "http",
        "method": "GET",
        "path": "/api/v1/transcriptions",
        "headers": [(b"authorization", b"Bearer k")],
        "client": ("127.0.0.1", 5000),
    }

    async def two_requests():
        await limiter(scope, None, None)
        await limiter(scope, None, None)  # within STORE_RETRY_S: not even asked

    asyncio.run(two_requests())
    assert passed == ["/api/v1/transcriptions"] * 2


@pytest.mark.parametrize("code", [ErrorCode.STORAGE_UNAVAILABLE, ErrorCode.STORAGE_FULL])
def test_refusals_for_a_part_down_or_full_say_when_to_retry(code):
    answer = error_response(KazruError("x", code=code))
    assert answer.status_code in (503, 507)
    assert int(answer.headers["Retry-After"]) > 0


def test_just_after_a_database_outage_running_jobs_are_not_taken_over(tmp_path):
    api = ApiApp(tmp_path, heartbeat_stale_s=60)
    key = api.user("a@b.kz")
    with api.client(key) as c:
        job_id = c.post("/api/v1/transcriptions", files={"file": ("t.wav", tone_wav())}).json()[
            "id"
        ]
    long_ago = utcnow() - timedelta(minutes=10)
    with session_scope(api.ctx.db_url) as db:
        db.execute(
            update(Job)
            .where(Job.id == job_id)
            .values(status=JobStatus.PROCESSING, worker_id="w:1", heartbeat_at=long_ago)
        )

    def status() -> str:
        with session_scope(api.ctx.db_url) as db:
            return db.scalar(select(Job.status).where(Job.id == job_id))

    sweep(api.ctx, take_over=False)
    assert status() == JobStatus.PROCESSING
    sweep(api.ctx)
    assert status() == JobStatus.QUEUED
