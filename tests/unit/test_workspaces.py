"""Workspaces and roles: every route that touches a transcription or a workspace, as its
owner, each role, a member of another workspace, a stranger, an admin and a read-only
link's holder; each may do exactly what its role allows. In-process on SQLite."""

from __future__ import annotations

import io
import re
import zipfile

import pytest
from sqlalchemy import func, select

from kazru_stt.db.models import AuditEntry, Job, SegmentRow
from kazru_stt.db.session import session_scope
from kazru_stt.domain.workspace_roles import JobAction
from tests.api_app import ApiApp
from tests.conftest import tone_wav
from tests.search_checks import completed, found

READ, EDIT, MANAGE = JobAction.READ, JobAction.EDIT, JobAction.MANAGE
OWNER = "owner only"
T = "/api/v1/transcriptions/{job_id}"
# What each route needs; a route with {job_id} missing here fails the test (classify it).
JOB_ROUTES = {
    ("GET", T): READ,
    ("PATCH", T): EDIT,
    ("DELETE", T): MANAGE,
    ("GET", T + "/export"): READ,
    ("GET", T + "/audio"): READ,
    ("GET", T + "/events"): READ,
    ("POST", T + "/cancel"): MANAGE,
    ("POST", T + "/links"): MANAGE,
    ("GET", T + "/links"): MANAGE,
    ("DELETE", T + "/links/{link_id}"): MANAGE,
    ("PATCH", T + "/segments/{index}"): EDIT,
    ("POST", T + "/segments/{index}/split"): EDIT,
    ("POST", T + "/segments/{index}/merge"): EDIT,
    ("POST", T + "/replace"): EDIT,
    ("POST", T + "/diarize"): EDIT,
    ("POST", T + "/recognize"): EDIT,
    ("GET", T + "/versions"): READ,
    ("GET", T + "/versions/{number}"): READ,
    ("POST", T + "/undo"): EDIT,
    ("POST", T + "/redo"): EDIT,
    ("GET", T + "/history"): READ,
    ("PATCH", T + "/speakers/{label}"): EDIT,
    ("POST", T + "/review"): EDIT,
    ("DELETE", T + "/review"): EDIT,
    ("PUT", T + "/consent"): OWNER,
}
BODIES = {
    ("PATCH", T): {"tags": ["x"]},
    ("POST", T + "/links"): {"hours": 24},
    ("PATCH", T + "/segments/{index}"): {"text": "Исправлено."},
    ("POST", T + "/segments/{index}/split"): {"at": 3},
    ("PATCH", T + "/speakers/{label}"): {"name": "Судья"},
    ("PUT", T + "/consent"): {"evaluation": True},
    ("POST", T + "/replace"): {"find": "заседание", "replace": "Заседание суда"},
    ("POST", T + "/diarize"): {"num_speakers": 2},
    ("POST", T + "/recognize"): {"language": "ru"},
}
ROLE_ACTIONS = {
    "owner": {READ, EDIT, MANAGE, OWNER},
    "admin": {READ, EDIT, MANAGE},
    "manager": {READ, EDIT, MANAGE},
    "editor": {READ, EDIT},
    "viewer": {READ},
    "other_member": set(),
    "stranger": set(),
}
W = "/api/v1/workspaces/{workspace_id}"
MEMBER, MANAGER = "member", "manager"
WORKSPACE_ROUTES = {
    ("GET", W): MEMBER,
    ("PATCH", W): MANAGER,
    ("DELETE", W): MANAGER,
    ("GET", W + "/members"): MEMBER,
    ("POST", W + "/members"): MANAGER,
    ("PATCH", W + "/members/{user_id}"): MANAGER,
    ("DELETE", W + "/members/{user_id}"): MANAGER,
}
WORKSPACE_BODIES = {
    ("PATCH", W): {"name": "Дело 12/2026"},
    ("POST", W + "/members"): {"email": "spare@example.kz", "role": "editor"},
    ("PATCH", W + "/members/{user_id}"): {"role": "editor"},
}


