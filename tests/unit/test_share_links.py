"""Read-only links: made by who may see the transcript, read by anyone with the link (never
indexed, no referrer, not kept by the browser), counted and audited, dead after revocation
or expiry with the same "not found" as a link that never existed; the recording only where
the link allows it."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select, update

from kazru_stt.db.models import AuditEntry, ShareLink, utcnow
from kazru_stt.db.session import session_scope
from tests.api_app import ApiApp
from tests.conftest import tone_wav
from tests.search_checks import completed


def _path(url: str) -> str:
    return url[url.index("/s/") :]


def test_a_link_opens_the_transcript_without_an_account_until_revoked(tmp_path):
    api = ApiApp(tmp_path)
    api.user("admin@example.kz", admin=True)
    alice, bob = api.user("alice@example.kz"), api.user("bob@example.kz")
    job_id = completed(api, alice, [("ru", "Заседание открыто."), ("kk", "Сот отырысы ашық.")])
    with api.client(alice) as c:
        made = c.post(f"/api/v1/transcriptions/{job_id}/links", json={"hours": 48})
        assert made.status_code == 201, made.text
        link = made.json()
        audio_link = c.post(
            f"/api/v1/transcriptions/{job_id}/links", json={"with_audio": True}
        ).json()
    assert timedelta(hours=47) < _aware(link["expires_at"]) - utcnow() <= timedelta(hours=48)
    with api.client() as anyone:
        page = anyone.get(_path(link["url"]))
        assert page.status_code == 200
        assert "Заседание открыто." in page.text and "Сот отырысы ашық." in page.text
        assert "noindex" in page.headers["x-robots-tag"]
        assert page.headers["referrer-policy"] == "no-referrer"
        assert page.headers["cache-control"] == "no-store"
        assert '<meta name="robots" content="noindex' in page.text
        # The recording: only through a link that allows it (and by ranges, for the player).
        assert "<audio" not in page.text
        assert anyone.get(_path(link["url"]) + "/audio").status_code == 404
        assert "<audio" in anyone.get(_path(audio_link["url"])).text
        audio = anyone.get(_path(audio_link["url"]) + "/audio", headers={"Range": "bytes=0-9"})
        assert audio.status_code == 206 and audio.content == tone_wav()[:10]
        # Made up or truncated: the same not found.
        assert anyone.get("/s/made-up-token-0123456789").status_code == 404
        assert anyone.get(_path(link["url"])[:-3]).status_code == 404

    # Counted and audited: the page once, the player's reads not.
    with api.client(alice) as c:
        listed = {
            x["id"]: x for x in c.get(f"/api/v1/transcriptions/{job_id}/links").json()["links"]
        }
    assert listed[link["id"]]["views"] == 1 and listed[audio_link["id"]]["views"] == 1
    with session_scope(api.ctx.db_url) as db:
        actions = db.scalars(select(AuditEntry.action)).all()
    assert actions.count("link.create") == 2 and actions.count("link.view") == 2

    # Someone else cannot make, list or revoke links to it: the job is not found for them.
    with api.client(bob) as c:
        assert c.post(f"/api/v1/transcriptions/{job_id}/links", json={}).status_code == 404
        assert c.get(f"/api/v1/transcriptions/{job_id}/links").status_code == 404
        assert c.delete(f"/api/v1/transcriptions/{job_id}/links/{link['id']}").status_code == 404

    # Revoked: dead at once, the page and the audio alike.
    with api.client(alice) as c:
        assert c.delete(f"/api/v1/transcriptions/{job_id}/links/{link['id']}").status_code == 204
        assert c.delete(f"/api/v1/transcriptions/{job_id}/links/9999").status_code == 404
    with api.client() as anyone:
        assert anyone.get(_path(link["url"])).status_code == 404
        assert anyone.get(_path(audio_link["url"])).status_code == 200
    # Expired: dead too.
    with session_scope(api.ctx.db_url) as db:
        db.execute(
            update(ShareLink)
            .where(ShareLink.id == audio_link["id"])
            .values(expires_at=utcnow() - timedelta(seconds=1))
        )
    with api.client() as anyone:
        assert anyone.get(_path(audio_link["url"])).status_code == 404
        assert anyone.get(_path(audio_link["url"]) + "/audio").status_code == 404


def test_only_a_completed_transcript_is_shared_and_hours_are_bounded(tmp_path):
    api = ApiApp(tmp_path)
    key = api.user("a@b.kz")
    with api.client(key) as c:
        queued = c.post("/api/v1/transcriptions", files={"file": ("t.wav", tone_wav())}).json()
        refused = c.post(f"/api/v1/transcriptions/{queued['id']}/links", json={})
        assert refused.status_code == 409 and refused.json()["error"]["code"] == "not_ready"
        done = completed(api, key, [("ru", "Да.")])
        too_long = c.post(f"/api/v1/transcriptions/{done}/links", json={"hours": 100000})
        assert too_long.status_code == 422


def _aware(text: str):
    from datetime import datetime

    return datetime.fromisoformat(text.replace("Z", "+00:00"))
