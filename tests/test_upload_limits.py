"""No user can freeze the service or get past their quotas with uploads, shown against a real
`kazru serve`: stalled uploads hold no thread that serves others and end after
KAZRU_UPLOAD_IDLE_TIMEOUT_S, uploads in progress count against the active-jobs quota, racing
uploads cannot pass it together, and deleting jobs gives no minutes back."""

from __future__ import annotations

import concurrent.futures
import socket
import threading
import time

import httpx
import pytest

from tests.service_harness import Backend, Service

IDLE_S = 3


@pytest.fixture(scope="module")
def svc(tmp_path_factory, model_cache, engine):
    """A service without workers (every job stays queued) and a short upload idle timeout."""
    service = Service(
        tmp_path_factory.mktemp("svc-uploads"),
        model_cache,
        Backend.embedded(),
        upload_idle_timeout_s=str(IDLE_S),
        max_upload_mb="200",
        rate_limit_per_key="100000/minute",
        rate_limit_per_address="100000/minute",
        rate_limit_uploads="10000/minute",
    )
    service.start(embedded_workers=0)
    yield service
    service.stop()


def _user(svc: Service, email: str, **quotas) -> str:
    key = svc.add_user(email)
    if quotas:
        with svc.client() as c:
            me = c.get("/api/v1/me", headers={"Authorization": f"Bearer {key}"}).json()
            r = c.patch(f"/api/v1/admin/users/{me['id']}", json=quotas)
            assert r.status_code == 200, r.text
    return key


def _stall(svc: Service, key: str) -> socket.socket:
    """An upload that declares 100 MB, sends the file part's head and 1000 bytes, then
    nothing."""
    head = (
        "POST /api/v1/transcriptions HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        f"Authorization: Bearer {key}\r\n"
        "Content-Type: multipart/form-data; boundary=xyz\r\n"
        "Content-Length: 100000000\r\n\r\n"
    ).encode()
    part = b'--xyz\r\nContent-Disposition: form-data; name="file"; filename="a.wav"\r\n\r\n'
    s = socket.create_connection(("127.0.0.1", svc.port), timeout=60)
    s.sendall(head + part + b"\0" * 1000)
    return s


def _answer(s: socket.socket) -> bytes:
    """What the server says before it closes the connection."""
    data = b""
    try:
        while chunk := s.recv(65536):
            data += chunk
    except (ConnectionResetError, TimeoutError):
        pass
    s.close()
    return data


def _part_files(svc: Service) -> list:
    return list((svc.data_dir / "storage").rglob("*.part"))


def test_45_stalled_uploads_from_one_user_freeze_nobody(svc):
    stalled_key = _user(svc, "staller@example.com")  # the tests' default quota: 100 jobs
    other_key = _user(svc, "other@example.com")
    sockets = [_stall(svc, stalled_key) for _ in range(45)]
    # Another user is served throughout (before, the API's 40 threads were all waiting on
    # stalled clients and these timed out after 10 s).
    with svc.client(other_key) as c:
        c.timeout = httpx.Timeout(5.0)
        for _ in range(5):
            assert c.get("/api/v1/me").status_code == 200
            assert c.get("/api/v1/transcriptions").status_code == 200
            time.sleep(0.5)
    # Every stalled upload is ended with 408 (the upload pool's 16 threads take them in
    # turn), and nothing of them is left in storage.
    with concurrent.futures.ThreadPoolExecutor(45) as pool:
        answers = list(pool.map(_answer, sockets))
    assert all(a.startswith(b"HTTP/1.1 408") for a in answers), [a[:60] for a in answers]
    assert b"upload_timeout" in answers[0]
    assert _part_files(svc) == []


def test_uploads_in_progress_count_against_the_active_jobs_quota(svc, eval_dir):
    key = _user(svc, "two-at-once@example.com", quota_active_jobs=2)
    held = [_stall(svc, key), _stall(svc, key)]
    time.sleep(0.5)
    with svc.client(key) as c:
        me = c.get("/api/v1/me").json()
        assert me["usage"]["uploading"] == 2
        clip = eval_dir / "ru" / "tinkoff_sample_4.wav"
        r = c.post("/api/v1/transcriptions", files={"file": (clip.name, clip.read_bytes())})
        assert r.status_code == 429 and r.json()["error"]["code"] == "quota_exceeded"
        assert r.headers["Retry-After"]
        for s in held:
            assert _answer(s).startswith(b"HTTP/1.1 408")
        r = c.post("/api/v1/transcriptions", files={"file": (clip.name, clip.read_bytes())})
        assert r.status_code == 202, r.text


def test_12_racing_uploads_get_at_most_the_quota(svc, eval_dir):
    key = _user(svc, "racer@example.com", quota_active_jobs=5)
    body = (eval_dir / "ru" / "tinkoff_sample_4.wav").read_bytes()
    start = threading.Barrier(12)

    def upload(_):
        with svc.client(key) as c:
            start.wait()
            return c.post("/api/v1/transcriptions", files={"file": ("a.wav", body)}).status_code

    with concurrent.futures.ThreadPoolExecutor(12) as pool:
        codes = list(pool.map(upload, range(12)))
    assert sorted(set(codes)) == [202, 429], codes
    assert codes.count(202) == 5


def test_deleting_jobs_gives_no_minutes_back(svc, eval_dir):
    clip = eval_dir / "ru" / "tinkoff_sample_4.wav"  # 3.5 s
    key = _user(svc, "minutes@example.com", quota_monthly_minutes=0.15)  # 9 s
    with svc.client(key) as c:
        ids = []
        for _ in range(2):
            r = c.post("/api/v1/transcriptions", files={"file": (clip.name, clip.read_bytes())})
            assert r.status_code == 202, r.text
            ids.append(r.json()["id"])
        r = c.post("/api/v1/transcriptions", files={"file": (clip.name, clip.read_bytes())})
        assert r.status_code == 429 and r.json()["error"]["details"]["quota"] == "monthly_minutes"
        for job_id in ids:
            assert c.delete(f"/api/v1/transcriptions/{job_id}").status_code in (200, 204)
        r = c.post("/api/v1/transcriptions", files={"file": (clip.name, clip.read_bytes())})
        assert r.status_code == 429, r.text
        assert c.get("/api/v1/me").json()["usage"]["minutes_this_month"] >= 0.11
