"""/api/v1/auth: browser sessions (for the web interface). The session lives in an HttpOnly,
SameSite=Strict cookie; state-changing requests must also send the session's CSRF token in
`X-CSRF-Token` and come from our own origin (checked in deps)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse, Response
from pydantic import Field

from kazru_stt.api.deps import (
    SESSION_COOKIE,
    AddressDep,
    CallerDep,
    ContextDep,
    check_same_origin,
    set_session_cookie,
)
from kazru_stt.api.schemas import InputModel
from kazru_stt.domain.error_codes import ErrorCode
from kazru_stt.domain.errors import KazruError
from kazru_stt.services import accounts

router = APIRouter(prefix="/api/v1/auth", tags=["account"])


class Credentials(InputModel):
    email: str = Field(max_length=320)
    password: str = Field(max_length=1024)


def _signed_in(request: Request, ctx, caller: accounts.Caller) -> JSONResponse:
    token, session, expires = accounts.create_session(ctx, caller)
    response = JSONResponse(
        jsonable_encoder(
            {
                "user": accounts.get_user(ctx, caller.user_id),
                "csrf_token": session.csrf_token,
                "expires_at": expires,
            }
        )
    )
    set_session_cookie(response, request, token)
    return response


def _browser_origin_ok(request: Request) -> None:
    if request.headers.get("origin") or request.headers.get("referer"):
        check_same_origin(request)  # scripts without a browser send neither


@router.post("/login", summary="Sign in with email and password (sets the session cookie)")
def login(body: Credentials, request: Request, ctx: ContextDep, address: AddressDep) -> Response:
    _browser_origin_ok(request)
    caller = accounts.authenticate_password(ctx, body.email, body.password, address)
    return _signed_in(request, ctx, caller)


@router.post(
    "/register",
    status_code=202,
    summary="Ask for an account, where self-registration is open (then sign in)",
)
def register(body: Credentials, request: Request, ctx: ContextDep, address: AddressDep) -> Response:
    """The same answer whether or not the address has an account already, so registration
    cannot be used to find out which addresses do; sign in afterwards with the password chosen."""
    _browser_origin_ok(request)
    if not ctx.settings.registration:
        raise KazruError(
            "self-registration is closed here; ask an admin", code=ErrorCode.REGISTRATION_CLOSED
        )
    accounts.register(ctx, body.email, body.password, address=address)
    return JSONResponse(
        {"status": "accepted", "next": "sign in with this address and password"},
        status_code=202,
    )


@router.post("/logout", status_code=204, summary="End the browser session")
def logout(caller: CallerDep, ctx: ContextDep, address: AddressDep) -> Response:
    accounts.end_session(ctx, caller, address)
    response = Response(status_code=204)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response
