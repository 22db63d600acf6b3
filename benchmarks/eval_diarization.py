"""Diarization error rate (DER, 0.25 s collar, pyannote.metrics), speaker-count accuracy and
the diarization stage's time as a fraction of transcription time, on (a) conversations
built from clips of different speakers in ../shared/eval (truth known exactly: turns with
short gaps and small overlaps) and (b) the real multi-speaker recordings with RTTM.

    .venv/bin/python benchmarks/eval_diarization.py [--threshold 0.35]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
from pyannote.core import Annotation, Segment

from common import EVAL_DIR, manifest
from kazru_stt.diarization import SpeakerBounds, SpeakerEmbedder, cluster_windows, speaker_turns
from kazru_stt.engines.whisper_local import get_engine
from kazru_stt.media import load_audio
from kazru_stt.media.encode import write_wav
from kazru_stt.pipeline import TranscribeOptions, transcribe_file
from kazru_stt.pipeline.speech_regions import find_speech

SPEAKERS = {  # one person each
    "kk": ["kk/kscd_example_1.wav"],
    "vosk": ["ru/vosk_commands.wav"],
    "riva": ["ru/riva_sample.wav"],
    "golos": ["ru/golos_001ce26c.wav"],
    "jfk": ["en/jfk.flac"],
    "tinkoff": ["ru/tinkoff_sample_1.mp3"],
}
CONVERSATIONS = [
    ("vosk", "riva"),
    ("kk", "golos"),
    ("jfk", "vosk"),
    ("riva", "jfk"),
    ("kk", "vosk"),
    ("tinkoff", "kk"),
    ("golos", "jfk"),
    ("vosk", "riva", "kk"),
    ("jfk", "golos", "vosk"),
    ("kk", "jfk", "riva"),
    ("tinkoff", "vosk", "jfk"),
]


def pieces(name: str, size_s: float = 3.0) -> list[np.ndarray]:
    """The speaker's speech cut into turns of about `size_s`."""
    out = []
    for clip in SPEAKERS[name]:
        audio = load_audio(EVAL_DIR / clip)
        for r in find_speech(audio):
            a, b = int(r.start * 16000), int(r.end * 16000)
            step = int(size_s * 16000)
            for s in range(a, b, step):
                if b - s > 16000:  # at least 1 s
                    out.append(audio[s : min(s + step, b)])
    return out


def build(names: tuple[str, ...], rng: np.random.Generator) -> tuple[np.ndarray, Annotation]:
    per = {n: pieces(n) for n in names}
    turns = max(len(v) for v in per.values())
    track = np.zeros(0, np.float32)
    truth = Annotation()
    t = 0.3
    for i in range(turns):
        for n in names:
            p = per[n][i % len(per[n])]
            if i >= len(per[n]) and i >= 3:
                continue
            gap = rng.choice([0.3, 0.6, 0.9, -0.2])  # some turns overlap by 0.2 s
            start = max(0.0, t + gap)
            a = int(start * 16000)
            end_n = a + p.size
            if track.size < end_n:
                track = np.concatenate([track, np.zeros(end_n - track.size, np.float32)])
            track[a:end_n] += p
            truth[Segment(start, start + p.size / 16000)] = n
            t = start + p.size / 16000
    return np.concatenate([track, np.zeros(8000, np.float32)]), truth


def diarize(
    audio: np.ndarray, bounds: SpeakerBounds, threshold: float
) -> tuple[Annotation, int, float]:
    t = time.perf_counter()
    emb = SpeakerEmbedder()
    emb.add(audio, 0.0, find_speech(audio))
    labels = cluster_windows(emb.windows, bounds, threshold=threshold)
    elapsed = time.perf_counter() - t
    hyp = Annotation()
    for start, end, label in speaker_turns(emb.regions, emb.windows, labels):
        hyp[Segment(start, end)] = f"S{label}"
    return hyp, len(set(labels.tolist())), elapsed


def read_rttm(path: Path) -> Annotation:
    ann = Annotation()
    for line in path.read_text().splitlines():
        f = line.split()
        if f and f[0] == "SPEAKER":
            start, dur = float(f[3]), float(f[4])
            ann[Segment(start, start + dur)] = f[7]
    return ann


def main() -> None:
    import warnings

    warnings.filterwarnings("ignore")
    from pyannote.metrics.diarization import DiarizationErrorRate

    ap = argparse.ArgumentParser()
    ap.add_argument("--threshold", type=float, default=None)
    ap.add_argument("--no-asr", action="store_true", help="skip the transcription timing")
    args = ap.parse_args()
    from kazru_stt.diarization.cluster import DISTANCE_THRESHOLD

    threshold = args.threshold or DISTANCE_THRESHOLD
    rng = np.random.default_rng(0)
    tmp = Path(tempfile.mkdtemp())
    engine = get_engine(None, Path(tempfile.gettempdir()) / "kazru-bench-models", device="cpu")
    SpeakerEmbedder()  # load the encoder (and JIT the features) before timing
    diarize(load_audio(EVAL_DIR / "ru/golos_001ce26c.wav"), SpeakerBounds(), threshold)

    print(f"threshold {threshold}")
    print(
        f"{'recording':34} {'spk':>3} {'found':>5} {'DER':>6} {'DER(n)':>6} {'diar s':>6} {'asr s':>6} {'ratio':>5}"
    )
    built_der, built_ok, built_n = [], 0, 0
    time_diar = time_asr = 0.0
    items = []
    for names in CONVERSATIONS:
        audio, truth = build(names, rng)
        path = write_wav(tmp / f"{'-'.join(names)}.wav", audio)
        items.append(("built " + "+".join(names), path, audio, truth, len(names), "built"))
    for row in manifest():
        if row.get("rttm"):
            path = EVAL_DIR / row["audio"]
            items.append(
                (
                    row["id"],
                    path,
                    load_audio(path),
                    read_rttm(EVAL_DIR / row["rttm"]),
                    row["speakers"],
                    "real",
                )
            )
    for name, path, audio, truth, _n_true, kind in items:
        metric, metric_n = DiarizationErrorRate(collar=0.25), DiarizationErrorRate(collar=0.25)
        hyp, found, t_diar = diarize(audio, SpeakerBounds(), threshold)
        hyp_n, _, _ = diarize(audio, SpeakerBounds(num_speakers=len(truth.labels())), threshold)
        der, der_n = metric(truth, hyp), metric_n(truth, hyp_n)
        t = time.perf_counter()
        if not args.no_asr:
            transcribe_file(
                path, TranscribeOptions(language="auto", languages=("kk", "ru", "en")), engine
            )
        t_asr = max(time.perf_counter() - t, 1e-6)
        time_diar += t_diar
        time_asr += t_asr
        n_ref = len(truth.labels())
        if kind == "built":
            built_der.append((der, truth.get_timeline().duration()))
            built_ok += found == n_ref
            built_n += 1
        print(
            f"{name[:34]:34} {n_ref:3d} {found:5d} {der:6.1%} {der_n:6.1%} {t_diar:6.2f} {t_asr:6.2f} {t_diar / t_asr:5.2f}"
        )
    total = sum(d for _, d in built_der)
    print(
        f"\nbuilt conversations: DER {sum(x * d for x, d in built_der) / total:.1%} (time-weighted), "
        f"speaker count right in {built_ok}/{built_n}"
    )
    print(f"diarization stage time / transcription time: {time_diar / time_asr:.2f}")


if __name__ == "__main__":
    main()
