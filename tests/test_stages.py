"""Recognition and diarization as stages apart (KAZRU_STAGES_APART), on real processes over
PostgreSQL, Redis and SeaweedFS: an API, a `kazru worker --stages asr` and a
`kazru worker --stages diarization`. A diarized upload's text can be read and exported
before its speakers arrive; each stage is run by its kind of worker (the job's stage log
says which); a diarization worker killed during its stage leaves the job to the sweep,
and recognition is not run again."""

from __future__ import annotations

import os
import signal
import time

import httpx
import pytest

from tests.service_harness import Backend, Service, free_port, need_servers
from tests.test_diarization import conversation


@pytest.fixture
def cluster(model_cache, tmp_path):
    need_servers(postgres=True, redis=True)
    from tests.s3_server import start_s3

    s3 = start_s3(tmp_path / "seaweed")
    backend = Backend.scaled()
    env = {k[6:].lower(): v for k, v in s3.env("stages").items()}
    svc = Service(
        tmp_path / "svc",
        model_cache,
        backend,
        stages_apart="true",
        heartbeat_stale_s=6,
        sweep_interval_s=1,
        **env,
    )
    try:
        svc.start(embedded_workers=0)
        yield svc
    finally:
        svc.stop()
        backend.close()
        s3.stop()


def _poll(svc: Service, job_id: str, done, timeout: float = 300.0) -> dict:
    deadline = time.monotonic() + timeout
    with svc.client() as c:
        while time.monotonic() < deadline:
            job = c.get(f"/api/v1/transcriptions/{job_id}").json()
            if done(job):
                return job
            time.sleep(0.2)
    raise AssertionError(f"not reached in {timeout} s: {job}\n{svc.read_logs()}")


def _workers(svc: Service) -> dict[str, dict]:
    with svc.client() as c:
        return {w["id"]: w for w in c.get("/api/v1/admin/workers").json()["workers"]}


def _by_pid(workers: dict[str, dict], pid: int) -> dict:
    return next(w for wid, w in workers.items() if wid.endswith(f":{pid}"))


def test_stages_apart_on_workers_of_their_own(cluster, eval_dir, tmp_path):
    svc = cluster
    metrics_port = free_port()
    asr = svc.start_worker("--stages", "asr", KAZRU_METRICS_PORT=str(metrics_port))
    path, _truth = conversation(eval_dir, tmp_path, ["vosk", "riva"])
    job_id = svc.upload(path, language="ru", diarize="true")["id"]

    # No diarization worker yet: the text is there, readable and exportable, speakers not.
    text_only = _poll(svc, job_id, lambda j: j["status"] == "completed")
    assert text_only["stage"] == "diarization"
    segments = text_only["result"]["segments"]
    assert segments and all(s["speaker"] is None for s in segments)
    assert any(s["text"] for s in segments)
    with svc.client() as c:
        export = c.get(f"/api/v1/transcriptions/{job_id}/export", params={"format": "txt"})
        assert export.status_code == 200 and export.text.strip()
    assert [s["stage"] for s in text_only["stages_run"]] == ["recognition"]
    with svc.client() as c, c.stream("GET", f"/api/v1/transcriptions/{job_id}/events") as events:
        first = next(line for line in events.iter_lines() if line.startswith("data:"))
        assert '"status": "completed", "stage": "diarization"' in first  # not the end yet

    diarizer = svc.start_worker("--stages", "diarization")
    done = _poll(svc, job_id, lambda j: j["stage"] == "done")
    assert len({s["speaker"] for s in done["result"]["segments"]}) == 2
    assert [s["text"] for s in done["result"]["segments"]] == [s["text"] for s in segments]
    ran = {s["stage"]: s["worker"] for s in done["stages_run"]}
    assert ran["recognition"].endswith(f":{asr.pid}")
    assert ran["diarization"].endswith(f":{diarizer.pid}")
    with svc.client() as c:  # the first speakers are the machine's: nothing to undo
        assert c.get(f"/api/v1/transcriptions/{job_id}/history").json()["items"] == []

    # Each kind of worker holds only its models (at its beat, every 15 s).
    deadline = time.monotonic() + 60
    while True:
        workers = _workers(svc)
        heard, spoke = _by_pid(workers, asr.pid), _by_pid(workers, diarizer.pid)
        if spoke["models"] or time.monotonic() > deadline:
            break
        time.sleep(1)
    assert heard["stages"] == ["recognition"] and spoke["stages"] == ["diarization"]
    assert spoke["models"] and not any("whisper" in m for m in spoke["models"]), spoke
    assert any("whisper" in m for m in heard["models"]), heard
    assert not any(m in heard["models"] for m in spoke["models"]), (heard, spoke)
    for name, proc in (("asr", asr), ("diarization", diarizer)):
        with open(f"/proc/{proc.pid}/status") as fh:
            rss = next(line for line in fh if line.startswith("VmRSS"))
        print(f"{name} worker {rss.strip()}")

    # SIGKILL of the diarization worker during its stage: the sweep sends the stage again,
    # a new diarization worker runs it; recognition ran once.
    path, _truth = conversation(eval_dir, tmp_path, ["golos", "riva", "vosk"])
    second = svc.upload(path, language="ru", diarize="true")["id"]
    _poll(svc, second, lambda j: j["stage"] == "diarization" and j["status"] == "completed")
    os.kill(diarizer.pid, signal.SIGKILL)
    diarizer.wait()
    svc.start_worker("--stages", "diarization")
    finished = _poll(svc, second, lambda j: j["stage"] == "done")
    assert finished["attempts"] == 1
    assert [s["stage"] for s in finished["stages_run"]] == ["recognition", "diarization"]
    assert all(s["speaker"] for s in finished["result"]["segments"] if s["text"])
    asr_log = (svc.logs / "worker-0.log").read_text(errors="replace")
    assert asr_log.count(f"job {second} completed") == 1, asr_log[-3000:]
    # Two jobs, two recognitions: the killed stage did not cost another.
    metrics = httpx.get(f"http://127.0.0.1:{metrics_port}/metrics", timeout=10).text
    assert 'kazru_recognitions_total{engine="local"} 2.0' in metrics, metrics[-2000:]


def test_a_stage_worker_needs_stages_apart(model_cache, tmp_path):
    import subprocess
    import sys

    svc = Service(tmp_path / "svc", model_cache, Backend.embedded())
    done = subprocess.run(
        [sys.executable, "-m", "kazru_stt.cli.main", "worker", "--stages", "asr"],
        env=svc.env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2 and "KAZRU_STAGES_APART" in done.stderr
