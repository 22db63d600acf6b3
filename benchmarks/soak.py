"""A soak run: many short jobs through the API, with the traffic a day brings beside them,
while the memory of the API process and of the worker (every process of each) is sampled
every 10 s from outside. Does either grow with the number of jobs once warmed up?

An API (`kazru serve --workers 0`) and one `kazru worker`, each a process tree of its own, on
the embedded default (SQLite, local files) or, with --scaled, on the machine's PostgreSQL and
Redis. Clients upload short Russian clips of tests/data, `--clients` at a time; for each job
they follow its progress (half by polling, half by the event stream), export it in one of
the six formats, read the list, and delete every other job once exported.

Prints the memory (RSS and PSS, MB, summed over each process tree) against the jobs done,
the level just after the first `--warmup` jobs and at the end (each the mean of three
samples), and the slope after the warm-up
(MB per 100 jobs, least squares). The verdict: each within 10% of its warm level, no error,
every job completed.

    .venv/bin/python benchmarks/soak.py [--jobs 500] [--clients 4] [--scaled]
"""

from __future__ import annotations

import argparse
import itertools
import json
import shutil
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.service_harness import Backend, Service  # noqa: E402

FORMATS = ["txt", "srt", "vtt", "json", "docx", "pdf"]
SAMPLE_S = 10.0


