"""Who may do what: every route of the OpenAPI document as no user and as a second user;
keys, revocation, sessions with CSRF, quotas, jobs from before accounts. In-process
(TestClient) on a real SQLite database; no worker, so uploads stay queued."""

from __future__ import annotations

import re

import pytest

from kazru_stt.db.models import Job
from kazru_stt.db.session import session_scope
from kazru_stt.domain.job_status import JobStatus
from kazru_stt.services import audit
from tests.api_app import ApiApp

OPEN = {
    ("GET", "/healthz"),
    ("GET", "/readyz"),
    ("POST", "/api/v1/auth/login"),
    ("POST", "/api/v1/auth/register"),
}


@pytest.fixture()
def api(tmp_path):
    return ApiApp(tmp_path)


def _upload(client, path, **data):
    with path.open("rb") as fh:
        return client.post("/api/v1/transcriptions", files={"file": (path.name, fh)}, data=data)


def _routes(api):
    with api.client() as c:
        spec = c.get("/openapi.json").json()
    for path, methods in spec["paths"].items():
        for method in methods:
            yield method.upper(), path


def _fill(path: str, job_id: str) -> str:
    values = {
        "job_id": job_id,
        "index": "0",
        "label": "SPEAKER_1",
        "key_id": "1",
        "user_id": "1",
        "voice_id": "1",
        "link_id": "1",
        "workspace_id": "1",
        "name": "languages",
        "number": "1",
    }
    return re.sub(r"{(\w+)}", lambda m: values[m.group(1)], path)


def test_every_route_refuses_strangers_and_other_users(api, eval_dir):
    owner = api.user("owner@example.com", admin=True)
    other = api.user("other@example.com")
    clip = eval_dir / "ru" / "tinkoff_sample_4.wav"
    with api.client(owner) as c:
        job = _upload(c, clip).json()
        assert job["status"] == "queued"
    routes = sorted(_routes(api))
    assert len(routes) >= 15
    bodies = {"PATCH": {"json": {"text": "x", "name": "x"}}, "POST": {"json": {}}}
    with (
        api.client() as anonymous,
        api.client(other) as second,
        api.client("kz_00000000_forged") as forged,
    ):
        for method, path in routes:
            url = _fill(path, job["id"])
            extra = bodies.get(method, {})
            if (method, path) not in OPEN:
                for client in (anonymous, forged):
                    r = client.request(method, url, **extra)
                    assert r.status_code == 401, (method, path, r.status_code, r.text)
                    assert r.json()["error"]["code"] == "unauthorized"
                    assert r.headers["www-authenticate"].startswith("Bearer")
            if (method, path) == ("DELETE", "/api/v1/me/data"):
                continue  # would erase the second user (its own test is in test_retention)
            r = second.request(method, url, **extra)
            if "{job_id}" in path or path.startswith("/api/v1/admin"):
                assert r.status_code == 404, (method, path, r.status_code, r.text)
                # Word for word what an id that never existed gets: nothing is confirmed.
                ghost = second.request(method, _fill(path, "f" * 32), **extra)
                assert r.text.replace(job["id"], "f" * 32) == ghost.text
        listing = second.get("/api/v1/transcriptions").json()
        assert listing == {"items": [], "total": 0, "limit": 20, "offset": 0}
    with api.client(owner) as c:  # the 404s above changed nothing
        assert c.get(f"/api/v1/transcriptions/{job['id']}").json()["status"] == "queued"
        assert c.get("/api/v1/transcriptions").json()["total"] == 1


