"""Jobs per minute of real `kazru serve` workers on this machine: one worker with two CPU
threads, two workers with one thread each, two workers with two threads each (more
threads than cores), on the same uploads (short Russian and Kazakh recordings from
../shared/eval plus a 2-minute built Russian file). Prints jobs/min, audio min/min, the
ratio against one worker, and the per-job processing time and real-time factor; writes the
per-job times to build/bench/worker_times.json for benchmarks/autoscale_sim.py.

    .venv/bin/python benchmarks/worker_throughput.py
"""

from __future__ import annotations

import concurrent.futures
import json
import statistics
import tempfile
import time
from datetime import datetime
from pathlib import Path

import numpy as np

from common import EVAL_DIR, ROOT, manifest


def _clips(tmp: Path) -> list[Path]:
    from kazru_stt.media import load_audio
    from kazru_stt.media.encode import write_wav

    rows = [r for r in manifest() if r["lang"] in ("ru", "kk") and r["duration_s"] >= 2.0]
    paths = [EVAL_DIR / r["audio"] for r in rows]
    lid = sorted((EVAL_DIR / "ru_lid").glob("*.mp3"))
    gap = np.zeros(8000, np.float32)
    long = write_wav(
        tmp / "long_ru.wav", np.concatenate([x for c in lid for x in (load_audio(c), gap)])
    )
    return paths + [long]


def _seconds(job: dict, a: str, b: str) -> float:
    return (datetime.fromisoformat(job[b]) - datetime.fromisoformat(job[a])).total_seconds()


def run(workers: int, threads: int, clips: list[Path], tmp: Path) -> dict:
    from tests.service_harness import Backend, Service

    svc = Service(
        tmp / f"svc-{workers}x{threads}",
        tmp / "models",
        Backend.embedded(),
        cpu_threads=threads,
        quota_active_jobs=1000,
        rate_limit_uploads="100000/minute",
    )
    svc.start(embedded_workers=workers)
    try:
        # Workers have loaded their model once they beat; then upload everything at once.
        time.sleep(8)
        started = time.perf_counter()
        with concurrent.futures.ThreadPoolExecutor(8) as pool:
            jobs = list(pool.map(lambda p: svc.upload(p, language="auto"), clips))
        done = [svc.wait(j["id"], timeout=3600, interval=0.5) for j in jobs]
        wall = time.perf_counter() - started
    finally:
        svc.stop()
    assert all(d["status"] == "completed" for d in done), [d["status"] for d in done]
    audio = sum(d["duration"] for d in done)
    per_job = [
        {"audio_s": d["duration"], "processing_s": _seconds(d, "started_at", "finished_at")}
        for d in done
    ]
    return {
        "workers": workers,
        "threads": threads,
        "jobs": len(done),
        "wall_s": wall,
        "jobs_per_min": len(done) / wall * 60,
        "audio_min_per_min": audio / wall,
        "rtf_median": statistics.median(j["processing_s"] / j["audio_s"] for j in per_job),
        "per_job": per_job,
    }


def main() -> None:
    tmp = Path(tempfile.mkdtemp(prefix="kazru-throughput-"))
    clips = _clips(tmp)
    total = sum(r["duration_s"] for r in manifest() if EVAL_DIR / r["audio"] in clips)
    print(f"{len(clips)} uploads, {total:.0f} s of short clips + a built 2-minute file\n")
    results = [run(w, t, clips, tmp) for w, t in ((1, 2), (2, 1), (2, 2))]
    base = results[0]["jobs_per_min"]
    print(
        f"{'workers x threads':>18} {'wall s':>7} {'jobs/min':>9} {'audio min/min':>14} "
        f"{'ratio':>6} {'median RTF':>11}"
    )
    for r in results:
        print(
            f"{r['workers']:>11} x {r['threads']:<4} {r['wall_s']:>7.1f} {r['jobs_per_min']:>9.1f} "
            f"{r['audio_min_per_min']:>14.2f} {r['jobs_per_min'] / base:>6.2f} {r['rtf_median']:>11.3f}"
        )
    out = ROOT / "build" / "bench"
    out.mkdir(parents=True, exist_ok=True)
    (out / "worker_times.json").write_text(json.dumps(results, indent=1))
    print(f"\nper-job times: {out / 'worker_times.json'}")


if __name__ == "__main__":
    main()
