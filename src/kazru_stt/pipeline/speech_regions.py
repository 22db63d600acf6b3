"""Voice activity detection (Silero, as shipped in faster-whisper) and packing of speech.

Regions are split at pauses of half a second, so a conversation's turns (and with them
its language switches) fall into separate regions; regions are then packed back to back
into one stream for the engine, since Whisper's encoder costs the same for 3 s as for 30 s.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass

import numpy as np
from faster_whisper.vad import VadOptions, get_speech_timestamps

from kazru_stt.media import SAMPLE_RATE

VAD_OPTIONS = VadOptions(
    threshold=0.35,
    min_speech_duration_ms=150,
    max_speech_duration_s=30.0,
    min_silence_duration_ms=500,
    speech_pad_ms=300,
)


@dataclass
class Region:
    """Speech between two pauses, in seconds of the recording."""

    start: float
    end: float
    language: str | None = None
    evidence: dict | None = None

    @property
    def duration(self) -> float:
        return self.end - self.start


def find_speech(audio: np.ndarray, offset: float = 0.0) -> list[Region]:
    """Speech regions of `audio` (16 kHz mono), shifted by `offset` seconds."""
    if audio.size == 0:
        return []
    stamps = get_speech_timestamps(audio, VAD_OPTIONS)
    return [
        Region(offset + s["start"] / SAMPLE_RATE, offset + s["end"] / SAMPLE_RATE) for s in stamps
    ]


# Silence put between packed regions: without it Whisper runs the end of one utterance
# into the start of the next and drops words at the seam.
PACK_GAP_S = 0.3


class PackedSpeech:
    """Regions cut from `audio` and joined; maps times in the joined stream back."""

    def __init__(self, audio: np.ndarray, audio_offset: float, regions: list[Region]):
        pieces, self._packed_starts, self._regions = [], [], list(regions)
        gap = np.zeros(int(PACK_GAP_S * SAMPLE_RATE), dtype=np.float32)
        position = 0
        for n, region in enumerate(self._regions):
            if n:
                pieces.append(gap)
                position += gap.size
            a = int(round((region.start - audio_offset) * SAMPLE_RATE))
            b = int(round((region.end - audio_offset) * SAMPLE_RATE))
            piece = audio[max(a, 0) : max(b, 0)]
            self._packed_starts.append(position / SAMPLE_RATE)
            pieces.append(piece)
            position += piece.size
        self.audio = np.concatenate(pieces) if pieces else np.zeros(0, dtype=np.float32)

    def region_index(self, packed_time: float) -> int:
        # A time inside a gap belongs to the region after it when nearer its start.
        i = bisect.bisect_right(self._packed_starts, packed_time + PACK_GAP_S / 2) - 1
        return min(max(i, 0), len(self._regions) - 1)

    def to_original(self, packed_time: float, index: int | None = None) -> float:
        i = self.region_index(packed_time) if index is None else index
        region = self._regions[i]
        t = region.start + (packed_time - self._packed_starts[i])
        return min(max(t, region.start), region.end)
