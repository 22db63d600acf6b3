"""A queued job says its place in the queue and about how long until a worker takes it, in
the API and on its page (in the reader's language); a job no longer queued has neither."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import update

from kazru_stt.db.models import Job, utcnow
from kazru_stt.db.session import session_scope
from kazru_stt.domain.job_status import JobStatus
from kazru_stt.services import workers
from tests.api_app import ApiApp
from tests.conftest import tone_wav


def test_place_in_the_queue(tmp_path):
    api = ApiApp(tmp_path)
    key = api.user("a@b.kz", password="long enough pass")
    with api.client(key) as c:
        ids = [
            c.post("/api/v1/transcriptions", files={"file": ("t.wav", tone_wav())}).json()["id"]
            for _ in range(3)
        ]
        assert [c.get(f"/api/v1/transcriptions/{i}").json()["queue_position"] for i in ids] == [
            1,
            2,
            3,
        ]
        with session_scope(api.ctx.db_url) as db:  # a worker takes the first
            db.execute(update(Job).where(Job.id == ids[0]).values(status=JobStatus.PROCESSING))
        places = [c.get(f"/api/v1/transcriptions/{i}").json()["queue_position"] for i in ids]
        assert places == [None, 1, 2]
        # No worker has finished anything yet, and none is alive: no estimate.
        assert c.get(f"/api/v1/transcriptions/{ids[2]}").json()["estimated_wait_s"] is None
        # One live worker whose last jobs ran at half real time: the 60 s still to do of the
        # running job's 120 s, and the 30 s queued ahead, take 45 s.
        now = utcnow()
        with session_scope(api.ctx.db_url) as db:
            for i, seconds in ((ids[0], 120.0), (ids[1], 30.0), (ids[2], 30.0)):
                db.execute(update(Job).where(Job.id == i).values(duration_s=seconds))
            db.execute(update(Job).where(Job.id == ids[0]).values(progress=50))
        done = c.post("/api/v1/transcriptions", files={"file": ("t.wav", tone_wav())}).json()
        with session_scope(api.ctx.db_url) as db:
            db.execute(
                update(Job)
                .where(Job.id == done["id"])
                .values(
                    status=JobStatus.COMPLETED,
                    duration_s=10.0,
                    started_at=now - timedelta(seconds=5),
                    finished_at=now,
                )
            )
        workers.beat(api.ctx, "host:1")
        assert c.get(f"/api/v1/transcriptions/{ids[2]}").json()["estimated_wait_s"] == 45.0
    with api.client() as browser:
        browser.post(
            "/login",
            data={"email": "a@b.kz", "password": "long enough pass", "next": "/app"},
            headers={"Origin": "http://testserver"},
        )
        browser.cookies.set("kazru_lang", "ru")
        page = browser.get(f"/app/t/{ids[2]}").text
        assert "Место в очереди: 2; начнётся примерно через 1 мин" in page
