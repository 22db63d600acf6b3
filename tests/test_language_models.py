"""A model per language (KAZRU_LANGUAGE_MODELS): a code-switched recording's Kazakh
passages are written by the Kazakh model, the rest by the default, and each segment says
which. The "Kazakh model" here is the bundled model registered under another name: the
same weights, so the routing is what is tested, with real decodes."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from kazru_stt.config import Settings
from kazru_stt.domain.errors import InvalidSetting
from kazru_stt.engines.whisper import get_engine
from kazru_stt.pipeline import TranscribeOptions, transcribe_file
from kazru_stt.services import settings_check
from tests.service_harness import Backend, Service

KK_MODEL = "kk-copy"


@pytest.fixture(scope="module")
def kk_engine(engine, model_cache):
    return get_engine(engine.config.model_dir, model_cache, device="cpu", name=KK_MODEL)


def test_kazakh_passages_go_to_the_kazakh_model(engine, kk_engine, eval_dir):
    assert kk_engine is not engine
    path = eval_dir / "mixed_kk_ru.wav"
    plain = transcribe_file(path, TranscribeOptions(), engine)
    routed = transcribe_file(path, TranscribeOptions(), engine, language_engines={"kk": kk_engine})
    # The language of each passage is still the default model's choice.
    assert [s.language for s in routed.segments if s.text] == [
        s.language for s in plain.segments if s.text
    ]
    kazakh = [s for s in routed.segments if s.language == "kk" and s.text]
    russian = [s for s in routed.segments if s.language == "ru" and s.text]
    assert kazakh and russian
    assert all(s.model == KK_MODEL for s in kazakh)
    assert all(s.model is None for s in russian)
    assert [s.text for s in russian] == [s.text for s in plain.segments if s.language == "ru"]
    assert routed.model == engine.model_name
    assert all(s.to_dict()["model"] == KK_MODEL for s in kazakh)


def test_cli_and_service_name_the_model_of_each_segment(tmp_path, model_cache, engine, eval_dir):
    path = eval_dir / "mixed_kk_ru.wav"
    env = {
        **os.environ,
        "KAZRU_DATA_DIR": str(tmp_path / "data"),
        "KAZRU_MODEL_CACHE_DIR": str(model_cache),
        "KAZRU_DEVICE": "cpu",
        "KAZRU_MODELS": f"{KK_MODEL}={engine.config.model_dir}",
        "KAZRU_LANGUAGE_MODELS": f"kk={KK_MODEL}",
    }
    out = subprocess.run(
        [sys.executable, "-m", "kazru_stt.cli.main", "transcribe", str(path), "-f", "json", "-q"],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert out.returncode == 0, out.stderr
    doc = json.loads(out.stdout)
    assert doc["model"] == "whisper-base"
    labels = {(s["language"], s["model"]) for s in doc["segments"] if s["text"]}
    assert ("kk", KK_MODEL) in labels and ("ru", None) in labels
    assert labels <= {("kk", KK_MODEL), ("ru", None)}

    svc = Service(
        tmp_path / "svc",
        model_cache,
        Backend.embedded(),
        models=f"{KK_MODEL}={engine.config.model_dir}",
        language_models=f"kk={KK_MODEL}",
    )
    svc.start(embedded_workers=1)
    try:
        routed = svc.wait(svc.upload(path)["id"])
        named = svc.wait(svc.upload(path, model="whisper-base")["id"])
        with svc.client() as c:
            exported = c.get(f"/api/v1/transcriptions/{routed['id']}/export?format=json").json()
    finally:
        svc.stop()
    assert routed["status"] == named["status"] == "completed"
    stored = {(s["language"], s["model"]) for s in exported["segments"] if s["text"]}
    assert ("kk", KK_MODEL) in stored and ("ru", None) in stored
    # A job that names its model gets it everywhere.
    assert {s["model"] for s in named["result"]["segments"]} == {None}


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("kk", "is not language=model"),
        ("xx=whisper-base", "is no language code"),
        ("kk=nope", "is no model here"),
    ],
)
def test_a_bad_language_model_setting_stops_the_start(tmp_path, value, message):
    settings = Settings(data_dir=tmp_path, language_models=value)
    with pytest.raises(InvalidSetting, match=message):
        settings_check.check(settings)
