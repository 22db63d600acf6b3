"""The transcript: what every engine produces and every exporter reads.

JSON form (see README, "Transcript JSON"): times in seconds from the start of the
recording, languages ISO 639-1.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from kazru_stt.domain.engine_names import EngineName


@dataclass
class Word:
    start: float
    end: float
    text: str
    probability: float = 1.0
    speaker: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "start": round(self.start, 3),
            "end": round(self.end, 3),
            "text": self.text,
            "probability": round(self.probability, 4),
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Word:
        return cls(
            start=float(d["start"]),
            end=float(d["end"]),
            text=d["text"],
            probability=float(d.get("probability", 1.0)),
        )


@dataclass
class Segment:
    id: int
    start: float
    end: float
    text: str
    language: str | None = None
    speaker: str | None = None
    words: list[Word] = field(default_factory=list)
    avg_logprob: float | None = None
    edited: bool = False  # a person corrected it (the machine's own text is kept apart)
    # No allowed language decoded the passage credibly: it has no text rather than garbage.
    low_confidence: bool = False
    # The model that wrote it, where not the transcript's (a language's own model).
    model: str | None = None

    @property
    def confidence(self) -> float | None:
        """Mean probability of the segment's words: where to look first when checking."""
        if not self.words:
            return None
        return sum(w.probability for w in self.words) / len(self.words)

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "start": round(self.start, 3),
            "end": round(self.end, 3),
            "text": self.text,
            "language": self.language,
            "speaker": self.speaker,
            "avg_logprob": None if self.avg_logprob is None else round(self.avg_logprob, 4),
            "confidence": None if self.confidence is None else round(self.confidence, 4),
            "low_confidence": self.low_confidence,
            "model": self.model,
            "words": [w.to_dict() for w in self.words],
            "edited": self.edited,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Segment:
        return cls(
            id=int(d["id"]),
            start=float(d["start"]),
            end=float(d["end"]),
            text=d["text"],
            language=d.get("language"),
            speaker=d.get("speaker"),
            words=[Word.from_dict(w) for w in d.get("words") or []],
            avg_logprob=d.get("avg_logprob"),
            edited=bool(d.get("edited")),
            low_confidence=bool(d.get("low_confidence")),
            model=d.get("model"),
        )


SPEAKER_PREFIX = "SPEAKER_"  # labels are SPEAKER_1, SPEAKER_2, ... (stable in the API)


def speaker_label(number: int) -> str:
    return f"{SPEAKER_PREFIX}{number}"


def speaker_number(label: str) -> int | None:
    """The number of a label speaker_label made, else None (a label from elsewhere)."""
    digits = label.removeprefix(SPEAKER_PREFIX)
    if digits == label or not (digits.isascii() and digits.isdigit()):
        return None
    return int(digits)


@dataclass
class Speaker:
    label: str
    name: str | None = None
    # A name the owner gave a matching voice before (remembered voices; only a suggestion).
    suggested_name: str | None = None
    # The speaker's averaged voice embedding, from diarization: biometric data, kept only
    # for owners who turned voice memory on, and never exported.
    voice: list[float] | None = field(default=None, repr=False, compare=False)

    @property
    def display(self) -> str:
        return self.name or self.label

    def to_dict(self) -> dict[str, Any]:
        return {"label": self.label, "name": self.name, "suggested_name": self.suggested_name}


@dataclass
class Transcript:
    duration: float
    segments: list[Segment] = field(default_factory=list)
    speakers: list[Speaker] = field(default_factory=list)
    engine: str = EngineName.LOCAL
    model: str = ""
    warnings: list[dict[str, Any]] = field(default_factory=list)

    @property
    def languages(self) -> list[str]:
        """Languages in order of how much speech each has (longest first)."""
        totals: dict[str, float] = {}
        for s in self.segments:
            if s.language:
                totals[s.language] = totals.get(s.language, 0.0) + (s.end - s.start)
        return sorted(totals, key=lambda k: -totals[k])

    @property
    def language(self) -> str | None:
        langs = self.languages
        return langs[0] if langs else None

    @property
    def text(self) -> str:
        return " ".join(s.text for s in self.segments if s.text).strip()

    def speaker_name(self, label: str | None) -> str | None:
        if label is None:
            return None
        for sp in self.speakers:
            if sp.label == label:
                return sp.display
        return label

    def to_dict(self) -> dict[str, Any]:
        return {
            "duration": round(self.duration, 3),
            "language": self.language,
            "languages": self.languages,
            "engine": self.engine,
            "model": self.model,
            "speakers": [s.to_dict() for s in self.speakers],
            "segments": [s.to_dict() for s in self.segments],
            "text": self.text,
            "warnings": self.warnings,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Transcript:
        return cls(
            duration=float(d.get("duration") or 0.0),
            segments=[Segment.from_dict(s) for s in d.get("segments") or []],
            speakers=[
                Speaker(
                    label=s["label"], name=s.get("name"), suggested_name=s.get("suggested_name")
                )
                for s in d.get("speakers") or []
            ],
            engine=d.get("engine", EngineName.LOCAL),
            model=d.get("model", ""),
            warnings=list(d.get("warnings") or []),
        )