class Office:
    """An admin, a workspace with a manager, an editor (who uploads) and a viewer, another
    workspace with its own member, and a stranger."""

    def __init__(self, api: ApiApp):
        self.api = api
        self.keys = {"admin": api.user("admin@example.kz", admin=True)}
        for name in ("manager", "owner", "editor", "viewer", "other_member", "stranger", "spare"):
            self.keys[name] = api.user(f"{name}@example.kz")
        self.space = self.workspace(
            {"manager": "manager", "owner": "editor", "editor": "editor", "viewer": "viewer"}
        )
        self.other_space = self.workspace({"other_member": "manager"})

    def workspace(self, roles: dict[str, str]) -> int:
        """Made by the admin, who then leaves it: admins act by their own right."""
        with self.api.client(self.keys["admin"]) as c:
            space = c.post("/api/v1/workspaces", json={"name": "Суд"}).json()["id"]
            for name, role in roles.items():
                r = c.post(
                    f"/api/v1/workspaces/{space}/members",
                    json={"email": f"{name}@example.kz", "role": role},
                )
                assert r.status_code == 201, r.text
            me = c.get("/api/v1/me").json()["id"]
            assert c.delete(f"/api/v1/workspaces/{space}/members/{me}").status_code == 204
        return space

    def filed_job(self) -> str:
        """A completed transcription of the owner's, filed in the workspace."""
        job = completed(
            self.api,
            self.keys["owner"],
            [("ru", "Заседание открыто."), ("kk", "Сот отырысы ашық.")],
            ["SPEAKER_1", "SPEAKER_2"],
        )
        with self.api.client(self.keys["owner"]) as c:
            r = c.patch(f"/api/v1/transcriptions/{job}", json={"workspace_id": self.space})
            assert r.status_code == 200, r.text
        return job

    def version(self, job: str) -> int:
        """The job recognised again by its owner: its first transcript is version 1."""
        with self.api.client(self.keys["owner"]) as c:
            r = c.post(f"/api/v1/transcriptions/{job}/recognize", json={"language": "ru"})
            assert r.status_code == 202, r.text
        return 1

    def link(self, job: str) -> int:
        with self.api.client(self.keys["owner"]) as c:
            return c.post(f"/api/v1/transcriptions/{job}/links", json={}).json()["id"]


@pytest.fixture()
def office(tmp_path):
    # Recognised again, a job is queued again (no worker here): more than a user's five.
    return Office(ApiApp(tmp_path, quota_active_jobs=1000))


def _fill(path: str, **values) -> str:
    return re.sub(r"{(\w+)}", lambda m: str(values[m.group(1)]), path)


def test_every_transcription_route_as_every_role(office):
    api = office.api
    with api.client() as c:
        spec = c.get("/openapi.json").json()
    job_routes = {
        (method.upper(), path)
        for path, methods in spec["paths"].items()
        for method in methods
        if "{job_id}" in path
    }
    assert job_routes == set(JOB_ROUTES), "classify the new route in JOB_ROUTES"
    for (method, path), needs in sorted(JOB_ROUTES.items()):
        for actor, may in ROLE_ACTIONS.items():
            job = office.filed_job()  # afresh: an allowed DELETE or edit changes it
            values = {"job_id": job, "index": 0, "label": "SPEAKER_1", "link_id": 0}
            if "{link_id}" in path:
                values["link_id"] = office.link(job)
            if "{number}" in path:
                values["number"] = office.version(job)
            body = BODIES.get((method, path))
            with api.client(office.keys[actor]) as c:
                r = c.request(method, _fill(path, **values), json=body)
                where = (method, path, actor, r.status_code, r.text[:200])
                if needs in may:
                    assert r.status_code < 400 or r.status_code == 409, where
                elif may:  # it sees the job, but its role does not allow this
                    assert r.status_code == 403, where
                    code = "not_owner" if needs == OWNER else "role_too_low"
                    assert r.json()["error"]["code"] == code, where
                else:  # word for word what an id that never existed gets
                    assert r.status_code == 404, where
                    ghost = c.request(method, _fill(path, **{**values, "job_id": "f" * 32}))
                    assert r.text.replace(job, "f" * 32) == ghost.text, where
    # A read-only link's holder has no key: the API refuses it whatever it holds.
    job = office.filed_job()
    with api.client(office.keys["owner"]) as c:
        url = c.post(f"/api/v1/transcriptions/{job}/links", json={}).json()["url"]
    token = url.rsplit("/", 1)[1]
    with api.client(token) as c:
        assert c.get(f"/api/v1/transcriptions/{job}").status_code == 401
    with api.client() as c:
        assert c.get(f"/s/{token}").status_code == 200


