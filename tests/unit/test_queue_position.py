"""A queued job says its place in the queue, in the API and on its page (in the reader's
language); a job no longer queued has none."""

from __future__ import annotations

from sqlalchemy import update

from kazru_stt.db.models import Job
from kazru_stt.db.session import session_scope
from kazru_stt.domain.job_status import JobStatus
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
    with api.client() as browser:
        browser.post(
            "/login",
            data={"email": "a@b.kz", "password": "long enough pass", "next": "/app"},
            headers={"Origin": "http://testserver"},
        )
        browser.cookies.set("kazru_lang", "ru")
        page = browser.get(f"/app/t/{ids[2]}").text
        assert "Место в очереди: 2" in page
