"""Batched decoding against sequential, in one run, on a long Russian recording built from
the eval clips that have references (joined with short pauses, as long_russian.py does),
on the GPU when there is one (`--device cuda`, float16) and on the CPU otherwise:

- raw faster-whisper, sequential (`WhisperModel.transcribe`, language given);
- raw faster-whisper's `BatchedInferencePipeline` (its defaults, batch 8, its own VAD);
- our pipeline one window after another (batch 1), language given;
- our pipeline batched (KAZRU_BATCH_SIZE), language given and automatic.

Prints WER, time, speed-up against raw's sequential run and ours at batch 1, and the clips
lost: a clip of the built file none of whose reference words shows up in the hypothesis'
words timed inside it ("no words lost"; a clip's words are found by their time, so each
run is judged on its own timestamps).

    .venv/bin/python benchmarks/batched_decoding.py [--minutes 10] [--batch 8]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np

from common import EVAL_DIR, manifest, normalize
from kazru_stt.domain.text_compare import error_counts
from kazru_stt.engines.whisper import get_engine, resolved_compute_type
from kazru_stt.media import load_audio
from kazru_stt.media.encode import write_wav
from kazru_stt.pipeline import TranscribeOptions, transcribe_file

RATE = 16000


def build(minutes: float, pause_s: float, target: Path):
    """The file, and per clip (start s, end s, reference text)."""
    clips = [r for r in manifest() if r["lang"] == "ru" and r["text"]]
    pieces, spans, position = [], [], 0
    gap = np.zeros(int(pause_s * RATE), np.float32)
    while position < minutes * 60 * RATE:
        for r in clips:
            audio = load_audio(EVAL_DIR / r["audio"])
            spans.append((position / RATE, (position + audio.size) / RATE, r["text"]))
            pieces += [audio, gap]
            position += audio.size + gap.size
    return write_wav(target, np.concatenate(pieces)), spans, position / RATE


def lost_clips(words: list[tuple[float, float, str]], spans) -> int:
    """Clips with no hypothesis word timed inside them that is also in their reference."""
    lost = 0
    for start, end, ref in spans:
        said = set(normalize(ref).split())
        inside = {normalize(w) for a, b, w in words if a < end and b > start}
        if said and not (said & inside):
            lost += 1
    return lost


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--minutes", type=float, default=10.0)
    ap.add_argument("--pause", type=float, default=0.4)
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--beam", type=int, default=5, help="beam size of every run")
    ap.add_argument("--skip-raw", action="store_true", help="only our pipeline's runs")
    ap.add_argument(
        "--device", default="auto", help="auto: the GPU when CTranslate2 sees one (float16)"
    )
    args = ap.parse_args()
    cache = Path(tempfile.gettempdir()) / "kazru-bench-models"
    engines = {
        size: get_engine(None, cache, device=args.device, batch_size=size, beam_size=args.beam)
        for size in (1, args.batch)
    }
    sequential, batched = engines[1], engines[args.batch]
    path, spans, seconds = build(args.minutes, args.pause, Path(tempfile.mkdtemp()) / "ru.wav")
    reference = " ".join(text for _, _, text in spans)
    print(
        f"{seconds / 60:.1f} min of Russian from {len(spans)} eval clips, pauses of "
        f"{args.pause} s; batch {args.batch}, beam {args.beam}, on "
        f"{sequential.model.model.device} ({resolved_compute_type(args.device, 'default')})\n"
    )

    def raw_sequential():
        segments, _ = sequential.model.transcribe(
            str(path), language="ru", beam_size=args.beam, word_timestamps=True
        )
        return [(w.start, w.end, w.word) for s in segments for w in s.words]

    def raw_batched():
        from faster_whisper import BatchedInferencePipeline

        pipe = BatchedInferencePipeline(sequential.model)
        segments, _ = pipe.transcribe(
            str(path),
            language="ru",
            batch_size=args.batch,
            beam_size=args.beam,
            word_timestamps=True,
        )
        return [(w.start, w.end, w.word) for s in segments for w in s.words]

    def ours(engine, language):
        def run():
            t = transcribe_file(path, TranscribeOptions(language=language), engine)
            return [(w.start, w.end, w.text) for s in t.segments for w in s.words]

        return run

    runs = (
        ("raw faster-whisper, sequential", raw_sequential),
        (f"raw faster-whisper, batched {args.batch}", raw_batched),
        ("ours, batch 1, ru given", ours(sequential, "ru")),
        (f"ours, batched {args.batch}, ru given", ours(batched, "ru")),
        (f"ours, batched {args.batch}, automatic", ours(batched, "auto")),
    )
    if args.skip_raw:
        runs = runs[2:]
    times = {}
    print(
        f"{'run':34} {'WER':>6} {'time s':>7} {'x raw seq':>9} {'x ours b1':>10} {'clips lost':>10}"
    )
    for name, run in runs:
        started = time.perf_counter()
        words = run()
        took = times[name] = time.perf_counter() - started
        counts = error_counts(reference, " ".join(w for _, _, w in words))
        ratios = [
            f"{times[base] / took:.2f}" if base in times else "-"
            for base in ("raw faster-whisper, sequential", "ours, batch 1, ru given")
        ]
        print(
            f"{name:34} {counts.word_errors / counts.ref_words:6.3f} {took:7.1f} "
            f"{ratios[0]:>9} {ratios[1]:>10} {lost_clips(words, spans):>6}/{len(spans)}"
        )
    given = times[f"ours, batched {args.batch}, ru given"]
    auto = times[f"ours, batched {args.batch}, automatic"]
    print(f"\nbatched: automatic / given = {auto / given:.2f}")


if __name__ == "__main__":
    main()
