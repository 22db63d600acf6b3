"""The first run: with no account, the web page creates the administrator, from the server
itself (loopback, not forwarded by a proxy) or with the setup link `kazru serve` prints;
once there is one, the page is gone."""

from __future__ import annotations

import pytest

from kazru_stt.domain.errors import NotFound
from kazru_stt.services import accounts, first_run
from tests.api_app import ApiApp

pytestmark = pytest.mark.unit

ORIGIN = {"Origin": "http://testserver"}
FORM = {"email": "boss@court.kz", "password": "a long password"}


def test_the_first_visit_creates_the_administrator_from_the_server_itself(tmp_path):
    api = ApiApp(tmp_path)
    with api.client(client=("127.0.0.1", 40000), follow_redirects=False) as here:
        assert here.get("/").headers["location"] == "/login"
        assert here.get("/login").headers["location"] == "/setup"
        page = here.get("/setup")
        assert page.status_code == 200 and 'name="password"' in page.text
        weak = here.post("/setup", data={**FORM, "password": "short"}, headers=ORIGIN)
        assert weak.status_code == 422 and first_run.needed(api.ctx)  # may be sent again
        done = here.post("/setup", data=FORM, headers=ORIGIN)
        assert done.status_code == 303 and done.headers["location"] == "/app"
        assert here.get("/app").status_code == 200  # signed in
        assert here.get("/setup").headers["location"] == "/login"  # gone for good
        again = here.post("/setup", data={**FORM, "email": "two@court.kz"}, headers=ORIGIN)
        assert again.headers["location"] == "/login"
    assert accounts.find_user(api.ctx, "boss@court.kz")["role"] == "admin"
    with pytest.raises(NotFound):
        accounts.find_user(api.ctx, "two@court.kz")


def test_from_elsewhere_only_with_the_setup_link(tmp_path):
    api = ApiApp(tmp_path)
    with api.client(client=("203.0.113.9", 40000), follow_redirects=False) as away:
        assert away.get("/setup").status_code == 403
        assert away.post("/setup", data=FORM, headers=ORIGIN).status_code == 403
        token = first_run.setup_token(api.ctx)
        assert away.get("/setup", params={"token": "nope"}).status_code == 403
        assert away.get("/setup", params={"token": token}).status_code == 200
        done = away.post("/setup", data={**FORM, "token": token}, headers=ORIGIN)
        assert done.status_code == 303
    # A proxy on the same machine forwards strangers: loopback alone is not enough then.
    fresh = ApiApp(tmp_path / "other")
    with fresh.client(client=("127.0.0.1", 40000), follow_redirects=False) as proxied:
        forwarded = {"X-Forwarded-For": "198.51.100.7"}
        assert proxied.get("/setup", headers=forwarded).status_code == 403
