"""A service that survives load and hostile clients, shown on real `kazru serve` processes:
early 413s, no hang under streams, waits and pollers, SSRF-safe webhooks, a dripping
receiver, SIGTERM, no 500s, rate limits shared through Redis, no secrets in logs."""

from __future__ import annotations

import concurrent.futures
import http.server
import os
import signal
import socket
import subprocess
import threading
import time

import httpx
import pytest

from tests.service_harness import REDIS_URL, Backend, Service, free_port, need_servers


@pytest.fixture(scope="module")
def idle(tmp_path_factory, model_cache, engine):
    """A service without workers: every job stays queued, so streams and waits stay open."""
    svc = Service(
        tmp_path_factory.mktemp("svc-idle"),
        model_cache,
        Backend.embedded(),
        max_upload_mb="1",
        sse_max_per_user="100",
        sync_max_concurrent="60",
        sync_max_duration_s="60",
        rate_limit_per_key="100000/minute",
        rate_limit_per_address="100000/minute",
        rate_limit_uploads="10000/minute",
    )
    svc.start(embedded_workers=0)
    yield svc
    svc.stop()
    # Nothing secret reached the log, whatever the tests above sent.
    logs = svc.read_logs()
    for secret in [svc.key, "hunter2-password", "tok3n-in-url", "user:pass"]:
        assert secret not in logs


