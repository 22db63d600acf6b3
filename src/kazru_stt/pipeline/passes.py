"""The decodes of one block's speech regions, and the engine that makes them.

A *pass* is one language decoded over some regions (or a language decoded by a model of
its own: key `kk@model`). `Passes` is the table the language rounds read and write: per
pass its raw segments and, per region, the words it gave and whether they looped.
`RegionDecoder` makes a pass with a Whisper engine; the rounds' tests script one instead.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

from kazru_stt.domain.transcript import Word
from kazru_stt.engines.whisper import TEMPERATURES, EncoderReuse, RawSegment, WhisperEngine
from kazru_stt.media import SAMPLE_RATE
from kazru_stt.pipeline.assemble import words_by_region
from kazru_stt.pipeline.batched_decode import WINDOW_S, decode_batched
from kazru_stt.pipeline.speech_regions import PackedSpeech, Region, decode_spans

# Whisper's own gate: a decode it would fall back from is no transcript.
CREDIBLE_MIN_LOGPROB = -1.0
# Whisper pairs its no-speech probability with a low log-probability; the segment's average
# also counts the confident end and timestamp tokens, which can lift a single unsupported
# word over -1.0 (a melody decoded as "You": no-speech 0.78, word probability 0.04). So
# where Whisper thinks there is no speech, the words themselves must be supported. On the
# 55 eval clips, the 3 credible decodes with no-speech > 0.6 had mean word probability
# 0.38-0.48 (none of the 159 lost); chosen there, so a conservative bound.
NO_SPEECH_GATE = 0.6
NO_SPEECH_MIN_WORD_PROB = 0.2

RegionWords = list[tuple[int, Word]]  # a region's words, each with its raw segment's index


@dataclass
class PassResult:
    """One decode of the `selected` regions, per selected region in order."""

    raw: list[RawSegment]
    words: list[RegionWords]
    looped: list[bool]
    # Whisper's detector for a region alone in its window (read from the first decode's
    # encoding), and whether a window of it was decoded at beam 1, as evidence only.
    detected: list[dict[str, float] | None] = field(default_factory=list)
    evidence_only: list[bool] = field(default_factory=list)


class Decoder(Protocol):
    def decode(
        self,
        language: str,
        selected: list[int],
        temperatures: tuple[float, ...] = TEMPERATURES,
        *,
        model: WhisperEngine | None = None,
        detect: bool = False,
        progress: Callable[[float], None] | None = None,
    ) -> PassResult: ...

    def detect(self, selected: list[int]) -> list[dict[str, float]]: ...


def credible(raw: list[RawSegment], words: RegionWords, looped: bool) -> bool:
    """A decode that is no loop, not below Whisper's own log-probability gate (-1.0, what it
    falls back from) on the segments its words came from, and, where Whisper thinks there
    is no speech, made of words it supports."""
    if looped or not words:
        return False
    used = {seg_index for seg_index, _ in words}
    if max(raw[i].avg_logprob for i in used) < CREDIBLE_MIN_LOGPROB:
        return False
    if min(raw[i].no_speech_prob for i in used) > NO_SPEECH_GATE:
        mean_p = sum(w.probability for _, w in words) / len(words)
        return mean_p >= NO_SPEECH_MIN_WORD_PROB
    return True


class Passes:
    """Every decode of one block's `count` regions, by pass."""

    def __init__(self, count: int):
        self.count = count
        self.raw: dict[str, list[RawSegment]] = {}
        self.words: dict[str, list[RegionWords]] = {}
        self.looped: dict[str, list[bool]] = {}
        self.decoded: dict[str, set[int]] = {}
        # Per pass, the regions any of its decodes looped in (a later decode may not have).
        self.ever_looped: dict[str, set[int]] = {}

    def add(self, key: str, selected: list[int], result: PassResult) -> None:
        base = len(self.raw.setdefault(key, []))
        self.raw[key].extend(result.raw)
        self.words.setdefault(key, [[] for _ in range(self.count)])
        self.looped.setdefault(key, [False] * self.count)
        self.decoded.setdefault(key, set()).update(selected)
        for j, i in enumerate(selected):
            self.words[key][i] = [(base + k, w) for k, w in result.words[j]]
            self.looped[key][i] = result.looped[j]
            if result.looped[j]:
                self.ever_looped.setdefault(key, set()).add(i)

    def has(self, key: str, i: int) -> bool:
        return i in self.decoded.get(key, ())

    def spoke_anywhere(self, i: int) -> bool:
        return any(bool(self.words[k][i] or self.looped[k][i]) for k in self.words)

    def credible(self, key: str, i: int) -> bool:
        return self.has(key, i) and credible(self.raw[key], self.words[key][i], self.looped[key][i])


class RegionDecoder:
    """Decodes regions of one block of audio (which starts at `offset` s) with an engine;
    with `reuse`, the block's encoder outputs are kept for the decodes after the first."""

    def __init__(
        self,
        engine: WhisperEngine,
        audio: np.ndarray,
        offset: float,
        regions: list[Region],
        beam_size: int | None,
        reuse: EncoderReuse | None = None,
    ):
        self.engine, self.audio, self.offset = engine, audio, offset
        self.regions, self.beam_size, self.reuse = regions, beam_size, reuse

    def decode(
        self,
        language: str,
        selected: list[int],
        temperatures: tuple[float, ...] = TEMPERATURES,
        *,
        model: WhisperEngine | None = None,
        detect: bool = False,
        progress: Callable[[float], None] | None = None,
    ) -> PassResult:
        engine = model or self.engine
        end = self.offset + self.audio.size / SAMPLE_RATE
        spans = decode_spans(self.regions, selected, self.offset, end, WINDOW_S)
        packed = PackedSpeech(self.audio, self.offset, spans)

        def on_segment(packed_end: float) -> None:
            if progress:
                progress(packed.to_original(packed_end))

        # Windows cut at pauses, `batch_size` at a time (1: one after another), and the rest
        # of any window whose decode stopped early decoded again (batched_decode.py):
        # Whisper's own seek loop drops what follows a pause at the end of a window.
        regions = self.regions
        speech = [
            (packed.to_packed(regions[i].start), packed.to_packed(regions[i].end)) for i in selected
        ]
        languages: list | None = [] if detect else None
        reuse = self.reuse if engine is self.engine else None
        raw = decode_batched(
            engine,
            packed,
            speech,
            language,
            self.beam_size,
            temperatures,
            on_segment,
            reuse,
            languages,
        )
        words, looped = words_by_region(packed, raw, [regions[i] for i in selected])
        detected: list[dict[str, float] | None] = [None] * len(selected)
        evidence_only = [False] * len(selected)
        for a, b, probs, beam_1 in languages or ():
            inside = [j for j, (start, _end) in enumerate(speech) if a <= start < b]
            if len(inside) == 1:  # the window's languages are this passage's own
                detected[inside[0]] = probs
            if beam_1:
                for j, (start, stop) in enumerate(speech):
                    evidence_only[j] |= start < b and a < stop
        return PassResult(raw, words, looped, detected, evidence_only)

    def detect(self, selected: list[int]) -> list[dict[str, float]]:
        """Whisper's detector on each region's own audio, cut to its length: one encoder
        pass each, all at once (spread over the model's workers)."""
        clips = [
            self.audio[
                round((self.regions[i].start - self.offset) * SAMPLE_RATE) : round(
                    (self.regions[i].end - self.offset) * SAMPLE_RATE
                )
            ]
            for i in selected
        ]
        return self.engine.detect_languages(clips)
