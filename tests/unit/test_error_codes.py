"""One list of error codes, each with its HTTP status; a failure on the server's side reaches
an API client as a 5xx, also through the OpenAI-compatible endpoint, which re-raises a failed
job's code."""

from __future__ import annotations

import threading
import time

import pytest
from sqlalchemy import select, update

from kazru_stt.api.errors import STATUS_BY_CODE, error_response
from kazru_stt.db.models import Job
from kazru_stt.db.session import session_scope
from kazru_stt.domain.error_codes import ErrorCode
from kazru_stt.domain.errors import KazruError
from kazru_stt.domain.job_status import JobStatus
from tests.api_app import ApiApp
from tests.conftest import tone_wav

SERVER_SIDE = [
    ErrorCode.INTERNAL_ERROR,
    ErrorCode.WORKER_LOST,
    ErrorCode.MODEL_CORRUPT,
    ErrorCode.MODEL_UNAVAILABLE,
    ErrorCode.ENGINE_UNAVAILABLE,
    ErrorCode.ENGINE_AUTH,
    ErrorCode.ENGINE_BAD_RESPONSE,
    ErrorCode.STORAGE_UNAVAILABLE,
    ErrorCode.FILE_MISSING,
    ErrorCode.DATABASE_UNAVAILABLE,
]


def test_every_code_has_a_status():
    assert set(STATUS_BY_CODE) == set(ErrorCode)
    assert all(400 <= status < 600 for status in STATUS_BY_CODE.values())


@pytest.mark.parametrize("code", SERVER_SIDE)
def test_failures_on_the_servers_side_are_5xx(code):
    assert error_response(KazruError("x", code=code)).status_code >= 500


def test_a_code_outside_the_list_fails_where_it_is_made():
    with pytest.raises(ValueError):
        KazruError("x", code="made_up")  # type: ignore[arg-type]


def test_a_stored_code_from_elsewhere_reads_as_an_internal_error():
    assert ErrorCode.stored("model_corrupt") is ErrorCode.MODEL_CORRUPT
    assert ErrorCode.stored("gone_in_v2") is ErrorCode.INTERNAL_ERROR
    assert ErrorCode.stored(None) is ErrorCode.INTERNAL_ERROR


def _fail_the_job(ctx, code: str, stop: threading.Event) -> None:
    """What a worker does when its model turns out corrupt (no worker runs in ApiApp)."""
    while not stop.is_set():
        with session_scope(ctx.db_url) as db:
            job_id = db.scalar(select(Job.id).where(Job.status == JobStatus.QUEUED))
            if job_id:
                db.execute(
                    update(Job)
                    .where(Job.id == job_id)
                    .values(status=JobStatus.FAILED, error_code=code, error_message="broken")
                )
                return
        time.sleep(0.05)


@pytest.mark.parametrize("code, status", [("model_corrupt", 503), ("internal_error", 500)])
def test_a_failed_job_through_the_openai_endpoint_is_not_a_400(tmp_path, code, status):
    api = ApiApp(tmp_path)
    key = api.user("a@b.kz")
    stop = threading.Event()
    worker = threading.Thread(target=_fail_the_job, args=(api.ctx, code, stop))
    worker.start()
    try:
        with api.client(key) as c:
            r = c.post(
                "/v1/audio/transcriptions",
                files={"file": ("a.wav", tone_wav())},
                data={"model": "whisper-1"},
            )
    finally:
        stop.set()
        worker.join()
    assert r.status_code == status, r.text
    assert r.json()["error"]["code"] == code


def test_every_message_a_page_shows_is_for_a_code_and_translated():
    from kazru_stt.domain.error_codes import ErrorCode
    from kazru_stt.i18n import ERROR_MESSAGES, catalogue_ids

    assert set(ERROR_MESSAGES) <= set(ErrorCode)
    for locale in ("kk", "ru"):
        catalogue = catalogue_ids(locale)
        missing = [m for m in ERROR_MESSAGES.values() if not catalogue.get(m)]
        assert not missing, (locale, missing)
