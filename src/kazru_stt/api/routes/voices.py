"""/api/v1/voices: the voices I named (voice memory, off by default: biometric data)."""

from __future__ import annotations

from fastapi import APIRouter, Path
from fastapi.responses import Response

from kazru_stt.api.deps import CallerDep, ContextDep
from kazru_stt.api.schemas import InputModel
from kazru_stt.services import voices

router = APIRouter(prefix="/api/v1/voices", tags=["voices"])


class VoiceMemory(InputModel):
    enabled: bool


@router.get("", summary="My remembered voices (names only) and whether memory is on")
def list_voices(caller: CallerDep, ctx: ContextDep) -> dict:
    return voices.list_voices(ctx, caller.user_id)


@router.put("/memory", summary="Turn voice memory on or off (off deletes every voice kept)")
def set_memory(body: VoiceMemory, caller: CallerDep, ctx: ContextDep) -> dict:
    return voices.set_memory(ctx, caller.user_id, body.enabled)


@router.delete("/{voice_id}", status_code=204, summary="Forget one voice")
def delete_voice(
    caller: CallerDep, ctx: ContextDep, voice_id: int = Path(ge=1, le=2**31 - 1)
) -> Response:
    voices.delete_voice(ctx, caller.user_id, voice_id)
    return Response(status_code=204)
