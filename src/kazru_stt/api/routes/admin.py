"""/api/v1/admin: accounts and the audit trail, for admins (anyone else gets 404)."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path as FsPath
from typing import Annotated

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import FileResponse
from pydantic import Field
from starlette.background import BackgroundTask

from kazru_stt.api.deps import AddressDep, AdminDep, ContextDep
from kazru_stt.api.schemas import InputModel
from kazru_stt.db.models import Role, RoleName
from kazru_stt.services import accounts, accuracy, audit, eval_export, stats, workers

router = APIRouter(prefix="/api/v1/admin", tags=["admin"])
UserId = Annotated[int, Path(ge=1, le=2**31 - 1)]


class UserCreate(InputModel):
    email: str = Field(max_length=320)
    password: str | None = Field(None, max_length=1024)
    role: RoleName = "user"


class UserChange(InputModel):
    role: RoleName | None = None
    is_active: bool | None = None
    quota_active_jobs: int | None = Field(None, ge=0, le=10_000)
    quota_monthly_minutes: float | None = Field(None, ge=0, le=10_000_000)


@router.get("/audit", summary="The audit trail, newest first")
def audit_log(
    _admin: AdminDep,
    ctx: ContextDep,
    action: Annotated[str | None, Query(max_length=64)] = None,
    actor_id: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0, le=1_000_000_000)] = 0,
) -> dict:
    items, total = audit.list_entries(
        ctx, action=action, actor_id=actor_id, limit=limit, offset=offset
    )
    return {"items": items, "total": total, "limit": limit, "offset": offset}


@router.get("/workers", summary="Workers: live or not, their models, the jobs they run")
def list_workers(_admin: AdminDep, ctx: ContextDep) -> dict:
    return {
        "workers": workers.listing(ctx),
        "queue": {
            "depth": stats.jobs_by_status(ctx).get("queued", 0),
            "oldest_age_s": stats.oldest_queued_age_s(ctx),
        },
    }


@router.get("/users", summary="All accounts")
def list_users(
    _admin: AdminDep,
    ctx: ContextDep,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0, le=1_000_000_000)] = 0,
) -> dict:
    items, total = accounts.list_users(ctx, limit, offset)
    return {"items": items, "total": total, "limit": limit, "offset": offset}


@router.post("/users", status_code=201, summary="Create an account")
def create_user(body: UserCreate, admin: AdminDep, ctx: ContextDep, address: AddressDep) -> dict:
    return accounts.create_user(
        ctx,
        body.email,
        body.password,
        admin=body.role == Role.ADMIN,
        actor_id=admin.user_id,
        address=address,
    )


@router.patch("/users/{user_id}", summary="Change an account's role, active flag or quotas")
def change_user(
    user_id: UserId,
    body: UserChange,
    admin: AdminDep,
    ctx: ContextDep,
    request: Request,
    address: AddressDep,
) -> dict:
    changes = body.model_dump(exclude_unset=True)
    result = accounts.update_user(ctx, user_id, changes, actor=admin, address=address)
    request.app.state.key_cache.clear()  # a disabled account stops now
    return result


@router.get("/accuracy", summary="Accuracy of engines and models on all reviewed transcripts")
def all_accuracy(_admin: AdminDep, ctx: ContextDep) -> dict:
    return accuracy.summary(ctx, None)


@router.get(
    "/evaluation-set",
    summary="Reviewed transcripts whose owners consented, as a zip: WAV per segment and "
    "manifest.jsonl (the format of the project's eval set)",
    response_class=FileResponse,
)
def evaluation_set(admin: AdminDep, ctx: ContextDep) -> FileResponse:
    work = FsPath(tempfile.mkdtemp(prefix="kazru-eval-"))
    try:
        eval_export.export_set(ctx, admin, work / "set")
        archive = shutil.make_archive(str(work / "evaluation-set"), "zip", work / "set")
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    return FileResponse(
        archive,
        media_type="application/zip",
        filename="kazru-evaluation-set.zip",
        background=BackgroundTask(shutil.rmtree, work, ignore_errors=True),
    )
