"""/api/v1/workspaces: shared places for transcripts, their members and roles
(services/workspaces; what each role may do with a transcript: domain/workspace_roles)."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Path
from fastapi.responses import Response
from pydantic import Field

from kazru_stt.api.deps import AddressDep, CallerDep, ContextDep
from kazru_stt.api.schemas import InputModel
from kazru_stt.domain.workspace_roles import ROLES
from kazru_stt.services import workspaces

router = APIRouter(prefix="/api/v1/workspaces", tags=["workspaces"])
WorkspaceId = Annotated[int, Path(ge=1, description="the workspace's id")]
UserId = Annotated[int, Path(ge=1, description="the member's account id")]
RoleName = Literal[ROLES]  # type: ignore[valid-type]


class WorkspaceCreate(InputModel):
    name: str = Field(min_length=1, max_length=workspaces.MAX_NAME)


class WorkspaceChange(InputModel):
    name: str | None = Field(None, min_length=1, max_length=workspaces.MAX_NAME)
    quota_monthly_minutes: float | None = Field(
        None, ge=0, description="audio minutes a month for its recordings (admins); null: none"
    )


class MemberAdd(InputModel):
    email: str = Field(max_length=320)
    role: RoleName = "viewer"


class MemberChange(InputModel):
    role: RoleName


@router.get("", summary="My workspaces and my role in each (admins: all)")
def list_workspaces(caller: CallerDep, ctx: ContextDep) -> dict:
    return {"items": workspaces.list_mine(ctx, caller)}


@router.post("", status_code=201, summary="Create a workspace (I become its manager)")
def create_workspace(
    body: WorkspaceCreate, caller: CallerDep, ctx: ContextDep, address: AddressDep
) -> dict:
    return workspaces.create(ctx, caller, body.name, address)


@router.get("/{workspace_id}", summary="A workspace I am a member of")
def get_workspace(workspace_id: WorkspaceId, caller: CallerDep, ctx: ContextDep) -> dict:
    return workspaces.get(ctx, caller, workspace_id)


@router.patch("/{workspace_id}", summary="Rename it (managers); set its quota (admins)")
def change_workspace(
    workspace_id: WorkspaceId,
    body: WorkspaceChange,
    caller: CallerDep,
    ctx: ContextDep,
    address: AddressDep,
) -> dict:
    given = body.model_dump(exclude_unset=True)
    return workspaces.change(
        ctx,
        caller,
        workspace_id,
        name=given.get("name"),
        quota_monthly_minutes=given.get("quota_monthly_minutes"),
        set_quota="quota_monthly_minutes" in given,
        address=address,
    )


@router.delete(
    "/{workspace_id}",
    status_code=204,
    summary="Delete it (managers): its transcriptions stay with their owners",
)
def delete_workspace(
    workspace_id: WorkspaceId, caller: CallerDep, ctx: ContextDep, address: AddressDep
) -> Response:
    workspaces.delete(ctx, caller, workspace_id, address)
    return Response(status_code=204)


@router.get("/{workspace_id}/members", summary="Its members and their roles")
def list_members(workspace_id: WorkspaceId, caller: CallerDep, ctx: ContextDep) -> dict:
    return {"items": workspaces.members(ctx, caller, workspace_id)}


@router.post(
    "/{workspace_id}/members",
    status_code=201,
    summary="Add an account by e-mail with a role (managers)",
)
def add_member(
    workspace_id: WorkspaceId,
    body: MemberAdd,
    caller: CallerDep,
    ctx: ContextDep,
    address: AddressDep,
) -> dict:
    return workspaces.add_member(ctx, caller, workspace_id, body.email, body.role, address)


@router.patch("/{workspace_id}/members/{user_id}", summary="Change a member's role (managers)")
def change_member(
    workspace_id: WorkspaceId,
    user_id: UserId,
    body: MemberChange,
    caller: CallerDep,
    ctx: ContextDep,
    address: AddressDep,
) -> dict:
    return workspaces.change_member(ctx, caller, workspace_id, user_id, body.role, address)


@router.delete(
    "/{workspace_id}/members/{user_id}",
    status_code=204,
    summary="Remove a member (managers), or leave (myself)",
)
def remove_member(
    workspace_id: WorkspaceId,
    user_id: UserId,
    caller: CallerDep,
    ctx: ContextDep,
    address: AddressDep,
) -> Response:
    workspaces.remove_member(ctx, caller, workspace_id, user_id, address)
    return Response(status_code=204)
