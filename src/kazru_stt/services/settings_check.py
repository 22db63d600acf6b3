"""Start-up checks of the settings against what is installed here: the default engine is
registered and configured, KAZRU_MODELS is well-formed and the default model exists. (The
settings object checks what it can alone; these need the engine and model registries.)
KAZRU_LANGUAGE_MODELS names languages and models that exist; KAZRU_ALLOCATOR=jemalloc has
its library."""

from __future__ import annotations

from kazru_stt import allocator
from kazru_stt.config import Settings
from kazru_stt.domain.errors import InvalidSetting
from kazru_stt.pipeline.options import supported_languages
from kazru_stt.services import engines, model_registry


def check(settings: Settings) -> None:
    """Raise InvalidSetting (`error: invalid_setting: ...` at the command line)."""
    if settings.engine not in engines.names():
        raise InvalidSetting(
            f"KAZRU_ENGINE={settings.engine}: engines are {', '.join(engines.names())}"
        )
    spec = engines.get(settings.engine)
    if not spec.configured(settings):
        raise InvalidSetting(f"KAZRU_ENGINE={settings.engine} needs {spec.missing}")
    if not settings.language_set:
        raise InvalidSetting("KAZRU_LANGUAGES names no language (such as kk,ru)")
    for var, codes in (
        ("KAZRU_LANGUAGES", settings.language_set),
        ("KAZRU_THIRD_LANGUAGES", settings.third_language_set),
    ):
        if unknown := [c for c in codes if c not in supported_languages()]:
            raise InvalidSetting(f"{var}: {', '.join(unknown)} is no language code Whisper knows")
    known = model_registry.available(settings)  # raises on a malformed KAZRU_MODELS
    if settings.default_model and settings.default_model not in known:
        raise InvalidSetting(
            f"KAZRU_DEFAULT_MODEL={settings.default_model} is no model here; models: "
            f"{', '.join(sorted(known))}"
        )
    try:
        per_language = model_registry.language_models(settings)
    except ValueError as exc:
        raise InvalidSetting(str(exc)) from exc
    for code, name in per_language.items():
        if code not in supported_languages():
            raise InvalidSetting(f"KAZRU_LANGUAGE_MODELS: {code!r} is no language code")
        if name not in known:
            raise InvalidSetting(
                f"KAZRU_LANGUAGE_MODELS: {code}={name} is no model here; models: "
                f"{', '.join(sorted(known))}"
            )
    if settings.allocator == "jemalloc" and allocator.jemalloc_library() is None:
        raise InvalidSetting(
            "KAZRU_ALLOCATOR=jemalloc, but jemalloc is not installed (Debian: libjemalloc2)"
        )
