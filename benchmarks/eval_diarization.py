"""Diarization error rate (DER, 0.25 s collar, pyannote.metrics) and speaker count, with the
count found and with it given, on material split by speaker (diarization_material.py): the
tuning half (thresholds in diarization/cluster.py and resegment.py were chosen on it) and
the held-out half (reported only). Also the diarization stage's time against transcription
time, and single-speaker clips (the count must be 1). Columns: DER with the count found,
its confusion part (speech given to the wrong speaker; the rest is missed speech and speech
where there is none, mostly the voice detector's 0.4 s padding in the pauses), DER with the
count given, and the floor that overlapped speech sets for any one-voice-at-a-time output.

With --long: the cost of `diarize` on a 5-minute Russian recording built from eval clips,
language given (the cheapest transcription, so the dearest share): the whole pipeline with
and without it, alternating, three times each.

    .venv/bin/python benchmarks/eval_diarization.py [--split held_out] [--no-asr] [--long]
"""

from __future__ import annotations

import argparse
import tempfile
import time
import warnings
from pathlib import Path

from pyannote.core import Annotation, Segment

from common import EVAL_DIR, manifest
from diarization_material import items
from kazru_stt.diarization import LocalSpeakers, SpeakerBounds, SpeakerEmbedder, find_turns
from kazru_stt.media import load_audio
from kazru_stt.pipeline.speech_regions import find_speech

ANCHORS = "pyannote.audio 3.1 (neural, GPU-trained, hub weights): AMI 18.8%, VoxConverse 11.3%"
TARGETS = "targets: built <= 10%, phone <= 15%, VoxConverse-like <= 25%, AMI <= 35%"
# Single-speaker clips on each side of the split (by source).
SINGLE_TUNING = ("kk_kscd", "ru_vosk", "ru_riva")


def single_split(row_id: str) -> str:
    if row_id.startswith(SINGLE_TUNING):
        return "tuning"
    if row_id.startswith("kkcs_"):
        return "tuning" if int(row_id.rsplit("_", 1)[1]) <= 15 else "held_out"
    return "held_out"


def diarize(audio, bounds: SpeakerBounds) -> tuple[Annotation, int, float]:
    t = time.perf_counter()
    emb, local = SpeakerEmbedder(), LocalSpeakers()
    emb.add(audio, 0.0, find_speech(audio))
    local.add(audio, 0.0)
    _, turns = find_turns(emb, local, bounds)
    elapsed = time.perf_counter() - t
    hyp = Annotation()
    for start, end, label in turns:
        hyp[Segment(start, end)] = f"S{label}"
    return hyp, len(hyp.labels()), elapsed


def overlap_floor(truth: Annotation) -> float:
    """The DER share no one-speaker-at-a-time output can avoid: speech under overlap."""
    total = sum(s.duration for s, _ in truth.itertracks())
    return 1 - truth.get_timeline().support().duration() / total


def _engine():
    from kazru_stt.engines.whisper import get_engine

    return get_engine(None, Path(tempfile.gettempdir()) / "kazru-bench-models", device="cpu")


def transcribe_time(audio) -> float:
    from kazru_stt.media.encode import write_wav
    from kazru_stt.pipeline import TranscribeOptions, transcribe_file

    engine = _engine()
    with tempfile.TemporaryDirectory() as tmp:
        path = write_wav(Path(tmp) / "a.wav", audio)
        t = time.perf_counter()
        transcribe_file(path, TranscribeOptions(language="auto"), engine)
        return time.perf_counter() - t


