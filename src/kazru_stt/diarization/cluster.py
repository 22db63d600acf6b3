"""Clustering window embeddings into speakers, with the count found automatically.

Agglomerative clustering (average linkage, cosine distance) cut at a distance threshold
estimates the count; bounds from the job (`num_speakers`, `min_speakers`, `max_speakers`)
override or clip it. Clusters too small to be a person (a few stray windows) are merged
into their nearest neighbour, and labels are smoothed along time so one odd window does not
split a turn.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from kazru_stt.diarization.embed import Window

# Cosine distance at which two groups of windows are taken for different speakers.
DISTANCE_THRESHOLD = 0.40
# A cluster with fewer windows than this (and under MIN_SHARE of all) is not a speaker.
MIN_WINDOWS = 4
MIN_SHARE = 0.05
SMOOTH = 2  # windows on each side in the majority vote


@dataclass(frozen=True)
class SpeakerBounds:
    num_speakers: int | None = None
    min_speakers: int | None = None
    max_speakers: int | None = None


def _agglomerate(x: np.ndarray, n: int | None, threshold: float) -> np.ndarray:
    from sklearn.cluster import AgglomerativeClustering

    model = AgglomerativeClustering(
        n_clusters=n,
        metric="cosine",
        linkage="average",
        distance_threshold=None if n else threshold,
    )
    return model.fit_predict(x)


def _merge_small(x: np.ndarray, labels: np.ndarray, keep_at_least: int) -> np.ndarray:
    while True:
        ids, counts = np.unique(labels, return_counts=True)
        if len(ids) <= keep_at_least:
            return labels
        small = [
            i
            for i, c in zip(ids, counts, strict=True)
            if c < MIN_WINDOWS or c < MIN_SHARE * len(labels)
        ]
        if not small:
            return labels
        worst = min(small, key=lambda i: counts[list(ids).index(i)])
        centroids = {i: x[labels == i].mean(axis=0) for i in ids if i != worst}
        mine = x[labels == worst].mean(axis=0)
        target = max(
            centroids,
            key=lambda i: float(np.dot(centroids[i], mine) / np.linalg.norm(centroids[i])),
        )
        labels = np.where(labels == worst, target, labels)


def _smooth(labels: np.ndarray, windows: list[Window]) -> np.ndarray:
    """Majority vote over neighbouring windows that touch in time (same turn)."""
    out = labels.copy()
    for i in range(len(labels)):
        lo, hi = max(0, i - SMOOTH), min(len(labels), i + SMOOTH + 1)
        near = [j for j in range(lo, hi) if abs(windows[j].start - windows[i].start) <= 2.0]
        values, counts = np.unique(labels[near], return_counts=True)
        if counts.max() > len(near) // 2:
            out[i] = values[counts.argmax()]
    return out


def cluster_windows(
    windows: list[Window],
    bounds: SpeakerBounds = SpeakerBounds(),
    threshold: float = DISTANCE_THRESHOLD,
) -> np.ndarray:
    """A speaker index per window (0, 1, ...), numbered in order of first appearance."""
    if not windows:
        return np.zeros(0, dtype=int)
    order = np.argsort([w.start for w in windows], kind="stable")
    windows = [windows[i] for i in order]
    x = np.stack([w.embedding for w in windows])
    n = len(windows)
    fixed = bounds.num_speakers
    if fixed is not None and fixed >= n:
        fixed = max(1, n)
    if n == 1 or fixed == 1:
        labels = np.zeros(n, dtype=int)
    else:
        labels = _agglomerate(x, fixed, threshold)
        count = len(np.unique(labels))
        lo = bounds.min_speakers or 1
        hi = bounds.max_speakers or n
        if fixed is None and not lo <= count <= hi:
            labels = _agglomerate(x, min(max(count, lo), hi, n), threshold)
        if fixed is None:
            labels = _merge_small(x, labels, keep_at_least=lo)
        labels = _smooth(labels, windows)
    # Renumber by first appearance, and undo the sort.
    mapping: dict[int, int] = {}
    for label in labels:
        mapping.setdefault(int(label), len(mapping))
    ordered = np.array([mapping[int(label)] for label in labels])
    result = np.empty(n, dtype=int)
    result[order] = ordered
    return result
