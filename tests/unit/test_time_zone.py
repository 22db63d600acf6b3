"""Each account's time zone: the browser's at the first sign-in, changed on the account page
or by the API, used by documents, the list and the search's dates. In-process on SQLite."""

from __future__ import annotations

import io

import docx

from tests.api_app import ApiApp
from tests.search_checks import completed


def _sign_in(c, email: str, zone: str) -> None:
    form = {"email": email, "password": "correct horse", "timezone": zone}
    r = c.post("/login", data=form, headers={"Origin": "http://testserver"})
    assert r.status_code == 303, r.text


def test_the_browsers_zone_then_the_persons_choice(tmp_path):
    api = ApiApp(tmp_path)  # KAZRU_TIMEZONE's default: Asia/Almaty
    key = api.user("clerk@example.kz", password="correct horse")
    with api.client(key) as c:
        me = c.get("/api/v1/me").json()
        assert me["timezone"] is None and me["timezone_in_use"] == "Asia/Almaty"
    with api.client(base_url="http://testserver", follow_redirects=False) as browser:
        _sign_in(browser, "clerk@example.kz", "Asia/Oral")
    with api.client(key) as c:
        assert c.get("/api/v1/me").json()["timezone_in_use"] == "Asia/Oral"
        # A choice made stays: the next sign-in's browser does not override it.
        r = c.patch("/api/v1/me", json={"timezone": "Europe/Moscow"})
        assert r.status_code == 200 and r.json()["timezone"] == "Europe/Moscow"
    with api.client(base_url="http://testserver", follow_redirects=False) as browser:
        _sign_in(browser, "clerk@example.kz", "Asia/Almaty")
        _sign_in(browser, "clerk@example.kz", "Not/AZone")  # ignored, not refused
    job = completed(api, key, [("ru", "Заседание открыто.")])
    with api.client(key) as c:
        assert c.get("/api/v1/me").json()["timezone"] == "Europe/Moscow"
        r = c.get(f"/api/v1/transcriptions/{job}/export", params={"format": "docx"})
        text = "\n".join(
            cell.text
            for table in docx.Document(io.BytesIO(r.content)).tables
            for row in table.rows
            for cell in row.cells
        )
        assert "Europe/Moscow, UTC+03:00" in text
        bad = c.patch("/api/v1/me", json={"timezone": "Mars/Olympus"})
        assert bad.status_code == 422
        assert c.patch("/api/v1/me", json={"timezone": None}).json()["timezone_in_use"] == (
            "Asia/Almaty"
        )
