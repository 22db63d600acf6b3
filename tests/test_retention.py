"""Retention and erasure on a real service: the periodic task deletes audio, then
transcripts, marks jobs expired and audits it; DELETE /api/v1/me/data leaves nothing of
that user in the database or in storage (the test looks at both)."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import inspect, select, text

from kazru_stt.db.models import AuditEntry, Job
from kazru_stt.db.session import get_engine, session_scope
from tests.service_harness import Backend, Service


@pytest.fixture(scope="module")
def svc(tmp_path_factory, model_cache, engine):
    service = Service(
        tmp_path_factory.mktemp("svc-retention"),
        model_cache,
        Backend.embedded(),
        retention_audio_hours=str(2 / 3600),  # audio: 2 s after the job ends
        retention_days=str(25 / 86400),  # transcripts: 25 s after upload
        retention_interval_s="1",
        sweep_interval_s="1",
    )
    service.start(embedded_workers=1)
    yield service
    service.stop()


def _stored_files(service) -> set[str]:
    root = service.data_dir / "storage"
    return {str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()}


def _until(predicate, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.5)
    raise AssertionError(f"{what} did not happen in {timeout} s")


def test_retention_deletes_audio_then_transcripts_and_audits(svc, eval_dir):
    job = svc.upload(eval_dir / "ru" / "tinkoff_sample_4.wav")
    done = svc.wait(job["id"])
    assert done["status"] == "completed" and done["result"]["segments"]
    ctx = svc.context()
    with session_scope(ctx.db_url) as db:
        key = db.get(Job, job["id"]).storage_key
    with svc.client() as c:
        # Audio first: the file goes, the transcript stays readable.
        gone = _until(
            lambda: c.get(f"/api/v1/transcriptions/{job['id']}").json()["audio_deleted_at"],
            30,
            "audio deletion",
        )
        assert gone and key not in _stored_files(svc)
        assert c.get(f"/api/v1/transcriptions/{job['id']}").json()["result"]["segments"]
        # Then the transcript: rows gone, the job says expired, exports refuse.
        expired = _until(
            lambda: (
                (j := c.get(f"/api/v1/transcriptions/{job['id']}").json())["status"] == "expired"
                and j
            ),
            60,
            "expiry",
        )
        assert expired["result"] is None
        r = c.get(f"/api/v1/transcriptions/{job['id']}/export", params={"format": "txt"})
        assert r.status_code == 409
    with session_scope(ctx.db_url) as db:
        left = db.execute(
            text("SELECT count(*) FROM segments WHERE job_id = :j"), {"j": job["id"]}
        ).scalar()
        runs = db.scalars(select(AuditEntry).where(AuditEntry.action == "retention.run")).all()
    assert left == 0
    assert runs and sum(r.details["audio_deleted"] for r in runs) >= 1
    assert sum(r.details["transcripts_expired"] for r in runs) >= 1


def test_erasing_my_data_leaves_nothing_of_me(svc, eval_dir):
    email = "erase.me@example.kz"
    key = svc.add_user(email)
    before = _stored_files(svc)
    jobs = [
        svc.upload(eval_dir / "ru" / name, key=key)
        for name in ("tinkoff_sample_4.wav", "golos_001ce26c.wav")
    ]
    for j in jobs:
        assert svc.wait(j["id"])["status"] == "completed"
    with svc.client(key) as c:
        extra = c.post("/api/v1/keys", json={"name": "second"}).json()["key"]
        c.get(f"/api/v1/transcriptions/{jobs[0]['id']}/export", params={"format": "txt"})
        assert len(_stored_files(svc) - before) >= 1  # (audio may already be retired)
        assert c.delete("/api/v1/me/data").status_code == 204
    for k in (key, extra):
        with svc.client(k) as c:
            assert c.get("/api/v1/me").status_code == 401
    with svc.client() as admin:
        for j in jobs:
            assert admin.get(f"/api/v1/transcriptions/{j['id']}").status_code == 404
        actions = [e["action"] for e in admin.get("/api/v1/admin/audit").json()["items"]]
        assert "user.erase" in actions
    assert not (_stored_files(svc) - before)
    # Every row of every table, as text: neither the email nor a job id is left.
    eng = get_engine(svc.context().db_url)
    with eng.connect() as conn:
        for table in inspect(eng).get_table_names():
            for row in conn.execute(text(f'SELECT * FROM "{table}"')):
                dump = " ".join(str(v) for v in row)
                assert email not in dump, table
                assert all(j["id"] not in dump for j in jobs), table
