"""/api/v1/me: who am I, my usage and limits, and erasing everything of mine."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response
from pydantic import Field

from kazru_stt.api.deps import SESSION_COOKIE, AddressDep, CallerDep, ContextDep
from kazru_stt.api.schemas import InputModel
from kazru_stt.services import accounts, accuracy, erasure, quotas
from kazru_stt.services.secrets import webhook_secret

router = APIRouter(prefix="/api/v1/me", tags=["account"])


@router.get("", summary="The signed-in account, its usage, quotas and retention")
def me(request: Request, caller: CallerDep, ctx: ContextDep) -> dict:
    s = ctx.settings
    uploading = request.app.state.upload_slots.in_progress(caller.user_id)
    return {
        **accounts.get_user(ctx, caller.user_id),
        "usage": quotas.usage(ctx, caller.user_id, uploading),
        "retention": {"audio_hours": s.retention_audio_hours, "transcript_days": s.retention_days},
        "webhook_secret": webhook_secret(ctx, caller.user_id),
        "timezone_in_use": accounts.zone_of(ctx, caller.user_id),
        "csrf_token": caller.csrf_token,  # for browser sessions: send as X-CSRF-Token
        "auth": "session" if caller.session_id else "key" if caller.key_id else "single_user",
    }


class AccountChange(InputModel):
    timezone: str | None = Field(
        None, max_length=64, description="an IANA zone (Asia/Almaty); null: the server's"
    )


@router.patch("", summary="Change my time zone (documents and pages show times there)")
def change_me(body: AccountChange, request: Request, caller: CallerDep, ctx: ContextDep) -> dict:
    if "timezone" in body.model_fields_set:
        accounts.set_timezone(ctx, caller.user_id, body.timezone)
    return me(request, caller, ctx)


@router.get("/accuracy", summary="Accuracy of engines and models on my reviewed transcripts")
def my_accuracy(caller: CallerDep, ctx: ContextDep) -> dict:
    return accuracy.summary(ctx, caller.user_id)


class PasswordChange(InputModel):
    current_password: str = Field(max_length=1024)
    new_password: str = Field(max_length=1024)


@router.put("/password", status_code=204, summary="Change my password (other sessions end)")
def change_password(
    body: PasswordChange, caller: CallerDep, ctx: ContextDep, address: AddressDep, request: Request
) -> Response:
    accounts.change_password(ctx, caller, body.current_password, body.new_password, address)
    request.app.state.key_cache.clear()  # nothing cached from before the change is used
    return Response(status_code=204)


@router.delete("/data", status_code=204, summary="Erase my account and everything in it")
def erase_my_data(caller: CallerDep, ctx: ContextDep, request: Request) -> Response:
    erasure.erase_user(ctx, caller)
    request.app.state.key_cache.clear()  # the keys stop working now
    response = Response(status_code=204)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response
