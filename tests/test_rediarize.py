"""Speakers found again on a completed transcription (`POST .../diarize`) against a real
`kazru serve` and its worker: a three-voice conversation first diarized with a wrong count
of two gets three, its text and a person's correction untouched, as one correction that
undo takes back; a transcript made without speakers gets them."""

from __future__ import annotations

import time

import pytest

from tests.service_harness import Backend, Service
from tests.test_diarization import conversation
from tests.test_web import (  # noqa: F401  (browser: a fixture)
    PASSWORD,
    Visit,
    _small_controls,
    browser,
)


@pytest.fixture(scope="module")
def service(tmp_path_factory, model_cache):
    svc = Service(tmp_path_factory.mktemp("rediarize"), model_cache, Backend.embedded())
    svc.start(embedded_workers=1)
    yield svc
    svc.stop()


def _until_done(svc: Service, job_id: str, timeout: float = 300.0) -> dict:
    deadline = time.monotonic() + timeout
    with svc.client() as c:
        while time.monotonic() < deadline:
            job = c.get(f"/api/v1/transcriptions/{job_id}").json()
            if job["stage"] == "done":
                return job
            time.sleep(0.5)
    raise AssertionError(f"speakers not found again in {timeout} s\n{svc.read_logs()}")


def _speakers(job: dict) -> list[str | None]:
    return [s["speaker"] for s in job["result"]["segments"]]


def test_another_count_of_speakers_keeps_the_text_and_is_undone_in_one_step(
    service, eval_dir, tmp_path
):
    path, _truth = conversation(eval_dir, tmp_path, ["vosk", "riva", "golos"])
    job = service.wait(service.upload(path, language="ru", diarize="true", num_speakers="2")["id"])
    assert job["stage"] == "done" and len(job["result"]["speakers"]) == 2
    job_id = job["id"]
    with service.client() as c:
        fixed = c.patch(
            f"/api/v1/transcriptions/{job_id}/segments/0", json={"text": "Исправлено человеком"}
        )
        assert fixed.status_code == 200
        before = c.get(f"/api/v1/transcriptions/{job_id}").json()
        asked = c.post(f"/api/v1/transcriptions/{job_id}/diarize", json={"num_speakers": 3})
        assert asked.status_code == 202, asked.text
        assert asked.json()["stage"] == "diarization"
        again = c.post(f"/api/v1/transcriptions/{job_id}/diarize", json={"num_speakers": 3})
        assert again.status_code in (202, 409)  # 409 while the first is still running
        after = _until_done(service, job_id)
        # The text, its correction and the passages are as they were; the speakers are new.
        texts = [s["text"] for s in after["result"]["segments"]]
        assert texts == [s["text"] for s in before["result"]["segments"]]
        assert texts[0] == "Исправлено человеком"
        assert len(after["result"]["speakers"]) == 3
        assert len(set(_speakers(after))) == 3
        assert after["options"]["num_speakers"] == 3
        history = c.get(f"/api/v1/transcriptions/{job_id}/history").json()
        assert history["items"][0]["action"] == "diarize"
        # One undo brings the two speakers back, passage for passage.
        assert c.post(f"/api/v1/transcriptions/{job_id}/undo").status_code == 200
        undone = c.get(f"/api/v1/transcriptions/{job_id}").json()
        assert _speakers(undone) == _speakers(before)
        assert len(undone["result"]["speakers"]) == 2
        assert undone["result"]["segments"][0]["text"] == "Исправлено человеком"


def test_a_transcript_without_speakers_gets_them_and_bad_counts_are_refused(
    service, eval_dir, tmp_path
):
    path, _truth = conversation(eval_dir, tmp_path, ["vosk", "riva"])
    job = service.wait(service.upload(path, language="ru")["id"])
    assert set(_speakers(job)) == {None}
    with service.client() as c:
        url = f"/api/v1/transcriptions/{job['id']}/diarize"
        refused = c.post(url, json={"min_speakers": 3, "max_speakers": 2})
        assert refused.status_code == 422 and refused.json()["error"]["code"] == "invalid_option"
        assert c.post(url, json={"num_speakers": 0}).status_code == 422
        assert c.post(url, json={}).status_code == 202
    done = _until_done(service, job["id"])
    assert None not in _speakers(done) and len(done["result"]["speakers"]) >= 2


def test_the_editor_offers_it(service, browser, eval_dir, tmp_path):  # noqa: F811
    """The transcript page's "Wrong number of speakers?": a count chosen, found, shown."""
    key = service.add_user("editor@example.kz", password=PASSWORD)
    path, _truth = conversation(eval_dir, tmp_path, ["vosk", "riva", "golos"])
    job = service.wait(service.upload(path, key=key, language="ru")["id"])
    visit = Visit(browser, service)
    page = visit.sign_in("editor@example.kz", lang="ru")
    page.goto(f"{service.url}/app/t/{job['id']}")
    assert page.locator(".speakers li").count() == 0
    page.click("#rediarize summary")
    page.select_option("#rediarize-count", "3")
    page.click("#rediarize-go")
    page.locator(".speakers li").first.wait_for(timeout=120_000)  # the page reloads then
    assert page.locator(".speakers li").count() == 3
    visit.close()


