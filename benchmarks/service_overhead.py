"""Service overhead: wall time from upload to completed, divided by the pipeline's own time
on the same file (in this process, warm model); and the API process's memory (RSS) during
a 2 GB upload.

    .venv/bin/python benchmarks/service_overhead.py [--upload-gb 2]
"""

from __future__ import annotations

import argparse
import re
import struct
import tempfile
import threading
import time
from datetime import datetime
from pathlib import Path

import numpy as np

from common import EVAL_DIR
from kazru_stt.engines.whisper import get_engine
from kazru_stt.media import load_audio
from kazru_stt.media.encode import write_wav
from kazru_stt.pipeline import TranscribeOptions, transcribe_file


def rss_mb(pid: int) -> tuple[float, float]:
    """(current RSS, peak RSS) of a process in MB, from /proc."""
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        fields[key] = value.strip()
    return int(fields["VmRSS"].split()[0]) / 1024, int(fields["VmHWM"].split()[0]) / 1024


def big_wav(path: Path, size_bytes: int) -> Path:
    """A valid WAV header followed by silence, written sparsely-fast in 16 MB blocks."""
    data_size = size_bytes - 44
    header = (
        b"RIFF"
        + struct.pack("<I", 36 + data_size)
        + b"WAVEfmt "
        + struct.pack("<IHHIIHH", 16, 1, 1, 16000, 32000, 2, 16)
        + b"data"
        + struct.pack("<I", data_size)
    )
    block = bytes(16 * 1024 * 1024)
    with path.open("wb") as fh:
        fh.write(header)
        left = data_size
        while left > 0:
            fh.write(block[: min(left, len(block))])
            left -= len(block)
    return path


def main() -> None:
    from tests.service_harness import Backend, Service  # after common put the repo on sys.path

    ap = argparse.ArgumentParser()
    ap.add_argument("--upload-gb", type=float, default=2.0)
    ap.add_argument("--runs", type=int, default=2)
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp())
    cache = Path(tempfile.gettempdir()) / "kazru-bench-models"

    clips = sorted((EVAL_DIR / "ru_lid").glob("*.mp3"))
    gap = np.zeros(8000, np.float32)
    audio = np.concatenate([x for c in clips for x in (load_audio(c), gap)])
    sample = write_wav(tmp / "russian_2min.wav", audio)
    print(f"file: {sample.name}, {audio.size / 16000:.0f} s of Russian speech (20 clips)")

    engine = get_engine(None, cache, device="cpu", cpu_threads=2)
    options = TranscribeOptions(language="ru")
    transcribe_file(sample, options, engine)  # warm-up
    pipeline_times = []
    for _ in range(args.runs):
        t = time.perf_counter()
        transcribe_file(sample, options, engine)
        pipeline_times.append(time.perf_counter() - t)

    svc = Service(tmp / "svc", cache, Backend.embedded(), cpu_threads=2)
    svc.start(embedded_workers=1)
    try:
        svc.wait(svc.upload(sample, language="ru")["id"])  # warm the worker
        service_times = []
        for _ in range(args.runs):
            # Upload time on the client's clock, then created -> finished on the server's:
            # polling slowly keeps the measurement from stealing the worker's CPU.
            t = time.perf_counter()
            job = svc.upload(sample, language="ru")
            upload_s = time.perf_counter() - t
            done = svc.wait(job["id"], timeout=600, interval=1.0)
            created = datetime.fromisoformat(done["created_at"])
            finished = datetime.fromisoformat(done["finished_at"])
            service_times.append(upload_s + (finished - created).total_seconds())
        p, s = min(pipeline_times), min(service_times)
        print(
            f"pipeline alone: {p:.2f} s   service upload->completed: {s:.2f} s   ratio {s / p:.3f}"
        )
        logs = "".join(f.read_text(errors="replace") for f in svc.logs.glob("*.log"))
        inside = [float(x) for x in re.findall(r"completed in ([0-9.]+) s", logs)][1:]
        if inside:
            w = min(inside)
            print(
                f"  the worker's own transcription: {w:.2f} s (ratio to in-process {w / p:.3f}); "
                f"upload, queue, database and polling: {s - w:.2f} s"
            )

        if args.upload_gb > 0:
            import httpx

            big = big_wav(tmp / "big.wav", int(args.upload_gb * 1e9))
            before, _ = rss_mb(svc.api.pid)
            peak = [before]
            done = threading.Event()

            def sample_rss():
                while not done.wait(0.1):
                    peak.append(rss_mb(svc.api.pid)[0])

            threading.Thread(target=sample_rss, daemon=True).start()
            t = time.perf_counter()
            with big.open("rb") as fh:
                r = httpx.post(
                    f"{svc.url}/api/v1/transcriptions",
                    files={"file": ("big.wav", fh)},
                    data={"language": "ru"},
                    timeout=600,
                )
            done.set()
            elapsed = time.perf_counter() - t
            print(
                f"{args.upload_gb:.1f} GB upload: HTTP {r.status_code} ({r.json().get('error', {}).get('code', 'accepted')}) "
                f"in {elapsed:.1f} s; API RSS before {before:.0f} MB, max during {max(peak):.0f} MB "
                f"(+{max(peak) - before:.0f} MB)"
            )
            big.unlink()
    finally:
        svc.stop()


if __name__ == "__main__":
    main()