def _raw(port: int, head: bytes, body_chunks, pause: float = 0.0) -> tuple[bytes, bool]:
    """Send a request by hand; returns what came back and whether it came before we had
    sent all we meant to send."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.sendall(head)
        early = False
        s.setblocking(False)
        for chunk in body_chunks:
            try:
                if s.recv(1, socket.MSG_PEEK):
                    early = True
                    break
            except BlockingIOError:
                pass
            try:
                s.sendall(chunk)
            except (BlockingIOError, BrokenPipeError, ConnectionResetError):
                early = True
                break
            time.sleep(pause)
        s.setblocking(True)
        data = b""
        try:
            while chunk := s.recv(65536):
                data += chunk
                if b"\r\n\r\n" in data and b"}}" in data:
                    break
        except (ConnectionResetError, TimeoutError):
            pass
        return data, early


def test_upload_over_the_limit_gets_413_before_the_body_ends(idle, eval_dir):
    head = (
        "POST /api/v1/transcriptions HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        f"Authorization: Bearer {idle.key}\r\n"
        "Content-Type: multipart/form-data; boundary=xyz\r\n"
        "Content-Length: 3000000000\r\n\r\n"
    ).encode()
    data, _ = _raw(idle.port, head, [])
    assert data.startswith(b"HTTP/1.1 413") and b"payload_too_large" in data
    # No Content-Length (chunked): counted as it arrives, refused while still arriving.
    head = (
        "POST /api/v1/transcriptions HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        f"Authorization: Bearer {idle.key}\r\n"
        "Content-Type: multipart/form-data; boundary=xyz\r\n"
        "Transfer-Encoding: chunked\r\n\r\n"
    ).encode()
    part = b'--xyz\r\nContent-Disposition: form-data; name="file"; filename="a.wav"\r\n\r\n'
    chunk = 256 * 1024
    pieces = [b"%x\r\n%s\r\n" % (len(part), part)]
    pieces += [b"%x\r\n" % chunk + b"\0" * chunk + b"\r\n"] * 40  # 10 MB meant; limit 1 MB
    data, early = _raw(idle.port, head, pieces, pause=0.05)
    assert data.startswith(b"HTTP/1.1 413"), data[:200]
    assert early  # the answer came while we were still sending
    # JSON bodies are capped too (256 KB by default).
    with idle.client() as c:
        r = c.patch("/api/v1/transcriptions/x/segments/0", json={"text": "я" * 300_000})
        assert r.status_code == 413


def test_health_stays_fast_with_60_streams_and_60_sync_waits_open(idle, eval_dir):
    clip = eval_dir / "ru" / "tinkoff_sample_4.wav"
    job = idle.upload(clip)  # stays queued: no worker
    stop = threading.Event()
    opened = threading.Semaphore(0)

    def stream():
        with (
            idle.client() as c,
            c.stream("GET", f"/api/v1/transcriptions/{job['id']}/events", timeout=120) as r,
        ):
            assert r.status_code == 200
            opened.release()
            for _ in r.iter_lines():
                if stop.is_set():
                    return

    def sync_call():
        with idle.client() as c, clip.open("rb") as fh:
            opened.release()
            try:
                c.post(
                    "/v1/audio/transcriptions",
                    files={"file": ("a.wav", fh)},
                    data={"model": "whisper-1"},
                    timeout=30,
                )
            except httpx.HTTPError:
                pass

    pool = concurrent.futures.ThreadPoolExecutor(120)
    futures = [pool.submit(stream) for _ in range(60)] + [pool.submit(sync_call) for _ in range(60)]
    for _ in range(120):
        assert opened.acquire(timeout=60)
    time.sleep(2)  # the sync calls are now waiting on their queued jobs
    worst = 0.0
    for _ in range(10):
        started = time.monotonic()
        assert httpx.get(f"{idle.url}/healthz", timeout=5).status_code == 200
        with idle.client() as c:
            assert c.get("/api/v1/me").status_code == 200
        worst = max(worst, time.monotonic() - started)
        time.sleep(0.2)
    stop.set()
    pool.shutdown(wait=False, cancel_futures=True)
    assert worst < 1.0, worst
    for f in futures[60:]:  # the waits ended with their clients (timeouts), nothing hung
        f.result(timeout=60)
    with idle.client() as c:
        started = time.monotonic()
        assert c.get("/healthz").status_code == 200
        assert time.monotonic() - started < 1.0
        queued = c.get("/api/v1/transcriptions", params={"status": "canceled"}).json()
        assert queued["total"] >= 1  # a wait whose client left canceled its job


def test_100_concurrent_pollers_then_the_service_answers_at_once(idle, eval_dir):
    job = idle.upload(eval_dir / "ru" / "tinkoff_sample_4.wav")
    errors: list[str] = []

    def poll():
        with idle.client() as c:
            for _ in range(20):
                r = c.get(f"/api/v1/transcriptions/{job['id']}", timeout=30)
                if r.status_code != 200:
                    errors.append(r.text)

    with concurrent.futures.ThreadPoolExecutor(100) as pool:
        list(pool.map(lambda _: poll(), range(100)))
    assert not errors
    started = time.monotonic()
    assert httpx.get(f"{idle.url}/healthz", timeout=5).status_code == 200
    assert time.monotonic() - started < 1.0


BLOCKED = [
    "http://127.0.0.1:9/hook",
    "http://localhost/hook",
    "http://0x7f000001/hook",
    "http://127.1/hook",
    "http://[::1]/hook",
    "http://[::ffff:127.0.0.1]/hook",
    "HTTP://10.0.0.1/hook",
    "http://169.254.169.254/latest/meta-data",
    "http://100.64.0.1/",
    "http://0.0.0.0/",
    "http://224.0.0.1/",
    "http://user:pass@192.168.1.1/?token=tok3n-in-url",
]


def test_webhooks_to_private_addresses_are_refused_at_submit(idle, eval_dir):
    clip = eval_dir / "ru" / "tinkoff_sample_4.wav"
    with idle.client() as c:
        for url in [*BLOCKED, "ftp://example.com/", "not a url", "http:///nohost"]:
            with clip.open("rb") as fh:
                r = c.post(
                    "/api/v1/transcriptions",
                    files={"file": ("a.wav", fh)},
                    data={"webhook_url": url},
                )
            assert r.status_code == 422, (url, r.text)
            assert r.json()["error"]["code"] in ("webhook_url_blocked", "invalid_webhook_url")


def test_sync_duration_limit_does_not_trust_the_header(idle, tmp_path):
    from tests.conftest import write_undeclared_mkv

    path = write_undeclared_mkv(tmp_path / "long.mkv", 70)  # no duration in its header
    with idle.client() as c, path.open("rb") as fh:
        r = c.post(
            "/v1/audio/transcriptions",
            files={"file": ("long.mkv", fh)},
            data={"model": "whisper-1"},
        )
    assert r.status_code == 422 and r.json()["error"]["code"] == "duration_limit"


def test_none_of_the_old_500s(idle, eval_dir, tmp_path):
    with idle.client() as c:
        r = c.get("/api/v1/transcriptions", params={"offset": 2**63})
        assert r.status_code == 422
        jid = c.get("/api/v1/transcriptions").json()["items"][0]["id"]
        r = c.patch(f"/api/v1/transcriptions/{jid}/segments/{2**63}", json={"text": "x"})
        assert r.status_code == 422
        r = c.get("/api/v1/transcriptions/" + "a" * 5000)
        assert r.status_code in (404, 422)
        created = c.get("/api/v1/transcriptions").json()["items"][0]["created_at"]
        assert created.endswith(("Z", "+00:00"))  # SQLite kept the zone
    # Storage that cannot be written: 503 storage_unavailable, and /readyz says which part
    # without paths or exception text.
    storage = idle.data_dir / "storage"
    moved = idle.data_dir / "storage-away"
    storage.rename(moved)
    storage.write_text("not a directory")
    try:
        with idle.client() as c, (eval_dir / "ru" / "tinkoff_sample_4.wav").open("rb") as fh:
            r = c.post("/api/v1/transcriptions", files={"file": ("a.wav", fh)})
            assert r.status_code == 503 and r.json()["error"]["code"] == "storage_unavailable"
            assert "/" not in r.json()["error"]["message"]
            ready = c.get("/readyz")
            assert ready.status_code == 503 and ready.json()["checks"]["storage"] == "error"
            assert "/" not in ready.text
    finally:
        storage.unlink()
        moved.rename(storage)


def test_rate_limit_answers_429_with_retry_after(tmp_path, model_cache, engine):
    svc = Service(tmp_path / "svc", model_cache, Backend.embedded(), rate_limit_per_key="5/minute")
    svc.start(embedded_workers=0)
    try:
        with svc.client() as c:
            codes = [c.get("/api/v1/me").status_code for _ in range(8)]
            assert codes[:5] == [200] * 5 and codes[5:] == [429] * 3
            r = c.get("/api/v1/me")
            assert int(r.headers["retry-after"]) >= 1
            assert r.json()["error"]["code"] == "rate_limited"
    finally:
        svc.stop()


def test_two_api_processes_share_one_limit_through_redis(tmp_path, model_cache, engine):
    need_servers(redis=True)
    import redis

    db_number = 1 + int.from_bytes(os.urandom(2), "big") % 15
    url = f"{REDIS_URL}/{db_number}"
    redis.Redis.from_url(url).flushdb()
    shared = {"rate_limit_storage": url, "rate_limit_per_key": "10/minute"}
    first = Service(tmp_path / "a", model_cache, Backend.embedded(), **shared)
    first.start(embedded_workers=0)
    second = Service(tmp_path / "a", model_cache, Backend.embedded(), **shared)
    second.key = first.key  # the same install (one database), another API process
    second.start(embedded_workers=0)
    try:
        codes = []
        for i in range(16):
            with (first if i % 2 else second).client() as c:
                codes.append(c.get("/api/v1/me").status_code)
        assert codes.count(200) == 10 and codes.count(429) == 6, codes
    finally:
        first.stop()
        second.stop()
        redis.Redis.from_url(url).flushdb()


def test_sigterm_stops_serve_and_its_workers_every_time(tmp_path, model_cache, engine):
    svc = Service(tmp_path / "svc", model_cache, Backend.embedded())
    for attempt in range(10):
        svc.port = free_port()
        svc.url = f"http://127.0.0.1:{svc.port}"
        api = svc._popen(["serve", "--port", str(svc.port), "--workers", "1"], "api.log")
        deadline = time.monotonic() + 60
        children: set[int] = set()
        # Stop at a different moment each time: starting, just ready, workers up.
        wait_for = attempt % 3
        while time.monotonic() < deadline:
            children |= _children(api.pid)
            if wait_for == 0 and children:
                break
            try:
                if httpx.get(f"{svc.url}/healthz", timeout=1).status_code == 200:
                    if wait_for == 1 or (wait_for == 2 and children):
                        time.sleep(0.5 * (attempt % 4))
                        children |= _children(api.pid)
                        break
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        api.send_signal(signal.SIGTERM)
        # Gone within 30 s (else TimeoutExpired): cleanly once uvicorn runs, 128 + SIGTERM
        # while starting (serve's own handler), or by the signal itself before any handler
        # was set; never a crash's exit code.
        code = api.wait(timeout=30)
        stopped = (0, 128 + signal.SIGTERM, -signal.SIGTERM)
        assert code in stopped, f"attempt {attempt}: exit code {code}"
        for pid in children:
            assert _gone(pid, timeout=15), f"attempt {attempt}: worker {pid} still running"


def _children(pid: int) -> set[int]:
    out = subprocess.run(["ps", "-o", "pid=", "--ppid", str(pid)], capture_output=True, text=True)
    return {int(p) for p in out.stdout.split()}


def _gone(pid: int, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
            state = open(f"/proc/{pid}/stat").read().split()[2]
            if state == "Z":
                return True
        except (ProcessLookupError, FileNotFoundError):
            return True
        time.sleep(0.1)
    return False


class Drip(http.server.BaseHTTPRequestHandler):
    """A webhook receiver that answers one byte a second, for a long time."""

    received: list[float] = []

    def do_POST(self):  # noqa: N802
        self.rfile.read(int(self.headers["Content-Length"]))
        Drip.received.append(time.monotonic())
        try:
            self.wfile.write(b"HTTP/1.1 200 OK\r\n")
            for _ in range(60):
                self.wfile.write(b"X")
                self.wfile.flush()
                time.sleep(1)
        except OSError:
            pass

    def log_message(self, *args):
        pass


def test_a_dripping_webhook_receiver_does_not_hold_up_transcription(
    tmp_path, model_cache, engine, eval_dir
):
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Drip)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    svc = Service(
        tmp_path / "svc",
        model_cache,
        Backend.embedded(),
        webhook_allow_private="true",
        webhook_timeout_s="5",
    )
    svc.start(embedded_workers=1)
    try:
        clip = eval_dir / "ru" / "tinkoff_sample_4.wav"
        hook = f"http://127.0.0.1:{server.server_port}/hook?token=tok3n-in-url"
        first = svc.wait(svc.upload(clip, webhook_url=hook)["id"])
        assert first["status"] == "completed"
        deadline = time.monotonic() + 30
        while not Drip.received and time.monotonic() < deadline:
            time.sleep(0.1)
        assert Drip.received  # the delivery is under way, and dripping
        second = svc.wait(svc.upload(clip)["id"])
        took = _seconds(second["created_at"], second["finished_at"])  # as the job says
        assert second["status"] == "completed" and took < 20, took
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            with svc.client() as c:
                webhook = c.get(f"/api/v1/transcriptions/{first['id']}").json()["webhook"]
            if webhook["last_error"]:
                break
            time.sleep(0.5)
        assert "no complete answer within 5 s" in webhook["last_error"]
        assert webhook["state"] in ("pending", "sending")  # to be retried later
        assert "tok3n-in-url" not in svc.read_logs()
    finally:
        svc.stop()
        server.shutdown()


def _seconds(start: str, end: str) -> float:
    from datetime import datetime

    return (datetime.fromisoformat(end) - datetime.fromisoformat(start)).total_seconds()
