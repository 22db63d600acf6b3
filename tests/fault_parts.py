"""The parts a scaled-out install depends on, each started by a test as its own process on a
free port so that the test can kill, stop or restart it: Debian's redis-server, a PostgreSQL
cluster of its own (initdb + postgres), and SeaweedFS (tests.s3_server)."""

from __future__ import annotations

import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

from tests.service_harness import free_port


def _wait_port(port: int, proc: subprocess.Popen, log: Path, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"exited: {log.read_text(errors='replace')[-3000:]}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"not listening on {port} in {timeout} s")


class Part:
    """One server process: `kill` (SIGKILL, as a crash), `start` again on the same port."""

    def __init__(self, directory: Path):
        self.directory = directory
        self.port = free_port()
        self.proc: subprocess.Popen | None = None
        self.log = directory / "server.log"

    def command(self) -> list[str]:
        raise NotImplementedError

    def start(self) -> None:
        self.proc = subprocess.Popen(
            self.command(),
            stdout=self.log.open("ab"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        _wait_port(self.port, self.proc, self.log)

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.kill()


class RedisPart(Part):
    """Redis keeping nothing on disk: restarted, it is empty (queued messages gone)."""

    def command(self) -> list[str]:
        return [
            shutil.which("redis-server") or "redis-server",
            "--port", str(self.port),
            "--bind", "127.0.0.1",
            "--save", "",
            "--appendonly", "no",
            "--dir", str(self.directory),
        ]  # fmt: skip

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"


def _postgres_bin(name: str) -> str:
    found = shutil.which(name)
    if found:
        return found
    for candidate in sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{name}"), reverse=True):
        return str(candidate)
    raise RuntimeError(f"PostgreSQL's {name} is not installed")


class PostgresPart(Part):
    """A PostgreSQL cluster of the test's own. The server refuses to run as root, so there
    it runs as the `postgres` account, in a directory that account owns."""

    def __init__(self):
        directory = Path(tempfile.mkdtemp(prefix="kazru-pg-"))
        super().__init__(directory)
        self.data = directory / "data"
        self._as: list[str] = []
        if os.geteuid() == 0:
            account = pwd.getpwnam("postgres")
            os.chown(directory, account.pw_uid, account.pw_gid)
            self._as = ["runuser", "-u", "postgres", "--"]
        subprocess.run(
            [*self._as, _postgres_bin("initdb"), "-D", str(self.data), "-A", "trust",
             "-U", "postgres", "--no-sync"],
            check=True, capture_output=True,
        )  # fmt: skip
        self.log.touch()
        if self._as:
            os.chown(self.log, account.pw_uid, account.pw_gid)

    def command(self) -> list[str]:
        return [
            *self._as, _postgres_bin("postgres"), "-D", str(self.data),
            "-p", str(self.port), "-k", str(self.directory),
            "-c", "listen_addresses=127.0.0.1", "-c", "fsync=off",
        ]  # fmt: skip

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def remove(self) -> None:
        self.kill()
        shutil.rmtree(self.directory, ignore_errors=True)
