"""SRT and WebVTT: cues of at most 2 lines x 42 characters and 7 seconds, cut at word
boundaries using word timestamps; a speaker change or a new segment starts a new cue."""

from __future__ import annotations

from dataclasses import dataclass

from kazru_stt.domain.transcript import Segment, Transcript, Word
from kazru_stt.exporters.timefmt import clock

MAX_LINE = 42
MAX_LINES = 2
MAX_CUE_S = 7.0


@dataclass
class Cue:
    start: float
    end: float
    lines: list[str]


def _wrap(words: list[str], width: int) -> list[str]:
    lines: list[str] = []
    for word in words:
        if lines and len(lines[-1]) + 1 + len(word) <= width:
            lines[-1] += " " + word
        else:
            lines.append(word)
    return lines


def _fits(words: list[str], prefix: str) -> bool:
    lines = _wrap([prefix + words[0], *words[1:]] if prefix else words, MAX_LINE)
    return len(lines) <= MAX_LINES


def _segment_words(seg: Segment) -> list[Word]:
    if seg.words:
        return seg.words
    # No word timings (e.g. an edited segment): spread the words evenly over the segment.
    tokens = seg.text.split()
    if not tokens:
        return []
    step = (seg.end - seg.start) / len(tokens)
    return [Word(seg.start + i * step, seg.start + (i + 1) * step, t) for i, t in enumerate(tokens)]


def build_cues(transcript: Transcript) -> list[Cue]:
    cues: list[Cue] = []
    for seg in transcript.segments:
        prefix = ""
        if seg.speaker:
            prefix = f"{transcript.speaker_name(seg.speaker)}: "
        current: list[Word] = []
        for word in _segment_words(seg):
            text = word.text.strip()
            if not text:
                continue
            candidate = [w.text.strip() for w in current] + [text]
            too_long = current and word.end - current[0].start > MAX_CUE_S
            if current and (too_long or not _fits(candidate, prefix)):
                cues.append(_cue(current, prefix))
                current = []
            current.append(word)
        if current:
            cues.append(_cue(current, prefix))
    # Cues must not overlap in players.
    for a, b in zip(cues, cues[1:], strict=False):
        if a.end > b.start:
            a.end = max(a.start, b.start)
    return cues


def _cue(words: list[Word], prefix: str) -> Cue:
    texts = [w.text.strip() for w in words]
    if prefix:
        texts[0] = prefix + texts[0]
    lines = _wrap(texts, MAX_LINE)
    if len(lines) > MAX_LINES:  # a single word longer than two lines: keep it whole
        lines = [" ".join(texts)]
    return Cue(words[0].start, max(words[-1].end, words[0].start + 0.01), lines)


def to_srt(transcript: Transcript, **_: object) -> bytes:
    blocks = []
    for n, cue in enumerate(build_cues(transcript), start=1):
        times = f"{clock(cue.start, ',')} --> {clock(cue.end, ',')}"
        blocks.append(f"{n}\n{times}\n" + "\n".join(cue.lines) + "\n")
    return "\n".join(blocks).encode("utf-8")


def to_vtt(transcript: Transcript, **_: object) -> bytes:
    blocks = ["WEBVTT\n"]
    for cue in build_cues(transcript):
        blocks.append(f"{clock(cue.start)} --> {clock(cue.end)}\n" + "\n".join(cue.lines) + "\n")
    return "\n".join(blocks).encode("utf-8")
