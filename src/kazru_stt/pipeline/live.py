"""Live transcription of a growing stream of audio.

Audio arrives a fraction of a second at a time. The VAD (the files' own Silero, with the
session's pause length) finds where an utterance starts and ends. While one is spoken, it
is decoded again each second at beam 1, and the words two decodes in a row agree on are
given out as partial text (the "local agreement" policy of whisper_streaming: a word the
next decode still writes the same way rarely changes). When the pause after it is long
enough, the utterance is decoded as a file's passages are (the same language rules, guards
and models), and its final text, language, word times and confidence are given out.

Times are seconds from the start of the session's audio, so the saved recording and its
transcript share one clock.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from faster_whisper.vad import VadOptions, get_speech_timestamps

from kazru_stt.domain.transcript import Segment
from kazru_stt.engines.whisper import GREEDY_ONLY, WhisperEngine
from kazru_stt.media import SAMPLE_RATE
from kazru_stt.pipeline import language as lid
from kazru_stt.pipeline.options import TranscribeOptions
from kazru_stt.pipeline.speech_regions import VAD_OPTIONS, Region
from kazru_stt.pipeline.transcribe import transcribe_regions

# A partial decode after each this much new speech (not fitted: a display rate). On 2 cores
# a decode takes most of a second (the encoder always reads 30 s). Against 1.5 s on the same
# 2.6 min of Russian (benchmarks/live_latency.py), 1.0 s gave the first partial text sooner
# (p50 3.5 s against 3.9 s) with final latencies within the runs' noise.
PARTIAL_EVERY_S = 1.0
# The first partial waits for this much speech: less is a syllable or two, whose decode
# (and detected language) is mostly wrong.
FIRST_PARTIAL_S = 1.0
# An utterance is cut at this length (at its last short pause where there is one): each
# partial decodes the whole utterance again, so its cost grows with its length, and the
# final text of a monologue should not wait for the speaker to draw breath.
MAX_UTTERANCE_S = 15.0
# Audio kept before an utterance starts while nothing is said (the VAD looks back).
KEEP_SILENCE_S = 1.0
# No partial decode while the last this-much holds no speech: the utterance may be ending,
# and a decode begun then would hold its final text back by a decode's length (about a
# second here). A breath within a sentence is longer than this; a syllable is not.
PAUSING_S = 0.3
_TAIL_VAD = VadOptions(
    threshold=VAD_OPTIONS.threshold,
    min_speech_duration_ms=0,
    min_silence_duration_ms=0,
    speech_pad_ms=0,
)
_CLOSED_EPS_S = 0.02


@dataclass
class TurnDetection:
    """OpenAI's `server_vad`: `silence_s` of pause ends an utterance (their default 500 ms);
    `enabled=False`: the client ends each utterance itself (`commit`)."""

    enabled: bool = True
    silence_s: float = 0.5


@dataclass
class Started:
    item: int
    start: float


@dataclass
class Delta:
    item: int
    text: str


@dataclass
class Completed:
    item: int
    start: float
    end: float
    segments: list[Segment] = field(default_factory=list)

    @property
    def text(self) -> str:
        return " ".join(s.text.strip() for s in self.segments if s.text.strip())

    @property
    def language(self) -> str | None:
        """The language of most of the utterance's speech."""
        spoken: dict[str, float] = {}
        for s in self.segments:
            if s.language:
                spoken[s.language] = spoken.get(s.language, 0.0) + s.end - s.start
        return max(spoken, key=spoken.__getitem__) if spoken else None

    @property
    def confidence(self) -> float | None:
        words = [w for s in self.segments for w in s.words]
        return float(sum(w.probability for w in words) / len(words)) if words else None

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": "completed",
            "item": self.item,
            "start": self.start,
            "end": self.end,
            "text": self.text,
            "language": self.language,
            "confidence": self.confidence,
            "segments": [s.to_dict() for s in self.segments],
        }


Event = Started | Delta | Completed


def event_dict(event: Event) -> dict[str, Any]:
    """An event as plain data (it crosses a process boundary)."""
    if isinstance(event, Completed):
        return event.to_dict()
    if isinstance(event, Started):
        return {"kind": "started", "item": event.item, "start": event.start}
    return {"kind": "delta", "item": event.item, "text": event.text}


def _key(word: str) -> str:
    return re.sub(r"[^\w]", "", word.lower())


def agreed_prefix(before: list[str], now: list[str]) -> int:
    """How many leading words two decodes write alike (case and punctuation aside)."""
    n = 0
    for a, b in zip(before, now, strict=False):
        if _key(a) != _key(b):
            break
        n += 1
    return n


