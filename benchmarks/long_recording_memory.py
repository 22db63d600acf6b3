"""Memory and progress on a long recording: a 15-minute and a 2-hour file built from the
Russian eval clips (short pauses, a minute of silence every 20 minutes), each transcribed in
a fresh child process with the service's defaults (automatic language, batched decoding).
(Russian only: with the bundled model, Kazakh decodes at about real time, and memory does
not depend on the language.) Prints each child's peak RSS, the 2-hour peak over the 15-minute one,
time, and the longest wall-clock wait between two progress updates.

    .venv/bin/python benchmarks/long_recording_memory.py [--minutes 15 120] [--batch 8]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import wave
from pathlib import Path

import numpy as np

from common import EVAL_DIR, ROOT, manifest
from kazru_stt.media import load_audio

RATE = 16000

CHILD = """
import json, resource, sys, time
from pathlib import Path
from kazru_stt.engines.whisper_local import get_engine
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
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="kazru-long-"))
    cache = Path(tempfile.gettempdir()) / "kazru-bench-models"
    print(f"{'file':>8} {'peak RSS MB':>11} {'time s':>7} {'RTF':>6} {'max progress gap s':>18}")
    peaks = {}
    try:
        for minutes in args.minutes:
            path = build(minutes, work / f"{minutes:g}min.wav")
            out = subprocess.run(
                [sys.executable, "-c", CHILD, str(path), str(cache), str(args.batch)],
                capture_output=True,
                text=True,
                check=True,
                cwd=ROOT,
            ).stdout
            r = json.loads(out.strip().splitlines()[-1])
            peaks[minutes] = r["peak_rss_mb"]
            print(
                f"{minutes:>6g} m {r['peak_rss_mb']:>11.0f} {r['seconds']:>7.1f} "
                f"{r['seconds'] / r['duration']:>6.3f} {r['max_progress_gap_s']:>18.1f}"
            )
            path.unlink()
    finally:
        for leftover in work.iterdir():
            leftover.unlink()
        work.rmdir()
    if len(peaks) > 1:
        first, last = min(peaks), max(peaks)
        print(f"\npeak of {last:g} min over {first:g} min: {peaks[last] / peaks[first]:.2f}")


if __name__ == "__main__":
    main()
