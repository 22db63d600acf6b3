"""Raw PCM16 mono, as live clients stream it, to 16 kHz mono float32."""

from __future__ import annotations

import av
import numpy as np

from kazru_stt.media.decode import SAMPLE_RATE


class PcmStream:
    """Converts successive pieces of one stream: the resampler keeps its state between
    pieces, so no click or lost sample at their joins."""

    def __init__(self, rate: int):
        self.rate = rate
        self._carry = b""  # half a sample left over from a piece of odd length
        self._resampler = (
            av.AudioResampler(format="flt", layout="mono", rate=SAMPLE_RATE)
            if rate != SAMPLE_RATE
            else None
        )

    def convert(self, pcm: bytes) -> np.ndarray:
        data = self._carry + pcm
        whole = len(data) - len(data) % 2
        self._carry = data[whole:]
        samples = np.frombuffer(data[:whole], dtype="<i2")
        if samples.size == 0:
            return np.zeros(0, dtype=np.float32)
        if self._resampler is None:
            return samples.astype(np.float32) / 32768.0
        frame = av.AudioFrame.from_ndarray(samples.reshape(1, -1), format="s16", layout="mono")
        frame.sample_rate = self.rate
        out = [f.to_ndarray().reshape(-1) for f in self._resampler.resample(frame)]
        return np.concatenate(out) if out else np.zeros(0, dtype=np.float32)
