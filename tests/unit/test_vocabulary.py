"""A person's vocabulary: cleaned once, kept per account through the API (audited by size),
and given to every job they start, after a recording's own prompt."""

from __future__ import annotations

import pytest

from kazru_stt.config import Settings
from kazru_stt.domain.error_codes import ErrorCode
from kazru_stt.domain.errors import KazruError
from kazru_stt.domain.vocabulary import MAX_TERMS, clean_terms, hint_of
from kazru_stt.services import audit
from kazru_stt.services.job_request import JobRequest
from tests.api_app import ApiApp
from tests.conftest import tone_wav


def test_terms_are_trimmed_and_kept_once_in_their_order():
    given = ["  Тинькофф ", "", "Нұр-Сұлтан", "тинькофф", "Олег  Петрович", "\t"]
    assert clean_terms(given) == ["Тинькофф", "Нұр-Сұлтан", "Олег Петрович"]


@pytest.mark.parametrize(
    "given",
    [["a" * 81], [f"term {i}" for i in range(MAX_TERMS + 1)], ["bad\x00term"], ["\u202eevil"]],
)
def test_terms_past_the_limits_are_refused(given):
    with pytest.raises(KazruError) as refused:
        clean_terms(given)
    assert refused.value.code == ErrorCode.INVALID_OPTION


def test_the_hint_is_the_prompt_then_the_terms():
    assert hint_of([]) is None and hint_of([], "  ") is None
    # Each a sentence of its own: Whisper goes on from an open one instead of writing anew.
    assert hint_of(["Тинькофф", "Олег"]) == "Тинькофф, Олег."
    assert hint_of(["Тинькофф"], " a  court\nhearing ") == "a court hearing. Тинькофф."
    assert hint_of([], "Was it?") == "Was it?"
    options = JobRequest(terms=("Астана",), prompt="суд").options(Settings())
    assert options.hint == "суд. Астана."


def test_an_accounts_vocabulary_reaches_its_jobs_and_no_one_elses(tmp_path):
    api = ApiApp(tmp_path)
    mine, other = api.user("a@b.kz"), api.user("c@d.kz")
    with api.client(mine) as c:
        assert c.get("/api/v1/vocabulary").json() == {"terms": []}
        r = c.put("/api/v1/vocabulary", json={"terms": ["Тинькофф", " Олег ", "олег"]})
        assert r.status_code == 200 and r.json() == {"terms": ["Тинькофф", "Олег"]}
        assert c.get("/api/v1/vocabulary").json() == {"terms": ["Тинькофф", "Олег"]}
        bad = c.put("/api/v1/vocabulary", json={"terms": ["x\x07y"]})
        assert bad.status_code == 422
        assert c.get("/api/v1/vocabulary").json()["terms"] == ["Тинькофф", "Олег"]  # kept
        job = c.post("/api/v1/transcriptions", files={"file": ("a.wav", tone_wav())}).json()
        assert job["options"]["hint"] == "Тинькофф, Олег."
        job = c.post(
            "/api/v1/transcriptions",
            files={"file": ("a.wav", tone_wav())},
            data={"prompt": "Заседание суда, истец Ахметов"},
        ).json()
        assert job["options"]["hint"] == "Заседание суда, истец Ахметов. Тинькофф, Олег."
    with api.client(other) as c:
        assert c.get("/api/v1/vocabulary").json() == {"terms": []}
        job = c.post("/api/v1/transcriptions", files={"file": ("a.wav", tone_wav())}).json()
        assert job["options"]["hint"] is None
    with api.client(mine) as c:
        assert c.put("/api/v1/vocabulary", json={"terms": []}).json() == {"terms": []}
    entries, _total = audit.list_entries(api.ctx, action="vocabulary.replace")
    assert [e["details"] for e in entries] == [{"terms": 0}, {"terms": 2}]  # sizes, no terms