def test_admin_sees_all_users_see_their_own_and_ownerless_jobs_stay_hidden(api, eval_dir):
    admin = api.user("admin@example.com", admin=True)
    alice = api.user("alice@example.com")
    bob = api.user("bob@example.com")
    clip = eval_dir / "ru" / "tinkoff_sample_4.wav"
    with api.client(alice) as a, api.client(bob) as b:
        ja, jb = _upload(a, clip).json(), _upload(b, clip).json()
        assert [j["id"] for j in a.get("/api/v1/transcriptions").json()["items"]] == [ja["id"]]
        assert b.get(f"/api/v1/transcriptions/{ja['id']}").status_code == 404
    with session_scope(api.ctx.db_url) as db:  # a job from before accounts existed
        row = db.get(Job, ja["id"])
        db.add(
            Job(
                id="0" * 32,
                owner_id=None,
                status=JobStatus.QUEUED,
                options={},
                filename="old.wav",
                created_at=row.created_at,
            )
        )
    with api.client(alice) as a:
        assert a.get("/api/v1/transcriptions").json()["total"] == 1
        assert a.get(f"/api/v1/transcriptions/{'0' * 32}").status_code == 404
    with api.client(admin) as c:
        page = c.get("/api/v1/transcriptions", params={"limit": 100}).json()
        assert page["total"] == 3
        assert {ja["id"], jb["id"], "0" * 32} == {j["id"] for j in page["items"]}


def test_keys_are_shown_once_hashed_and_revocable(api):
    key = api.user("k@example.com")
    with api.client(key) as c:
        made = c.post("/api/v1/keys", json={"name": "laptop"})
        assert made.status_code == 201
        new = made.json()["key"]
        assert new.startswith(made.json()["prefix"] + "_")
        listed = c.get("/api/v1/keys").json()["items"]
        assert all("key" not in k for k in listed) and len(listed) == 2
    with session_scope(api.ctx.db_url) as db:  # only a hash is stored
        from kazru_stt.db.models import ApiKey

        assert all(new not in row.key_hash for row in db.query(ApiKey))
    with api.client(new) as c:
        assert c.get("/api/v1/me").json()["email"] == "k@example.com"
        assert c.get("/api/v1/keys").json()["items"][1]["last_used_at"] is not None
        key_id = made.json()["id"]
        assert c.delete(f"/api/v1/keys/{key_id}").status_code == 204
        r = c.get("/api/v1/me")
        assert r.status_code == 401 and r.json()["error"]["code"] == "unauthorized"
    with api.client(key) as c:  # the other key still works; revocation is audited
        assert c.get("/api/v1/me").status_code == 200
        assert c.delete("/api/v1/keys/999").status_code == 404


def test_first_account_is_admin_and_admin_routes_are_admin_only(api):
    first = api.user("first@example.com")
    second = api.user("second@example.com")
    with api.client(first) as c:
        assert c.get("/api/v1/me").json()["role"] == "admin"
        users = c.get("/api/v1/admin/users").json()
        assert users["total"] == 2
        audit = c.get("/api/v1/admin/audit").json()["items"]
        assert {"user.create", "key.create"} <= {e["action"] for e in audit}
        # The last active admin cannot be demoted.
        r = c.patch("/api/v1/admin/users/1", json={"role": "user"})
        assert r.status_code == 409 and r.json()["error"]["code"] == "last_admin"
    with api.client(second) as c:
        assert c.get("/api/v1/me").json()["role"] == "user"
        assert c.get("/api/v1/admin/users").status_code == 404


def test_browser_session_cookie_needs_csrf_token_and_same_origin(api, eval_dir):
    api.user("web@example.com", password="correct horse")
    with api.client(base_url="http://testserver") as c:
        bad = c.post("/api/v1/auth/login", json={"email": "web@example.com", "password": "x"})
        assert bad.status_code == 401 and bad.json()["error"]["code"] == "bad_credentials"
        r = c.post(
            "/api/v1/auth/login", json={"email": "web@example.com", "password": "correct horse"}
        )
        assert r.status_code == 200, r.text
        cookie = r.headers["set-cookie"]
        assert "HttpOnly" in cookie and "SameSite=strict" in cookie
        csrf = r.json()["csrf_token"]
        assert c.get("/api/v1/me").json()["auth"] == "session"
        # State-changing requests: no token, wrong origin, or neither -> 403.
        assert c.post("/api/v1/keys", json={}).status_code == 403
        assert (
            c.post(
                "/api/v1/keys",
                json={},
                headers={"X-CSRF-Token": csrf, "Origin": "http://evil.example"},
            ).status_code
            == 403
        )
        ok = c.post(
            "/api/v1/keys", json={}, headers={"X-CSRF-Token": csrf, "Origin": "http://testserver"}
        )
        assert ok.status_code == 201
        out = c.post(
            "/api/v1/auth/logout", headers={"X-CSRF-Token": csrf, "Origin": "http://testserver"}
        )
        assert out.status_code == 204
        assert c.get("/api/v1/me").status_code == 401