def test_every_workspace_route_as_every_role(office):
    api = office.api
    with api.client() as c:
        spec = c.get("/openapi.json").json()
    routes = {
        (method.upper(), path)
        for path, methods in spec["paths"].items()
        for method in methods
        if "{workspace_id}" in path
    }
    assert routes == set(WORKSPACE_ROUTES), "classify the new route in WORKSPACE_ROUTES"
    roles = {"manager": "manager", "editor": "editor", "viewer": "viewer"}
    for (method, path), needs in sorted(WORKSPACE_ROUTES.items()):
        for actor in ("admin", "manager", "editor", "viewer", "other_member", "stranger"):
            space = office.workspace({**roles, "spare": "viewer"})
            with api.client(office.keys["spare"]) as c:
                spare_id = c.get("/api/v1/me").json()["id"]
            url = _fill(path, workspace_id=space, user_id=spare_id)
            body = WORKSPACE_BODIES.get((method, path))
            if (method, path) == ("POST", W + "/members"):
                body = {"email": "stranger@example.kz", "role": "viewer"}
            with api.client(office.keys[actor]) as c:
                r = c.request(method, url, json=body)
                where = (method, path, actor, r.status_code, r.text[:200])
                member = actor in roles
                allowed = actor == "admin" or (
                    member and (needs == MEMBER or roles[actor] == "manager")
                )
                if allowed:
                    assert r.status_code < 400, where
                elif member:
                    assert r.status_code == 403, where
                    assert r.json()["error"]["code"] == "role_too_low", where
                else:
                    assert r.status_code == 404, where
                    ghost_url = _fill(path, workspace_id=999999, user_id=spare_id)
                    ghost = c.request(method, ghost_url, json=body)
                    assert r.text.replace(str(space), "999999") == ghost.text, where


