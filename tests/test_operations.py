"""Operations: settings checked at start and documented from the one settings object, JSON
logs that carry a request id from the upload into the worker and the webhook sender, and
metrics of the whole system (embedded workers included) on the API's /metrics."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from kazru_stt.config_docs import render
from tests.service_harness import Backend, Service

ROOT = Path(__file__).resolve().parents[1]


def test_configuration_doc_is_generated_from_the_settings():
    doc = (ROOT / "docs" / "configuration.md").read_text(encoding="utf-8")
    assert doc == render(), "run: kazru config docs > docs/configuration.md"
    from kazru_stt.config import Settings

    for name in Settings.model_fields:
        assert f"`KAZRU_{name.upper()}`" in doc
    example = (ROOT / ".env.example").read_text(encoding="utf-8")
    named = {line.split("=")[0].lstrip("# ") for line in example.splitlines() if "=" in line}
    assert named <= {f"KAZRU_{n.upper()}" for n in Settings.model_fields}


def _check(tmp_path, **env) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("KAZRU_")}
    clean.update({"KAZRU_DATA_DIR": str(tmp_path)}, **env)
    return subprocess.run(
        [sys.executable, "-m", "kazru_stt.cli.main", "config", "check"],
        env=clean,
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize(
    ("env", "says"),
    [
        ({"KAZRU_BROKER_URL": "redis://127.0.0.1:6379/3"}, "SQLite database cannot be shared"),
        (
            {  # half a key pair (none at all: AWS's standard chain)
                "KAZRU_DATABASE_URL": "postgresql://postgres@127.0.0.1/test",
                "KAZRU_STORAGE_URL": "s3://bucket/prefix",
                "KAZRU_S3_ACCESS_KEY_ID": "key-without-secret",
            },
            "KAZRU_S3_SECRET_ACCESS_KEY",
        ),
        ({"KAZRU_STORAGE_URL": "s3://bucket"}, "SQLite database cannot be shared"),
        ({"KAZRU_WEBHOOK_SECRET": ""}, "KAZRU_WEBHOOK_SECRET"),
        ({"KAZRU_WEBHOOK_SECRET": "change-me"}, "KAZRU_WEBHOOK_SECRET"),
        ({"KAZRU_ENGINE": "yandex"}, "KAZRU_YANDEX_API_KEY"),
        ({"KAZRU_LOG_FORMAT": "xml"}, "log_format"),
        ({"KAZRU_DEFAULT_MODEL": "kk-turbo"}, "KAZRU_DEFAULT_MODEL=kk-turbo is no model"),
        ({"KAZRU_MODELS": "kk-turbo"}, "is not name=path"),
        ({"KAZRU_ENGINE": "whisperx"}, "engines are local, yandex"),
    ],
)
def test_contradictory_settings_stop_at_start(tmp_path, env, says):
    proc = _check(tmp_path, **env)
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.startswith("error: invalid_setting:") and says in proc.stderr


def test_embedded_default_and_scaled_settings_pass(tmp_path):
    assert _check(tmp_path).returncode == 0
    scaled = _check(
        tmp_path,
        KAZRU_DATABASE_URL="postgresql://postgres@127.0.0.1/test",
        KAZRU_BROKER_URL="redis://127.0.0.1:6379/3",
    )
    assert scaled.returncode == 0 and "shared" in scaled.stderr


def _json_lines(text: str) -> list[dict]:
    out = []
    for line in text.splitlines():
        try:
            out.append(json.loads(line))
        except ValueError:
            pass
    return out


def _sample(metrics: str, name: str, **labels) -> float:
    total = 0.0
    for line in metrics.splitlines():
        if not line.startswith(name) or line.startswith("#"):
            continue
        head, value = line.rsplit(" ", 1)
        if head.split("{")[0] != name:
            continue
        if all(f'{k}="{v}"' in head for k, v in labels.items()):
            total += float(value)
    return total


def test_request_id_follows_the_job_and_workers_report_to_metrics(
    tmp_path, model_cache, engine, eval_dir
):
    svc = Service(tmp_path / "svc", model_cache, Backend.embedded())
    svc.start(embedded_workers=1)
    try:
        clip = eval_dir / "ru" / "tinkoff_sample_4.wav"
        with svc.client() as c, clip.open("rb") as fh:
            r = c.post(
                "/api/v1/transcriptions",
                files={"file": (clip.name, fh)},
                headers={"X-Request-ID": "upload-7f3a"},
            )
            assert r.status_code == 202 and r.headers["x-request-id"] == "upload-7f3a"
            # An id that is not plain is replaced, never logged as sent.
            bad = c.get("/api/v1/transcriptions", headers={"X-Request-ID": 'a"b{}<script>'})
            assert bad.headers["x-request-id"] != 'a"b{}<script>'
        job = svc.wait(r.json()["id"])
        assert job["status"] == "completed"
        text = job["result"]["segments"][0]["text"]

        # Counted by the embedded worker process just after the job's row says it is done,
        # added up by the API.
        deadline = time.monotonic() + 15
        while True:
            with svc.client() as c:
                metrics = c.get("/metrics").text
            done = _sample(metrics, "kazru_jobs_finished_total", status="completed")
            if done or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        assert done == 1
        assert _sample(metrics, "kazru_audio_seconds_total") == pytest.approx(3.54, abs=0.1)
        assert _sample(metrics, "kazru_job_real_time_factor_count") == 1
        assert _sample(metrics, "kazru_jobs_created_total", engine="local") == 1
        assert _sample(metrics, "kazru_queue_depth") == 0
        assert _sample(metrics, "kazru_workers_live") == 1
        assert _sample(metrics, "kazru_disk_free_bytes", volume="data") > 0
        assert 'route="/api/v1/transcriptions/{job_id}"' in metrics
        families = [line.split()[2] for line in metrics.splitlines() if line.startswith("# TYPE")]
        assert len(families) == len(set(families))  # no family named twice
    finally:
        svc.stop()

    logs = svc.read_logs_all()
    lines = _json_lines(logs)
    assert lines and all({"time", "level", "logger", "message"} <= set(x) for x in lines)
    upload = [
        x for x in lines if x["logger"] == "kazru.access" and x.get("request_id") == "upload-7f3a"
    ]
    assert upload and upload[0]["route"] == "/api/v1/transcriptions" and upload[0]["status"] == 202
    worked = [
        x for x in lines if x.get("role") == "worker" and x.get("request_id") == "upload-7f3a"
    ]
    assert any(x.get("job_id") == job["id"] for x in worked), worked
    assert text not in logs and svc.key not in logs
