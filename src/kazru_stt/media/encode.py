"""Encode audio back to a file: 16-bit PCM WAV (what Yandex SpeechKit and every player take)."""

from __future__ import annotations

import io
import os

import av
import numpy as np


def write_wav(target: str | os.PathLike | io.BytesIO, audio: np.ndarray, rate: int = 16000):
    """Write float32 audio (mono (n,), or (channels, n)) as 16-bit PCM WAV; returns target."""
    audio = np.atleast_2d(np.asarray(audio, dtype=np.float32))
    pcm = (np.clip(audio, -1, 1) * 32767).astype(np.int16)
    layout = "mono" if pcm.shape[0] == 1 else "stereo"
    dest = target if isinstance(target, io.BytesIO) else str(target)
    with av.open(dest, "w", format="wav") as out:
        stream = out.add_stream("pcm_s16le", rate=rate, layout=layout)
        frame = av.AudioFrame.from_ndarray(pcm.T.reshape(1, -1), format="s16", layout=layout)
        frame.sample_rate = rate
        for packet in stream.encode(frame):
            out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)
    return target
