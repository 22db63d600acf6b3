"""/api/v1/admin/settings: the settings an administrator changes while the service runs
(services/runtime_settings), for admins (anyone else gets 404)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query
from pydantic import Field
from starlette.concurrency import run_in_threadpool

from kazru_stt.api.deps import AddressDep, AdminDep, ContextDep
from kazru_stt.api.schemas import InputModel
from kazru_stt.services import runtime_settings
from kazru_stt.services.settings_in_effect import REFRESH_S

router = APIRouter(prefix="/api/v1/admin/settings", tags=["admin"])
SettingName = Annotated[str, Path(max_length=64, description="a setting's name, lower case")]


class SettingChange(InputModel):
    value: str | None = Field(
        max_length=1000,
        description="as the environment would spell it (`kk,ru`, `true`, `600/minute`); "
        "null: back to the environment's value or the default",
    )


def _listing(ctx) -> dict:
    states = runtime_settings.states(ctx.base_settings, ctx.db_url)
    return {"settings": [vars(s) for s in states], "refresh_s": REFRESH_S}


@router.get("", summary="The settings that can change at run time, their values and sources")
def list_settings(_admin: AdminDep, ctx: ContextDep) -> dict:
    return _listing(ctx)


@router.get("/history", summary="Every change of a run-time setting, newest first")
def settings_history(
    _admin: AdminDep,
    ctx: ContextDep,
    name: Annotated[str | None, Query(max_length=64)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> dict:
    return {"items": [vars(c) for c in runtime_settings.history(ctx.db_url, name, limit)]}


@router.put("/{name}", summary="Change a setting for every replica and worker, within seconds")
async def change_setting(
    name: SettingName, body: SettingChange, admin: AdminDep, ctx: ContextDep, address: AddressDep
) -> dict:
    state = await run_in_threadpool(
        runtime_settings.change,
        ctx.base_settings,
        ctx.db_url,
        name,
        body.value,
        actor_id=admin.user_id,
        address=address,
    )
    ctx.runtime.forget()  # this replica at once; the others within refresh_s
    return vars(state)
