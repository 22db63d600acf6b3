"""The export route writes an unreadable passage's marker in the reader's language: the one
asked for (`lang=`), else the account's, else the transcript's; `inaudible_markers=false`
leaves them out, and JSON never has them."""

from __future__ import annotations

from kazru_stt.domain.transcript import Segment, Transcript
from kazru_stt.services import accounts, run_job
from tests.api_app import ApiApp
from tests.conftest import tone_wav

DONE = Transcript(
    duration=9.0,
    engine="local",
    model="whisper-base",
    segments=[
        Segment(0, 0.0, 2.5, "Добрый день", "ru"),
        Segment(1, 3.0, 7.0, "", "ru", low_confidence=True),
    ],
)


def test_markers_in_the_readers_language(tmp_path):
    api = ApiApp(tmp_path)
    key = api.user("a@b.kz")
    with api.client(key) as c:
        job = c.post("/api/v1/transcriptions", files={"file": ("a.wav", tone_wav())}).json()
        assert run_job.claim(api.ctx, job["id"], "test-worker") is not None
        assert run_job.store_result(api.ctx, job["id"], "test-worker", DONE)
        url = f"/api/v1/transcriptions/{job['id']}/export"

        def txt(**params) -> str:
            r = c.get(url, params={"format": "txt", **params})
            assert r.status_code == 200, r.text
            return r.text

        assert "[неразборчиво 0:00:03–0:00:07]" in txt()  # the transcript's own language
        user = accounts.find_user(api.ctx, "a@b.kz")
        accounts.set_locale(api.ctx, user["id"], "kk")
        assert "[түсініксіз 0:00:03–0:00:07]" in txt()  # the account's
        assert "[inaudible 0:00:03–0:00:07]" in txt(lang="en")  # the one asked for
        assert "[" not in txt(inaudible_markers="false")
        assert c.get(url, params={"format": "txt", "lang": "de"}).status_code == 422
        srt = c.get(url, params={"format": "srt"}).text
        assert "00:00:03,000 --> 00:00:07,000" in srt and "түсініксіз" in srt
        assert c.get(url, params={"format": "json"}).json()["segments"][1]["text"] == ""


def test_a_redacted_copy_hides_personal_numbers_and_counts_them(tmp_path):
    """`redact=pii` (and `redact_terms`): markers in the reader's language, the counts in a
    header and in the audit log, never the text; the ordinary export keeps everything."""
    from sqlalchemy import select

    from kazru_stt.db.models import AuditEntry
    from kazru_stt.db.session import session_scope

    said = "ИИН 900101300007, телефон +7 701 234 56 78, спросите Айгүл."
    api = ApiApp(tmp_path)
    key = api.user("a@b.kz")
    with api.client(key) as c:
        job = c.post("/api/v1/transcriptions", files={"file": ("a.wav", tone_wav())}).json()
        assert run_job.claim(api.ctx, job["id"], "test-worker") is not None
        done = Transcript(duration=5.0, segments=[Segment(0, 0.0, 4.0, said, "ru")])
        assert run_job.store_result(api.ctx, job["id"], "test-worker", done)
        url = f"/api/v1/transcriptions/{job['id']}/export"
        r = c.get(url, params={"format": "txt", "redact": "pii", "redact_terms": "Айгүл"})
        assert r.status_code == 200, r.text
        assert r.text.strip() == "ИИН [ИИН], телефон [телефон], спросите [имя]."
        assert r.headers["kazru-redactions"] == "iin=1, name=1, phone=1"
        assert c.get(url, params={"format": "txt"}).text.strip() == said
        assert c.get(url, params={"format": "txt", "redact": "all"}).status_code == 422
    with session_scope(api.ctx.db_url) as db:
        details = [
            e.details
            for e in db.scalars(select(AuditEntry).where(AuditEntry.action == "transcript.export"))
        ]
    assert {"format": "txt", "redacted": {"iin": 1, "phone": 1, "name": 1}} in details
    assert "900101300007" not in str(details)
