"""Speaker turns: consecutive segments of one speaker, for txt and docx."""

from __future__ import annotations

from dataclasses import dataclass

from kazru_stt.domain.transcript import Segment, Transcript


@dataclass
class Turn:
    speaker: str | None
    start: float
    end: float
    segments: list[Segment]

    @property
    def text(self) -> str:
        return " ".join(s.text for s in self.segments if s.text).strip()


def speaker_turns(transcript: Transcript) -> list[Turn]:
    turns: list[Turn] = []
    for seg in transcript.segments:
        if turns and turns[-1].speaker == seg.speaker:
            turns[-1].segments.append(seg)
            turns[-1].end = seg.end
        else:
            turns.append(Turn(seg.speaker, seg.start, seg.end, [seg]))
    return turns
