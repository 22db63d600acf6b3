"""/api/v1/keys: my API keys. A key's full text is shown once, when it is created."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Request
from fastapi.responses import Response
from pydantic import Field

from kazru_stt.api.deps import AddressDep, CallerDep, ContextDep
from kazru_stt.api.schemas import InputModel
from kazru_stt.services import accounts

router = APIRouter(prefix="/api/v1/keys", tags=["account"])


class KeyCreate(InputModel):
    name: str = Field("", max_length=100)


@router.get("", summary="My API keys (prefixes only)")
def list_keys(caller: CallerDep, ctx: ContextDep) -> dict:
    return {"items": accounts.list_keys(ctx, caller.user_id)}


@router.post("", status_code=201, summary="Create an API key (its text is shown only now)")
def create_key(body: KeyCreate, caller: CallerDep, ctx: ContextDep, address: AddressDep) -> dict:
    return accounts.create_key(ctx, caller.user_id, body.name, address=address)


@router.delete("/{key_id}", status_code=204, summary="Revoke an API key")
def revoke_key(
    key_id: Annotated[int, Path(ge=1, le=2**31 - 1)],
    request: Request,
    caller: CallerDep,
    ctx: ContextDep,
    address: AddressDep,
) -> Response:
    accounts.revoke_key(ctx, caller, key_id, address)
    request.app.state.key_cache.clear()  # the keys stop working now
    return Response(status_code=204)
