"""A worker runs on jemalloc when the system has it, and hands freed memory back on demand."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

from kazru_stt import allocator
from kazru_stt.config import Settings
from kazru_stt.domain.errors import InvalidSetting
from kazru_stt.services import settings_check
from tests.service_harness import Backend, Service

needs_jemalloc = pytest.mark.skipif(
    allocator.jemalloc_library() is None, reason="libjemalloc2 is not installed"
)


def _maps(pid: int) -> str:
    return Path(f"/proc/{pid}/maps").read_text()


@needs_jemalloc
def test_a_worker_restarts_itself_on_jemalloc_and_keeps_its_pid(tmp_path, model_cache, eval_dir):
    svc = Service(tmp_path / "svc", model_cache, Backend.embedded())
    plain = Service(tmp_path / "plain", model_cache, Backend.embedded(), allocator="system")
    try:
        svc.start(embedded_workers=0)
        plain.start(embedded_workers=0)
        worker, system_worker = svc.start_worker(), plain.start_worker()
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not all(
            "ready" in s.read_logs() for s in (svc, plain)
        ):
            time.sleep(0.3)
        assert worker.poll() is None and system_worker.poll() is None, svc.read_logs()
        assert "libjemalloc" in _maps(worker.pid)  # the pid its starter knows
        assert "libjemalloc" not in _maps(system_worker.pid)
        # Its jobs still run.
        done = svc.wait(svc.upload(eval_dir / "ru" / "vosk_commands.wav", language="ru")["id"])
        assert done["status"] == "completed", svc.read_logs()
    finally:
        svc.stop()
        plain.stop()
    assert worker.returncode == 0  # SIGTERM reached the process it became


PURGE_CHILD = """
import os, sys
import numpy as np
from kazru_stt import allocator

def rss_mb():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20

assert allocator.jemalloc_loaded()
held = [np.ones(50_000) for _ in range(4000)]  # 400 kB each, 1.6 GB in all
del held
before = rss_mb()
allocator.return_freed_memory()
print(before - rss_mb())
"""


@needs_jemalloc
def test_freed_memory_goes_back_to_the_system_under_jemalloc():
    # Decay off: only an explicit purge hands the pages back.
    env = allocator.environment("auto", {"PATH": "/usr/bin:/bin"})
    env["MALLOC_CONF"] = "dirty_decay_ms:-1,muzzy_decay_ms:-1"
    out = subprocess.run(
        [sys.executable, "-c", PURGE_CHILD], env=env, capture_output=True, text=True, check=True
    )
    assert float(out.stdout) > 1000, out.stdout


TRIM_CHILD = """
import os
from kazru_stt import allocator

def rss_mb():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20

assert not allocator.jemalloc_loaded()
held = [bytearray(3000) for _ in range(300_000)]  # 900 MB of small blocks in the main heap
kept = held[::64]  # the heap's top stays in use: free() alone gives nothing back
del held
before = rss_mb()
allocator.return_freed_memory()
print(before - rss_mb())
"""


def test_freed_memory_goes_back_to_the_system_on_glibc():
    """What a worker does after each job: glibc keeps freed pages below a live block for
    good (a long job's decode, then hours of idleness) unless trimmed."""
    out = subprocess.run(
        [sys.executable, "-c", TRIM_CHILD],
        env={"PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        check=True,
    )
    assert float(out.stdout) > 500, out.stdout


def test_jemalloc_demanded_but_missing_is_refused(monkeypatch, tmp_path):
    monkeypatch.setattr(allocator, "jemalloc_library", lambda: None)
    settings = Settings(data_dir=tmp_path, allocator="jemalloc")
    with pytest.raises(InvalidSetting, match="libjemalloc2"):
        settings_check.check(settings)
    settings_check.check(Settings(data_dir=tmp_path, allocator="auto"))  # falls back
    assert allocator.environment("auto", {}) is None


@needs_jemalloc
def test_the_preload_keeps_an_operators_own():
    env = allocator.environment("auto", {"LD_PRELOAD": "libother.so", "MALLOC_CONF": "narenas:1"})
    assert env["LD_PRELOAD"].split() == [allocator.jemalloc_library(), "libother.so"]
    assert env["MALLOC_CONF"] == "narenas:1"
    assert allocator.environment("system", {}) is None
