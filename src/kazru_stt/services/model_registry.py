"""Local Whisper models by name: the bundled one, those named in KAZRU_MODELS
(`name=/path,other=bundled`), and those imported with `kazru model import` (converted to
CTranslate2 under the model directory's `imported/`). A job names one (`model`); without a
name it gets KAZRU_DEFAULT_MODEL, or the model of KAZRU_MODEL_PATH, or the bundled one.
Every process reads the same settings and directory, so API and workers agree on names."""

from __future__ import annotations

import json
import re
import shutil
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from kazru_stt.config import Settings
from kazru_stt.domain.error_codes import ErrorCode
from kazru_stt.domain.errors import InvalidOptionError, InvalidSetting, ModelError
from kazru_stt.domain.languages import RUSSIAN
from kazru_stt.engines.model_store import BUNDLED_MODEL_NAME

MARKER = "kazru-model.json"
NAME = re.compile(r"[a-z0-9][a-z0-9._-]{0,62}")


@dataclass(frozen=True)
class ModelEntry:
    name: str
    path: Path | None  # None: the bundled model (assembled on first use)
    source: str  # bundled, settings or imported


def imported_dir(settings: Settings) -> Path:
    return settings.resolved_model_cache_dir / "imported"


def _from_settings(settings: Settings) -> dict[str, ModelEntry]:
    out: dict[str, ModelEntry] = {}
    for item in settings.models.split(","):
        if not item.strip():
            continue
        name, sep, where = item.partition("=")
        name, where = name.strip(), where.strip()
        if not sep or not NAME.fullmatch(name) or not where:
            raise InvalidSetting(
                f"KAZRU_MODELS: {item.strip()!r} is not name=path (or name=bundled)"
            )
        path = None if where == "bundled" else Path(where).expanduser()
        out[name] = ModelEntry(name, path, "settings")
    return out


def available(settings: Settings) -> dict[str, ModelEntry]:
    models = {BUNDLED_MODEL_NAME: ModelEntry(BUNDLED_MODEL_NAME, None, "bundled")}
    if settings.model_path:
        path = Path(settings.model_path).expanduser()
        models[path.name] = ModelEntry(path.name, path, "settings")
    root = imported_dir(settings)
    if root.is_dir():
        for marker in sorted(root.glob(f"*/{MARKER}")):
            models[marker.parent.name] = ModelEntry(marker.parent.name, marker.parent, "imported")
    models.update(_from_settings(settings))
    return models


def default_name(settings: Settings) -> str:
    if settings.default_model:
        return settings.default_model
    if settings.model_path:
        return Path(settings.model_path).expanduser().name
    return BUNDLED_MODEL_NAME


def resolve(settings: Settings, name: str | None) -> ModelEntry:
    """The model a job asked for (None: the default); unknown names are the caller's error."""
    models = available(settings)
    wanted = name or default_name(settings)
    if wanted not in models:
        raise InvalidOptionError(
            f"unknown model {wanted!r}; available: {', '.join(sorted(models))}",
            code=ErrorCode.UNKNOWN_MODEL,
        )
    return models[wanted]


def resolve_or_path(settings: Settings, model: str | None) -> ModelEntry:
    """A registered name, else an existing model directory (the CLI's --model DIR)."""
    if model and model not in available(settings) and Path(model).expanduser().is_dir():
        path = Path(model).expanduser()
        return ModelEntry(path.name, path, "path")
    return resolve(settings, model)


def import_checkpoint(
    settings: Settings,
    source: Path,
    name: str,
    quantization: str = "int8",
    origin: dict | None = None,
) -> ModelEntry:
    """Convert a Hugging Face Transformers Whisper checkpoint directory with CTranslate2's
    own converter, check that the result loads and decodes, and register it under `name`;
    `origin`: where it came from (hub id, commit, license), kept with it."""
    if not NAME.fullmatch(name):
        raise InvalidOptionError(
            "a model name is lower-case letters, digits, '.', '_' or '-' (up to 63)",
            code=ErrorCode.INVALID_OPTION,
        )
    if name in available(settings):
        raise InvalidOptionError(f"a model named {name!r} exists already", code=ErrorCode.CONFLICT)
    if not (source / "config.json").is_file():
        raise ModelError(f"{source} is not a Transformers checkpoint (no config.json)")
    try:
        from ctranslate2.converters import TransformersConverter
    except ImportError as exc:  # the converter needs transformers (pip install kazru-stt[convert])
        raise ModelError(
            "converting needs the `transformers` package: pip install 'kazru-stt[convert]'"
        ) from exc
    root = imported_dir(settings)
    root.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f".import-{name}-", dir=root))
    try:
        out = work / "model"
        copy = [f for f in ("tokenizer.json", "preprocessor_config.json") if (source / f).exists()]
        if "tokenizer.json" not in copy:
            raise ModelError(
                f"{source} has no tokenizer.json (faster-whisper reads the tokenizer from it)"
            )
        try:
            TransformersConverter(str(source), copy_files=copy).convert(
                str(out), quantization=quantization
            )
        except Exception as exc:  # the converter raises many kinds
            raise ModelError(f"conversion failed: {type(exc).__name__}: {exc}") from exc
        _keep_generation_config(source, out)
        check_loads(out)
        write_marker(out, name, source=str(source), quantization=quantization, **(origin or {}))
        target = root / name
        out.rename(target)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return ModelEntry(name, target, "imported")