def test_recognised_again_in_another_language_keeps_the_old_transcript_as_a_version(
    service, eval_dir
):
    """Recognition again (here: the language forced to Kazakh) makes a new transcript; the
    one before, with a person's correction, stays readable as version 1."""
    job = service.wait(service.upload(eval_dir / "ru" / "vosk_commands.wav", language="ru")["id"])
    job_id = job["id"]
    with service.client() as c:
        fixed = c.patch(f"/api/v1/transcriptions/{job_id}/segments/0", json={"text": "Правка"})
        assert fixed.status_code == 200
        asked = c.post(f"/api/v1/transcriptions/{job_id}/recognize", json={"language": "kk"})
        assert asked.status_code == 202, asked.text
        assert asked.json()["status"] == "queued"
        done = service.wait(job_id)
        assert done["status"] == "completed" and done["options"]["language"] == "kk"
        assert {s["language"] for s in done["result"]["segments"]} == {"kk"}
        assert c.get(f"/api/v1/transcriptions/{job_id}/history").json()["items"] == []
        listed = c.get(f"/api/v1/transcriptions/{job_id}/versions").json()["items"]
        assert [(v["number"], v["language"]) for v in listed] == [(1, "ru")]
        old = c.get(f"/api/v1/transcriptions/{job_id}/versions/1").json()
        assert old["transcript"]["segments"][0]["text"] == "Правка"
        assert {s["language"] for s in old["transcript"]["segments"]} == {"ru"}
        assert c.get(f"/api/v1/transcriptions/{job_id}/versions/2").status_code == 404
        # Exported as it was, in any format, named as the version.
        url = f"/api/v1/transcriptions/{job_id}/export"
        txt = c.get(url, params={"format": "txt", "version": 1})
        assert txt.status_code == 200 and "Правка" in txt.text
        assert 'filename="vosk_commands-v1.txt"' in txt.headers["content-disposition"]
        assert "Правка" not in c.get(url, params={"format": "txt"}).text
        srt = c.get(url, params={"format": "srt", "version": 1})
        assert srt.status_code == 200 and "Правка" in srt.text
        missing = c.get(url, params={"format": "txt", "version": 2})
        assert missing.status_code == 404 and missing.json()["error"]["code"] == "not_found"


def test_the_editor_recognises_again_and_shows_the_earlier_version(
    service,
    browser,  # noqa: F811
    eval_dir,
):
    """The transcript page's "Recognise again?", in Russian at phone width: Kazakh chosen, the
    page follows the job to its new text, and "Earlier versions" opens the corrected Russian,
    read-only."""
    key = service.add_user("again@example.kz", password=PASSWORD)
    job = service.upload(eval_dir / "ru" / "vosk_commands.wav", key=key, language="ru")
    job_id = service.wait(job["id"])["id"]
    with service.client(key) as c:
        fixed = c.patch(f"/api/v1/transcriptions/{job_id}/segments/0", json={"text": "Правка"})
        assert fixed.status_code == 200
    visit = Visit(browser, service, width=360)
    page = visit.sign_in("again@example.kz", lang="ru")
    page.goto(f"{service.url}/app/t/{job_id}")
    assert page.locator("#versions").count() == 0
    page.click("#recognize-again summary")
    assert page.evaluate("document.documentElement.scrollWidth") <= 361
    assert not _small_controls(page), _small_controls(page)
    assert page.input_value("#recognize-form select[name=language]") == "ru"  # as it was
    page.select_option("#recognize-form select[name=language]", "kk")
    with page.expect_navigation():
        page.click("#recognize-go")
    # Queued again: the page follows the job and shows the new text when it is there.
    page.locator("#versions").wait_for(timeout=120_000)
    page.locator(".segment .text").first.wait_for(timeout=120_000)
    assert "Правка" not in page.inner_text(".segments")
    assert "Прежние версии (1)" in page.inner_text("#versions summary")
    page.click("#versions summary")
    with page.expect_navigation():
        page.click("#versions a")
    assert page.url.endswith(f"/app/t/{job_id}/versions/1")
    assert "Версия 1" in page.inner_text("h1 + p")
    assert page.inner_text(".segment .text >> nth=0") == "Правка"
    assert page.locator("#media").count() == 1  # the same recording, to listen along
    docx = page.get_attribute("#version .actions a:has-text('DOCX')", "href")
    assert docx == f"/api/v1/transcriptions/{job_id}/export?format=docx&version=1"
    assert page.evaluate("document.documentElement.scrollWidth") <= 361
    assert not _small_controls(page), _small_controls(page)
    with service.client(key) as c:
        assert c.get(f"/api/v1/transcriptions/{job_id}").json()["options"]["language"] == "kk"
    page.goto(f"{service.url}/app/t/{job_id}/versions/2")
    assert page.locator("#version").count() == 0  # no such version: "not found"
    visit.close()
