"""What search must do, on whichever database an ApiApp runs: shared by the unit test
(SQLite) and the PostgreSQL one."""

from __future__ import annotations

from kazru_stt.domain.transcript import Segment, Transcript
from kazru_stt.services.run_job import claim, store_result
from tests.api_app import ApiApp
from tests.conftest import tone_wav


def completed(api: ApiApp, key: str, texts: list[tuple[str, str]]) -> str:
    """A job of `key`'s owner completed with these (language, text) passages, stored as a
    worker stores them (no engine runs: the words are what the test needs)."""
    with api.client(key) as c:
        job_id = c.post("/api/v1/transcriptions", files={"file": ("t.wav", tone_wav())}).json()[
            "id"
        ]
    assert claim(api.ctx, job_id, "test:1") is not None
    segments = [
        Segment(id=i, start=5.0 * i, end=5.0 * i + 4, text=text, language=lang, speaker="SPEAKER_1")
        for i, (lang, text) in enumerate(texts)
    ]
    transcript = Transcript(duration=5.0 * len(texts), segments=segments, model="test")
    assert store_result(api.ctx, job_id, "test:1", transcript)
    return job_id


def found(api: ApiApp, key: str, q: str, **params) -> list[tuple[str, int]]:
    with api.client(key) as c:
        r = c.get("/api/v1/search", params={"q": q, **params})
    assert r.status_code == 200, r.text
    return [(h["job_id"], h["index"]) for h in r.json()["hits"]]


def check_search(api: ApiApp) -> None:
    admin = api.user("admin@example.kz", admin=True)  # the first account is an admin anyway
    alice = api.user("alice@example.kz")
    bob = api.user("bob@example.kz")
    hearing = completed(
        api,
        alice,
        [
            ("ru", "Суд рассматривает Договор аренды."),
            ("kk", "Қазақ тілінде сөйлейміз, бәрі түсінікті."),
            ("ru", "Свидетель сказал ещё раз: договора не было."),
        ],
    )
    other = completed(api, bob, [("ru", "Договор подписан вчера.")])

    # Any case, ё as е, a word's start finds its endings; newest first.
    assert found(api, alice, "ДОГОВОР") == [(hearing, 2), (hearing, 0)]
    # A page at a time.
    assert found(api, alice, "договор", limit=1) == [(hearing, 2)]
    assert found(api, alice, "договор", limit=1, offset=1) == [(hearing, 0)]
    with api.client(alice) as c:
        assert c.get("/api/v1/search", params={"q": "договор", "limit": 1}).json()["more"]
    assert found(api, alice, "еще") == [(hearing, 2)]
    assert found(api, alice, "ещё договора") == [(hearing, 2)]
    # Kazakh letters are letters of their own: "қазақ" is not "казак".
    assert found(api, alice, "ҚАЗАҚ") == [(hearing, 1)]
    assert found(api, alice, "казак") == []
    assert found(api, alice, "договор", language="kk") == []
    # Only what the searcher may see; an admin sees everyone's.
    assert found(api, bob, "договор") == [(other, 0)]
    assert set(found(api, admin, "договор")) == {(other, 0), (hearing, 2), (hearing, 0)}
    # Words that are query syntax elsewhere are only words here.
    assert found(api, alice, '"договор* (') == [(hearing, 2), (hearing, 0)]
    assert found(api, alice, "договор OR свидетель") == []  # every word: "or" too

    # A correction is found by its new words at once, not by the old.
    with api.client(alice) as c:
        r = c.patch(
            f"/api/v1/transcriptions/{hearing}/segments/0", json={"text": "Суд изучает иск."}
        )
        assert r.status_code == 200, r.text
        assert found(api, alice, "иск") == [(hearing, 0)]
        assert found(api, alice, "аренды") == []
        # A split renumbers the passages after it; the hits say where they are now.
        assert (
            c.post(f"/api/v1/transcriptions/{hearing}/segments/0/split", json={"at": 4}).status_code
            == 200
        )
        assert found(api, alice, "свидетель") == [(hearing, 3)]
        assert c.post(f"/api/v1/transcriptions/{hearing}/undo").status_code == 200
        assert found(api, alice, "свидетель") == [(hearing, 2)]
        assert c.post(f"/api/v1/transcriptions/{hearing}/undo").status_code == 200
        assert found(api, alice, "аренды") == [(hearing, 0)]
        # Deleted, it is found no more.
        assert c.delete(f"/api/v1/transcriptions/{hearing}").status_code == 204
    assert found(api, alice, "договор") == []
    assert found(api, admin, "договор") == [(other, 0)]