def tree_memory_mb(root_pid: int) -> tuple[float, float]:
    """(RSS, PSS) in MB summed over a process and its descendants (a Celery worker forks a
    pool process; uvicorn runs in the API's own)."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    rss = pss = 0.0
    todo = [root_pid]
    while todo:
        pid = todo.pop()
        todo.extend(children.get(pid, []))
        try:
            text = Path(f"/proc/{pid}/smaps_rollup").read_text()
        except OSError:
            continue
        for line in text.splitlines():
            if line.startswith("Rss:"):
                rss += int(line.split()[1]) / 1024
            elif line.startswith("Pss:"):
                pss += int(line.split()[1]) / 1024
    return rss, pss


class Soak:
    def __init__(self, svc: Service, clips: list[Path]):
        self.svc = svc
        self.clips = itertools.cycle(clips)
        self.lock = threading.Lock()
        self.done = 0
        self.errors: list[str] = []
        self.statuses: dict[str, str] = {}

    def _error(self, what: str) -> None:
        with self.lock:
            self.errors.append(what)

    def _follow_by_events(self, c: httpx.Client, job_id: str) -> str:
        with c.stream("GET", f"/api/v1/transcriptions/{job_id}/events", timeout=600) as r:
            if r.status_code != 200:
                self._error(f"events {r.status_code}")
                return "unknown"
            for line in r.iter_lines():
                if line.startswith("data: "):
                    status = json.loads(line[6:])["status"]
                    if status in ("completed", "failed", "canceled"):
                        return status
        return "unknown"

    def _follow_by_polling(self, c: httpx.Client, job_id: str) -> str:
        while True:
            r = c.get(f"/api/v1/transcriptions/{job_id}")
            if r.status_code != 200:
                self._error(f"poll {r.status_code}")
                return "unknown"
            if r.json()["status"] in ("completed", "failed", "canceled"):
                return r.json()["status"]
            time.sleep(0.5)

    def one_job(self, n: int) -> None:
        clip = next(self.clips)
        with self.svc.client() as c:
            with clip.open("rb") as fh:
                r = c.post(
                    "/api/v1/transcriptions",
                    files={"file": (clip.name, fh)},
                    data={"language": "ru"},
                )
            if r.status_code != 202:
                self._error(f"upload {r.status_code}: {r.text[:200]}")
                return
            job_id = r.json()["id"]
            follow = self._follow_by_events if n % 2 else self._follow_by_polling
            status = follow(c, job_id)
            with self.lock:
                self.statuses[job_id] = status
            if status == "completed":
                r = c.get(
                    f"/api/v1/transcriptions/{job_id}/export",
                    params={"format": FORMATS[n % len(FORMATS)]},
                )
                if r.status_code != 200:
                    self._error(f"export {r.status_code}")
            if c.get("/api/v1/transcriptions", params={"limit": 20}).status_code != 200:
                self._error("list")
            if n % 2 == 0 and c.delete(f"/api/v1/transcriptions/{job_id}").status_code != 204:
                self._error("delete")
        with self.lock:
            self.done += 1


def slope_per_100(points: list[tuple[int, float]]) -> float:
    n = len(points)
    if n < 2:
        return 0.0
    mx = sum(x for x, _ in points) / n
    my = sum(y for _, y in points) / n
    var = sum((x - mx) ** 2 for x, _ in points)
    return 100 * sum((x - mx) * (y - my) for x, y in points) / var if var else 0.0


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--jobs", type=int, default=500)
    ap.add_argument("--clients", type=int, default=4)
    ap.add_argument("--warmup", type=int, default=50)
    ap.add_argument("--scaled", action="store_true", help="PostgreSQL and Redis of this machine")
    args = ap.parse_args()

    clips = sorted((ROOT / "tests" / "data" / "ru_lid").glob("*.mp3"))
    work = Path(tempfile.mkdtemp(prefix="kazru-soak-"))
    cache = Path(tempfile.gettempdir()) / "kazru-bench-models"
    backend = Backend.scaled() if args.scaled else Backend.embedded()
    svc = Service(
        work / "svc",
        cache,
        backend,
        rate_limit_uploads="100000/minute",
        rate_limit_per_key="100000/minute",
        storage_url=f"file://{work / 'recordings'}",
    )
    samples: list[tuple[float, int, tuple[float, float], tuple[float, float]]] = []
    stop = threading.Event()
    try:
        svc.start(embedded_workers=0)
        worker = svc.start_worker()
        soak = Soak(svc, clips)
        started = time.monotonic()

        def sample() -> None:
            while not stop.wait(SAMPLE_S):
                samples.append(
                    (
                        time.monotonic() - started,
                        soak.done,
                        tree_memory_mb(svc.api.pid),
                        tree_memory_mb(worker.pid),
                    )
                )

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        with ThreadPoolExecutor(args.clients) as pool:
            list(pool.map(soak.one_job, range(args.jobs)))
        stop.set()
        sampler.join()
        elapsed = time.monotonic() - started
    finally:
        stop.set()
        svc.stop()
        backend.close()
        shutil.rmtree(work, ignore_errors=True)

    print(f"{args.jobs} jobs, {args.clients} clients, {backend.name}, {elapsed:.0f} s")
    print(f"{'time s':>7} {'jobs':>5} {'API RSS':>8} {'API PSS':>8} {'wkr RSS':>8} {'wkr PSS':>8}")
    every = max(1, len(samples) // 25)
    for t, done, (ar, ap_), (wr, wp) in samples[::every] + samples[-1:]:
        print(f"{t:>7.0f} {done:>5} {ar:>8.0f} {ap_:>8.0f} {wr:>8.0f} {wp:>8.0f}")
    completed = sum(1 for s in soak.statuses.values() if s == "completed")
    print(f"completed {completed} of {args.jobs}; errors {len(soak.errors)} {soak.errors[:5]}")
    warm = [s for s in samples if s[1] >= args.warmup]
    ok = completed == args.jobs and not soak.errors
    for name, idx in (("API", 2), ("worker", 3)):
        if len(warm) < 2:
            print(f"{name}: too few samples after the warm-up")
            ok = False
            continue
        # Three samples each (30 s): one sample may fall inside a job's decode.
        level = sum(s[idx][1] for s in warm[:3]) / len(warm[:3])
        end = sum(s[idx][1] for s in warm[-3:]) / len(warm[-3:])
        slope = slope_per_100([(s[1], s[idx][1]) for s in warm])
        within = abs(end - level) <= 0.10 * level
        ok &= within
        print(
            f"{name} PSS: {level:.0f} MB after {warm[0][1]} jobs, {end:.0f} MB at the end "
            f"({100 * (end - level) / level:+.1f}%), slope {slope:+.1f} MB per 100 jobs: "
            f"{'within' if within else 'beyond'} 10%"
        )
    print("PASS" if ok else "FAIL")


if __name__ == "__main__":
    main()
