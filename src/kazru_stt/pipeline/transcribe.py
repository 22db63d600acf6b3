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

from kazru_stt.domain.transcript import Segment, Speaker, Transcript, Word, speaker_label
from kazru_stt.engines.whisper import EncoderReuse, WhisperEngine
from kazru_stt.media import SAMPLE_RATE, iter_audio, probe
from kazru_stt.pipeline import language as lid
from kazru_stt.pipeline.language_rounds import LanguageRounds
from kazru_stt.pipeline.options import TranscribeOptions
from kazru_stt.pipeline.passes import RegionDecoder
from kazru_stt.pipeline.speech_regions import Region, find_speech
from kazru_stt.pipeline.stereo_calls import is_split_call, party_blocks

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


def transcribe_regions(
    engine: WhisperEngine,
    audio: np.ndarray,
    offset: float,
    regions: list[Region],
    options: TranscribeOptions,
    progress: Callable[[float], None] | None = None,
    language_engines: dict[str, WhisperEngine] | None = None,
) -> list[Segment]:
    """Transcribe the speech `regions` of `audio` (which starts at `offset` s);
    `progress(t)` hears how far (s, recording clock) the first decode has come;
    `language_engines`: languages whose passages another model writes (the language is
    still chosen with `engine`)."""
    # With a choice to make, the same windows may be decoded in several languages: their
    # encoder outputs are kept for this block, and the first pass reads Whisper's detector
    # from them (a passage alone in its window needs no detector pass of its own).
    reuse = (
        EncoderReuse(evidence_below=lid.EVIDENCE_ONLY_BELOW) if options.chooses_language else None
    )
    decoder = RegionDecoder(engine, audio, offset, regions, options.beam_size, reuse)
    return LanguageRounds(decoder, regions, options, language_engines).run(progress)


class _SpeakerStage:
    """Optional diarization. A failure here never loses the transcript: the job completes
    without speakers and with a warning carrying the error's code."""

    def __init__(self, options: TranscribeOptions):
        self.options = options
        self.embedder = None
        self.local = None
        self.error: Exception | None = None
        if options.diarize:
            try:
                # torch only for a job that asks for speakers
                from kazru_stt.diarization import LocalSpeakers, SpeakerEmbedder  # noqa: PLC0415

                self.embedder = SpeakerEmbedder()
                self.local = LocalSpeakers()
            except Exception as exc:
                self.error = exc

    def add(self, audio: np.ndarray, offset: float, regions: list[Region]) -> None:
        if self.embedder is None or self.error:
            return
        try:
            self.embedder.add(audio, offset, regions)
            if self.local is not None:
                self.local.add(audio, offset)
        except Exception as exc:
            self.error = exc

    def apply(self, transcript: Transcript) -> None:
        if not self.options.diarize:
            return
        if self.error is None and self.embedder is not None and self.local is not None:
            try:
                from kazru_stt.diarization import (  # noqa: PLC0415
                    SpeakerBounds,
                    assign_speakers,
                    find_turns,
                )

                o = self.options
                bounds = SpeakerBounds(o.num_speakers, o.min_speakers, o.max_speakers)
                labels, turns = find_turns(self.embedder, self.local, bounds)
                assign_speakers(transcript, turns, self.embedder.windows, labels)
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


def _transcribe_stream(
    blocks: Iterable[np.ndarray],
    options: TranscribeOptions,
    engine: WhisperEngine,
    report: Callable[[float], None],
    speakers: _SpeakerStage | None,
    language_engines: dict[str, WhisperEngine] | None,
) -> tuple[list[Segment], float]:
    """Segments of a mono stream of blocks, and its length (s)."""
    segments: list[Segment] = []
    buffer = np.zeros(0, dtype=np.float32)
    buffer_offset = 0.0
    decoded_samples = 0
    for block, is_last in _with_last(blocks):
        decoded_samples += block.size
        buffer = np.concatenate([buffer, block]) if buffer.size else block
        buffer_end = buffer_offset + buffer.size / SAMPLE_RATE
        regions = find_speech(buffer, buffer_offset)
        cut = buffer_end
        if not is_last and regions and buffer_end - regions[-1].end < _TAIL_MARGIN_S:
            cut = regions.pop().start
        segments.extend(
            transcribe_regions(
                engine, buffer, buffer_offset, regions, options, report, language_engines
            )
        )
        if speakers is not None:
            speakers.add(buffer, buffer_offset, regions)
        report(cut)
        buffer = buffer[int(round((cut - buffer_offset) * SAMPLE_RATE)) :]
        buffer_offset = cut
    return segments, decoded_samples / SAMPLE_RATE