class LiveTranscriber:
    """One live session's recognition state: feed it 16 kHz mono float32 audio as it
    arrives; each call returns the events it gave rise to, in order."""

    def __init__(
        self,
        engine: WhisperEngine,
        options: TranscribeOptions,
        turn: TurnDetection | None = None,
        language_engines: dict[str, WhisperEngine] | None = None,
    ):
        self.engine, self.options = engine, options
        self.turn = turn or TurnDetection()
        self.language_engines = language_engines
        self.vad = VadOptions(
            threshold=VAD_OPTIONS.threshold,
            min_speech_duration_ms=VAD_OPTIONS.min_speech_duration_ms,
            max_speech_duration_s=MAX_UTTERANCE_S,
            min_silence_duration_ms=int(self.turn.silence_s * 1000),
            speech_pad_ms=min(VAD_OPTIONS.speech_pad_ms, int(self.turn.silence_s * 500)),
        )
        self.audio = np.zeros(0, dtype=np.float32)
        self.offset = 0.0  # session time of self.audio[0]
        self.next_item = 0
        self.item: int | None = None  # the utterance being spoken, once started
        self.partial_at = 0.0  # buffer end at the last partial decode
        self.partial_language: str | None = None
        self.words: list[str] = []  # the last partial decode's words
        self.given = 0  # words given out as deltas

    @property
    def end(self) -> float:
        return self.offset + self.audio.size / SAMPLE_RATE

    def feed(self, audio: np.ndarray) -> list[Event]:
        if audio.size:
            self.audio = np.concatenate([self.audio, audio.astype(np.float32, copy=False)])
        if not self.turn.enabled:
            return []
        regions = self._regions()
        closed = [r for r in regions if r.end < self.end - _CLOSED_EPS_S]
        events: list[Event] = []
        if closed:
            events += self._finish(closed)
        open_ = regions[len(closed) :]
        if open_:
            events += self._speaking(open_[0])
        elif not closed:
            self._forget_before(self.end - KEEP_SILENCE_S)
        return events

    def commit(self) -> list[Event]:
        """The client ends the utterance now (manual turns, or a forced commit): all audio
        not yet given out, as one utterance when it has speech."""
        if not self._regions():
            self._forget_before(self.end)
            return []
        return self._finish([Region(self.offset, self.end)])

    def clear(self) -> None:
        """Drop the audio not yet given out as final text (OpenAI's buffer clear): the
        utterance being spoken is abandoned."""
        self._forget_before(self.end)
        self.item = None

    def close(self) -> list[Event]:
        """The session ends: every utterance not yet given out, the one being spoken too."""
        regions = self._regions()
        if not regions:
            return []
        regions[-1] = Region(regions[-1].start, min(self.end, regions[-1].end))
        return self._finish(regions)

    # -- inside

    def _regions(self) -> list[Region]:
        if self.audio.size == 0:
            return []
        stamps = get_speech_timestamps(self.audio, self.vad)
        return [
            Region(self.offset + s["start"] / SAMPLE_RATE, self.offset + s["end"] / SAMPLE_RATE)
            for s in stamps
        ]

    def _start(self, at: float) -> list[Event]:
        if self.item is not None:
            return []
        self.item, self.next_item = self.next_item, self.next_item + 1
        self.partial_at, self.partial_language, self.words, self.given = at, None, [], 0
        return [Started(self.item, at)]

    def _speaking(self, region: Region) -> list[Event]:
        events = self._start(region.start)
        self._forget_before(region.start)
        spoken = self.end - region.start
        if spoken < FIRST_PARTIAL_S or self.end - self.partial_at < PARTIAL_EVERY_S:
            return events
        if self._pausing():
            return events
        self.partial_at = self.end
        audio = self.audio[int((region.start - self.offset) * SAMPLE_RATE) :]
        if self.partial_language is None:
            self.partial_language = self._language_of(audio)
        raw = self.engine.transcribe(
            audio, self.partial_language, beam_size=1, temperatures=GREEDY_ONLY
        )
        words = " ".join(s.text.strip() for s in raw).split()
        agreed = agreed_prefix(self.words, words)
        self.words = words
        if agreed > self.given:
            text = " ".join(words[self.given : agreed])
            events.append(Delta(self.item or 0, (" " if self.given else "") + text))
            self.given = agreed
        return events

    def _pausing(self) -> bool:
        tail = self.audio[-int(4 * PAUSING_S * SAMPLE_RATE) :]  # context for the VAD
        stamps = get_speech_timestamps(tail, _TAIL_VAD)
        return not stamps or stamps[-1]["end"] < tail.size - PAUSING_S * SAMPLE_RATE

    def _language_of(self, audio: np.ndarray) -> str:
        allowed = self.options.allowed
        if len(allowed) == 1:
            return allowed[0]
        probs = self.engine.detect_language(audio)
        return lid.choose(probs, allowed, self.options.outside, audio.size / SAMPLE_RATE)

    def _finish(self, regions: list[Region]) -> list[Event]:
        """Final decodes of `regions` (all of them over); each is an utterance."""
        segments = transcribe_regions(
            self.engine,
            self.audio,
            self.offset,
            regions,
            self.options,
            language_engines=self.language_engines,
        )
        events: list[Event] = []
        for region in regions:
            started = self._start(region.start)
            if self.turn.enabled:  # with turns the client's, the VAD announces nothing
                events += started
            mine = [s for s in segments if region.start <= (s.start + s.end) / 2 <= region.end]
            events.append(Completed(self.item or 0, region.start, region.end, mine))
            self.item = None
        self._forget_before(regions[-1].end)
        return events

    def _forget_before(self, t: float) -> None:
        cut = int((t - self.offset) * SAMPLE_RATE)
        if cut > 0:
            self.audio = self.audio[cut:]
            self.offset += cut / SAMPLE_RATE
