"""Voices remembered: a user with voice memory on names a speaker in one job; another
recording of that voice by the same user gets the name suggested, and another user's upload
of the same voice gets nothing. Real speech: the first and second halves of one speaker's
recording (vosk_commands) beside other speakers (their voices matched at 0.90 here, others
at most 0.50)."""

from __future__ import annotations

import numpy as np
import pytest

from kazru_stt.media import SAMPLE_RATE, load_audio
from tests.service_harness import Backend, Service

from .conftest import write_wav


@pytest.fixture(scope="module")
def recordings(eval_dir, tmp_path_factory):
    out = tmp_path_factory.mktemp("voices")
    voice = load_audio(eval_dir / "ru" / "vosk_commands.wav")
    half = voice.size // 2
    pause = np.zeros(int(0.8 * SAMPLE_RATE), np.float32)
    riva = load_audio(eval_dir / "ru" / "riva_sample.wav")
    numbers = load_audio(eval_dir / "ru" / "tinkoff_sample_4.wav")
    first = write_wav(out / "first.wav", np.concatenate([voice[:half], pause, riva]))
    second = write_wav(out / "second.wav", np.concatenate([voice[half:], pause, numbers]))
    # (start, end) of the remembered voice in each file
    spans = {"first": (0.0, half / SAMPLE_RATE), "second": (0.0, (voice.size - half) / SAMPLE_RATE)}
    return first, second, spans


def _speaker_of(job, start, end):
    """The label most of the words inside [start, end] carry."""
    votes = {}
    for seg in job["result"]["segments"]:
        for w in seg["words"]:
            if start <= (w["start"] + w["end"]) / 2 <= end:
                votes[seg["speaker"]] = votes.get(seg["speaker"], 0) + 1
    return max(votes, key=votes.get)


def test_a_named_voice_is_suggested_to_its_owner_only(recordings, tmp_path, model_cache):
    first, second, spans = recordings
    svc = Service(tmp_path / "svc", model_cache, Backend.embedded())
    svc.start(embedded_workers=1)
    try:
        other = svc.add_user("other@example.com")
        with svc.client() as c:
            assert c.get("/api/v1/voices").json() == {"enabled": False, "data": []}
            # Memory off (the default): naming a speaker keeps nothing.
            job = svc.wait(svc.upload(first, diarize="true", num_speakers="2", language="ru")["id"])
            label = _speaker_of(job, *spans["first"])
            c.patch(
                f"/api/v1/transcriptions/{job['id']}/speakers/{label}", json={"name": "Оператор"}
            )
            assert c.get("/api/v1/voices").json()["data"] == []

            assert c.put("/api/v1/voices/memory", json={"enabled": True}).json()["enabled"]
            assert c.get("/api/v1/me").json()["remember_voices"] is True
            job = svc.wait(svc.upload(first, diarize="true", num_speakers="2", language="ru")["id"])
            label = _speaker_of(job, *spans["first"])
            r = c.patch(
                f"/api/v1/transcriptions/{job['id']}/speakers/{label}", json={"name": "Оператор"}
            )
            assert r.status_code == 200, r.text
            voices = c.get("/api/v1/voices").json()["data"]
            assert [v["name"] for v in voices] == ["Оператор"]
            assert "embedding" not in voices[0]  # the voiceprint never leaves the server

            again = svc.wait(
                svc.upload(second, diarize="true", num_speakers="2", language="ru")["id"]
            )
            speakers = {s["label"]: s for s in again["result"]["speakers"]}
            mine = _speaker_of(again, *spans["second"])
            assert speakers[mine]["suggested_name"] == "Оператор"
            assert speakers[mine]["name"] is None  # suggested, not applied
            assert all(s["suggested_name"] is None for k, s in speakers.items() if k != mine)

        with svc.client(other) as c:
            assert c.put("/api/v1/voices/memory", json={"enabled": True}).status_code == 200
            theirs = svc.wait(
                svc.upload(second, key=other, diarize="true", num_speakers="2", language="ru")["id"]
            )
            assert all(s["suggested_name"] is None for s in theirs["result"]["speakers"])
            assert c.get("/api/v1/voices").json()["data"] == []
            # Another user's voice cannot be deleted (it does not exist for them).
            assert c.delete(f"/api/v1/voices/{voices[0]['id']}").status_code == 404

        with svc.client() as c:
            assert c.delete(f"/api/v1/voices/{voices[0]['id']}").status_code == 204
            assert c.get("/api/v1/voices").json()["data"] == []
            # Off deletes every voiceprint kept with the jobs too.
            c.put("/api/v1/voices/memory", json={"enabled": False})
        from sqlalchemy import select

        from kazru_stt.db.models import Job, SpeakerRow
        from kazru_stt.db.session import session_scope

        ctx = svc.context()
        with session_scope(ctx.db_url) as db:
            admin_jobs = select(Job.id).where(Job.owner_id == 1)
            kept = db.scalars(
                select(SpeakerRow.voice).where(SpeakerRow.job_id.in_(admin_jobs))
            ).all()
            assert kept and all(v is None for v in kept)
    finally:
        svc.stop()


def test_a_voice_kept_by_an_earlier_speaker_model_is_never_compared():
    """Voices from the Resemblyzer era have 256 numbers, CAM++'s 192: comparing the two
    scores below any threshold instead of failing the job."""
    from kazru_stt.services.voices import _similarity

    old, new = [1 / 16.0] * 256, [1 / np.sqrt(192)] * 192
    assert _similarity(old, new) < 0
    assert _similarity(new, new) == pytest.approx(1.0, abs=1e-5)