def _keep_generation_config(source: Path, out: Path) -> None:
    """Take the language tokens and suppressed tokens from the checkpoint's own
    generation_config.json. (Loaded through Transformers 5, the generation config drops
    `lang_to_id`, and the converted model then has no language ids: language detection
    fails on it. Seen with ctranslate2 4.8.5 and transformers 5.24.)"""
    generation = source / "generation_config.json"
    if not generation.is_file():
        return
    wanted = json.loads(generation.read_text())
    config_path = out / "config.json"
    config = json.loads(config_path.read_text())
    if not config.get("lang_ids") and wanted.get("lang_to_id"):
        config["lang_ids"] = sorted(wanted["lang_to_id"].values())
    if not config.get("suppress_ids") and wanted.get("suppress_tokens"):
        config["suppress_ids"] = wanted["suppress_tokens"]
    if wanted.get("begin_suppress_tokens"):
        config["suppress_ids_begin"] = wanted["begin_suppress_tokens"]
    if wanted.get("alignment_heads"):
        config["alignment_heads"] = wanted["alignment_heads"]
    config_path.write_text(json.dumps(config, indent=2))


def write_marker(model_dir: Path, name: str, **facts) -> None:
    """What registers a directory as an imported model, with where it came from."""
    record = {"name": name, **facts}
    record["imported_at"] = datetime.now(UTC).isoformat(timespec="seconds")
    (model_dir / MARKER).write_text(json.dumps(record, indent=1))


def facts(entry: ModelEntry) -> dict:
    """An imported model's record (source, license...); {} for the others."""
    if entry.path is None or not (entry.path / MARKER).is_file():
        return {}
    return json.loads((entry.path / MARKER).read_text())


LANGUAGE_MODELS_FILE = "language_models.json"


def check_language(code: str) -> None:
    from kazru_stt.pipeline.options import supported_languages

    if code not in supported_languages():
        raise InvalidOptionError(f"{code!r} is no language code", code=ErrorCode.INVALID_OPTION)


def set_language_model(settings: Settings, code: str, name: str) -> None:
    """Make `name` the model of `code`'s passages (`kazru model pull --for`); the setting
    KAZRU_LANGUAGE_MODELS, where it names the language, still decides."""
    check_language(code)
    if name not in available(settings):
        raise InvalidOptionError(f"no model named {name!r}", code=ErrorCode.UNKNOWN_MODEL)
    path = imported_dir(settings) / LANGUAGE_MODELS_FILE
    chosen = json.loads(path.read_text()) if path.is_file() else {}
    chosen[code] = name
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(chosen, indent=1))
    tmp.replace(path)


def language_models(settings: Settings) -> dict[str, str]:
    """{language: model name}: those set with `model pull --for`, then KAZRU_LANGUAGE_MODELS
    over them. A malformed setting raises ValueError."""
    path = imported_dir(settings) / LANGUAGE_MODELS_FILE
    chosen = json.loads(path.read_text()) if path.is_file() else {}
    return {**chosen, **settings.language_model_map}


def check_loads(path: Path) -> None:
    import numpy as np
    from faster_whisper import WhisperModel

    try:
        model = WhisperModel(
            str(path), device="cpu", compute_type="int8", cpu_threads=1, local_files_only=True
        )
        silence = np.zeros(16000, np.float32)
        list(model.transcribe(silence, language=RUSSIAN, beam_size=1)[0])
        model.detect_language(silence)  # needs the language tokens (automatic language)
    except Exception as exc:
        raise ModelError(f"the converted model does not load: {type(exc).__name__}: {exc}") from exc
