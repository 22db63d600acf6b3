"""The cloud engine: a whole recording through SpeechKit, as a Transcript.

Audio goes as 16 kHz LPCM WAV produced by our media layer (any input container works), in
chunks that fit the 60 MB request limit, with timestamps offset back. Stereo recordings
keep both channels: SpeechKit recognises each separately and the channel becomes the
speaker (call-centre recordings); mono recordings may ask for speaker labeling (at most two).
"""

from __future__ import annotations

import io
import logging
from collections.abc import Callable

import numpy as np

from kazru_stt.domain.engine_names import EngineName
from kazru_stt.domain.transcript import Segment, Speaker, Transcript, speaker_label
from kazru_stt.engines.yandex.client import YandexClient, YandexConfig
from kazru_stt.engines.yandex.errors import YandexUnavailable
from kazru_stt.engines.yandex.languages import TO_YANDEX
from kazru_stt.engines.yandex.parse import parse_results
from kazru_stt.media import SAMPLE_RATE, iter_audio, probe
from kazru_stt.media.encode import write_wav

log = logging.getLogger(__name__)

# 20 min of 16-bit 16 kHz mono is 38 MB, 51 MB as base64: inside the 60 MB body limit.
CHUNK_SECONDS_MONO = 20 * 60
RESUBMITS = 2  # operation failed with a retryable code: start it again this many times


def _differ(stereo: np.ndarray) -> bool:
    """True when the two channels carry different signals (a real two-party recording)."""
    if stereo.shape[0] < 2:
        return False
    return float(np.mean(np.abs(stereo[0] - stereo[1]))) > 1e-3 * float(
        np.mean(np.abs(stereo)) + 1e-9
    )


class YandexEngine:
    name = EngineName.YANDEX
    model_name = "speechkit-v3:general"

    def __init__(self, config: YandexConfig):
        self.config = config

    def transcribe_file(
        self, path, options, progress: Callable[[float], None] | None = None
    ) -> Transcript:
        info = probe(path)
        channels = 2 if info.channels >= 2 else 1
        chunk_s = CHUNK_SECONDS_MONO // channels
        if options.language != "auto":
            codes = [TO_YANDEX.get(options.language, options.language)]
        else:
            codes = [TO_YANDEX.get(c, c) for c in options.languages]
        client = YandexClient(self.config)
        segments: list[Segment] = []
        per_channel = False
        offset = 0.0
        try:
            for block in iter_audio(
                path, block_seconds=chunk_s, channels=channels, max_seconds=options.max_duration_s
            ):
                if channels == 2 and not _differ(block):
                    block = block.mean(axis=0)  # the same signal twice: send it once
                stereo = block.ndim == 2
                per_channel = per_channel or stereo
                label = options.diarize and not stereo
                wav = write_wav(io.BytesIO(), block).getvalue()
                body = self._recognize(client, wav, codes, label, progress, offset, info.duration)
                for utt in parse_results(body):
                    for w in utt.words:
                        w.start += offset
                        w.end += offset
                    speaker = speaker_label(int(utt.channel) + 1) if (stereo or label) else None
                    for w in utt.words:
                        w.speaker = speaker
                    segments.append(
                        Segment(
                            0,
                            utt.start + offset,
                            utt.end + offset,
                            utt.text,
                            utt.language,
                            speaker,
                            utt.words,
                        )
                    )
                offset += block.shape[-1] / SAMPLE_RATE
        finally:
            client.close()
        segments.sort(key=lambda s: (s.start, s.speaker or ""))
        for i, s in enumerate(segments):
            s.id = i
        labels = sorted(
            {s.speaker for s in segments if s.speaker}, key=lambda x: int(x.split("_")[1])
        )
        return Transcript(
            duration=offset,
            segments=segments,
            speakers=[Speaker(x) for x in labels],
            engine=self.name,
            model=self.config.model,
        )

    def _recognize(self, client, wav, codes, label, progress, offset, total) -> str:
        for attempt in range(RESUBMITS + 1):
            op = client.start(wav, container="WAV", languages=codes, speaker_labeling=label)
            try:
                client.wait(
                    op,
                    progress=(lambda: progress(min(0.99, offset / total)))
                    if progress and total
                    else None,
                )
            except YandexUnavailable:
                if attempt == RESUBMITS:
                    raise
                log.info("yandex operation %s failed retryably; submitting again", op)
                continue
            body = client.results(op)
            client.delete(op)  # nothing lingers in the cloud once we have it
            return body
        raise AssertionError("unreachable")
