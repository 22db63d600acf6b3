"""A worker killed with SIGKILL mid-transcription: the job completes after a worker
restarts, no job lost, none done twice in the database."""

from __future__ import annotations

import os
import signal
import time

import numpy as np
import pytest
from sqlalchemy import create_engine, text

from kazru_stt.db.session import normalize_url
from kazru_stt.media import load_audio
from kazru_stt.media.encode import write_wav
from tests.service_harness import Backend, Service, need_servers


@pytest.fixture(params=["embedded", "scaled"])
def backend(request):
    if request.param == "scaled":
        need_servers(postgres=True, redis=True)
        b = Backend.scaled()
    else:
        b = Backend.embedded()
    yield b
    b.close()


def long_russian(eval_dir, path):
    clips = sorted((eval_dir / "ru_lid").glob("*.mp3"))
    gap = np.zeros(8000, np.float32)
    audio = np.concatenate([x for c in clips for x in (load_audio(c), gap)])
    return write_wav(path, audio)


def test_killed_worker_job_is_recovered(backend, eval_dir, tmp_path, model_cache, engine):
    svc = Service(tmp_path / "svc", model_cache, backend, heartbeat_stale_s=6, sweep_interval_s=1)
    svc.start(embedded_workers=0)
    try:
        first = svc.start_worker()
        job = svc.upload(long_russian(eval_dir, tmp_path / "long.wav"), language="ru")
        with svc.client() as c:
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline:
                state = c.get(f"/api/v1/transcriptions/{job['id']}").json()
                if state["status"] == "processing" and state["progress"] > 0:
                    break
                time.sleep(0.2)
        assert state["status"] == "processing", state
        os.kill(first.pid, signal.SIGKILL)
        first.wait()
        svc.start_worker()
        done = svc.wait(job["id"], timeout=300)
        assert done["status"] == "completed", (done, svc.read_logs())
        assert done["attempts"] == 2
        url = svc.env.get("KAZRU_DATABASE_URL") or f"sqlite:///{svc.data_dir / 'kazru.db'}"
        db = create_engine(normalize_url(url))
        with db.connect() as conn:
            rows = (
                conn.execute(
                    text("SELECT idx FROM segments WHERE job_id = :j ORDER BY idx"),
                    {"j": job["id"]},
                )
                .scalars()
                .all()
            )
            jobs = conn.execute(text("SELECT count(*) FROM jobs")).scalar()
        db.dispose()
        assert rows == list(range(len(rows))) and len(rows) == len(done["result"]["segments"])
        assert jobs == 1
        texts = [s["text"] for s in done["result"]["segments"]]
        assert len(texts) == len(set(texts))  # nothing stored twice
    finally:
        svc.stop()
