"""The same recording is not recognised twice, against a real `kazru serve` and its worker:
the same owner's second upload of a file is completed from the first one's machine text
(corrections made since stay with the first), another recipe or another owner's upload of
it is recognised afresh; `/metrics` counts both."""

from __future__ import annotations

import re
import time

import pytest

from tests.service_harness import Backend, Service


@pytest.fixture(scope="module")
def service(tmp_path_factory, model_cache):
    svc = Service(tmp_path_factory.mktemp("reuse"), model_cache, Backend.embedded())
    svc.start(embedded_workers=1)
    yield svc
    svc.stop()


def _counters(svc: Service) -> tuple[float, float]:
    with svc.client() as c:
        text = c.get("/metrics").text

    def total(name: str) -> float:
        return sum(float(v) for v in re.findall(rf"^{name}(?:{{[^}}]*}})? (\S+)$", text, re.M))

    return total("kazru_recognitions_total"), total("kazru_transcripts_reused_total")


def _texts(job: dict) -> list[str]:
    return [s["text"] for s in job["result"]["segments"]]


def test_the_same_recording_is_recognised_once_per_owner(service, eval_dir):
    clip = eval_dir / "ru" / "riva_sample.wav"
    first = service.wait(service.upload(clip, language="ru")["id"])
    with service.client() as c:
        fixed = c.patch(
            f"/api/v1/transcriptions/{first['id']}/segments/0", json={"text": "Исправлено."}
        )
        assert fixed.status_code == 200
    recognised, reused = _counters(service)

    second = service.wait(service.upload(clip, language="ru")["id"])
    assert second["status"] == "completed"
    assert _texts(second) == _texts(first)  # the machine's text, not the correction
    assert _texts(second)[0] != "Исправлено."
    assert _counters(service) == (recognised, reused + 1)

    # Another recipe (the language left to choose) is recognised afresh.
    service.wait(service.upload(clip, language="auto")["id"])
    assert _counters(service) == (recognised + 1, reused + 1)

    # Another owner's copy of the same file: never someone else's text.
    key = service.add_user("other@example.kz")
    other = service.wait(service.upload(clip, key=key, language="ru")["id"], timeout=300)
    assert other["status"] == "completed"
    assert _counters(service) == (recognised + 2, reused + 1)


def test_admins_see_the_workers_their_models_and_jobs(service):
    deadline = time.monotonic() + 60
    with service.client() as c:
        while True:  # a worker names its models at its next beat (every 15 s)
            listing = c.get("/api/v1/admin/workers").json()
            live = [w for w in listing["workers"] if w["live"]]
            if live and "whisper-base" in live[0]["models"]:
                break
            assert time.monotonic() < deadline, listing
            time.sleep(1)
        assert len(live) == 1 and live[0]["stages"] == ["recognition", "diarization"]
        assert live[0]["jobs"] == [] and listing["queue"]["depth"] == 0
    key = service.add_user("not-admin@example.kz")
    with service.client(key) as c:
        assert c.get("/api/v1/admin/workers").status_code == 404  # as every admin route
