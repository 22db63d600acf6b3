"""The scaled-out topology with real processes: the machine's PostgreSQL and Redis,
SeaweedFS (S3) on 127.0.0.1, two API processes and three `kazru worker` processes, each
with a data directory of its own (they share only database, broker and bucket). 31 uploads
spread over both APIs all complete, each processed once; a worker SIGKILLed mid-job and its
job still completes; /metrics shows the queue and the job counters move; the upload's JSON
log line and the worker's carry the same request id."""

from __future__ import annotations

import concurrent.futures
import os
import signal
import time

import httpx
import pytest
from sqlalchemy import select

from kazru_stt.db.models import Job
from kazru_stt.db.session import session_scope
from tests.s3_server import start_s3
from tests.service_harness import (
    Backend,
    Service,
    free_port,
    need_servers,
)
from tests.test_operations import _json_lines, _sample
from tests.test_recovery import long_russian


@pytest.fixture
def cluster(tmp_path, model_cache, engine):
    need_servers(postgres=True, redis=True)
    backend = Backend.scaled()
    s3 = start_s3(tmp_path / "seaweed")
    shared = {k[6:].lower(): v for k, v in s3.env().items()}
    shared.update(heartbeat_stale_s=6, sweep_interval_s=1, quota_active_jobs=100)
    apis = [Service(tmp_path / f"api{i}", model_cache, backend, **shared) for i in range(2)]
    workers = [
        Service(tmp_path / f"worker{i}", model_cache, backend, metrics_port=free_port(), **shared)
        for i in range(3)
    ]
    try:
        apis[0].start(embedded_workers=0)
        apis[1].key = apis[0].key  # one database: the admin exists already
        apis[1].start(embedded_workers=0)
        for w in workers:
            w.start_worker()
        yield apis, workers, s3
    finally:
        for svc in [*workers, *apis]:
            svc.stop()
        s3.stop()
        backend.close()


def _metrics(url: str, key: str | None = None) -> str:
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    return httpx.get(f"{url}/metrics", headers=headers, timeout=10).text


def _upload(api: Service, path, request_id: str) -> dict:
    with api.client() as c, path.open("rb") as fh:
        r = c.post(
            "/api/v1/transcriptions",
            files={"file": (path.name, fh)},
            data={"language": "ru"},
            headers={"X-Request-ID": request_id},
        )
    assert r.status_code == 202, r.text
    return r.json()


def test_two_apis_three_workers_one_killed(cluster, eval_dir, tmp_path):
    apis, workers, s3 = cluster
    key = apis[0].key
    deadline = time.monotonic() + 120
    while _sample(_metrics(apis[1].url, key), "kazru_workers_live") < 3:
        assert time.monotonic() < deadline, [w.read_logs() for w in workers]
        time.sleep(0.5)

    long_job = _upload(apis[0], long_russian(eval_dir, tmp_path / "long.wav"), "scale-long")
    clips = sorted((eval_dir / "ru").glob("*.wav")) + sorted((eval_dir / "ru_lid").glob("*.mp3"))
    clips = (clips * 3)[:30]
    with concurrent.futures.ThreadPoolExecutor(6) as pool:
        short_jobs = list(
            pool.map(
                lambda i: _upload(apis[i % 2], clips[i], f"scale-{i}"),
                range(len(clips)),
            )
        )

    # The queue is seen waiting, from either API (both read the same database).
    depths = [_sample(_metrics(apis[i % 2].url, key), "kazru_queue_depth") for i in range(4)]
    assert max(depths) > 0, depths

    # SIGKILL the worker that holds the long job once it has started on it.
    ctx = apis[0].context()
    deadline = time.monotonic() + 120
    holder = None
    while holder is None and time.monotonic() < deadline:
        with session_scope(ctx.db_url) as db:
            row = db.execute(
                select(Job.status, Job.worker_id, Job.progress).where(Job.id == long_job["id"])
            ).one()
        if row.status == "processing" and row.progress > 0:
            pid = int(row.worker_id.rsplit(":", 1)[1])
            holder = next(w for w in workers if w.workers[0].pid == pid)
        time.sleep(0.2)
    assert holder is not None, "the long job never started"
    os.killpg(holder.workers[0].pid, signal.SIGKILL)
    holder.workers[0].wait()
    survivors = [w for w in workers if w is not holder]

    finished = [apis[0].wait(j["id"], timeout=900) for j in [long_job, *short_jobs]]
    assert [f["status"] for f in finished] == ["completed"] * 31, [
        (f["id"], f["status"], f.get("error")) for f in finished if f["status"] != "completed"
    ]
    assert finished[0]["attempts"] == 2  # taken over after the kill
    assert all(f["attempts"] == 1 for f in finished[1:])

    # Each job completed exactly once across the workers' logs, and nothing else ran twice.
    completions: dict[str, int] = {}
    for w in workers:
        for line in _json_lines(w.read_logs_all()):
            if (
                line.get("job_id")
                and line.get("message", "").endswith(" s")
                and "completed" in line["message"]
            ):
                completions[line["job_id"]] = completions.get(line["job_id"], 0) + 1
    assert completions == {f["id"]: 1 for f in finished}

    # Counters: jobs created on the two APIs add up; workers report what they finished.
    created = sum(_sample(_metrics(api.url, key), "kazru_jobs_created_total") for api in apis)
    assert created == 31
    by_workers = sum(
        _sample(
            _metrics(f"http://127.0.0.1:{w.env['KAZRU_METRICS_PORT']}"),
            "kazru_jobs_finished_total",
            status="completed",
        )
        for w in survivors
    )
    by_holder = sum(
        1
        for line in _json_lines(holder.read_logs_all())
        if line.get("job_id") and "completed" in line.get("message", "")
    )
    assert by_workers + by_holder == 31
    final = _metrics(apis[1].url, key)
    assert _sample(final, "kazru_jobs", status="completed") == 31
    assert _sample(final, "kazru_queue_depth") == 0

    # One request id from the upload on the API to the worker that finished the job.
    api_lines = _json_lines(apis[0].read_logs_all())
    assert any(
        x.get("request_id") == "scale-long" and x.get("route") == "/api/v1/transcriptions"
        for x in api_lines
    )
    worker_lines = [x for w in survivors for x in _json_lines(w.read_logs_all())]
    assert any(
        x.get("request_id") == "scale-long" and x.get("job_id") == long_job["id"]
        for x in worker_lines
    )

    # The uploads are in the bucket, and the surviving workers kept no copies.
    assert len([k for k in s3.keys() if "/uploads/" in k]) == 31
    for w in survivors:
        cache = w.data_dir / "cache"
        assert not cache.exists() or not [p for p in cache.rglob("*") if p.is_file()]
