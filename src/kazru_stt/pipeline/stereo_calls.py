"""Calls recorded one party per channel: each channel is transcribed on its own and the
channel is the speaker (SPEAKER_1 left, SPEAKER_2 right), as the Yandex engine does.

Told from the audio: in a call recorded per party, at nearly every moment of speech one
channel is far louder than the other (which carries at most the party's leak through the
line), and each channel leads for a fair share of the time, or, where one party says little
(call centres: a client who answers "да" and "иә"), for a second or more. Two microphones in
one room, or a mono recording stored twice, keep their channels within a few dB of each
other; a recording with one silent channel, or one channel a copy of the other at a lower
level, has one side only: the other channel never leads.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import numpy as np

from kazru_stt.media import SAMPLE_RATE, iter_audio

FRAME_S = 0.05
# A frame is speech (of someone) above this level, dBFS, and one party's when its channel
# is this much louder than the other.
ACTIVE_DBFS = -45.0
DOMINANT_DB = 10.0
# A call: most speech frames belong to one party, and each party has a fair share of them.
MIN_DOMINANT_SHARE = 0.6
MIN_PARTY_SHARE = 0.1
# ... or a party leads for less, but at least this long: a click or a cough on a quiet
# channel is shorter, and a copy of the other channel never leads. (The channels'
# correlation, the other sign of two voices, does not tell: a line's leak 25 dB down makes
# a call where one party speaks 5-9 % correlate at 0.65-0.77, as much as a stereo melody:
# benchmarks/stereo_calls.py.)
MIN_PARTY_S = 1.0
PROBE_SECONDS = 600.0  # enough of a call to tell; no need to read an hour-long file twice


def _frame_db(channel: np.ndarray) -> np.ndarray:
    n = int(FRAME_S * SAMPLE_RATE)
    frames = channel[: channel.size // n * n].reshape(-1, n)
    return 10 * np.log10(np.mean(frames.astype(np.float64) ** 2, axis=1) + 1e-12)


class ChannelStats:
    """What the rule reads off a stereo recording, block by block: speech frames, and those
    in which the left, and the right, channel leads by DOMINANT_DB or more."""

    def __init__(self) -> None:
        self.active = self.left = self.right = 0

    def add(self, stereo: np.ndarray) -> None:
        left, right = _frame_db(stereo[0]), _frame_db(stereo[1])
        diff = (left - right)[np.maximum(left, right) > ACTIVE_DBFS]
        self.active += diff.size
        self.left += int(np.sum(diff >= DOMINANT_DB))
        self.right += int(np.sum(diff <= -DOMINANT_DB))

    def is_call(self) -> bool:
        if not self.active or (self.left + self.right) / self.active < MIN_DOMINANT_SHARE:
            return False
        quieter = min(self.left, self.right)
        return quieter / self.active >= MIN_PARTY_SHARE or quieter * FRAME_S >= MIN_PARTY_S


def is_split_call(path: str | os.PathLike) -> bool:
    """True when the first minutes of a stereo recording carry one party per channel."""
    stats = ChannelStats()
    seconds = 0.0
    for block in iter_audio(path, block_seconds=60.0, channels=2, check_truncation=False):
        stats.add(block)
        seconds += block.shape[-1] / SAMPLE_RATE
        if seconds >= PROBE_SECONDS:
            break
    return stats.is_call()


def _without_leak(own: np.ndarray, other: np.ndarray) -> np.ndarray:
    """`own` with the frames where the other party is far louder muted: what leaks
    through the line there is the other party's speech, already in their channel."""
    n = int(FRAME_S * SAMPLE_RATE)
    keep = (_frame_db(own) > _frame_db(other) - DOMINANT_DB).astype(np.float32)
    gain = np.repeat(keep, n)
    gain = np.concatenate([gain, np.full(own.size - gain.size, gain[-1] if gain.size else 1.0)])
    # A 10 ms ramp at each switch, so muting adds no clicks.
    ramp = np.ones(int(0.01 * SAMPLE_RATE), np.float32) / int(0.01 * SAMPLE_RATE)
    return own * np.convolve(gain, ramp, mode="same").astype(np.float32)


def party_blocks(
    path: str | os.PathLike, channel: int, block_seconds: float, max_seconds: float | None
) -> Iterator[np.ndarray]:
    """One party's channel as mono blocks, with the other party's leak muted."""
    for block in iter_audio(path, block_seconds=block_seconds, channels=2, max_seconds=max_seconds):
        yield _without_leak(block[channel], block[1 - channel])
