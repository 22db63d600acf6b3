"""Settings changed while the service runs reach its processes within seconds: one changed
through the API and one from `kazru config set` in a third process reach the API (the next
upload's options) and the worker (the next job's text), without a restart."""

from __future__ import annotations

import subprocess
import sys
import time

from kazru_stt.services.settings_in_effect import REFRESH_S
from tests.service_harness import Backend, Service


def _config(svc: Service, *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "kazru_stt.cli.main", "config", *args],
        env=svc.env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_a_setting_changed_at_run_time_reaches_the_api_and_the_worker(
    model_cache, eval_dir, tmp_path
):
    svc = Service(tmp_path / "svc", model_cache, Backend.embedded())
    svc.start(embedded_workers=1)
    try:
        user = svc.add_user("clerk@court.kz")
        with svc.client(user) as c:  # not an administrator's page
            assert c.get("/api/v1/admin/settings").status_code == 404
        with svc.client() as c:
            listing = c.get("/api/v1/admin/settings").json()
            sources = {s["name"]: s["source"] for s in listing["settings"]}
            # The test service sets the quota in its environment: that decides.
            assert sources["quota_active_jobs"] == "environment"
            r = c.put("/api/v1/admin/settings/diarize_by_default", json={"value": "true"})
            assert r.status_code == 200 and r.json()["source"] == "database", r.text
            bad = c.put("/api/v1/admin/settings/languages", json={"value": "kk,zz"})
            assert bad.status_code == 422 and bad.json()["error"]["code"] == "invalid_option"
        assert "third_language_action = mark  (database)" in _config(
            svc, "set", "third_language_action", "mark"
        )
        time.sleep(2 * REFRESH_S + 1)  # every process has read the table since
        job = svc.wait(svc.upload(eval_dir / "en" / "jfk.flac", key=user)["id"])
        assert job["options"]["diarize"] is True  # the API's default now
        segments = job["result"]["segments"]
        assert segments and {s["language"] for s in segments} == {"other"}  # the worker's
        history = _config(svc, "history")
        assert "third_language_action: (default) -> mark  by command line" in history
        assert "diarize_by_default: (default) -> true  by user" in history
    finally:
        svc.stop()
