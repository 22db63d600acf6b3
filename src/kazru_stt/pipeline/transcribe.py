"""The pipeline: decode -> VAD -> language per region -> engine -> Transcript.

Audio streams through in blocks of a few minutes; the speech region that runs over a
block's end is carried into the next block, so memory stays flat for hours of audio and
no word is cut in two.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterable, Iterator
from typing import TypeVar

import numpy as np

from kazru_stt.domain.transcript import Segment, Transcript
from kazru_stt.engines.whisper_local import WhisperEngine
from kazru_stt.media import SAMPLE_RATE, iter_audio, probe
from kazru_stt.pipeline import language as lid
from kazru_stt.pipeline.assemble import segments_from_words, words_by_region
from kazru_stt.pipeline.options import TranscribeOptions
from kazru_stt.pipeline.speech_regions import PackedSpeech, Region, decode_spans, find_speech

log = logging.getLogger(__name__)

BLOCK_SECONDS = 300.0
# A region ending this close to a block's end may go on in the next block.
_TAIL_MARGIN_S = 1.0

ProgressFn = Callable[[float], None]
T = TypeVar("T")


def _with_last(items: Iterable[T]) -> Iterator[tuple[T, bool]]:
    it = iter(items)
    try:
        prev = next(it)
    except StopIteration:
        return
    for item in it:
        yield prev, False
        prev = item
    yield prev, True


class _Progress:
    """Maps a stage's own 0..1 onto the whole recording's 0..1 and never goes backwards."""

    def __init__(self, callback: ProgressFn | None, total_s: float | None):
        self.callback, self.total_s, self.last = callback, total_s, 0.0

    def report(self, position_s: float) -> None:
        if not self.callback:
            return
        frac = min(position_s / self.total_s, 0.999) if self.total_s else 0.0
        if frac >= self.last:
            self.last = frac
            self.callback(frac)


def _decode_pass(
    engine: WhisperEngine,
    audio: np.ndarray,
    offset: float,
    regions: list[Region],
    selected: list[int],
    language: str,
    beam_size: int | None,
    progress: Callable[[float], None] | None = None,
):
    """Decode the `selected` regions (indices into the block's `regions`) in one language;
    returns the raw segments and, per selected region, its words."""
    end = offset + audio.size / SAMPLE_RATE
    packed = PackedSpeech(audio, offset, decode_spans(regions, selected, offset, end))

    def on_segment(packed_end: float) -> None:
        if progress:
            progress(packed.to_original(packed_end))

    raw = engine.transcribe(packed.audio, language, beam_size=beam_size, on_segment=on_segment)
    return raw, words_by_region(packed, raw, [regions[i] for i in selected])


def transcribe_regions(
    engine: WhisperEngine,
    audio: np.ndarray,
    offset: float,
    regions: list[Region],
    options: TranscribeOptions,
    progress: Callable[[float], None] | None = None,
) -> list[Segment]:
    """Transcribe the speech `regions` of `audio` (which starts at `offset` s);
    `progress(t)` hears how far (s, recording clock) the first decode has come."""
    if not regions:
        return []
    allowed = [options.language] if options.language != "auto" else list(options.languages)
    primary = "ru" if "ru" in allowed else allowed[0]

    raw_by_pass, words_by_pass = {}, {}
    everything = list(range(len(regions)))
    raw_by_pass[primary], words_by_pass[primary] = _decode_pass(
        engine, audio, offset, regions, everything, primary, options.beam_size, progress
    )
    chosen = [primary] * len(regions)
    evidence = [lid.russian_evidence([w for _, w in ws]) for ws in words_by_pass[primary]]
    if len(allowed) > 1:
        for i, ev in enumerate(evidence):
            if primary == "ru" and lid.settled_as_russian(ev):
                continue
            region = regions[i]
            a = int(round((region.start - offset) * SAMPLE_RATE))
            b = int(round((region.end - offset) * SAMPLE_RATE))
            ev.detector = engine.detect_language(audio[a:b])
            chosen[i] = lid.choose(ev, allowed)

    for code in sorted(set(chosen) - {primary}):
        idx = [i for i, c in enumerate(chosen) if c == code]
        raw, words = _decode_pass(engine, audio, offset, regions, idx, code, options.beam_size)
        raw_by_pass[code] = raw
        full: list[list] = [[] for _ in regions]
        for j, i in enumerate(idx):
            full[i] = words[j]
        words_by_pass[code] = full

    for region, code, ev in zip(regions, chosen, evidence, strict=True):
        region.language = code
        region.evidence = ev.as_dict()
    picked = [(i, chosen[i], words_by_pass[chosen[i]][i]) for i in range(len(regions))]
    return segments_from_words(picked, raw_by_pass)


class _SpeakerStage:
    """Optional diarization. A failure here never loses the transcript: the job completes
    without speakers and with a warning carrying the error's code."""

    def __init__(self, options: TranscribeOptions):
        self.options = options
        self.embedder = None
        self.error: Exception | None = None
        if options.diarize:
            try:
                from kazru_stt.diarization import SpeakerEmbedder

                self.embedder = SpeakerEmbedder()
            except Exception as exc:
                self.error = exc

    def add(self, audio: np.ndarray, offset: float, regions: list[Region]) -> None:
        if self.embedder is None or self.error:
            return
        try:
            self.embedder.add(audio, offset, regions)
        except Exception as exc:
            self.error = exc

    def apply(self, transcript: Transcript) -> None:
        if not self.options.diarize:
            return
        if self.error is None and self.embedder is not None:
            try:
                from kazru_stt.diarization import SpeakerBounds, assign_speakers, cluster_windows

                o = self.options
                bounds = SpeakerBounds(o.num_speakers, o.min_speakers, o.max_speakers)
                labels = cluster_windows(self.embedder.windows, bounds)
                assign_speakers(transcript, self.embedder.windows, labels)
                return
            except Exception as exc:
                self.error = exc
        log.warning("diarization failed: %r", self.error)
        for seg in transcript.segments:
            seg.speaker = None
        transcript.speakers = []
        transcript.warnings.append(
            {"code": "diarization_failed", "message": f"speakers not found: {self.error}"}
        )


def transcribe_file(
    path: str | os.PathLike,
    options: TranscribeOptions,
    engine: WhisperEngine,
    progress: ProgressFn | None = None,
) -> Transcript:
    """Transcribe one recording. Raises MediaError for unusable input."""
    options.validate(engine.supported_languages)
    info = probe(path)
    tracker = _Progress(progress, info.duration)

    segments: list[Segment] = []
    speakers = _SpeakerStage(options)
    buffer = np.zeros(0, dtype=np.float32)
    buffer_offset = 0.0
    decoded_samples = 0
    blocks = iter_audio(path, block_seconds=BLOCK_SECONDS, max_seconds=options.max_duration_s)
    for block, is_last in _with_last(blocks):
        decoded_samples += block.size
        buffer = np.concatenate([buffer, block]) if buffer.size else block
        buffer_end = buffer_offset + buffer.size / SAMPLE_RATE
        regions = find_speech(buffer, buffer_offset)
        cut = buffer_end
        if not is_last and regions and buffer_end - regions[-1].end < _TAIL_MARGIN_S:
            cut = regions.pop().start
        segments.extend(
            transcribe_regions(engine, buffer, buffer_offset, regions, options, tracker.report)
        )
        speakers.add(buffer, buffer_offset, regions)
        tracker.report(cut)
        buffer = buffer[int(round((cut - buffer_offset) * SAMPLE_RATE)) :]
        buffer_offset = cut

    for i, seg in enumerate(segments):
        seg.id = i
    transcript = Transcript(
        duration=decoded_samples / SAMPLE_RATE,
        segments=segments,
        engine=engine.name,
        model=engine.model_name,
    )
    speakers.apply(transcript)
    if progress:
        progress(1.0)
    return transcript
