"""What a person asks of one transcription, as the API's form and the CLI's flags give it,
turned into the pipeline's options in one place (the install's defaults filled in)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from kazru_stt.config import Settings
from kazru_stt.domain.vocabulary import hint_of
from kazru_stt.pipeline.options import TranscribeOptions
from kazru_stt.services import engines


def _model_as_given(name: str | None, _engine: str) -> str | None:
    return name


@dataclass(frozen=True)
class JobRequest:
    language: str = "auto"  # "auto" or one code forced on every passage
    languages: str | None = None  # "kk,ru": the set "auto" chooses from; None: the install's
    engine: str | None = None  # None: the install's (KAZRU_ENGINE)
    model: str | None = None  # a local model's name (or, from the CLI, a directory)
    diarize: bool | None = None  # None: the install's (KAZRU_DIARIZE_BY_DEFAULT)
    num_speakers: int | None = None  # implies diarize
    min_speakers: int | None = None
    max_speakers: int | None = None
    terms: tuple[str, ...] = ()  # the requester's vocabulary (services.vocabulary)
    prompt: str | None = None  # the request's own hint (the OpenAI route's `prompt`)

    def options(
        self,
        settings: Settings,
        model_of: Callable[[str | None, str], str | None] = _model_as_given,
    ) -> TranscribeOptions:
        """The options; `model_of(name, engine)` checks or maps the model's name (the API's
        aliases and registry; the CLI takes a name or directory as given)."""
        engine = self.engine or settings.engine
        engines.get(engine)  # a name we know (422 otherwise); configured is checked on use
        codes = self.languages.split(",") if self.languages else settings.language_set
        diarize = settings.diarize_by_default if self.diarize is None else self.diarize
        return TranscribeOptions(
            language=self.language,
            languages=tuple(code.strip() for code in codes if code.strip()),
            engine=engine,
            model=model_of(self.model, engine),
            diarize=diarize or self.num_speakers is not None,
            num_speakers=self.num_speakers,
            min_speakers=self.min_speakers,
            max_speakers=self.max_speakers,
            hint=hint_of(list(self.terms), self.prompt),
        )
