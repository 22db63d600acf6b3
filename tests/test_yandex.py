"""Yandex SpeechKit engine against the local emulator (real HTTP servers on 127.0.0.1)."""

from __future__ import annotations

import base64
import os
import subprocess
import sys

import httpx
import numpy as np
import pytest

from kazru_stt.emulators.yandex import wait_ready
from kazru_stt.engines.yandex.parse import parse_results
from kazru_stt.media import load_audio
from kazru_stt.media.encode import write_wav
from tests.service_harness import Backend, Service, free_port

SPEC_SAMPLE = """{"result": {"channelTag": "0",
  "audioCursors": {"finalIndex": "0"},
  "final": {"channelTag": "0", "alternatives": [{
      "text": "алга карай", "startTimeMs": "0", "endTimeMs": "7400", "confidence": 0,
      "words": [{"text": "алга", "startTimeMs": "459", "endTimeMs": "520"},
                {"text": "карай", "startTimeMs": "600", "endTimeMs": "900"}],
      "languages": [{"languageCode": "kk-KK", "probability": 0.97}]}]}}}
{"result": {"finalRefinement": {"finalIndex": "0", "normalizedText": {"alternatives": [
  {"text": "Алға қарай.", "startTimeMs": "0", "endTimeMs": "7400"}]}},
  "channelTag": "0"}}
{"result": {"eouUpdate": {"timeMs": "7400"}, "channelTag": "0"}}
{"result": {"channelTag": "1", "audioCursors": {"finalIndex": "0"},
  "final": {"channelTag": "1", "alternatives": [{"text": "да", "startTimeMs": "8000",
  "endTimeMs": "8300", "words": [],
  "languages": [{"languageCode": "ru-RU", "probability": 0.9}]}]}}}
"""


def test_parse_spec_stream():
    utts = parse_results(SPEC_SAMPLE)
    assert [u.text for u in utts] == ["Алға қарай.", "да"]
    assert [u.language for u in utts] == ["kk", "ru"]
    assert [u.channel for u in utts] == ["0", "1"]
    assert utts[0].words[0].start == pytest.approx(0.459) and utts[0].end == pytest.approx(7.4)


class Emulator:
    def __init__(self, model_cache, *flags: str):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = {**os.environ, "KAZRU_MODEL_CACHE_DIR": str(model_cache), "KAZRU_DEVICE": "cpu"}
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "kazru_stt.cli.main",
                "yandex-emulator",
                "--port",
                str(self.port),
                "--api-key",
                "secret-key",
                *flags,
            ],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_ready(self.url)

    def stop(self):
        self.proc.terminate()
        self.proc.wait(timeout=10)


@pytest.fixture(scope="module")
def emulator(model_cache, engine):
    e = Emulator(model_cache)
    yield e
    e.stop()


def _yandex_env(url: str, **extra) -> dict:
    return {
        "yandex_api_key": "secret-key",
        "yandex_stt_url": url,
        "yandex_operation_url": url,
        "yandex_poll_initial_s": 0.2,
        "yandex_retry_base_s": 0.05,
        **extra,
    }


def test_emulator_checks_field_names_and_auth(emulator, eval_dir):
    audio = base64.b64encode((eval_dir / "ru" / "golos_001ce26c.wav").read_bytes()).decode()
    fmt = {"containerAudio": {"containerAudioType": "WAV"}}
    headers = {"Authorization": "Api-Key secret-key"}
    url = f"{emulator.url}/stt/v3/recognizeFileAsync"
    ok = httpx.post(
        url,
        json={"content": audio, "recognitionModel": {"model": "general", "audioFormat": fmt}},
        headers=headers,
    )
    assert ok.status_code == 200 and ok.json()["done"] is False
    snake = httpx.post(
        url,
        json={
            "content": audio,
            "recognition_model": {
                "audio_format": {"container_audio": {"container_audio_type": "WAV"}}
            },
        },
        headers=headers,
    )
    assert snake.status_code == 200
    for bad in (
        {"Content": audio, "recognitionModel": {"audioFormat": fmt}},  # wrong casing
        {"content": audio, "recognitionmodel": {"audioFormat": fmt}},
        {"content": audio, "recognitionModel": {}},  # no audio format
        {"recognitionModel": {"audioFormat": fmt}},  # no audio
        {
            "content": audio,
            "recognitionModel": {
                "audioFormat": fmt,
                "languageRestriction": {"restrictionType": "WHITELIST", "languageCode": ["xx-XX"]},
            },
        },
    ):
        assert httpx.post(url, json=bad, headers=headers).status_code == 400, bad
    assert httpx.post(url, json={}, headers={"Authorization": "Api-Key wrong"}).status_code == 401