def test_list_move_leave_and_the_audit_trail(office):
    api, keys = office.api, office.keys
    job = office.filed_job()
    private = completed(api, keys["owner"], [("ru", "Личная заметка.")])
    with api.client(keys["viewer"]) as c:
        page = c.get("/api/v1/transcriptions").json()
        assert [j["id"] for j in page["items"]] == [job]
        assert page["items"][0]["workspace_id"] == office.space
        assert c.get(f"/api/v1/transcriptions/{private}").status_code == 404
        # A viewer cannot file anything into the workspace.
        r = c.post(
            "/api/v1/transcriptions",
            files={"file": ("a.wav", tone_wav())},
            data={"workspace_id": str(office.space)},
        )
        assert r.status_code == 403 and r.json()["error"]["code"] == "role_too_low"
    with api.client(keys["stranger"]) as c:
        r = c.post(
            "/api/v1/transcriptions",
            files={"file": ("a.wav", tone_wav())},
            data={"workspace_id": str(office.space)},
        )
        assert r.status_code == 404  # no such workspace, as far as a stranger knows
    with api.client(keys["owner"]) as c:
        r = c.post(
            "/api/v1/transcriptions",
            files={"file": ("b.wav", tone_wav())},
            data={"workspace_id": str(office.space)},
        )
        assert r.status_code == 202 and r.json()["workspace_id"] == office.space
        listed = c.get("/api/v1/transcriptions", params={"workspace_id": 0}).json()["items"]
        assert [j["id"] for j in listed] == [private]
    # An editor may tag but not move; a manager moves only where it may file.
    with api.client(keys["editor"]) as c:
        r = c.patch(f"/api/v1/transcriptions/{job}", json={"workspace_id": None})
        assert r.status_code == 403 and r.json()["error"]["code"] == "role_too_low"
    with api.client(keys["manager"]) as c:
        r = c.patch(f"/api/v1/transcriptions/{job}", json={"workspace_id": office.other_space})
        assert r.status_code == 404
    # The last manager stays; a member may leave.
    with api.client(keys["manager"]) as c:
        me = c.get("/api/v1/me").json()["id"]
        r = c.patch(f"/api/v1/workspaces/{office.space}/members/{me}", json={"role": "viewer"})
        assert r.status_code == 409 and r.json()["error"]["code"] == "last_manager"
        assert c.delete(f"/api/v1/workspaces/{office.space}/members/{me}").status_code == 409
    with api.client(keys["viewer"]) as c:
        me = c.get("/api/v1/me").json()["id"]
        assert c.delete(f"/api/v1/workspaces/{office.space}/members/{me}").status_code == 204
        assert c.get(f"/api/v1/transcriptions/{job}").status_code == 404
    # The owner takes it out of the workspace: its members see it no more.
    with api.client(keys["owner"]) as c:
        assert (
            c.patch(f"/api/v1/transcriptions/{job}", json={"workspace_id": None}).status_code == 200
        )
    with api.client(keys["editor"]) as c:
        assert c.get(f"/api/v1/transcriptions/{job}").status_code == 404
    with session_scope(api.ctx.db_url) as db:
        actions = {e.action for e in db.scalars(select(AuditEntry))}
        accesses = db.scalar(
            select(func.count())
            .select_from(AuditEntry)
            .where(AuditEntry.action == "transcription.access")
        )
    assert {
        "workspace.create",
        "workspace.member_add",
        "workspace.member_remove",
        "transcription.move",
        "transcription.access",
    } <= actions
    assert accesses >= 2  # the viewer's and the editor's reads, and the manager's try


def test_self_service_and_admin_only_settings(tmp_path):
    closed = ApiApp(tmp_path / "closed")
    closed.user("admin@example.kz", admin=True)
    user = closed.user("user@example.kz")
    with closed.client(user) as c:
        r = c.post("/api/v1/workspaces", json={"name": "Редакция"})
        assert r.status_code == 403 and r.json()["error"]["code"] == "workspaces_admin_only"
    open_ = ApiApp(tmp_path / "open", workspaces_self_service=True)
    open_.user("admin@example.kz", admin=True)
    user = open_.user("user@example.kz")
    with open_.client(user) as c:
        made = c.post("/api/v1/workspaces", json={"name": "Редакция"})
        assert made.status_code == 201 and made.json()["role"] == "manager"
        space = made.json()["id"]
        r = c.patch(f"/api/v1/workspaces/{space}", json={"quota_monthly_minutes": 1000})
        assert r.status_code == 403  # its manager renames it; only admins set its quota
        assert c.get("/api/v1/workspaces").json()["items"][0]["name"] == "Редакция"


