"""Live transcription at real-time pace, against a real `kazru serve` (embedded default, one
batch worker), over the WebSocket as a third-party client streams it.

A 2-minute Russian recording is built from the eval clips that have references, joined
with pauses of a second (each a turn for the VAD). It is streamed as PCM16 at 24 kHz in
100 ms pieces, at real time. Printed:
- WER of the live final text and of the file transcript of the same audio (the service's
  batch job), against the references, and their difference;
- from the end of each utterance's speech (its last word's end) being sent to its
  `completed` event: p50, p90, max;
- from its speech start being sent to its first partial text (`delta`): p50;
- all of it with 1 and with 2 sessions at once;
- the batch job's time alone, and while a live session runs beside it (their ratio).

    .venv/bin/python benchmarks/live_latency.py [--minutes 2] [--pause 1.0]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
from datetime import datetime
from pathlib import Path

from common import ROOT
from kazru_stt.domain.text_compare import error_counts
from long_russian import build

RATE = 24000
assert str(ROOT) in sys.path  # common put the repository there: its tests/ helpers below

from tests.live_client import LiveRun, pcm16, stream  # noqa: E402
from tests.service_harness import Backend, Service  # noqa: E402


def _quantile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


def latencies(run: LiveRun) -> tuple[list[float], list[float]]:
    """(final latencies, first-partial latencies) in seconds."""
    finals, partials = [], []
    first_delta: dict[str, float] = {}
    for event, at in zip(run.events, run.times, strict=True):
        if event["type"].endswith("transcription.delta"):
            first_delta.setdefault(event["item_id"], at)
    for event, at in zip(run.events, run.times, strict=True):
        if not event["type"].endswith("transcription.completed") or not event["words"]:
            continue
        spoken_to = max(w["end"] for w in event["words"])
        sent = run.sent_by(spoken_to)
        if sent is not None:
            finals.append(at - sent)
        began = run.sent_by(min(w["start"] for w in event["words"]))
        if event["item_id"] in first_delta and began is not None:
            partials.append(first_delta[event["item_id"]] - began)
    return finals, partials


def report(name: str, runs: list[LiveRun], reference: str, file_wer: float) -> None:
    finals, partials, wers = [], [], []
    for run in runs:
        f, p = latencies(run)
        finals += f
        partials += p
        counts = error_counts(reference, run.text)
        wers.append(counts.word_errors / counts.ref_words)
    wer = statistics.mean(wers)
    print(
        f"{name:22} WER {wer:.3f} ({wer - file_wer:+.3f} vs file)  "
        f"final p50 {_quantile(finals, 0.5):.2f} s  p90 {_quantile(finals, 0.9):.2f} s  "
        f"max {max(finals, default=float('nan')):.2f} s  ({len(finals)} utterances)  "
        f"first partial p50 {_quantile(partials, 0.5):.2f} s ({len(partials)} with one)"
    )


def job_seconds(job: dict) -> float:
    started = datetime.fromisoformat(job["started_at"].replace("Z", "+00:00"))
    finished = datetime.fromisoformat(job["finished_at"].replace("Z", "+00:00"))
    return (finished - started).total_seconds()


def transcribe_file(svc: Service, path: Path) -> dict:
    return svc.wait(svc.upload(path, language="auto")["id"], timeout=1200)


async def main_async(args) -> None:
    work = Path(tempfile.mkdtemp())
    path, reference, seconds = build(args.minutes, args.pause, work / "long.wav")
    pcm = pcm16(path, RATE)
    print(f"{seconds / 60:.1f} min of Russian from eval clips, pauses of {args.pause} s\n")
    svc = Service(
        work / "svc",
        Path(tempfile.gettempdir()) / "kazru-bench-models",
        Backend.embedded(),
        live_max_sessions=2,
    )
    svc.start(embedded_workers=1)
    try:
        url = svc.url.replace("http://", "ws://") + "/v1/realtime?intent=transcription"
        job = await asyncio.to_thread(transcribe_file, svc, path)
        text = " ".join(s["text"] for s in job["result"]["segments"])
        counts = error_counts(reference, text)
        file_wer = counts.word_errors / counts.ref_words
        alone = job_seconds(job)
        print(f"{'file transcript':22} WER {file_wer:.3f}  batch job {alone:.1f} s alone")
        await stream(url, b"\0" * 4800, key=svc.key, trailing_silence_s=0)  # start the process
        one = await stream(url, pcm, key=svc.key)
        report("1 live session", [one], reference, file_wer)
        two = await asyncio.gather(stream(url, pcm, key=svc.key), stream(url, pcm, key=svc.key))
        report("2 live sessions", list(two), reference, file_wer)
        beside, live = await asyncio.gather(
            asyncio.to_thread(transcribe_file, svc, path), stream(url, pcm, key=svc.key)
        )
        report("1 live + batch job", [live], reference, file_wer)
        shared = job_seconds(beside)
        print(
            f"\nbatch job: {alone:.1f} s alone, {shared:.1f} s beside a live session "
            f"(x{shared / alone:.2f})"
        )
    finally:
        svc.stop()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--minutes", type=float, default=2.0)
    ap.add_argument("--pause", type=float, default=1.0)
    asyncio.run(main_async(ap.parse_args()))


if __name__ == "__main__":
    main()
