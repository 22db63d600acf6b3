"""Options of one transcription (one dataclass, not twenty loose arguments)."""

from __future__ import annotations

from dataclasses import dataclass

from kazru_stt.domain.channels import STEREO_MODES
from kazru_stt.domain.engine_names import EngineName
from kazru_stt.domain.errors import InvalidOptionError
from kazru_stt.domain.languages import DEFAULT_THIRD_LANGUAGES, KAZAKH_RUSSIAN

__all__ = ["KAZAKH_RUSSIAN", "TranscribeOptions", "supported_languages"]


def supported_languages() -> set[str]:
    """Whisper's language list: the codes a job, a passage or a correction may name."""
    from faster_whisper.tokenizer import _LANGUAGE_CODES  # noqa: PLC0415  (seconds to import)

    return set(_LANGUAGE_CODES)


@dataclass
class TranscribeOptions:
    language: str = "auto"  # "auto" or an ISO 639-1 code forced on every passage
    languages: tuple[str, ...] = KAZAKH_RUSSIAN  # the set "auto" chooses from
    third_languages: tuple[str, ...] = DEFAULT_THIRD_LANGUAGES
    # "transcribe": such a passage is written in its language; "mark": no text, `other`.
    third_language_action: str = "transcribe"
    engine: str = EngineName.LOCAL
    model: str | None = None  # a local model's name (services.model_registry); None: default
    diarize: bool = False
    num_speakers: int | None = None
    min_speakers: int | None = None
    max_speakers: int | None = None
    beam_size: int | None = None
    max_duration_s: float | None = None  # decoding stops with `duration_limit` past this
    stereo: str = "auto"  # a stereo recording's channels (domain.channels.STEREO_MODES)
    # Terms (and a request's prompt) the engine is given as a hint (domain.vocabulary).
    hint: str | None = None

    @property
    def allowed(self) -> list[str]:
        """The languages a passage may be written in: the forced one, or the set."""
        return [self.language] if self.language != "auto" else list(self.languages)

    @property
    def outside(self) -> list[str]:
        """Third languages a passage outside the set may still be recognised in."""
        if self.language != "auto":
            return []
        return [code for code in self.third_languages if code not in self.languages]

    @property
    def chooses_language(self) -> bool:
        return len(self.allowed) > 1 or bool(self.outside)

    def validate(self, supported: set[str] | None = None) -> TranscribeOptions:
        if supported is None:
            supported = supported_languages()
        if self.language != "auto" and supported and self.language not in supported:
            raise InvalidOptionError(f"unsupported language {self.language!r}")
        if not self.languages:
            raise InvalidOptionError("the language set is empty")
        if supported:
            bad = [code for code in self.languages if code not in supported]
            if bad:
                raise InvalidOptionError(f"unsupported language(s): {', '.join(bad)}")
        if self.stereo not in STEREO_MODES:
            raise InvalidOptionError(f"stereo must be one of {', '.join(STEREO_MODES)}")
        for name in ("num_speakers", "min_speakers", "max_speakers"):
            value = getattr(self, name)
            if value is not None and not 1 <= value <= 32:
                raise InvalidOptionError(f"{name} must be between 1 and 32")
        return self