def long_cost(runs: int = 3) -> None:
    import statistics

    from kazru_stt.pipeline import TranscribeOptions, transcribe_file
    from long_russian import build

    engine = _engine()
    path, _, seconds = build(5.0, 0.4, Path(tempfile.mkdtemp()) / "long.wav")
    transcribe_file(path, TranscribeOptions(language="ru", diarize=True), engine)  # warm both
    took: dict[bool, list[float]] = {False: [], True: []}
    for _ in range(runs):
        for diarize in (True, False):
            t = time.perf_counter()
            transcribe_file(path, TranscribeOptions(language="ru", diarize=diarize), engine)
            took[diarize].append(time.perf_counter() - t)
    plain, diarized = statistics.median(took[False]), statistics.median(took[True])
    print(
        f"\n{seconds / 60:.1f} min of Russian, language given (median of {runs}): "
        f"{plain:.1f} s without diarize, {diarized:.1f} s with it, "
        f"+{(diarized - plain) / plain:.0%}"
    )


def main() -> None:
    warnings.filterwarnings("ignore")
    from pyannote.metrics.diarization import DiarizationErrorRate

    ap = argparse.ArgumentParser()
    ap.add_argument("--split", choices=["tuning", "held_out", "both"], default="both")
    ap.add_argument("--no-asr", action="store_true", help="skip the transcription timing")
    ap.add_argument("--long", action="store_true", help="only the cost on 5 minutes of Russian")
    args = ap.parse_args()
    if args.long:
        long_cost()
        return
    SpeakerEmbedder()  # load the models before timing
    LocalSpeakers()
    splits = ["tuning", "held_out"] if args.split == "both" else [args.split]
    time_diar = time_asr = 0.0
    for split in splits:
        print(f"\n== {split} ==")
        print(
            f"{'recording':36} {'spk':>3} {'found':>5} {'DER':>6} {'conf':>6} {'given':>6} "
            f"{'floor':>6} {'diar s':>6} {'asr s':>6}"
        )
        summary: dict[str, list[float]] = {}
        for item in items(split):
            n_ref = len(item.truth.labels())
            hyp, found, t_diar = diarize(item.audio, SpeakerBounds())
            hyp_n, _, _ = diarize(item.audio, SpeakerBounds(num_speakers=n_ref))
            parts = DiarizationErrorRate(collar=0.25)(item.truth, hyp, detailed=True)
            der = parts["diarization error rate"]
            confusion = parts["confusion"] / parts["total"]
            der_n = DiarizationErrorRate(collar=0.25)(item.truth, hyp_n)
            t_asr = 0.0
            if not args.no_asr and item.kind in ("phone", "real"):
                t_asr = transcribe_time(item.audio)
                time_diar += t_diar
                time_asr += t_asr
            speech = item.truth.get_timeline().duration()
            s = summary.setdefault(item.kind, [0.0, 0.0, 0.0, 0, 0, 0])
            s[0] += der * speech
            s[1] += der_n * speech
            s[2] += speech
            s[3] += found == n_ref
            s[4] += abs(found - n_ref) <= 1
            s[5] += 1
            print(
                f"{item.name[:36]:36} {n_ref:3d} {found:5d} {der:6.1%} {confusion:6.1%} {der_n:6.1%} "
                f"{overlap_floor(item.truth):6.1%} {t_diar:6.2f} {t_asr:6.2f}"
            )
        ones = total = 0
        for row in manifest():
            if row.get("rttm") or row["duration_s"] < 4 or row["id"].startswith("mixed"):
                continue
            if single_split(row["id"]) != split:
                continue
            _, found, _ = diarize(load_audio(EVAL_DIR / row["audio"]), SpeakerBounds())
            ones += found <= 1
            total += 1
        print(f"\n{split}, DER weighted by speech time:")
        for kind, (d, dn, sp, right, near, n) in summary.items():
            print(
                f"  {kind:6} DER {d / sp:6.1%}  given count {dn / sp:6.1%}  "
                f"count right {right}/{n}, within 1: {near}/{n}"
            )
        print(f"  single-speaker clips found as one speaker: {ones}/{total}")
    print(f"\n{ANCHORS}\n{TARGETS}")
    if time_asr:
        print(f"diarization stage time / transcription time: {time_diar / time_asr:.3f}")


if __name__ == "__main__":
    main()