def _one_party_per_channel(path, info, options: TranscribeOptions) -> bool:
    if info.channels < 2 or options.stereo == "mix":
        return False
    return options.stereo == "split" or is_split_call(path)


def transcribe_file(
    path: str | os.PathLike,
    options: TranscribeOptions,
    engine: WhisperEngine,
    progress: ProgressFn | None = None,
    language_engines: dict[str, WhisperEngine] | None = None,
) -> Transcript:
    """Transcribe one recording. Raises MediaError for unusable input.
    `language_engines`: languages whose passages another model writes."""
    options.validate(engine.supported_languages)
    info = probe(path)
    if _one_party_per_channel(path, info, options):
        transcript = _transcribe_call(path, info, options, engine, progress, language_engines)
    else:
        tracker = _Progress(progress, info.duration)
        speakers = _SpeakerStage(options)
        blocks = iter_audio(path, block_seconds=BLOCK_SECONDS, max_seconds=options.max_duration_s)
        segments, duration = _transcribe_stream(
            blocks, options, engine, tracker.report, speakers, language_engines
        )
        transcript = Transcript(
            duration=duration, segments=segments, engine=engine.name, model=engine.model_name
        )
        speakers.apply(transcript)
    for i, seg in enumerate(transcript.segments):
        seg.id = i
    if progress:
        progress(1.0)
    return transcript


def diarize_file(
    path: str | os.PathLike, transcript: Transcript, options: TranscribeOptions
) -> Transcript:
    """Find the speakers of an already recognised recording again (another count, or a
    recording first transcribed without them). Its segments stay as they are (text, words,
    languages, a person's corrections): each word gets its speaker, each segment the
    speaker of most of its words' time. A failure leaves no speakers and a warning, as in
    a first run."""
    options.diarize = True
    segments = list(transcript.segments)
    speakers = _SpeakerStage(options)
    for block, offset in _blocks_with_offsets(path):
        speakers.add(block, offset, find_speech(block, offset))
    transcript.warnings = [w for w in transcript.warnings if w.get("code") != "diarization_failed"]
    speakers.apply(transcript)  # labels words (and splits segments: undone below)
    for seg in segments:
        said_most = speaker_of_most(seg.words)
        if said_most or speakers.error is not None:
            seg.speaker = said_most
    transcript.segments = segments
    used = {s.speaker for s in segments if s.speaker}
    transcript.speakers = [s for s in transcript.speakers if s.label in used]
    return transcript


def speaker_of_most(words: Iterable[Word]) -> str | None:
    """The speaker of most of these words' time (None when none has one)."""
    spoken: dict[str, float] = {}
    for w in words:
        if w.speaker:
            spoken[w.speaker] = spoken.get(w.speaker, 0.0) + max(w.end - w.start, 0.01)
    return max(spoken, key=spoken.__getitem__) if spoken else None


def _blocks_with_offsets(path) -> Iterator[tuple[np.ndarray, float]]:
    offset = 0.0
    for block in iter_audio(path, block_seconds=BLOCK_SECONDS):
        yield block, offset
        offset += block.size / SAMPLE_RATE


def _transcribe_call(path, info, options, engine, progress, language_engines) -> Transcript:
    """Each party's channel on its own; the channel is the speaker (diarization within a
    channel would only split one party in two)."""
    total = info.duration
    tracker = _Progress(progress, 2 * total if total else None)
    segments: list[Segment] = []
    duration = 0.0
    for channel in (0, 1):
        label = speaker_label(channel + 1)
        done = channel * (total or 0.0)
        blocks = party_blocks(path, channel, BLOCK_SECONDS, options.max_duration_s)

        def report(t: float, done: float = done) -> None:
            tracker.report(done + t)

        party, duration = _transcribe_stream(
            blocks, options, engine, report, None, language_engines
        )
        for seg in party:
            seg.speaker = label
            for w in seg.words:
                w.speaker = label
        segments += party
    segments.sort(key=lambda s: (s.start, s.speaker or ""))
    return Transcript(
        duration=duration,
        segments=segments,
        speakers=[Speaker(label) for label in sorted({s.speaker or "" for s in segments}) if label],
        engine=engine.name,
        model=engine.model_name,
    )
