"""Clustering window embeddings into speakers, with the count found automatically.

1. Neighbouring windows (1.5 s each, every 0.5 s) are averaged into chunks of about a
   second's hop: single windows are too noisy to compare.
2. The recording's mean voice is subtracted before clustering (what all its windows share:
   the room, the microphone, the line), so what is left tells the speakers apart; chunks
   are clustered by average linkage on cosine distance.
3. The count: one speaker when the windows stay close, on average, to the recording's mean
   voice; otherwise the fewest clusters whose silhouette is within SILHOUETTE_SLACK of the
   best one, each of at least MIN_SPEAKER_CHUNKS chunks, up to MAX_SPEAKERS. A count or
   bounds given with the job always win.
4. Re-segmentation (resegment.py) relabels each window against the speakers' mean voices
   with a penalty for changing speaker, so turns follow the audio rather than chunks.

Thresholds were chosen on the tuning half of benchmarks/diarization_material.py (speakers
kept apart from the half that reports): see benchmarks/eval_diarization.py.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from kazru_stt.diarization.embed import Window
from kazru_stt.diarization.resegment import resegment, unit

CHUNK_WINDOWS = 2  # windows averaged into one chunk (1.5 s + 0.5 s of speech)
CHUNK_GAP_S = 1.0  # a pause this long between window starts ends a chunk
MAX_CHUNKS = 2000  # longer recordings get longer chunks (linkage is quadratic)
# Mean cosine of windows to the recording's mean voice at or above which it is one voice:
# midway between the tuning conversations' highest (0.785) and the next single-speaker
# recording above it (0.817). The one below it, 9 s of one far-field AMI speaker (0.776),
# is split: calling three tuning conversations one voice would have cost far more.
# (Joining speakers whose mean voices are close instead fails on VoxConverse's two hosts,
# 0.76 apart, closer than two halves of one short recording.)
ONE_VOICE_WITHIN = 0.80
SILHOUETTE_SLACK = 0.05
# A speaker holds at least this many chunks (~3.5 s of speech): clusters of one or two
# chunks of a single turn score a high silhouette without being a person.
MIN_SPEAKER_CHUNKS = 3
MAX_SPEAKERS = 8  # without a bound from the job


@dataclass(frozen=True)
class SpeakerBounds:
    num_speakers: int | None = None
    min_speakers: int | None = None
    max_speakers: int | None = None


def _chunks(windows: list[Window], size: int) -> list[list[int]]:
    out: list[list[int]] = []
    current: list[int] = []
    for i, w in enumerate(windows):
        if current and (len(current) >= size or w.start - windows[current[-1]].start > CHUNK_GAP_S):
            out.append(current)
            current = []
        current.append(i)
    if current:
        out.append(current)
    return out


def _count(raw: np.ndarray, within: float, cut, n_chunks: int, bounds: SpeakerBounds) -> int:
    """How many speakers: `raw` are the chunks' own (uncentred) voices, `within` how close
    the windows stay to the recording's mean voice, `cut(k)` the chunks' labels for k
    clusters."""
    from sklearn.metrics import silhouette_score

    if bounds.num_speakers:
        return min(bounds.num_speakers, n_chunks)
    lo = bounds.min_speakers or 1
    hi = min(bounds.max_speakers or MAX_SPEAKERS, n_chunks - 1)
    if hi < max(2, lo):  # nothing to choose between
        return max(1, min(lo, n_chunks))
    if lo <= 1 and within >= ONE_VOICE_WITHIN:
        return 1
    scores = {}
    for k in range(max(2, lo), hi + 1):
        labels = cut(k)
        sizes = np.bincount(labels)
        if sizes.size == k and sizes.min() >= MIN_SPEAKER_CHUNKS:
            scores[k] = silhouette_score(raw, labels, metric="cosine")
    if not scores:
        return max(1, min(lo, n_chunks))
    best = max(scores.values())
    return min(k for k, s in scores.items() if s >= best - SILHOUETTE_SLACK)


def cluster_windows(windows: list[Window], bounds: SpeakerBounds = SpeakerBounds()) -> np.ndarray:
    """A speaker index per window (0, 1, ...), numbered in order of first appearance."""
    from scipy.cluster.hierarchy import fcluster, linkage

    n = len(windows)
    if n == 0:
        return np.zeros(0, dtype=int)
    order = np.argsort([w.start for w in windows], kind="stable")
    windows = [windows[i] for i in order]
    x = np.stack([w.embedding for w in windows]).astype(np.float64)
    centred = unit(x - x.mean(axis=0))
    size = max(CHUNK_WINDOWS, -(-n // MAX_CHUNKS))
    groups = _chunks(windows, size)
    if len(groups) < 3:  # very little speech: compare the windows themselves
        groups = [[i] for i in range(n)]
    labels = np.zeros(n, dtype=int)
    if len(groups) >= 3 and bounds.num_speakers != 1:
        chunk_c = unit(np.stack([centred[g].mean(axis=0) for g in groups]))
        chunk_raw = unit(np.stack([x[g].mean(axis=0) for g in groups]))
        tree = linkage(chunk_c, method="average", metric="cosine")

        def cut(k: int) -> np.ndarray:
            return fcluster(tree, k, criterion="maxclust") - 1

        within = float(np.mean(x @ unit(x.mean(axis=0))))
        k = _count(chunk_raw, within, cut, len(groups), bounds)
        if k > 1:
            for g, label in zip(groups, cut(k), strict=True):
                labels[g] = label
            times = np.array([w.start for w in windows])
            smoothed = resegment(centred, labels, times)
            # A count the job asked for is kept even where re-segmentation would drop a
            # speaker it could not tell apart.
            if len(np.unique(smoothed)) >= min(k, bounds.num_speakers or bounds.min_speakers or 1):
                labels = smoothed
    # Renumber by first appearance, and undo the sort.
    mapping: dict[int, int] = {}
    for label in labels:
        mapping.setdefault(int(label), len(mapping))
    result = np.empty(n, dtype=int)
    result[order] = [mapping[int(label)] for label in labels]
    return result