@pytest.fixture(scope="module")
def yandex_service(emulator, tmp_path_factory, model_cache, engine):
    svc = Service(
        tmp_path_factory.mktemp("svc-yandex"),
        model_cache,
        Backend.embedded(),
        **_yandex_env(emulator.url),
    )
    svc.start(embedded_workers=1)
    yield svc
    svc.stop()


def test_job_with_yandex_engine_completes(yandex_service, eval_dir, emulator):
    job = yandex_service.upload(eval_dir / "mixed_kk_ru.wav", engine="yandex")
    done = yandex_service.wait(job["id"])
    assert done["status"] == "completed", done
    result = done["result"]
    assert result["engine"] == "yandex" and result["warnings"] == []
    assert result["languages"] == ["kk", "ru"]
    words = [w for s in result["segments"] for w in s["words"]]
    assert words and all(w["end"] >= w["start"] >= 0 for w in words)


def test_stereo_call_gives_a_speaker_per_channel(yandex_service, eval_dir, tmp_path):
    left = load_audio(eval_dir / "ru" / "golos_001ce26c.wav")
    right = load_audio(eval_dir / "ru" / "riva_sample.wav")
    n = left.size + right.size + 16000
    stereo = np.zeros((2, n), np.float32)
    stereo[0, : left.size] = left
    stereo[1, left.size + 16000 :] = right
    path = write_wav(tmp_path / "call.wav", stereo)
    done = yandex_service.wait(yandex_service.upload(path, engine="yandex")["id"])
    result = done["result"]
    assert [s["label"] for s in result["speakers"]] == ["SPEAKER_1", "SPEAKER_2"]
    first = [s for s in result["segments"] if s["speaker"] == "SPEAKER_1"]
    second = [s for s in result["segments"] if s["speaker"] == "SPEAKER_2"]
    assert first and second and max(s["end"] for s in first) < min(s["start"] for s in second) + 0.5


def test_twenty_jobs_complete_through_30_percent_faults(model_cache, engine, eval_dir, tmp_path):
    emu = Emulator(model_cache, "--fault-rate", "0.3")
    svc = Service(
        tmp_path / "svc",
        model_cache,
        Backend.embedded(),
        **_yandex_env(emu.url, yandex_max_attempts=8, yandex_fallback="false"),
    )
    try:
        svc.start(embedded_workers=1)
        clip = eval_dir / "ru" / "tinkoff_sample_4.wav"
        jobs = [svc.upload(clip, engine="yandex", language="ru") for _ in range(20)]
        done = [svc.wait(j["id"], timeout=600) for j in jobs]
        assert [d["status"] for d in done] == ["completed"] * 20, [d["error"] for d in done]
        assert all(d["result"]["engine"] == "yandex" for d in done)
        assert all("45" in " ".join(s["text"] for s in d["result"]["segments"]) for d in done)
    finally:
        svc.stop()
        emu.stop()


@pytest.mark.parametrize("fallback", ["true", "false"])
def test_emulator_down_falls_back_or_fails_clearly(
    model_cache, engine, eval_dir, tmp_path, fallback
):
    down = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    svc = Service(
        tmp_path / "svc",
        model_cache,
        Backend.embedded(),
        **_yandex_env(down, yandex_max_attempts=2, yandex_fallback=fallback),
    )
    try:
        svc.start(embedded_workers=1)
        done = svc.wait(svc.upload(eval_dir / "ru" / "tinkoff_sample_4.wav", engine="yandex")["id"])
    finally:
        svc.stop()
    if fallback == "true":
        assert done["status"] == "completed"
        assert done["result"]["engine"] == "local"
        assert done["result"]["warnings"][0]["code"] == "engine_fallback"
    else:
        assert done["status"] == "failed" and done["error"]["code"] == "engine_unavailable"


@pytest.mark.parametrize(
    "flag,status,code",
    [
        ("--auth-fail", "failed", "engine_auth"),
        ("--malformed", "completed", None),  # falls back: nothing is lost
        ("--lose-operations", "completed", None),
    ],
)
def test_injected_faults(model_cache, engine, eval_dir, tmp_path, flag, status, code):
    emu = Emulator(model_cache, flag)
    svc = Service(tmp_path / "svc", model_cache, Backend.embedded(), **_yandex_env(emu.url))
    try:
        svc.start(embedded_workers=1)
        done = svc.wait(svc.upload(eval_dir / "ru" / "tinkoff_sample_4.wav", engine="yandex")["id"])
    finally:
        svc.stop()
        emu.stop()
    assert done["status"] == status, done
    if code:
        assert done["error"]["code"] == code
    else:
        assert done["result"]["warnings"][0]["code"] == "engine_fallback"
