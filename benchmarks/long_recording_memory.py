"""Memory and progress on a long recording: a 15-minute and a 2-hour file built from the
Russian eval clips (short pauses, a minute of silence every 20 minutes), each transcribed in
a fresh child process with the service's defaults (automatic language, batched decoding),
on the C library's malloc and on jemalloc (as a worker runs when the system has it).
(Russian only: with the bundled model, Kazakh decodes at about real time, and memory does
not depend on the language.) Prints each child's peak RSS, the 2-hour peak over the
15-minute one, time, and the longest wall-clock wait between two progress updates.

    .venv/bin/python benchmarks/long_recording_memory.py [--minutes 15 120] [--batch 8]
        [--allocator system jemalloc]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import wave
from pathlib import Path

import numpy as np

from common import EVAL_DIR, ROOT, manifest
from kazru_stt import allocator
from kazru_stt.media import load_audio

RATE = 16000

CHILD = """
import json, resource, sys, time
from pathlib import Path
from kazru_stt.engines.whisper import get_engine
from kazru_stt.pipeline import TranscribeOptions, transcribe_file

path, cache, batch = sys.argv[1], Path(sys.argv[2]), int(sys.argv[3])
engine = get_engine(None, cache, device="cpu", batch_size=batch)
updates = []
def progress(fraction):
    updates.append((time.monotonic(), fraction))
started = time.monotonic()
transcript = transcribe_file(path, TranscribeOptions(), engine, progress)
took = time.monotonic() - started
moments = [started] + [t for t, _ in updates]
gaps = [b - a for a, b in zip(moments, moments[1:])]
print(json.dumps({
    "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    "seconds": took,
    "max_progress_gap_s": max(gaps) if gaps else took,
    "updates": len(updates),
    "segments": len(transcript.segments),
    "duration": transcript.duration,
}))
"""


def build(minutes: float, target: Path) -> Path:
    """Written as it is built: the benchmark itself never holds the whole file."""
    clips = [
        load_audio(EVAL_DIR / r["audio"]) for r in manifest() if r["lang"] == "ru" and r.get("text")
    ]
    pause = np.zeros(int(0.5 * RATE), np.float32)
    silence = np.zeros(60 * RATE, np.float32)
    total, next_silence = 0, 20 * 60 * RATE
    with wave.open(str(target), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(RATE)
        while total < minutes * 60 * RATE:
            for clip in clips:
                for piece in (clip, pause):
                    out.writeframes((np.clip(piece, -1, 1) * 32767).astype("<i2").tobytes())
                    total += piece.size
                if total >= next_silence:
                    out.writeframes(np.zeros(silence.size, "<i2").tobytes())
                    total += silence.size
                    next_silence += 20 * 60 * RATE
                if total >= minutes * 60 * RATE:
                    break
    return target


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--minutes", type=float, nargs="+", default=[15.0, 120.0])
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--allocator", nargs="+", default=["system", "jemalloc"])
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="kazru-long-"))
    cache = Path(tempfile.gettempdir()) / "kazru-bench-models"
    print(
        f"{'malloc':>8} {'file':>8} {'peak RSS MB':>11} {'time s':>7} {'RTF':>6} "
        f"{'max progress gap s':>18}"
    )
    peaks: dict[str, dict[float, float]] = {}
    times: dict[str, dict[float, float]] = {}
    try:
        for minutes in args.minutes:
            path = build(minutes, work / f"{minutes:g}min.wav")
            for name in args.allocator:
                env = os.environ if name == "system" else allocator.environment(name, os.environ)
                if env is None:
                    print(f"{name:>8}: not installed here")
                    continue
                out = subprocess.run(
                    [sys.executable, "-c", CHILD, str(path), str(cache), str(args.batch)],
                    capture_output=True,
                    text=True,
                    check=True,
                    cwd=ROOT,
                    env=env,
                ).stdout
                r = json.loads(out.strip().splitlines()[-1])
                peaks.setdefault(name, {})[minutes] = r["peak_rss_mb"]
                times.setdefault(name, {})[minutes] = r["seconds"]
                print(
                    f"{name:>8} {minutes:>6g} m {r['peak_rss_mb']:>11.0f} {r['seconds']:>7.1f} "
                    f"{r['seconds'] / r['duration']:>6.3f} {r['max_progress_gap_s']:>18.1f}"
                )
            path.unlink()
    finally:
        for leftover in work.iterdir():
            leftover.unlink()
        work.rmdir()
    print()
    for name, by_length in peaks.items():
        if len(by_length) > 1:
            first, last = min(by_length), max(by_length)
            print(
                f"{name}: peak of {last:g} min over {first:g} min: "
                f"{by_length[last] / by_length[first]:.2f}"
            )
    if {"system", "jemalloc"} <= times.keys():
        for minutes in times["system"].keys() & times["jemalloc"].keys():
            print(
                f"{minutes:g} min: jemalloc time over system: "
                f"{times['jemalloc'][minutes] / times['system'][minutes]:.2f}, peak: "
                f"{peaks['jemalloc'][minutes] / peaks['system'][minutes]:.2f}"
            )


if __name__ == "__main__":
    main()
