"""A hostile client gets nothing it should not, shown against a real `kazru serve` behind a
trusted proxy (KAZRU_TRUSTED_PROXIES=127.0.0.1): ids are never reused, failed sign-ins are
audited from the real address, forged X-Forwarded-For values change nothing, audio is never
a page of ours, the stream cap holds when raced, control characters are refused, and a
password can be changed (other sessions end)."""

from __future__ import annotations

import concurrent.futures
import subprocess
import sys
import threading

import httpx
import pytest

from tests.conftest import tone_wav
from tests.service_harness import Backend, Service

PROXY_SEES = "203.0.113.7"  # what our proxy (the test, on 127.0.0.1) says the client is


@pytest.fixture(scope="module")
def svc(tmp_path_factory, model_cache, engine):
    service = Service(
        tmp_path_factory.mktemp("svc-hostile"),
        model_cache,
        Backend.embedded(),
        trusted_proxies="127.0.0.1/32",
        sse_max_per_user="10",
        rate_limit_login="10/minute",
        rate_limit_per_key="100000/minute",
        rate_limit_per_address="100000/minute",
    )
    service.start(embedded_workers=0)
    yield service
    service.stop()


def _audit(svc: Service, **params) -> list[dict]:
    with svc.client() as c:
        r = c.get("/api/v1/admin/audit", params={"limit": 500, **params})
        assert r.status_code == 200, r.text
        return r.json()["items"]


def test_an_account_after_an_erasure_gets_a_new_id_and_secret(svc):
    first = svc.add_user("first@example.com")
    with svc.client(first) as c:
        me = c.get("/api/v1/me").json()
        c.post("/api/v1/keys", json={"name": "laptop"})
        assert c.delete("/api/v1/me/data").status_code == 204
    assert _audit(svc, actor_id=me["id"])  # the erased account's entries stay
    second = svc.add_user("second@example.com")
    with svc.client(second) as c:
        me2 = c.get("/api/v1/me").json()
    assert me2["id"] > me["id"]
    assert me2["webhook_secret"] != me["webhook_secret"]
    # Only the new account's own entries (its creation and its key) go by its id.
    mine = sorted(e["action"] for e in _audit(svc, actor_id=me2["id"]))
    assert mine == ["key.create", "user.create"], mine


def test_failed_sign_ins_are_audited_from_the_address_the_proxy_saw(svc):
    svc.add_user("victim@example.com", password="the right password")
    codes = []
    with httpx.Client(base_url=svc.url, timeout=30) as c:
        for i in range(12):
            # The client writes the leftmost value; our proxy appends what it saw.
            forged = f"10.9.8.{i}, {PROXY_SEES}"
            r = c.post(
                "/api/v1/auth/login",
                json={"email": "victim@example.com", "password": f"guess {i}"},
                headers={"X-Forwarded-For": forged},
            )
            codes.append(r.status_code)
    # A rotating forged value does not get round the per-address limit of 10 a minute.
    assert codes[:10] == [401] * 10 and codes[10:] == [429, 429], codes
    failed = [e for e in _audit(svc, action="login.failed")]
    assert len(failed) >= 10
    assert {e["address"] for e in failed} == {PROXY_SEES}


def test_audio_with_a_page_inside_is_never_served_as_a_page(svc):
    body = tone_wav() + b"<html><form action='https://evil.example/'><input></form></html>"
    with svc.client() as c:
        r = c.post(
            "/api/v1/transcriptions",
            files={"file": ("notes.html", body, "text/html")},
        )
        assert r.status_code == 202, r.text
        audio = c.get(f"/api/v1/transcriptions/{r.json()['id']}/audio")
        assert audio.status_code == 200
        assert audio.headers["content-type"] == "application/octet-stream"
        assert audio.headers["content-disposition"] == "attachment"
        csp = audio.headers["content-security-policy"]
        assert "form-action 'none'" in csp and "sandbox" in csp
        # A real audio type stays playable inline.
        r = c.post("/api/v1/transcriptions", files={"file": ("a.wav", tone_wav(), "audio/wav")})
        audio = c.get(f"/api/v1/transcriptions/{r.json()['id']}/audio")
        assert audio.headers["content-type"] == "audio/wav"
        assert "content-disposition" not in audio.headers