def _sign_in(client, email: str, password: str) -> dict:
    r = client.post("/api/v1/auth/login", json={"email": email, "password": password})
    assert r.status_code == 200, r.text
    return r.json()


def test_registration_is_off_unless_enabled(tmp_path):
    closed = ApiApp(tmp_path / "closed")
    with closed.client() as c:
        r = c.post("/api/v1/auth/register", json={"email": "a@b.kz", "password": "12345678"})
        assert r.status_code == 403 and r.json()["error"]["code"] == "registration_closed"
    open_ = ApiApp(tmp_path / "open", registration=True)
    with open_.client() as c:
        r = c.post("/api/v1/auth/register", json={"email": "a@b.kz", "password": "12345678"})
        assert r.status_code == 202 and "kazru_session" not in r.cookies  # sign in afterwards
        first = _sign_in(c, "a@b.kz", "12345678")
        assert first["user"]["role"] == "admin"  # the first one
        r = c.post("/api/v1/auth/register", json={"email": "c@d.kz", "password": "12345678"})
        assert r.status_code == 202
        assert _sign_in(c, "c@d.kz", "12345678")["user"]["role"] == "user"


def test_registration_does_not_tell_which_addresses_have_accounts(tmp_path):
    api = ApiApp(tmp_path, registration=True)
    with api.client() as c:
        c.post("/api/v1/auth/register", json={"email": "taken@b.kz", "password": "owner-pass-1"})
        new = c.post("/api/v1/auth/register", json={"email": "new@b.kz", "password": "12345678"})
        taken = c.post(
            "/api/v1/auth/register", json={"email": "Taken@B.kz", "password": "attacker-1"}
        )
        assert (new.status_code, new.json()) == (taken.status_code, taken.json())
        assert taken.cookies == new.cookies
        # The owner's password still works and the attacker's does not.
        assert _sign_in(c, "taken@b.kz", "owner-pass-1")["user"]["email"] == "taken@b.kz"
        bad = c.post("/api/v1/auth/login", json={"email": "taken@b.kz", "password": "attacker-1"})
        assert bad.status_code == 401
        # The page answers alike too, and signs nobody in.
        pages = []
        for email in ("other@b.kz", "taken@b.kz"):
            c.cookies.clear()
            c.get("/register")
            page = c.post(
                "/register",
                data={"email": email, "password": "12345678"},
                headers={"Origin": "http://testserver"},
                follow_redirects=False,
            )
            assert page.status_code == 200 and "kazru_session" not in page.cookies
            pages.append(page.text.replace(email, "EMAIL"))
        assert pages[0] == pages[1]
    entries, _total = audit.list_entries(api.ctx, action="user.register_taken")
    assert len(entries) == 2 and all(e["target"] == entries[0]["target"] for e in entries)


