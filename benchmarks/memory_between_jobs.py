"""A worker's memory between jobs: a `kazru worker` (its own process, the service's
defaults: batched decoding, automatic language) transcribes a 10-minute Russian recording,
idles, then a 2-minute one; a fresh worker (a service of its own) transcribes the same 2
minutes. Each on the C library's malloc and on jemalloc (as a worker runs where Debian's
libjemalloc2 is installed). The worker's RSS and PSS are sampled from outside every 0.2 s.
Prints the memory with the model loaded, each job's peak and time (the job's own, from
the service), and after `--idle-s` idle seconds (the model still loaded: a worker keeps it
for KAZRU_MODEL_IDLE_S). "Idle after" is what a server holds for hours of no work; the
2-minute peak after the 10-minute job against the fresh worker's is what one long
recording costs every later job.

    .venv/bin/python benchmarks/memory_between_jobs.py [--idle-s 30] [--runs 1]
        [--allocator system jemalloc]
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import threading
import time
from datetime import datetime
from pathlib import Path

from long_recording_memory import build


def memory_mb(pid: int) -> tuple[float, float]:
    """(RSS, PSS) in MB of a process, 0 when it is gone."""
    rss = pss = 0.0
    try:
        text = Path(f"/proc/{pid}/smaps_rollup").read_text()
    except OSError:
        return 0.0, 0.0
    for line in text.splitlines():
        if line.startswith("Rss:"):
            rss = int(line.split()[1]) / 1024
        elif line.startswith("Pss:"):
            pss = int(line.split()[1]) / 1024
    return rss, pss


class Sampler:
    """A process's memory every `interval` s; `peak()` since the last `reset()`."""

    def __init__(self, pid: int, interval: float = 0.2):
        self.pid, self.interval = pid, interval
        self._peak = (0.0, 0.0)
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            rss, pss = memory_mb(self.pid)
            with self._lock:
                self._peak = (max(self._peak[0], rss), max(self._peak[1], pss))

    def reset(self) -> None:
        with self._lock:
            self._peak = memory_mb(self.pid)

    def peak(self) -> tuple[float, float]:
        with self._lock:
            return self._peak

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()


def job_seconds(job: dict) -> float:
    started = datetime.fromisoformat(job["started_at"])
    finished = datetime.fromisoformat(job["finished_at"])
    return (finished - started).total_seconds()


def run_job(svc, sampler: Sampler, path: Path) -> tuple[tuple[float, float], float]:
    sampler.reset()
    job = svc.wait(svc.upload(path)["id"], timeout=1800)
    assert job["status"] == "completed", job
    return sampler.peak(), job_seconds(job)


def started_worker(svc):
    """A worker of `svc`, once its model is loaded (it logs "ready" after)."""
    proc = svc.start_worker()
    log = svc.logs / f"worker-{len(svc.workers) - 1}.log"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if log.is_file() and "ready" in log.read_text(errors="replace"):
            break
        time.sleep(0.3)
    time.sleep(2)  # the model's load settles
    return proc


def fmt(pair: tuple[float, float]) -> str:
    return f"{pair[0]:>6.0f} {pair[1]:>6.0f}"


def one_worker(directory: Path, allocator: str, name: str, files: list[Path], idle_s: float):
    """A service with one worker that transcribes `files` in turn, idling `idle_s` after
    each; prints the memory at each step."""
    from tests.service_harness import Backend, Service

    cache = Path(tempfile.gettempdir()) / "kazru-bench-models"
    svc = Service(directory, cache, Backend.embedded(), allocator=allocator)
    svc.start(embedded_workers=0)
    try:
        proc = started_worker(svc)
        sampler = Sampler(proc.pid)
        print(f"{name:>22} {'model loaded':>22} {fmt(memory_mb(proc.pid))}", flush=True)
        for path in files:
            peak, took = run_job(svc, sampler, path)
            print(f"{'':>22} {path.stem + ' job peak':>22} {fmt(peak)} {took:>12.1f}", flush=True)
            time.sleep(idle_s)
            step = f"{idle_s:g} s idle after"
            print(f"{'':>22} {step:>22} {fmt(memory_mb(proc.pid))}", flush=True)
        sampler.stop()
    finally:
        svc.stop()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--idle-s", type=float, default=30.0)
    ap.add_argument("--allocator", nargs="+", default=["system", "jemalloc"])
    ap.add_argument("--runs", type=int, default=1)
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="kazru-between-"))
    long_file = build(10, work / "10min.wav")
    short_file = build(2, work / "2min.wav")
    print(f"{'worker':>22} {'step':>22} {'RSS':>6} {'PSS':>6}  (MB) {'time s':>7}")
    try:
        for run in range(args.runs):
            for allocator in args.allocator:
                for name, files in (
                    ("after 10 min", [long_file, short_file]),
                    ("fresh", [short_file]),
                ):
                    label = f"{allocator}: {name}"
                    one_worker(
                        work / f"{run}-{allocator}-{name[:5]}", allocator, label, files, args.idle_s
                    )
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
