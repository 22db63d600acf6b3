"""Clustering window embeddings into speakers, with the count found automatically.

1. Neighbouring windows (1.5 s each, every 0.5 s) are averaged into chunks of about a
   second's hop: single windows are too noisy to compare.
2. One speaker when the windows stay close, on average, to the recording's mean voice;
   surely several when they stay far from it.
3. Otherwise spectral clustering (NME-SC, Park et al. 2019, with a fixed pruning): each
   chunk keeps links to its NEIGHBOURS most similar chunks (cosine), the graph's Laplacian
   gives the count (the largest gap between its smallest eigenvalues, up to MAX_SPEAKERS;
   1 stays possible unless the voices are surely several) and k-means on its eigenvectors
   the clusters. A count or bounds given with the job always win.
4. Re-segmentation (resegment.py) relabels each window against the speakers' mean voices
   (the recording's mean voice subtracted: what all its windows share, the room, the
   microphone, the line) with a penalty for changing speaker, so turns follow the audio
   rather than chunks.

Values were chosen on the tuning half of benchmarks/diarization_material.py (speakers kept
apart from the half that reports): see benchmarks/eval_diarization.py.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from kazru_stt.diarization.embed import Window
from kazru_stt.diarization.resegment import resegment, unit

CHUNK_WINDOWS = 2  # windows averaged into one chunk (1.5 s + 0.5 s of speech)
CHUNK_GAP_S = 1.0  # a pause this long between window starts ends a chunk
MAX_CHUNKS = 2000  # longer recordings get longer chunks (the eigenvectors cost n^3)
# Mean cosine of windows to the recording's mean voice at or above which it is one voice:
# midway between the tuning conversations' highest (0.785) and the next single-speaker
# recording above it (0.817). The one below it, 9 s of one far-field AMI speaker (0.776),
# is split: calling three tuning conversations one voice would have cost far more.
# (Joining speakers whose mean voices are close instead fails on VoxConverse's two hosts,
# 0.76 apart, closer than two halves of one short recording.)
ONE_VOICE_WITHIN = 0.80
# At or below this the windows are surely several voices, and the count is at least two.
# In a short meeting (3-4 speakers in 30 s, talking over each other) every chunk has links
# to other speakers, so the graph shows one component. On the tuning half: meetings built
# from real recordings in one room (diarization_material.py) 0.66-0.69, other conversations
# 0.69-0.78 (their counts unchanged by this rule), single speakers 0.771 and up: midway
# between the meetings and the lowest single speaker, rounded down.
SEVERAL_VOICES_WITHIN = 0.73
# Links kept per chunk: a speaker with fewer chunks (~10 s of speech) than this cannot be a
# component of the graph of its own. With fewer than ~30 chunks, a third of them. Chosen on
# the tuning half: 10 to 30 all gave its best figures there, 6 split a telephone call in
# three, a quarter of the chunks split a single speaker; NME-SC's own search of the pruning
# (the smallest ratio of pruning to eigengap) split nearly every short recording in many.
NEIGHBOURS = 10
NEIGHBOURS_SHARE = 0.35
# A speaker holds at least this many chunks (~3.5 s of speech), so a recording of n chunks
# has at most n / 3 speakers: a few chunks make a graph too sparse to hold together.
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


def _spectral(chunks: np.ndarray, bounds: SpeakerBounds, within: float) -> np.ndarray:
    """A speaker index per chunk (unit rows); `within`: how close the windows stay to the
    recording's mean voice."""
    from sklearn.cluster import KMeans

    n = len(chunks)
    lo = bounds.min_speakers or 1
    hi = min(bounds.max_speakers or MAX_SPEAKERS, n // MIN_SPEAKER_CHUNKS)
    k: int | None = None  # None: found from the graph
    least = 1  # the smallest count the graph may show
    if bounds.num_speakers:
        k = min(bounds.num_speakers, n)
    elif hi < max(2, lo):  # nothing to choose between
        k = max(1, min(lo, n))
    elif lo <= 1 and within >= ONE_VOICE_WITHIN:
        k = 1
    elif within <= SEVERAL_VOICES_WITHIN:
        least = 2
    if k == 1:
        return np.zeros(n, dtype=int)
    similarity = chunks @ chunks.T
    p = min(NEIGHBOURS, max(1, int(n * NEIGHBOURS_SHARE)))
    nearest = np.argsort(-similarity, axis=1)[:, : p + 1]  # itself and its p nearest
    links = np.zeros_like(similarity)
    np.put_along_axis(links, nearest, 1.0, axis=1)
    links = (links + links.T) / 2
    laplacian = np.diag(links.sum(axis=1)) - links
    values, vectors = np.linalg.eigh(laplacian)
    if k is None:
        gaps = np.diff(values[: hi + 1])  # gaps[i]: the gap that makes i + 1 clusters
        # The count the graph shows (at least `least`), brought within a minimum the job gave.
        k = max(least + int(np.argmax(gaps[least - 1 :])), lo)
    if k <= 1:
        return np.zeros(n, dtype=int)
    return KMeans(k, n_init=10, random_state=0).fit_predict(vectors[:, :k])


def cluster_windows(windows: list[Window], bounds: SpeakerBounds = SpeakerBounds()) -> np.ndarray:
    """A speaker index per window (0, 1, ...), numbered in order of first appearance."""
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
        chunk_raw = unit(np.stack([x[g].mean(axis=0) for g in groups]))
        within = float(np.mean(x @ unit(x.mean(axis=0))))
        chunk_labels = _spectral(chunk_raw, bounds, within)
        k = len(np.unique(chunk_labels))
        if k > 1:
            for g, label in zip(groups, chunk_labels, strict=True):
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