def test_45_event_streams_at_once_get_at_most_the_cap(svc):
    key = svc.add_user("streams@example.com")
    with svc.client(key) as c:
        r = c.post("/api/v1/transcriptions", files={"file": ("a.wav", tone_wav())})
        job_id = r.json()["id"]
    start = threading.Barrier(45)
    opened = threading.Event()

    def open_stream(_):
        with httpx.Client(base_url=svc.url, timeout=30) as c:
            start.wait()
            url = f"/api/v1/transcriptions/{job_id}/events"
            with c.stream("GET", url, headers={"Authorization": f"Bearer {key}"}) as r:
                if r.status_code == 200:
                    opened.wait(10)  # hold it open until every stream has tried
                return r.status_code

    with concurrent.futures.ThreadPoolExecutor(45) as pool:
        futures = [pool.submit(open_stream, i) for i in range(45)]
        done, _ = concurrent.futures.wait(futures, timeout=5)
        opened.set()
        codes = [f.result() for f in futures]
    assert codes.count(200) == 10 and codes.count(429) == 35, codes
    # Every slot came back when the streams closed.
    with httpx.Client(base_url=svc.url, timeout=30) as c:
        url = f"/api/v1/transcriptions/{job_id}/events"
        with c.stream("GET", url, headers={"Authorization": f"Bearer {key}"}) as r:
            assert r.status_code == 200


def test_control_and_bidirectional_characters_are_refused_or_cleaned(svc):
    with svc.client() as c:
        r = c.post("/api/v1/keys", json={"name": "laptop\u0000"})
        assert r.status_code == 422 and r.json()["error"]["code"] == "validation_error"
        r = c.post("/api/v1/keys", json={"name": "gpj\u202eexe"})
        assert r.status_code == 422
        r = c.post(
            "/api/v1/transcriptions",
            files={"file": ("report\u202egpj.wav", tone_wav())},
            data={"language": "kk\u0007"},
        )
        assert r.status_code == 422
        # A file's own name is cleaned, not refused.
        r = c.post("/api/v1/transcriptions", files={"file": ("report\u202egpj.wav", tone_wav())})
        assert r.status_code == 202 and r.json()["filename"] == "reportgpj.wav"


def _session(svc: Service, password: str) -> httpx.Client:
    c = httpx.Client(base_url=svc.url, timeout=30, headers={"Origin": svc.url})
    r = c.post("/api/v1/auth/login", json={"email": "pw@example.com", "password": password})
    assert r.status_code == 200, r.text
    c.headers["X-CSRF-Token"] = c.get("/api/v1/me").json()["csrf_token"]
    return c


def test_a_password_can_be_changed_and_other_sessions_end(svc):
    svc.add_user("pw@example.com", password="first password")
    here, elsewhere = _session(svc, "first password"), _session(svc, "first password")
    try:
        r = here.put(
            "/api/v1/me/password",
            json={"current_password": "wrong", "new_password": "second password"},
        )
        assert r.status_code == 403 and r.json()["error"]["code"] == "wrong_password"
        r = here.put(
            "/api/v1/me/password",
            json={"current_password": "first password", "new_password": "short"},
        )
        assert r.status_code == 422 and r.json()["error"]["code"] == "weak_password"
        r = here.put(
            "/api/v1/me/password",
            json={"current_password": "first password", "new_password": "second password"},
        )
        assert r.status_code == 204, r.text
        assert here.get("/api/v1/me").status_code == 200
        assert elsewhere.get("/api/v1/me").status_code == 401
        actions = [e["action"] for e in _audit(svc)]
        assert "password.change" in actions and "password.change_failed" in actions
        # An administrator sets it from the command line: every session ends.
        done = subprocess.run(
            [sys.executable, "-m", "kazru_stt.cli.main", "user", "set-password"]
            + ["pw@example.com", "--password-stdin"],
            input="third password\n",
            env=svc.env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert done.returncode == 0, done.stderr
        assert here.get("/api/v1/me").status_code == 401
        assert _session(svc, "third password").get("/api/v1/me").status_code == 200
    finally:
        here.close()
        elsewhere.close()
