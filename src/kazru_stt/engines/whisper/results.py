"""What a decode gives: segments with word times, in our own types (faster-whisper's
are read into them in one place)."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class RawWord:
    start: float
    end: float
    text: str  # with Whisper's leading space
    probability: float


@dataclass
class RawSegment:
    start: float
    end: float
    text: str
    avg_logprob: float
    no_speech_prob: float
    compression_ratio: float
    temperature: float
    words: list[RawWord] = field(default_factory=list)


def raw_segment(s, temperature: float) -> RawSegment:
    """Ours from faster-whisper's Segment."""
    return RawSegment(
        start=s.start,
        end=s.end,
        text=s.text,
        avg_logprob=s.avg_logprob,
        no_speech_prob=s.no_speech_prob,
        compression_ratio=s.compression_ratio,
        temperature=temperature,
        words=[RawWord(w.start, w.end, w.word, w.probability) for w in (s.words or [])],
    )
