"""Speaker embeddings of short windows over speech, with Resemblyzer's shipped encoder.

Windows are embedded in batches: the speech regions of a block are joined and
`embed_utterance(..., return_partials=True)` embeds all their 1.6 s windows in one pass
(one call per window is ~6x slower, ../shared/DESIGN.md). A window that straddles the seam
between two regions mixes two utterances and is dropped, unless a region is too short to
have a window of its own.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

import numpy as np

from kazru_stt.media import SAMPLE_RATE

# Partial windows per second (rate=4: a 1.6 s window every 0.25 s; finer turn edges).
RATE = 4.0
MIN_REGION_S = 0.5  # shorter speech carries too little voice to place


@dataclass
class Window:
    start: float  # seconds, recording clock
    end: float
    embedding: np.ndarray  # L2-normalised, 256 floats


_loaded: dict[str, object] = {}  # "encoder": the VoiceEncoder, while in use
_loaded_lock = threading.Lock()
_last_used = 0.0


def _encoder():
    """Resemblyzer's encoder, loaded on first use and kept until unload_idle drops it."""
    global _last_used
    with _loaded_lock:
        _last_used = time.monotonic()
        if "encoder" not in _loaded:
            import warnings

            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # webrtcvad's pkg_resources deprecation notice
                from resemblyzer import VoiceEncoder

            import torch

            torch.set_num_threads(max(1, min(4, torch.get_num_threads())))
            _loaded["encoder"] = VoiceEncoder("cpu", verbose=False)
        return _loaded["encoder"]


def unload_idle(max_idle_s: float) -> bool:
    """Drop the encoder when unused for `max_idle_s` (the next diarization loads it
    again); True when it was dropped. A job still holding it keeps it until it ends."""
    with _loaded_lock:
        if "encoder" not in _loaded or time.monotonic() - _last_used < max_idle_s:
            return False
        del _loaded["encoder"]
    return True


class SpeakerEmbedder:
    """Embeds speech regions block by block; keeps every window for clustering at the end."""

    def __init__(self):
        self.encoder = _encoder()
        self.windows: list[Window] = []
        self.regions: list[tuple[float, float]] = []  # speech embedded, recording clock
        self._lock = threading.Lock()

    def add(self, audio: np.ndarray, offset: float, regions) -> None:
        """Embed the windows of `regions` (recording clock) of `audio` starting at `offset`."""
        global _last_used
        _last_used = time.monotonic()  # a long job keeps its encoder
        from resemblyzer.audio import normalize_volume

        spans, pieces, position = [], [], 0
        for r in regions:
            if r.end - r.start < MIN_REGION_S:
                continue
            a = int(round((r.start - offset) * SAMPLE_RATE))
            b = int(round((r.end - offset) * SAMPLE_RATE))
            piece = audio[max(a, 0) : max(b, 0)]
            spans.append((position, position + piece.size, r.start))
            self.regions.append((r.start, r.end))
            pieces.append(piece)
            position += piece.size
        if not pieces:
            return
        wav = normalize_volume(np.concatenate(pieces).astype(np.float32), -30, increase_only=True)
        with self._lock:
            _, partials, slices = self.encoder.embed_utterance(
                wav, return_partials=True, rate=RATE, min_coverage=0.5
            )
        hop = 10 * SAMPLE_RATE // 1000  # tolerance at a seam: one 10 ms frame
        for emb, sl in zip(partials, slices, strict=True):
            a, b = sl.start, min(sl.stop, position)  # sample indices into `wav`
            centre = (a + b) // 2
            for lo, hi, t0 in spans:
                if lo <= centre < hi:
                    straddles = a < lo - hop or b > hi + hop
                    short = hi - lo < 1.6 * SAMPLE_RATE
                    if straddles and not short:
                        break
                    start = t0 + max(a, lo) / SAMPLE_RATE - lo / SAMPLE_RATE
                    end = t0 + min(b, hi) / SAMPLE_RATE - lo / SAMPLE_RATE
                    self.windows.append(Window(start, end, emb / np.linalg.norm(emb)))
                    break
