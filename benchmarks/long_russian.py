"""A long Russian recording built from the eval clips that have references, joined with
short pauses: WER and time of raw faster-whisper (whole file, language given), our
pipeline with the language given, and our pipeline with automatic language, in one run.
Words lost where speech regions are joined show as a WER above raw's.

    .venv/bin/python benchmarks/long_russian.py [--minutes 15] [--pause 0.4] [--batch 8]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np

from common import EVAL_DIR, manifest
from kazru_stt.domain.text_compare import ErrorCounts, error_counts
from kazru_stt.engines.whisper import get_engine
from kazru_stt.media import load_audio
from kazru_stt.media.encode import write_wav
from kazru_stt.pipeline import TranscribeOptions, transcribe_file

RATE = 16000


def build(minutes: float, pause_s: float, target: Path) -> tuple[Path, str, float]:
    clips = [r for r in manifest() if r["lang"] == "ru" and r["text"]]
    pieces, refs, total = [], [], 0.0
    gap = np.zeros(int(pause_s * RATE), np.float32)
    while total < minutes * 60:
        for r in clips:
            audio = load_audio(EVAL_DIR / r["audio"])
            pieces += [audio, gap]
            refs.append(r["text"])
            total += (audio.size + gap.size) / RATE
    return write_wav(target, np.concatenate(pieces)), " ".join(refs), total


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--minutes", type=float, default=15.0)
    ap.add_argument("--pause", type=float, default=0.4)
    ap.add_argument("--batch", type=int, default=8, help="ours: windows at once (the default)")
    args = ap.parse_args()
    engine = get_engine(
        None,
        Path(tempfile.gettempdir()) / "kazru-bench-models",
        device="cpu",
        batch_size=args.batch,
    )
    path, ref, seconds = build(args.minutes, args.pause, Path(tempfile.mkdtemp()) / "long.wav")
    print(f"{seconds / 60:.1f} min of Russian from eval clips, pauses of {args.pause} s\n")

    def raw_run() -> str:
        segments, _ = engine.model.transcribe(str(path), language="ru")
        return " ".join(s.text for s in segments)

    def ours(language: str):
        return lambda: transcribe_file(path, TranscribeOptions(language=language), engine).text

    results = {}
    for name, run in (
        ("raw faster-whisper (ru)", raw_run),
        ("ours, language given", ours("ru")),
        ("ours, automatic", ours("auto")),
    ):
        started = time.perf_counter()
        text = run()
        took = time.perf_counter() - started
        counts: ErrorCounts = error_counts(ref, text)
        results[name] = took
        print(
            f"{name:26} WER {counts.word_errors / counts.ref_words:.3f}  "
            f"time {took:6.1f} s  (RTF {took / seconds:.3f})"
        )
    given, auto = results["ours, language given"], results["ours, automatic"]
    print(f"\nautomatic / given: {auto / given:.2f}")


if __name__ == "__main__":
    main()
