"""Settings changed while the service runs reach its processes within seconds, on the
scaled-out mode (PostgreSQL, Redis): one changed through the API and one from
`kazru config set` in another process reach both API replicas (the next upload's options)
and the worker (the next job's text), without a restart, and are in the audit trail."""

from __future__ import annotations

import subprocess
import sys
import time

import httpx

from kazru_stt.services.settings_in_effect import REFRESH_S
from tests.service_harness import Backend, Service, need_servers


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


def test_a_setting_changed_at_run_time_reaches_every_replica_and_the_worker(
    model_cache, eval_dir, tmp_path
):
    need_servers(postgres=True, redis=True)
    backend = Backend.scaled()
    svc = Service(tmp_path / "svc", model_cache, backend)
    try:
        svc.start(embedded_workers=0)
        svc.start_worker()
        second = svc.start_replica()
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
        jfk = eval_dir / "en" / "jfk.flac"
        for url in (svc.url, second):
            headers = {"Authorization": f"Bearer {user}"}
            with httpx.Client(base_url=url, headers=headers, timeout=60) as c, jfk.open("rb") as f:
                r = c.post("/api/v1/transcriptions", files={"file": (jfk.name, f)})
            assert r.status_code == 202, r.text
            assert r.json()["options"]["diarize"] is True  # this replica's default now
            job = svc.wait(r.json()["id"])
            segments = job["result"]["segments"]
            assert segments and {s["language"] for s in segments} == {"other"}  # the worker's
        history = _config(svc, "history")
        assert "third_language_action: (default) -> mark  by command line" in history
        assert "diarize_by_default: (default) -> true  by user" in history
        with httpx.Client(
            base_url=second, headers={"Authorization": f"Bearer {svc.key}"}, timeout=60
        ) as c:
            trail = c.get("/api/v1/admin/audit", params={"action": "setting.changed"}).json()
        assert {e["target"] for e in trail["items"]} == {
            "diarize_by_default",
            "third_language_action",
        }
    finally:
        svc.stop()
        backend.close()