def test_a_workspace_quota_counts_the_minutes_filed_there(office):
    api = office.api
    with api.client(office.keys["admin"]) as c:
        r = c.patch(f"/api/v1/workspaces/{office.space}", json={"quota_monthly_minutes": 0.05})
        assert r.status_code == 200 and r.json()["quota_monthly_minutes"] == 0.05
    with api.client(office.keys["owner"]) as c:
        upload = {"file": ("a.wav", tone_wav(2.0))}
        first = c.post("/api/v1/transcriptions", files=upload, data={"workspace_id": office.space})
        assert first.status_code == 202, first.text  # 2 s of 3
        upload = {"file": ("b.wav", tone_wav(2.0))}
        over = c.post("/api/v1/transcriptions", files=upload, data={"workspace_id": office.space})
        assert over.status_code == 429
        assert over.json()["error"]["details"]["quota"] == "workspace_monthly_minutes"
        # Outside the workspace only the account's own quota counts.
        assert c.post("/api/v1/transcriptions", files=upload).status_code == 202
        assert c.get(f"/api/v1/workspaces/{office.space}").json()["minutes_this_month"] > 0


def test_tags_filter_sort_and_bulk_export_and_delete(office):
    api = office.api
    owner = office.keys["owner"]
    jobs = [
        completed(api, owner, [("ru", f"Договор номер {n}.")], ["SPEAKER_1"]) for n in range(20)
    ]
    with api.client(owner) as c:
        for job in jobs[:5]:
            r = c.patch(f"/api/v1/transcriptions/{job}", json={"tags": ["Дело-7", "срочно"]})
            assert r.status_code == 200 and r.json()["tags"] == ["Дело-7", "срочно"]
        tagged = c.get("/api/v1/transcriptions", params={"tag": "ДЕЛО-7", "limit": 100}).json()
        assert {j["id"] for j in tagged["items"]} == set(jobs[:5])
        assert tagged["items"][0]["tags"] == ["Дело-7", "срочно"]
        oldest = c.get("/api/v1/transcriptions", params={"sort": "oldest"}).json()["items"]
        assert oldest[0]["id"] == jobs[0]
        too_long = c.patch(f"/api/v1/transcriptions/{jobs[0]}", json={"tags": ["x" * 65]})
        assert too_long.status_code == 422
        queued = c.post("/api/v1/transcriptions", files={"file": ("q.wav", tone_wav())}).json()
        r = c.post(
            "/api/v1/transcriptions/bulk/export",
            json={"ids": [*jobs, queued["id"]], "format": "docx"},
        )
        assert r.status_code == 200, r.text
        assert r.headers["kazru-exported"] == "20" and r.headers["kazru-skipped"] == "1"
        names = zipfile.ZipFile(io.BytesIO(r.content)).namelist()
        assert len(names) == 21 and "skipped.json" in names
        assert "t.docx" in names and "t (20).docx" in names  # same file names made unique
        # Someone who may not see one of them gets nothing at all.
        stranger_job = completed(api, office.keys["stranger"], [("ru", "Чужое.")])
        r = c.post("/api/v1/transcriptions/bulk/delete", json={"ids": [jobs[0], stranger_job]})
        assert r.status_code == 404
        assert c.get(f"/api/v1/transcriptions/{jobs[0]}").status_code == 200
        keys = []
        with session_scope(api.ctx.db_url) as db:
            keys = list(db.scalars(select(Job.storage_key).where(Job.id.in_(jobs))))
        r = c.post("/api/v1/transcriptions/bulk/delete", json={"ids": jobs})
        assert r.status_code == 200 and r.json() == {"deleted": 20}
        assert c.get("/api/v1/transcriptions", params={"tag": "дело-7"}).json()["total"] == 0
        r = c.post("/api/v1/transcriptions/bulk/delete", json={"ids": ["a"] * 0})
        assert r.status_code == 422
    assert found(api, owner, "договор") == []  # index entries gone
    with session_scope(api.ctx.db_url) as db:
        assert db.scalar(select(func.count()).where(SegmentRow.job_id.in_(jobs))) == 0
        assert db.scalar(select(func.count()).where(Job.id.in_(jobs))) == 0
    assert all(not api.ctx.storage.exists(key) for key in keys if key)
