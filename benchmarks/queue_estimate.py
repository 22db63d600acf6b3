"""The queued job's estimated wait (`services/queue_estimate.place`) against the wait it
really had, beside the simplest estimate, on a real service (`kazru serve`, one embedded
worker, the bundled model):

1. the eval recordings (Russian, Kazakh, code-switched) are shuffled; the first few are
   transcribed one after another, so the service has a history of speeds (the estimate has
   none without one);
2. the next ones are uploaded back to back; each job's `estimated_wait_s` is read as soon as
   it is queued;
3. its real wait is `started_at - created_at` (both the server's clock).

Beside the shipped estimate (audio ahead × the median of the recent jobs' wall/audio), the
same with the ratio of their sums (long jobs weigh more), and the baseline a queue without
durations could give: its place times the median wall time of a job. Nothing is fitted.

    .venv/bin/python benchmarks/queue_estimate.py [--jobs 10]
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
from datetime import datetime
from pathlib import Path

from common import EVAL_DIR, ROOT

assert str(ROOT) in sys.path  # common put the repository there: its tests/ helpers below

from tests.service_harness import Backend, Service  # noqa: E402


def _clips(seed: int) -> list[Path]:
    clips = (
        sorted((EVAL_DIR / "ru").glob("*.wav"))
        + sorted((EVAL_DIR / "kk_cs").glob("*.flac"))
        + sorted((EVAL_DIR / "ru_lid").glob("*.mp3"))
        + sorted((EVAL_DIR / "kk").glob("kscd_example*.wav"))
    )
    random.Random(seed).shuffle(clips)
    return clips


def _seconds(job: dict, field: str) -> float:
    return datetime.fromisoformat(job[field]).timestamp()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--warmup", type=int, default=6)
    ap.add_argument("--jobs", type=int, default=12)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    clips = _clips(args.seed)
    work = Path(tempfile.mkdtemp())
    svc = Service(
        work / "svc", Path(tempfile.gettempdir()) / "kazru-bench-models", Backend.embedded()
    )
    svc.start(embedded_workers=1)
    try:
        walls, audio = [], []
        for clip in clips[: args.warmup]:
            done = svc.wait(svc.upload(clip)["id"], timeout=600)
            walls.append(_seconds(done, "finished_at") - _seconds(done, "started_at"))
            audio.append(done["duration"])
        per_job = statistics.median(walls)
        # The shipped estimate's factor, and the ratio of sums, over the same history.
        median_factor = statistics.median(w / a for w, a in zip(walls, audio, strict=True))
        sum_factor = sum(walls) / sum(audio)
        batch = clips[args.warmup : args.warmup + args.jobs]
        seen = []
        with svc.client() as c:
            for clip in batch:
                job = svc.upload(clip)
                now = c.get(f"/api/v1/transcriptions/{job['id']}").json()
                seen.append(now)
        rows = []
        for first in seen:
            done = svc.wait(first["id"], timeout=1800)
            real = _seconds(done, "started_at") - _seconds(done, "created_at")
            place = first["queue_position"]
            rows.append(
                (
                    done["filename"],
                    done["duration"],
                    place,
                    first["estimated_wait_s"],
                    None
                    if first["estimated_wait_s"] is None
                    else first["estimated_wait_s"] * sum_factor / median_factor,
                    None if place is None else (place - 1) * per_job,
                    real,
                )
            )
    finally:
        svc.stop()
    print(
        f"history: {len(walls)} jobs, median {per_job:.1f} s a job; wall/audio median "
        f"{median_factor:.2f}, ratio of sums {sum_factor:.2f}"
    )
    print(
        f"{'file':<26} {'audio s':>8} {'place':>5} {'estimate':>9} {'sums':>7} "
        f"{'baseline':>9} {'real':>7}"
    )

    def show(v):
        return "—" if v is None else f"{v:.1f}"

    for name, seconds, place, est, sums, base, real in rows:
        print(
            f"{name[:26]:<26} {seconds:8.1f} {show(place):>5} {show(est):>9} {show(sums):>7} "
            f"{show(base):>9} {real:7.1f}"
        )
    for label, column in (("estimate (shipped)", 3), ("ratio of sums", 4), ("baseline", 5)):
        pairs = [(r[column], r[6]) for r in rows if r[column] is not None]
        if not pairs:
            print(f"{label}: no figure")
            continue
        errors = [abs(e - real) for e, real in pairs]
        print(
            f"{label}: mean absolute error {statistics.mean(errors):.1f} s, "
            f"median {statistics.median(errors):.1f} s, worst {max(errors):.1f} s "
            f"over {len(pairs)} jobs"
        )


if __name__ == "__main__":
    main()
