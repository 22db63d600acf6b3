"""Voice activity detection (Silero, as shipped in faster-whisper) and packing of speech.

Regions are split at pauses of half a second, so a conversation's turns (and with them
its language switches) fall into separate regions, each of which gets its own language.
For decoding, regions close together are merged back into stretches of the original audio
(pauses included), and the stretches are packed one after another into one stream, since
Whisper's encoder costs the same for 3 s as for 30 s; only long silences are left out.
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
    speech_pad_ms=400,
)


@dataclass
class Region:
    """Speech between two pauses, in seconds of the recording."""

    start: float
    end: float


# A region whose spectrum hardly changes is a tone (a dial or ring tone, a beep, a hum), not
# speech, though Silero takes a 150-220 Hz tone for a voice and Whisper then writes words for
# it. Steadiness is the median cosine between each frame's power spectrum and the region's
# mean spectrum. Why 0.99: a tone stays above 0.999 even under white noise 5 dB below it;
# speech changes its spectrum with every sound, and stays below 0.975 even under mains hum
# 5 dB louder than itself (docs/accuracy.md has the measurement).
STEADY_SOUND = 0.99
_FRAME = 512
_HOP = 256


def steadiness(audio: np.ndarray) -> float:
    """How alike the short-time power spectra of `audio` are: 1.0 for a pure tone."""
    if audio.size < _FRAME:
        audio = np.pad(audio, (0, _FRAME - audio.size))
    frames = np.lib.stride_tricks.sliding_window_view(audio, _FRAME)[::_HOP] * np.hanning(_FRAME)
    power = np.abs(np.fft.rfft(frames, axis=1)) ** 2
    energy = power.sum(axis=1)
    power = power[energy > energy.max() * 1e-3]  # the silent frames say nothing either way
    if power.size == 0:
        return 0.0
    power /= np.linalg.norm(power, axis=1, keepdims=True)
    mean = power.mean(axis=0)
    return float(np.median(power @ (mean / np.linalg.norm(mean))))


def find_speech(audio: np.ndarray, offset: float = 0.0) -> list[Region]:
    """Speech regions of `audio` (16 kHz mono), shifted by `offset` seconds; steady tones
    the voice detector lets through are left out."""
    if audio.size == 0:
        return []
    stamps = get_speech_timestamps(audio, VAD_OPTIONS)
    return [
        Region(offset + s["start"] / SAMPLE_RATE, offset + s["end"] / SAMPLE_RATE)
        for s in stamps
        if steadiness(audio[s["start"] : s["end"]]) < STEADY_SOUND
    ]


# Regions closer than this are decoded as one stretch of the original audio, pauses
# included: Whisper reads natural audio better than speech cut tight and glued together.
MERGE_GAP_S = 2.0
# Audio kept around each stretch (when there is audio there), as Whisper's own VAD does.
SPAN_PAD_S = 1.0
# Silence put between packed stretches, so the end of one does not run into the next.
PACK_GAP_S = 0.3


def decode_spans(
    regions: list[Region],
    selected: list[int],
    audio_start: float,
    audio_end: float,
    max_s: float | None = None,
) -> list[Region]:
    """Stretches to decode for the `selected` regions (indices into `regions`, in order):
    neighbours merged across short pauses, padded with the audio around them, but never
    reaching into a region that is not selected (it may be in another language).
    With `max_s`, no stretch is longer (a new one starts at a pause, and the padding
    shrinks to fit), so each fits one window of a batched decode."""
    groups: list[list[int]] = []
    for i in selected:
        if (
            groups
            and groups[-1][-1] == i - 1
            and regions[i].start - regions[i - 1].end < MERGE_GAP_S
            and (max_s is None or regions[i].end - regions[groups[-1][0]].start <= max_s)
        ):
            groups[-1].append(i)
        else:
            groups.append([i])
    spans = []
    for group in groups:
        first, last = group[0], group[-1]
        lo = regions[first - 1].end if first > 0 else audio_start
        hi = regions[last + 1].start if last + 1 < len(regions) else audio_end
        start, end = regions[first].start, regions[last].end
        pad = SPAN_PAD_S
        if max_s is not None:
            pad = min(pad, max((max_s - (end - start)) / 2, 0.0))
        spans.append(Region(max(lo, start - pad), min(hi, end + pad)))
    return spans


def nearest_region(regions: list[Region], t: float) -> int:
    """Index of the region containing `t`, or the nearest one."""
    starts = [r.start for r in regions]
    i = max(bisect.bisect_right(starts, t) - 1, 0)
    if i + 1 < len(regions) and t > regions[i].end:
        if regions[i + 1].start - t < t - regions[i].end:
            return i + 1
    return i


class PackedSpeech:
    """Stretches cut from `audio` and joined; maps times in the joined stream back."""

    def __init__(self, audio: np.ndarray, audio_offset: float, spans: list[Region]):
        pieces, self._spans = [], list(spans)
        self._span_starts = [s.start for s in self._spans]
        self._packed_starts: list[float] = []
        self._packed_ends: list[float] = []
        gap = np.zeros(int(PACK_GAP_S * SAMPLE_RATE), dtype=np.float32)
        position = 0
        for n, span in enumerate(self._spans):
            if n:
                pieces.append(gap)
                position += gap.size
            a = int(round((span.start - audio_offset) * SAMPLE_RATE))
            b = int(round((span.end - audio_offset) * SAMPLE_RATE))
            piece = audio[max(a, 0) : max(b, 0)]
            self._packed_starts.append(position / SAMPLE_RATE)
            pieces.append(piece)
            position += piece.size
            self._packed_ends.append(position / SAMPLE_RATE)
        self.audio = np.concatenate(pieces) if pieces else np.zeros(0, dtype=np.float32)

    def windows(self, max_s: float) -> list[tuple[float, float]]:
        """Consecutive stretches grouped into windows of at most `max_s` s of the packed
        stream (a longer stretch is a window of its own), for a batched decode."""
        out: list[tuple[float, float]] = []
        for start, end in zip(self._packed_starts, self._packed_ends, strict=True):
            if out and end - out[-1][0] <= max_s:
                out[-1] = (out[-1][0], end)
            else:
                out.append((start, end))
        return out

    def stretches(self) -> list[tuple[float, float]]:
        """(start, end) of each stretch on the packed clock."""
        return list(zip(self._packed_starts, self._packed_ends, strict=True))

    def to_packed(self, t: float) -> float:
        """Where recording time `t` (inside or next to a stretch) lies in the packed stream."""
        i = max(bisect.bisect_right(self._span_starts, t) - 1, 0)
        span = self._spans[i]
        return self._packed_starts[i] + min(max(t - span.start, 0.0), span.end - span.start)

    def span_index(self, packed_time: float) -> int:
        # A time inside a gap belongs to the stretch after it when nearer its start.
        i = bisect.bisect_right(self._packed_starts, packed_time + PACK_GAP_S / 2) - 1
        return min(max(i, 0), len(self._spans) - 1)

    def to_original(self, packed_time: float, index: int | None = None) -> float:
        i = self.span_index(packed_time) if index is None else index
        span = self._spans[i]
        t = span.start + (packed_time - self._packed_starts[i])
        return min(max(t, span.start), span.end)
