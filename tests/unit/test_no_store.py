"""Signed-in pages and API answers say `Cache-Control: no-store` (Back after signing out on a
shared computer must not show a transcript); the files that are the same for everyone stay
cacheable."""

from __future__ import annotations

from tests.api_app import ApiApp


def test_answers_are_not_kept_but_shared_files_are(tmp_path):
    api = ApiApp(tmp_path)
    key = api.user("a@b.kz", password="long enough pass")
    with api.client(key) as c:
        for path in ("/api/v1/me", "/api/v1/transcriptions", "/api/v1/vocabulary", "/v1/models"):
            assert c.get(path).headers["cache-control"] == "no-store", path
        assert c.get("/api/v1/transcriptions/nope").headers["cache-control"] == "no-store"
        assert c.get("/static/app.css").status_code == 200
        assert "no-store" not in c.get("/static/app.css").headers.get("cache-control", "")
        assert c.get("/docs/assets/swagger-ui.css").headers.get("cache-control") != "no-store"
    with api.client() as browser:
        signed_in = browser.post(
            "/login",
            data={"email": "a@b.kz", "password": "long enough pass", "next": "/app"},
            headers={"Origin": "http://testserver"},
        )
        assert signed_in.status_code == 200  # followed to /app
        assert signed_in.url.path == "/app"
        assert signed_in.headers["cache-control"] == "no-store"
        assert browser.get("/app/account").headers["cache-control"] == "no-store"
