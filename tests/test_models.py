"""Models by name: a Transformers Whisper checkpoint (a tiny one with random weights, built
here: the test checks the path, not the text) imported with `kazru model import`, listed,
and used by name through the CLI and the API; an unknown name is refused with its code."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.service_harness import Backend, Service
from tests.tiny_whisper import tiny_checkpoint


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory, model_cache, engine) -> Path:
    return tiny_checkpoint(
        tmp_path_factory.mktemp("hf-tiny-whisper"), Path(engine.config.model_dir)
    )


def kazru(args: list[str], env: dict, **kw) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "kazru_stt.cli.main", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        **kw,
    )


def test_import_list_and_use_by_name(checkpoint, tmp_path, eval_dir):
    cache = tmp_path / "models"  # a registry of this test's own
    env = {
        **os.environ,
        "KAZRU_DATA_DIR": str(tmp_path / "data"),
        "KAZRU_MODEL_CACHE_DIR": str(cache),
        "KAZRU_DEVICE": "cpu",
    }
    done = kazru(["model", "import", str(checkpoint), "--name", "tiny"], env)
    assert done.returncode == 0, done.stderr
    assert (cache / "imported" / "tiny" / "model.bin").is_file()
    again = kazru(["model", "import", str(checkpoint), "--name", "tiny"], env)
    assert again.returncode == 1 and "exists already" in again.stderr
    listed = kazru(["model", "list"], env).stdout
    assert "tiny\timported" in listed and "whisper-base\tbundled" in listed

    clip = eval_dir / "ru" / "tinkoff_sample_4.wav"
    out = kazru(["transcribe", str(clip), "--model", "tiny", "-f", "json", "-q"], env)
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["model"] == "tiny"
    unknown = kazru(["transcribe", str(clip), "--model", "nope", "-q"], env)
    assert unknown.returncode == 1 and unknown.stderr.startswith("error: unknown_model:")

    svc = Service(tmp_path / "svc", cache, Backend.embedded())
    svc.start(embedded_workers=1)
    try:
        with svc.client() as c:
            ids = [m["id"] for m in c.get("/v1/models").json()["data"]]
            assert "tiny" in ids and "whisper-base" in ids and "whisper-1" in ids
            ours = c.get("/api/v1/models").json()
            assert ours["default"] == "whisper-base"
            with clip.open("rb") as fh:
                r = c.post(
                    "/api/v1/transcriptions",
                    files={"file": (clip.name, fh)},
                    data={"model": "nope"},
                )
            assert r.status_code == 422 and r.json()["error"]["code"] == "unknown_model"
        job = svc.upload(clip, model="tiny", language="ru")
        by_name = svc.wait(job["id"])
        default = svc.wait(svc.upload(clip, language="ru")["id"])
    finally:
        svc.stop()
    assert by_name["status"] == "completed" and by_name["result"]["model"] == "tiny"
    assert default["result"]["model"] == "whisper-base"


def test_an_idle_model_is_unloaded_and_loaded_again(model_cache, engine):
    import numpy as np

    from kazru_stt.engines import whisper
    from kazru_stt.engines.whisper import cache as whisper_cache

    first = whisper.get_engine(None, model_cache, device="cpu", cpu_threads=1)
    first.detect_language(np.zeros(16000, np.float32))
    assert whisper.unload_idle(3600) == []  # just used: kept
    first.last_used -= 10
    assert "whisper-base" in whisper.unload_idle(5)
    assert first.config not in {e.config for e in whisper_cache._engines.values()}
    again = whisper.get_engine(None, model_cache, device="cpu", cpu_threads=1)
    assert again is not first  # loaded anew on the next job
    assert again.detect_language(np.zeros(16000, np.float32))


def test_idle_speaker_models_are_unloaded_and_loaded_again(monkeypatch):
    import numpy as np

    from kazru_stt.config import Settings
    from kazru_stt.diarization import LocalSpeakers, embed, speaker_models
    from kazru_stt.media import SAMPLE_RATE
    from kazru_stt.pipeline.speech_regions import Region
    from kazru_stt.services.local_engine import unload_idle_models

    first = embed.SpeakerEmbedder()
    first_local = LocalSpeakers()
    tone = np.sin(np.arange(3 * SAMPLE_RATE) / 20).astype(np.float32) * 0.1
    first.add(tone, 0.0, [Region(0.0, 3.0)])
    assert set(speaker_models._loaded) == {"encoder", "segmenter"}
    assert speaker_models.unload_idle(3600) == []  # just used: kept
    monkeypatch.setattr(speaker_models, "_last_used", speaker_models._last_used - 10)
    unload_idle_models(Settings(model_idle_s=5))
    assert not speaker_models._loaded
    again = embed.SpeakerEmbedder()
    assert again.encoder is not first.encoder  # loaded anew by the next diarization
    assert LocalSpeakers().segmenter is not first_local.segmenter
    again.add(tone, 0.0, [Region(0.0, 3.0)])
    assert again.windows


def test_the_assembled_model_is_readable_by_other_users(model_cache, engine):
    """An image assembles it as root and runs as another user (found running the image)."""
    import stat

    from kazru_stt.engines.model_store import BUNDLED_MODEL_NAME

    mode = (model_cache / BUNDLED_MODEL_NAME).stat().st_mode
    assert mode & (stat.S_IROTH | stat.S_IXOTH) == stat.S_IROTH | stat.S_IXOTH


def _hub_cache(root: Path, repo: str, files: Path, commit: str, card: str | None) -> None:
    """A repository in huggingface_hub's own cache layout: refs/main names the commit,
    snapshots/<commit>/ holds its files."""
    folder = root / f"models--{repo.replace('/', '--')}"
    shutil.copytree(files, folder / "snapshots" / commit)
    if card is not None:
        (folder / "snapshots" / commit / "README.md").write_text(card)
    (folder / "refs").mkdir(parents=True)
    (folder / "refs" / "main").write_text(commit)


def test_pull_from_the_hub_cache_offline(checkpoint, engine, tmp_path, eval_dir):
    hub = tmp_path / "hub"
    card = "---\nlicense: apache-2.0\nlanguage: [kk, ru]\n---\n# A tiny Whisper\n"
    _hub_cache(hub, "kazru-test/Whisper-Tiny-KK", checkpoint, "a" * 40, card)
    # A repository already in CTranslate2's format (the bundled model's files) and no card.
    _hub_cache(hub, "kazru-test/whisper-base-ct2", Path(engine.config.model_dir), "b" * 40, None)
    env = {
        **os.environ,
        "KAZRU_DATA_DIR": str(tmp_path / "data"),
        "KAZRU_MODEL_CACHE_DIR": str(tmp_path / "models"),
        "KAZRU_DEVICE": "cpu",
        "HF_HUB_OFFLINE": "1",
        "HF_HUB_CACHE": str(hub),
    }
    done = kazru(["model", "pull", "kazru-test/Whisper-Tiny-KK@main"], env)
    assert done.returncode == 0, done.stderr
    assert "license: apache-2.0" in done.stderr and " MB" in done.stderr
    model_dir = tmp_path / "models" / "imported" / "whisper-tiny-kk"
    record = json.loads((model_dir / "kazru-model.json").read_text())
    assert record["hub_id"] == "kazru-test/Whisper-Tiny-KK" and record["commit"] == "a" * 40
    assert record["license"] == "apache-2.0" and (model_dir / "model.bin").is_file()

    done = kazru(["model", "pull", "kazru-test/whisper-base-ct2", "--for", "kk"], env)
    assert done.returncode == 0, done.stderr
    assert "license: unknown" in done.stderr and "kk passages use it" in done.stderr
    listed = kazru(["model", "list"], env).stdout
    assert "whisper-tiny-kk\timported" in listed and "license: apache-2.0" in listed
    assert "kazru-test/whisper-base-ct2@bbbbbbbbbbbb" in listed

    # Kazakh passages are written by the pulled model; Russian ones by the default.
    path = eval_dir / "mixed_kk_ru.wav"
    out = kazru(["transcribe", str(path), "-f", "json", "-q"], env)
    assert out.returncode == 0, out.stderr
    models = {(s["language"], s["model"]) for s in json.loads(out.stdout)["segments"] if s["text"]}
    assert models == {("kk", "whisper-base-ct2"), ("ru", None)}, models

    # Not in the cache and no network: a clear error, nothing registered.
    missing = kazru(["model", "pull", "kazru-test/absent"], env)
    assert missing.returncode == 1 and "model_unavailable" in missing.stderr
    bad = kazru(["model", "pull", "not a hub id"], env)
    assert bad.returncode == 1 and "invalid_option" in bad.stderr
