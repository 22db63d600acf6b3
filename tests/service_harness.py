"""Start and stop real service processes (API + workers) for tests, on 127.0.0.1."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

PG_ADMIN_URL = os.environ.get("KAZRU_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("KAZRU_TEST_REDIS", "redis://127.0.0.1:6379")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def need_servers(*, postgres: bool = False, redis: bool = False) -> None:
    """Skip a test whose server is absent on a developer's machine; where
    KAZRU_TEST_REQUIRE_SERVERS=1 (CI: both servers run there) an absent one fails it."""
    reason = (postgres and postgres_available()) or (redis and redis_available())
    if not reason:
        return
    if os.environ.get("KAZRU_TEST_REQUIRE_SERVERS") == "1":
        pytest.fail(reason)
    pytest.skip(reason)


def postgres_available() -> str | None:
    """None if PostgreSQL can be used, else the reason."""
    try:
        import psycopg

        with psycopg.connect(PG_ADMIN_URL, connect_timeout=3) as conn:
            conn.execute("SELECT 1")
        return None
    except Exception as exc:
        return f"PostgreSQL at {PG_ADMIN_URL} not reachable: {exc}"


def redis_available() -> str | None:
    try:
        import redis

        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=3).ping()
        return None
    except Exception as exc:
        return f"Redis at {REDIS_URL} not reachable: {exc}"


@dataclass
class Backend:
    """Where a test service keeps its state: embedded (SQLite) or scaled out (PG + Redis)."""

    name: str
    env: dict[str, str] = field(default_factory=dict)
    _cleanup: list = field(default_factory=list)

    @classmethod
    def embedded(cls) -> Backend:
        return cls("embedded")

    @classmethod
    def scaled(cls) -> Backend:
        import psycopg
        import redis

        db_name = f"kazru_test_{uuid.uuid4().hex[:10]}"
        with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{db_name}"')
        base = PG_ADMIN_URL.rsplit("/", 1)[0]
        # A Redis db number of our own (1..15), emptied before and after.
        db_number = 1 + int(uuid.uuid4().int % 15)
        client = redis.Redis.from_url(f"{REDIS_URL}/{db_number}")
        client.flushdb()

        def drop():
            client.flushdb()
            with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{db_name}" WITH (FORCE)')

        env = {
            "KAZRU_DATABASE_URL": f"{base}/{db_name}",
            "KAZRU_BROKER_URL": f"{REDIS_URL}/{db_number}",
        }
        return cls("scaled", env, [drop])

    def close(self) -> None:
        for fn in self._cleanup:
            fn()


class Service:
    """`kazru serve` (API, optionally embedded workers) plus separately started workers."""

    def __init__(self, data_dir: Path, model_cache: Path, backend: Backend, **settings: str):
        self.data_dir = data_dir
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = {
            **os.environ,
            "KAZRU_DATA_DIR": str(data_dir),
            "KAZRU_MODEL_CACHE_DIR": str(model_cache),
            "KAZRU_DEVICE": "cpu",
            "KAZRU_CPU_THREADS": "2",
            "PYTHONUNBUFFERED": "1",
            # Tests upload more at once than a person would; quotas have tests of their own.
            "KAZRU_QUOTA_ACTIVE_JOBS": "100",
            **backend.env,
            **{f"KAZRU_{k.upper()}": str(v) for k, v in settings.items()},
        }
        self.key: str | None = None  # an admin's API key, made when the service starts
        self.api: subprocess.Popen | None = None
        self.workers: list[subprocess.Popen] = []
        self.logs = data_dir / "logs"
        self.logs.mkdir(parents=True, exist_ok=True)

    def _popen(self, args: list[str], log_name: str, **env: str) -> subprocess.Popen:
        log = (self.logs / log_name).open("ab")
        return subprocess.Popen(
            [sys.executable, "-m", "kazru_stt.cli.main", *args],
            env={**self.env, **env},
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def start(
        self, embedded_workers: int = 1, timeout: float = 90.0, *, make_admin: bool = True
    ) -> Service:
        """Start the API; `make_admin` (default) also creates an admin and its key."""
        self.api = self._popen(
            ["serve", "--port", str(self.port), "--workers", str(embedded_workers)], "api.log"
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.api.poll() is not None:
                raise RuntimeError(f"service exited: {self.read_logs()}")
            try:
                if httpx.get(f"{self.url}/readyz", timeout=2).status_code == 200:
                    if self.key is None and make_admin:
                        self.key = self.add_user("admin@example.com", admin=True)
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.3)
        raise RuntimeError(f"service not ready in {timeout} s: {self.read_logs()}")

    def start_replica(self, timeout: float = 90.0) -> str:
        """Another API process (`kazru serve --workers 0`) on the same settings; its URL.
        Scaled-out backends only: an embedded queue is one machine's."""
        port = free_port()
        proc = self._popen(
            ["serve", "--port", str(port), "--workers", "0"], f"replica-{len(self.workers)}.log"
        )
        self.workers.append(proc)  # stopped with the rest
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise RuntimeError(f"replica exited: {self.read_logs()}")
            try:
                if httpx.get(f"{url}/readyz", timeout=2).status_code == 200:
                    return url
            except httpx.HTTPError:
                pass
            time.sleep(0.3)
        raise RuntimeError(f"replica not ready in {timeout} s: {self.read_logs()}")

    def start_worker(self, *args: str, **env: str) -> subprocess.Popen:
        """`kazru worker` with `args` (`--stages diarization`, say) and `env` of its own
        (`KAZRU_METRICS_PORT`, say)."""
        proc = self._popen(["worker", *args], f"worker-{len(self.workers)}.log", **env)
        self.workers.append(proc)
        return proc

    def read_logs(self) -> str:
        return "\n".join(
            p.read_text(errors="replace")[-4000:] for p in sorted(self.logs.glob("*.log"))
        )

    def read_logs_all(self) -> str:
        return "\n".join(p.read_text(errors="replace") for p in sorted(self.logs.glob("*.log")))

    def stop(self) -> None:
        for proc in [*self.workers, self.api]:
            if proc is not None and proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        for proc in [*self.workers, self.api]:
            if proc is None:
                continue
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()

    # --- accounts ---
    def context(self):
        """The service's own database, for setting up accounts and for looking inside."""
        from kazru_stt.config import Settings
        from kazru_stt.services.context import ServiceContext

        ours = {k[6:].lower(): v for k, v in self.env.items() if k.startswith("KAZRU_")}
        return ServiceContext(base_settings=Settings(**{**ours, "data_dir": self.data_dir}))

    def add_user(self, email: str, *, admin: bool = False, password: str | None = None) -> str:
        """Create an account and return a new API key of it."""
        from kazru_stt.services import accounts

        ctx = self.context()
        user = accounts.create_user(ctx, email, password, admin=admin)
        return accounts.create_key(ctx, user["id"], "tests")["key"]

    # --- client helpers ---
    def client(self, key: str | None = "admin") -> httpx.Client:
        """A client with the admin's key (default), another key, or none (key=None)."""
        headers = {}
        if key is not None:
            headers["Authorization"] = f"Bearer {self.key if key == 'admin' else key}"
        return httpx.Client(base_url=self.url, timeout=60, headers=headers)

    def upload(self, path: Path, key: str | None = "admin", **fields) -> dict:
        with self.client(key) as c, path.open("rb") as fh:
            r = c.post("/api/v1/transcriptions", files={"file": (path.name, fh)}, data=fields)
        assert r.status_code == 202, f"{r.text}\n{self.read_logs()}"
        return r.json()

    def wait(
        self,
        job_id: str,
        timeout: float = 300.0,
        until=("completed", "failed", "canceled"),
        interval: float = 0.3,
    ) -> dict:
        deadline = time.monotonic() + timeout
        with self.client() as c:
            while time.monotonic() < deadline:
                job = c.get(f"/api/v1/transcriptions/{job_id}").json()
                if job["status"] in until:
                    return job
                time.sleep(interval)
        raise AssertionError(f"job {job_id} not done in {timeout} s: {job}\n{self.read_logs()}")
