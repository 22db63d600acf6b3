"""Models from the Hugging Face hub (`kazru model pull HUB_ID[@REVISION] [--for LANG]`), for
installs with a network: the checkpoint is downloaded with huggingface_hub (its own cache,
resumable, the revision pinned to a commit), its size and the model card's license told
before the weights come, then imported as `kazru model import` imports a directory (a
Transformers Whisper checkpoint converted to CTranslate2; a CTranslate2 one checked and
copied) with where it came from and its license recorded. With HF_HUB_OFFLINE=1 the same
runs from the hub cache on disk. Offline installs keep `kazru model import DIR`."""

from __future__ import annotations

import re
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from kazru_stt.config import Settings
from kazru_stt.domain.error_codes import ErrorCode
from kazru_stt.domain.errors import InvalidOptionError, ModelError
from kazru_stt.services import model_registry
from kazru_stt.services.model_registry import ModelEntry

# What a Whisper checkpoint needs, in either format; never TensorFlow, Flax or ONNX copies.
_WANTED = [
    "*.json",
    "*.txt",
    "README.md",
    "model.safetensors",
    "model.bin",  # CTranslate2's weights
    "pytorch_model.bin",  # an older Transformers checkpoint without safetensors
]
_REF = re.compile(r"^(?P<repo>[A-Za-z0-9][\w.-]*/[\w.-]+)(?:@(?P<rev>[\w./-]+))?$")


@dataclass
class HubModel:
    repo: str
    revision: str  # what was asked: a branch, a tag or a commit
    commit: str  # the commit it is pinned to
    size_bytes: int  # what the files we take weigh in all
    to_download: int  # of that, not in the cache yet
    license: str  # the model card's, "unknown" without one
    patterns: list[str]  # the files taken


def parse_ref(ref: str) -> tuple[str, str]:
    found = _REF.match(ref.strip())
    if not found:
        raise InvalidOptionError(
            f"{ref!r} is not a hub id: organisation/name, optionally @revision",
            code=ErrorCode.INVALID_OPTION,
        )
    return found["repo"], found["rev"] or "main"


def default_name(repo: str) -> str:
    """A model name from the repository's: lower case, what names allow, up to 63."""
    name = re.sub(r"[^a-z0-9._-]+", "-", repo.split("/")[-1].lower()).strip("-._")
    return name[:63] or "hub-model"


def _patterns(files: list[str]) -> list[str]:
    """Safetensors when there are both."""
    if "model.safetensors" in files:
        return [p for p in _WANTED if p != "pytorch_model.bin"]
    return _WANTED


def _card_license(folder: Path) -> str:
    readme = folder / "README.md"
    if readme.is_file():
        from huggingface_hub import ModelCard

        data = ModelCard.load(readme).data
        found = data.get("license") or data.get("license_name")
        if found:
            return str(found)
    return "unknown"


def describe(repo: str, revision: str) -> HubModel:
    """Size and license before the weights come: from the hub, or the cache offline."""
    from huggingface_hub import hf_hub_download, snapshot_download
    from huggingface_hub.errors import DryRunError, EntryNotFoundError, LocalEntryNotFoundError

    try:
        plan = snapshot_download(repo, revision=revision, allow_patterns=_WANTED, dry_run=True)
    except DryRunError:  # no network (or HF_HUB_OFFLINE): what the cache holds
        folder = _cached(repo, revision)
        files = [p for p in folder.rglob("*") if p.is_file()]
        patterns = _patterns([p.name for p in files])
        size = sum(p.stat().st_size for p in files if _matches(p.name, patterns))
        return HubModel(repo, revision, folder.name, size, 0, _card_license(folder), patterns)
    patterns = _patterns([f.filename for f in plan])
    plan = [f for f in plan if _matches(f.filename, patterns)]
    if not plan:
        raise ModelError(f"{repo}@{revision} holds no Whisper checkpoint files")
    try:
        card = Path(hf_hub_download(repo, "README.md", revision=plan[0].commit_hash))
        license_ = _card_license(card.parent)
    except (EntryNotFoundError, LocalEntryNotFoundError):
        license_ = "unknown"
    return HubModel(
        repo,
        revision,
        plan[0].commit_hash,
        sum(f.file_size or 0 for f in plan),
        sum(f.file_size or 0 for f in plan if f.will_download),
        license_,
        patterns,
    )


def _matches(name: str, patterns: list[str]) -> bool:
    from fnmatch import fnmatch

    return any(fnmatch(name, p) for p in patterns)


def _cached(repo: str, revision: str) -> Path:
    from huggingface_hub import snapshot_download
    from huggingface_hub.errors import LocalEntryNotFoundError

    try:
        return Path(
            snapshot_download(
                repo, revision=revision, allow_patterns=_WANTED, local_files_only=True
            )
        )
    except LocalEntryNotFoundError as exc:
        raise ModelError(
            f"{repo}@{revision} is not in the hub cache and the hub cannot be reached "
            "(offline installs: `kazru model import DIR`)",
            code=ErrorCode.MODEL_UNAVAILABLE,
        ) from exc


def pull(
    settings: Settings,
    ref: str,
    *,
    name: str | None = None,
    quantization: str = "int8",
    for_language: str | None = None,
    told: Callable[[HubModel], None] | None = None,
) -> ModelEntry:
    """Download (or find in the cache) a hub checkpoint, import it under `name` and, with
    `for_language`, make it the model of that language's passages; `told` hears the size
    and license before the weights are downloaded."""
    repo, revision = parse_ref(ref)
    name = name or default_name(repo)
    if name in model_registry.available(settings):
        raise InvalidOptionError(f"a model named {name!r} exists already", code=ErrorCode.CONFLICT)
    if for_language is not None:
        model_registry.check_language(for_language)
    info = describe(repo, revision)
    if told:
        told(info)
    from huggingface_hub import snapshot_download

    folder = Path(snapshot_download(repo, revision=info.commit, allow_patterns=info.patterns))
    origin = {
        "hub_id": repo,
        "revision": revision,
        "commit": info.commit,
        "license": info.license,
    }
    if (folder / "model.bin").is_file():  # CTranslate2 already: checked and copied
        entry = _import_ctranslate2(settings, folder, name, origin)
    else:
        entry = model_registry.import_checkpoint(
            settings, folder, name, quantization, origin=origin
        )
    if for_language is not None:
        model_registry.set_language_model(settings, for_language, entry.name)
    return entry


def _import_ctranslate2(settings: Settings, folder: Path, name: str, origin: dict) -> ModelEntry:
    root = model_registry.imported_dir(settings)
    root.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f".import-{name}-", dir=root))
    try:
        out = work / "model"
        shutil.copytree(folder, out)  # the cache's links resolved: the model stands alone
        model_registry.check_loads(out)
        model_registry.write_marker(out, name, source=f"hub:{origin['hub_id']}", **origin)
        target = root / name
        out.rename(target)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return ModelEntry(name, target, "imported")


def describe_text(info: HubModel) -> str:
    def size(n: int) -> str:
        return f"{n / 1e9:.2f} GB" if n >= 1e9 else f"{n / 1e6:.1f} MB"

    pending = f", {size(info.to_download)} to download" if info.to_download else ", cached"
    return (
        f"{info.repo}@{info.revision} (commit {info.commit[:12]}): {size(info.size_bytes)}"
        f"{pending}; license: {info.license}"
    )
