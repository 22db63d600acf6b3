"""The scaled-out mode with its parts really failing. Each test starts the part it breaks as a
process of its own (tests.fault_parts), an API and two `kazru worker` processes, then kills,
stops or fills that part while jobs are queued and running, and checks that every job
completes exactly once, that no request got a 500 (refusals are 503 with a code and
`Retry-After`), that /readyz and /metrics name the failing part while it is down, and that
nothing is left half-stored."""

from __future__ import annotations

import subprocess
import threading
import time
import uuid
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select

from kazru_stt.db.models import Job
from kazru_stt.db.session import session_scope
from tests.conftest import EVAL_DIR
from tests.fault_parts import PostgresPart, RedisPart
from tests.s3_server import start_s3
from tests.service_harness import Backend, Service, need_servers
from tests.test_operations import _json_lines, _sample

FAST_RECOVERY = {"heartbeat_stale_s": 6, "sweep_interval_s": 1, "quota_active_jobs": 100}


def _clips(eval_dir: Path, n: int) -> list[Path]:
    clips = sorted((eval_dir / "ru_lid").glob("*.mp3"))
    return (clips * (1 + n // len(clips)))[:n]


def _start(tmp_path, model_cache, backend: Backend, **settings) -> tuple[Service, list[Service]]:
    """An API and two workers, each with a data directory of its own; they share the
    database, the broker and the recordings' storage (a directory here unless `settings`
    name S3)."""
    settings.setdefault("storage_url", f"file://{tmp_path / 'recordings'}")
    api = Service(tmp_path / "api", model_cache, backend, **FAST_RECOVERY, **settings)
    workers = [
        Service(tmp_path / f"worker{i}", model_cache, backend, **FAST_RECOVERY, **settings)
        for i in range(2)
    ]
    api.start(embedded_workers=0)
    for w in workers:
        w.start_worker()
    return api, workers


def _stop(api: Service, workers: list[Service]) -> None:
    for svc in [*workers, api]:
        svc.stop()


def _upload(api: Service, path: Path) -> httpx.Response:
    with api.client() as c, path.open("rb") as fh:
        return c.post(
            "/api/v1/transcriptions", files={"file": (path.name, fh)}, data={"language": "ru"}
        )


def _wait_running(api: Service, job_ids: list[str], timeout: float = 180) -> None:
    """Until some job is being transcribed (claimed, with progress)."""
    ctx = api.context()
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with session_scope(ctx.db_url) as db:
            running = db.scalar(
                select(func.count()).where(
                    Job.id.in_(job_ids), Job.status == "processing", Job.progress > 0
                )
            )
            failed = db.scalars(select(Job.error_code).where(Job.status == "failed")).all()
        assert not failed, (failed, api.read_logs())
        if running:
            return
        time.sleep(0.2)
    raise AssertionError(f"no job started: {api.read_logs()}")


def _completions(workers: list[Service], jobs: list[str]) -> dict[str, int]:
    """How many times each job was completed, from the workers' JSON logs (a worker logs it
    just after the job's row says so: wait a little for the last lines)."""
    deadline = time.monotonic() + 15
    while True:
        done: dict[str, int] = {}
        for w in workers:
            for line in _json_lines(w.read_logs_all()):
                message = line.get("message", "")
                if line.get("job_id") and message.endswith(" s") and "completed" in message:
                    done[line["job_id"]] = done.get(line["job_id"], 0) + 1
        if set(jobs) <= set(done) or time.monotonic() > deadline:
            return done
        time.sleep(0.5)


def _all_completed_once(api: Service, workers: list[Service], jobs: list[str]) -> list[dict]:
    """Waits for the jobs; each completed, by exactly one worker. Returns their JSON."""
    finished = [api.wait(j, timeout=600) for j in jobs]
    assert [f["status"] for f in finished] == ["completed"] * len(jobs), finished
    done = _completions(workers, jobs)
    assert set(jobs) <= set(done), set(jobs) - set(done)
    assert all(count == 1 for count in done.values()), done
    return finished


def _assert_recovered(api: Service, part: str) -> None:
    """The part is usable again in /readyz and /metrics, and no request ever got a 500."""
    assert _ready_checks(api)[0] == 200
    assert _part_up(api, part) == 1
    assert 500 not in _api_statuses(api)


def _api_statuses(api: Service) -> list[int]:
    return [x["status"] for x in _json_lines(api.read_logs_all()) if "status" in x]


class Traffic:
    """A client that keeps reading (the list, one job, /readyz) while a part is down, as a
    person's page and a monitoring probe would, and records every answer."""

    def __init__(self, api: Service, job_id: str):
        self.api, self.job_id = api, job_id
        self.answers: list[httpx.Response] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        paths = ["/api/v1/transcriptions", f"/api/v1/transcriptions/{self.job_id}"]
        with self.api.client() as c:
            while not self._stop.is_set():
                for path in paths:
                    try:
                        self.answers.append(c.get(path, timeout=30))
                    except httpx.HTTPError:
                        pass  # a timeout is not an answer; the assertions are on answers
                self._stop.wait(0.5)

    def __enter__(self) -> Traffic:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join(timeout=60)

    def refusals(self) -> list[httpx.Response]:
        return [r for r in self.answers if r.status_code != 200]


def _assert_refusals_are_clean(answers: list[httpx.Response], code: str) -> None:
    for r in answers:
        assert r.status_code == 503, (r.status_code, r.text)
        assert r.json()["error"]["code"] == code, r.text
        assert int(r.headers["Retry-After"]) > 0


def _ready_checks(api: Service) -> tuple[int, dict]:
    r = httpx.get(f"{api.url}/readyz", timeout=30)
    return r.status_code, r.json()["checks"]


def _while_down(api: Service, watched_job: str, part: str, seconds: float):
    """With `part` down: reads keep coming (Traffic), two uploads are tried, /readyz and
    /metrics are asked, for `seconds` in all. Returns the uploads' answers and the traffic."""
    ends = time.monotonic() + seconds
    with Traffic(api, watched_job) as traffic:
        during = [_upload(api, clip) for clip in _clips(EVAL_DIR, 2)]
        status, checks = _ready_checks(api)
        assert status == 503 and checks[part] == "error", checks
        assert [name for name, state in checks.items() if state == "error"] == [part], checks
        assert _part_up(api, part) == 0
        time.sleep(max(0.0, ends - time.monotonic()))
    return during, traffic


def _part_up(api: Service, part: str) -> float:
    text = httpx.get(
        f"{api.url}/metrics", headers={"Authorization": f"Bearer {api.key}"}, timeout=30
    ).text
    return _sample(text, "kazru_part_up", part=part)


@pytest.fixture
def redis_part(tmp_path):
    part = RedisPart(tmp_path / "redis")
    part.directory.mkdir()
    part.start()
    yield part
    part.stop()


def test_redis_killed_and_restarted_empty(redis_part, tmp_path, model_cache, eval_dir):
    need_servers(postgres=True)
    backend = Backend.scaled()
    # The broker and the rate-limit counters both in the Redis that will die.
    backend.env["KAZRU_BROKER_URL"] = redis_part.url
    api, workers = _start(tmp_path, model_cache, backend, rate_limit_storage=redis_part.url)
    try:
        jobs = [_upload(api, clip).json()["id"] for clip in _clips(eval_dir, 8)]
        _wait_running(api, jobs)
        redis_part.kill()  # every queued message is gone with it
        during, traffic = _while_down(api, jobs[0], "queue", 5)
        # The job is in the database and its recording in storage: accepted; the sweep
        # sends its message once the broker is back.
        assert [r.status_code for r in during] == [202, 202], [r.text for r in during]
        jobs += [r.json()["id"] for r in during]
        assert not traffic.refusals(), [r.text for r in traffic.refusals()]
        redis_part.start()  # empty

        _all_completed_once(api, workers, jobs)
        _assert_recovered(api, "queue")
        print(f"Redis restarted empty: {len(jobs)} jobs, each completed once")
    finally:
        _stop(api, workers)
        backend.close()


@pytest.fixture
def postgres_part():
    part = PostgresPart()
    part.start()
    yield part
    part.remove()


def _own_broker() -> tuple[str, callable]:
    """A Redis db number of the machine's Redis for this test, emptied after."""
    import redis

    from tests.service_harness import REDIS_URL

    need_servers(redis=True)
    number = 1 + int(uuid.uuid4().int % 15)
    url = f"{REDIS_URL}/{number}"
    client = redis.Redis.from_url(url)
    client.flushdb()
    return url, client.flushdb


def _recordings(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


def test_postgres_restarted_mid_job(postgres_part, tmp_path, model_cache, eval_dir):
    broker, empty_broker = _own_broker()
    backend = Backend("faults", {"KAZRU_DATABASE_URL": postgres_part.url,
                                 "KAZRU_BROKER_URL": broker}, [empty_broker])  # fmt: skip
    api, workers = _start(tmp_path, model_cache, backend)
    try:
        jobs = [_upload(api, clip).json()["id"] for clip in _clips(eval_dir, 8)]
        _wait_running(api, jobs)
        stored_before = len(_recordings(tmp_path / "recordings"))
        postgres_part.kill()  # every pooled connection breaks
        during, traffic = _while_down(api, jobs[0], "database", 8)
        _assert_refusals_are_clean(during, "database_unavailable")
        _assert_refusals_are_clean(traffic.refusals(), "database_unavailable")
        assert traffic.refusals(), "the reads during the outage were all answered?"
        # A refused upload leaves no recording behind.
        assert len(_recordings(tmp_path / "recordings")) == stored_before
        postgres_part.start()

        # The API recovers by itself: its pool throws the broken connections away.
        deadline = time.monotonic() + 30
        while _ready_checks(api)[0] != 200:
            assert time.monotonic() < deadline, api.read_logs()
            time.sleep(0.5)
        finished = _all_completed_once(api, workers, jobs)
        # The jobs that were being transcribed waited for the database to store their
        # results instead of starting over.
        assert all(f["attempts"] == 1 for f in finished), [f["attempts"] for f in finished]
        _assert_recovered(api, "database")
        print(f"PostgreSQL restarted: {len(jobs)} jobs, each completed once")
    finally:
        _stop(api, workers)
        backend.close()


S3_OUTAGE_S = 60


def test_s3_unreachable_for_a_minute(tmp_path, model_cache, eval_dir):
    need_servers(postgres=True, redis=True)
    backend = Backend.scaled()
    s3 = start_s3(tmp_path / "seaweed")
    s3_settings = {k[6:].lower(): v for k, v in s3.env().items()}
    api, workers = _start(tmp_path, model_cache, backend, **s3_settings)
    try:
        jobs = [_upload(api, clip).json()["id"] for clip in _clips(eval_dir, 10)]
        doomed = _upload(api, _clips(eval_dir, 1)[0]).json()["id"]  # deleted during the outage
        leaving = api.add_user("leaving@example.com")  # erases their account during it
        leaving_job = api.upload(_clips(eval_dir, 1)[0], key=leaving, language="ru")["id"]
        _wait_running(api, jobs)
        s3.kill()
        with api.client() as c:
            refused_delete = c.delete(f"/api/v1/transcriptions/{doomed}")
            refused_audio = c.get(f"/api/v1/transcriptions/{jobs[0]}/audio")
        with api.client(leaving) as c:
            refused_erasure = c.delete("/api/v1/me/data")
        during, traffic = _while_down(api, jobs[0], "storage", S3_OUTAGE_S)
        _assert_refusals_are_clean(
            [*during, refused_delete, refused_audio, refused_erasure], "storage_unavailable"
        )
        assert not traffic.refusals(), [r.text for r in traffic.refusals()]
        s3.restart()

        # The jobs that started during the outage waited for their recordings.
        finished = _all_completed_once(api, workers, jobs)
        assert all(f["attempts"] == 1 for f in finished), [f["attempts"] for f in finished]
        # The refused delete and erasure changed nothing; repeated now, they remove the files.
        with api.client() as c:
            assert c.get(f"/api/v1/transcriptions/{doomed}").status_code == 200
            assert c.delete(f"/api/v1/transcriptions/{doomed}").status_code == 204
        assert api.wait(leaving_job, timeout=300)["status"] == "completed"
        with api.client(leaving) as c:
            assert c.delete("/api/v1/me/data").status_code == 204
        uploads = [k for k in s3.keys() if "/uploads/" in k]
        assert len(uploads) == len(jobs), uploads  # nothing from the refused uploads either
        _assert_recovered(api, "storage")
        print(f"S3 down {S3_OUTAGE_S} s: {len(jobs)} jobs, each completed once")
    finally:
        _stop(api, workers)
        s3.stop()
        backend.close()


@pytest.fixture
def small_disk(tmp_path):
    """A 16 MB file system of its own (tmpfs) to fill; skipped where mounting is not allowed
    (only root may mount; CI runs as root)."""
    mount = tmp_path / "disk"
    mount.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=16m", "tmpfs", str(mount)], capture_output=True
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a small file system here: {done.stderr.decode()[:200]}")
    yield mount
    subprocess.run(["umount", "-l", str(mount)], check=False)


def _fill(directory: Path) -> Path:
    filler = directory / "filler"
    with filler.open("wb") as out:
        try:
            while True:
                out.write(b"\0" * (256 * 1024))
                out.flush()
        except OSError:
            pass
    return filler


def test_storage_disk_full(small_disk, tmp_path, model_cache, eval_dir):
    need_servers(postgres=True, redis=True)
    backend = Backend.scaled()
    recordings = small_disk / "recordings"
    api, workers = _start(tmp_path, model_cache, backend, storage_url=f"file://{recordings}")
    try:
        jobs = [_upload(api, clip).json()["id"] for clip in _clips(eval_dir, 6)]
        leaving = api.add_user("leaving@example.com")  # erases their account on a full disk
        jobs.append(api.upload(_clips(eval_dir, 1)[0], key=leaving, language="ru")["id"])
        _wait_running(api, jobs)
        filler = _fill(small_disk)
        refused = [_upload(api, clip) for clip in _clips(eval_dir, 2)]
        for r in refused:
            assert r.status_code == 507, r.text
            assert r.json()["error"]["code"] == "storage_full"
            assert int(r.headers["Retry-After"]) > 0
        status, checks = _ready_checks(api)
        assert (status, checks["storage"]) == (503, "error")
        assert _part_up(api, "storage") == 0
        # The jobs already stored go on; nothing half-written is left by the refusals.
        _all_completed_once(api, workers, jobs)
        assert not list(recordings.rglob(".part-*"))
        assert len(_recordings(recordings)) == len(jobs)
        # Erasing frees space: a full disk is no reason to refuse it.
        with api.client(leaving) as c:
            assert c.delete("/api/v1/me/data").status_code == 204
        jobs.pop()
        assert len(_recordings(recordings)) == len(jobs)

        filler.unlink()
        again = _upload(api, _clips(eval_dir, 1)[0])
        assert again.status_code == 202, again.text
        jobs.append(again.json()["id"])
        _all_completed_once(api, workers, jobs)
        _assert_recovered(api, "storage")
        print(f"storage full: {len(jobs)} jobs, each completed once; 2 uploads refused (507)")
    finally:
        _stop(api, workers)
        backend.close()
