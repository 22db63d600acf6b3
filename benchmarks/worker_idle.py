"""A worker's memory and idle CPU: RSS of a `kazru worker` before its model is loaded (just
started), after a job, and after KAZRU_MODEL_IDLE_S of idleness (the model unloaded); then
the CPU it uses over 60 s with nothing to do, on the embedded queue (SQLite, polled) and on
Redis (a blocking read), and how often its threads woke: what a wake costs depends on the
VM (an idle embedded worker: 0.05-0.12% of a core on an AMD EPYC VM, 0.88% on an Intel
Xeon VM), the count much less. A thread's voluntary context switches stand for its wakes;
threads that wake together and hand the GIL around count more than once. Last, how long a
job uploaded to the idle worker waited before it was taken.

    .venv/bin/python benchmarks/worker_idle.py [--idle-s 20] [--cpu-window 60]
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from datetime import datetime
from pathlib import Path

from common import EVAL_DIR

TICKS = os.sysconf("SC_CLK_TCK")


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def cpu_s(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


def wakes(pid: int) -> int:
    """Voluntary context switches of all its threads (a thread going to sleep, so one per
    wake-up): a machine-independent count, where the CPU each wake costs depends on the VM."""
    total = 0
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            status = (task / "status").read_text()
        except OSError:  # the thread ended meanwhile
            continue
        total += int(status.split("voluntary_ctxt_switches:")[1].split()[0])
    return total


def run(backend_name: str, idle_s: float, window: float) -> None:
    from tests.service_harness import Backend, Service

    backend = Backend.scaled() if backend_name == "redis" else Backend.embedded()
    tmp = Path(tempfile.mkdtemp(prefix="kazru-idle-"))
    svc = Service(tmp / "svc", tmp / "models", backend, model_idle_s=idle_s)
    svc.start(embedded_workers=0)
    try:
        worker = svc.start_worker()
        time.sleep(0.5)
        start = rss_mb(worker.pid)
        deadline = time.monotonic() + 60
        while "ready" not in svc.read_logs() and time.monotonic() < deadline:
            time.sleep(0.2)
        loaded = rss_mb(worker.pid)
        job = svc.upload(EVAL_DIR / "ru" / "vosk_commands.wav", language="ru")
        svc.wait(job["id"])
        after_job = rss_mb(worker.pid)
        deadline = time.monotonic() + idle_s + 60
        while "unloaded" not in svc.read_logs() and time.monotonic() < deadline:
            time.sleep(1)
        unloaded = "unloaded" in svc.read_logs()
        after_idle = rss_mb(worker.pid)
        used, woken = cpu_s(worker.pid), wakes(worker.pid)
        time.sleep(window)
        idle_cpu = (cpu_s(worker.pid) - used) / window * 100
        per_min = (wakes(worker.pid) - woken) * 60 / window
        # How long a job waits for an idle worker to take it (its model is loaded after).
        job = svc.wait(svc.upload(EVAL_DIR / "ru" / "vosk_commands.wav", language="ru")["id"])
        pickup = datetime.fromisoformat(job["started_at"]) - datetime.fromisoformat(
            job["created_at"]
        )
        print(
            f"{backend_name:>8}: RSS started {start:.0f} MB, model loaded {loaded:.0f} MB, "
            f"after a job {after_job:.0f} MB, after {idle_s:g} s idle {after_idle:.0f} MB "
            f"({'unloaded' if unloaded else 'NOT unloaded'}); idle CPU {idle_cpu:.2f}% of a core, "
            f"{per_min:.0f} wake-ups a minute; a job uploaded "
            f"then was taken after {pickup.total_seconds():.2f} s"
        )
    finally:
        svc.stop()
        backend.close()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--idle-s", type=float, default=20.0)
    ap.add_argument("--cpu-window", type=float, default=60.0)
    args = ap.parse_args()
    for name in ("embedded", "redis"):
        run(name, args.idle_s, args.cpu_window)


if __name__ == "__main__":
    main()
