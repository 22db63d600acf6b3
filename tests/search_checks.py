"""What search must do, on whichever database an ApiApp runs: shared by the unit test
(SQLite) and the PostgreSQL one."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import text

from kazru_stt.db.session import session_scope
from kazru_stt.domain.transcript import Segment, Speaker, Transcript
from kazru_stt.services.run_job import claim, store_result
from tests.api_app import ApiApp
from tests.conftest import tone_wav


def completed(
    api: ApiApp, key: str, texts: list[tuple[str, str]], speakers: list[str] | None = None
) -> str:
    """A job of `key`'s owner completed with these (language, text) passages, said by
    `speakers` (default: all by SPEAKER_1), stored as a worker stores them (no engine runs:
    the words are what the test needs)."""
    with api.client(key) as c:
        job_id = c.post("/api/v1/transcriptions", files={"file": ("t.wav", tone_wav())}).json()[
            "id"
        ]
    assert claim(api.ctx, job_id, "test:1") is not None
    said_by = speakers or ["SPEAKER_1"] * len(texts)
    segments = [
        Segment(id=i, start=5.0 * i, end=5.0 * i + 4, text=text, language=lang, speaker=said_by[i])
        for i, (lang, text) in enumerate(texts)
    ]
    transcript = Transcript(
        duration=5.0 * len(texts),
        segments=segments,
        speakers=[Speaker(label) for label in dict.fromkeys(said_by)],
        model="test",
    )
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
    # The word list forgets the words only the deleted transcript held, and keeps the others.
    with session_scope(api.ctx.db_url) as db:
        words = set(db.scalars(text("SELECT term FROM search_terms")))
    assert {"договор", "подписан"} <= words
    assert not {"аренды", "свидетель", "қазақ"} & words


def check_shared_search(api: ApiApp) -> None:
    """Search through workspaces, and its filters: tag, speaker, date, workspace."""
    admin = api.user("admin@example.kz", admin=True)
    court = api.user("court@example.kz")
    clerk = api.user("clerk@example.kz")
    outsider = api.user("outsider@example.kz")
    with api.client(admin) as c:
        space = c.post("/api/v1/workspaces", json={"name": "Дело 12"}).json()["id"]
        for email, role in (("court@example.kz", "editor"), ("clerk@example.kz", "viewer")):
            r = c.post(f"/api/v1/workspaces/{space}/members", json={"email": email, "role": role})
            assert r.status_code == 201, r.text
    hearing = completed(
        api,
        court,
        [("ru", "Истец представил договор."), ("ru", "Ответчик договор не подписывал.")],
        ["SPEAKER_1", "SPEAKER_2"],
    )
    mine = completed(api, court, [("ru", "Черновик договора.")])
    assert found(api, clerk, "договор") == []  # not filed in the workspace yet
    with api.client(court) as c:
        r = c.patch(f"/api/v1/transcriptions/{hearing}", json={"workspace_id": space})
        assert r.status_code == 200, r.text
        r = c.patch(f"/api/v1/transcriptions/{hearing}", json={"tags": ["Дело-12", " дело-12 "]})
        assert r.json()["tags"] == ["Дело-12"]
        r = c.patch(f"/api/v1/transcriptions/{hearing}/speakers/SPEAKER_2", json={"name": "Аружан"})
        assert r.status_code == 200, r.text
    # Filed, it is found by the workspace's members at once; not by others.
    assert found(api, clerk, "договор") == [(hearing, 1), (hearing, 0)]
    assert found(api, outsider, "договор") == []
    assert found(api, outsider, "договор", workspace_id=space) == []
    assert found(api, court, "договор", workspace_id=space) == [(hearing, 1), (hearing, 0)]
    assert found(api, court, "договор") == [(mine, 0), (hearing, 1), (hearing, 0)]
    assert found(api, admin, "договор", workspace_id=space) == [(hearing, 1), (hearing, 0)]
    # Filters: tag (any case), speaker (by name or label), the upload's date.
    assert found(api, court, "договор", tag="ДЕЛО-12") == [(hearing, 1), (hearing, 0)]
    assert found(api, court, "договор", tag="дело-13") == []
    assert found(api, court, "договор", speaker="Аружан") == [(hearing, 1)]
    assert found(api, court, "договор", speaker="speaker_1") == [(mine, 0), (hearing, 0)]
    today = datetime.now(ZoneInfo(api.settings.timezone)).date()
    assert len(found(api, court, "договор", date_from=today.isoformat())) == 3
    assert found(api, court, "договор", date_from=(today + timedelta(days=1)).isoformat()) == []
    assert found(api, court, "договор", date_to=(today - timedelta(days=1)).isoformat()) == []
    # Moved out, the workspace's members find it no more.
    with api.client(court) as c:
        r = c.patch(f"/api/v1/transcriptions/{hearing}", json={"workspace_id": None})
        assert r.status_code == 200 and r.json()["workspace_id"] is None
    assert found(api, clerk, "договор") == []
    assert found(api, court, "договор", speaker="Аружан") == [(hearing, 1)]