def test_quotas_answer_429_with_retry_after(api, eval_dir):
    admin = api.user("admin@example.com", admin=True)
    user = api.user("user@example.com")
    clip = eval_dir / "ru" / "tinkoff_sample_4.wav"  # 3.5 s
    with api.client(admin) as c:
        assert c.patch("/api/v1/admin/users/2", json={"quota_active_jobs": 1}).status_code == 200
    with api.client(user) as c:
        assert _upload(c, clip).status_code == 202
        r = _upload(c, clip)
        assert r.status_code == 429 and r.json()["error"]["code"] == "quota_exceeded"
        assert int(r.headers["retry-after"]) > 0
        assert c.get("/api/v1/me").json()["usage"]["active_jobs"] == 1
    with api.client(admin) as c:
        c.patch(
            "/api/v1/admin/users/2", json={"quota_active_jobs": 10, "quota_monthly_minutes": 0.1}
        )
    with api.client(user) as c:
        r = _upload(c, clip)  # 3.5 s used + 3.5 s > 6 s
        assert r.status_code == 429 and r.json()["error"]["details"]["quota"] == "monthly_minutes"
        assert int(r.headers["retry-after"]) > 0


def test_single_user_mode_is_a_visible_setting(tmp_path):
    api = ApiApp(tmp_path, single_user=True)
    with api.client(base_url="http://127.0.0.1") as c:
        me = c.get("/api/v1/me").json()
        assert me["auth"] == "single_user" and me["role"] == "admin"
    with api.client(base_url="http://attacker.example") as c:  # DNS rebinding
        assert c.get("/api/v1/me").status_code == 400
    normal = ApiApp(tmp_path / "normal")
    with normal.client() as c:
        assert c.get("/api/v1/me").status_code == 401


def test_metrics_need_an_admin_unless_public(api):
    admin = api.user("admin@example.com", admin=True)
    user = api.user("user@example.com")
    with api.client() as c:
        assert c.get("/metrics").status_code == 401
        assert c.get("/healthz").status_code == 200
    with api.client(user) as c:
        assert c.get("/metrics").status_code == 404
    with api.client(admin) as c:
        r = c.get("/metrics")
        assert r.status_code == 200 and "kazru_jobs" in r.text


def test_docs_are_served_from_the_package_with_security_headers(api):
    with api.client() as c:
        page = c.get("/docs")
        assert page.status_code == 200
        assert "/docs/assets/swagger-ui-bundle.js" in page.text and "cdn" not in page.text
        asset = c.get("/docs/assets/swagger-ui-bundle.js")
        assert asset.status_code == 200 and len(asset.content) > 100_000
        assert c.get("/openapi.json").json()["openapi"].startswith("3.")
        api_answer = c.get("/api/v1/me")
        for r in (page, api_answer):
            assert r.headers["x-content-type-options"] == "nosniff"
            assert r.headers["x-frame-options"] == "DENY"
            assert "frame-ancestors 'none'" in r.headers["content-security-policy"]
        assert "access-control-allow-origin" not in api_answer.headers  # CORS off
    private = ApiApp(api.settings.data_dir / "private", public_docs=False)
    with private.client() as c:
        assert c.get("/docs").status_code == 401 and c.get("/openapi.json").status_code == 401


def test_admin_change_with_nulls_is_no_500(api):
    # Found by schemathesis: a null active flag used to reach the database (500).
    admin = api.user("admin@example.com", admin=True)
    api.user("user@example.com")
    with api.client(admin) as c:
        r = c.patch(
            "/api/v1/admin/users/2",
            json={"role": None, "is_active": None, "quota_active_jobs": 0},
        )
        assert r.status_code == 200 and r.json()["is_active"] is True
        assert r.json()["quota_active_jobs"] == 0
        r = c.patch("/api/v1/admin/users/1", json={"is_active": False})
        assert r.status_code == 409  # the last active admin


def test_static_files_are_versioned_for_caching(api):
    from kazru_stt.web.pages import static_url

    url = static_url("js/common.js")
    assert re.search(r"\?v=[0-9a-f]{10}$", url)
    with api.client() as c:
        r = c.get(url)
        assert r.status_code == 200 and "immutable" in r.headers["cache-control"]
        page = c.get("/login")
        assert url in page.text and '<html lang="' in page.text
