"""Dependencies named once (Annotated), so a route's signature says what it needs.

`CallerDep` decides who is calling (API key, browser session, or the single local user of
single-user mode); `JobToRead`, `JobToEdit` and `JobToManage` load a job the caller may see
(else 404) and do that with (else 403), through services/job_access. None holds a database
session beyond its own call.
"""

from __future__ import annotations

import hmac
import time
from typing import Annotated
from urllib.parse import urlsplit

from fastapi import Depends, Path, Request
from starlette.concurrency import run_in_threadpool
from starlette.requests import HTTPConnection

from kazru_stt.api.guard import client_address_of
from kazru_stt.db.models import Job
from kazru_stt.domain.error_codes import ErrorCode
from kazru_stt.domain.errors import AuthError, KazruError, NotFound
from kazru_stt.domain.workspace_roles import JobAction
from kazru_stt.services import accounts
from kazru_stt.services.accounts import Caller
from kazru_stt.services.context import ServiceContext
from kazru_stt.services.job_access import load_job

SESSION_COOKIE = "kazru_session"
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


async def get_context(request: Request) -> ServiceContext:
    return request.app.state.ctx


ContextDep = Annotated[ServiceContext, Depends(get_context)]


async def client_address(request: Request) -> str | None:
    return client_address_of(request.scope)


AddressDep = Annotated[str | None, Depends(client_address)]


def set_session_cookie(response, request: Request, token: str) -> None:
    """The browser session: HttpOnly (no script reads it), SameSite=Strict, Secure on https."""
    ctx: ServiceContext = request.app.state.ctx
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=int(ctx.settings.session_hours * 3600),
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
        path="/",
    )


def bearer_token(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return token.strip()
    return None


def check_same_origin(request: HTTPConnection) -> None:
    """A state-changing request (or a WebSocket) carried by a cookie must come from our own
    pages."""
    origin = request.headers.get("origin") or request.headers.get("referer")
    host = request.headers.get("host", "")
    if not origin or urlsplit(origin).netloc.lower() != host.lower():
        raise KazruError("cross-site request refused", code=ErrorCode.CSRF_FAILED)


class KeyCache:
    """Callers of recently seen API keys, for a few seconds: a poll then costs no database
    round trip for authentication. Revocations and account changes made through this
    process clear it at once; another replica's take effect within `ttl_s`."""

    def __init__(self, ttl_s: float = 5.0, max_entries: int = 10_000):
        self.ttl_s, self.max_entries = ttl_s, max_entries
        self._entries: dict[str, tuple[float, Caller]] = {}

    def get(self, key: str) -> Caller | None:
        found = self._entries.get(key)
        if found and found[0] > time.monotonic():
            return found[1]
        return None

    def put(self, key: str, caller: Caller) -> None:
        if len(self._entries) >= self.max_entries:
            self._entries.clear()
        self._entries[key] = (time.monotonic() + self.ttl_s, caller)

    def clear(self) -> None:
        self._entries.clear()


async def caller_of_key(app, key: str) -> Caller:
    """The owner of an API key (through the key cache); 401 for a bad one."""
    cache: KeyCache = app.state.key_cache
    caller = cache.get(key)
    if caller is None:
        caller = await run_in_threadpool(accounts.authenticate_key, app.state.ctx, key)
        cache.put(key, caller)
    return caller


async def resolve_caller(request: Request) -> Caller | None:
    """The caller, None when the request carries no credentials; 401 for bad ones."""
    ctx: ServiceContext = request.app.state.ctx
    token = bearer_token(request)
    if token:
        return await caller_of_key(request.app, token)
    if request.headers.get("authorization"):
        raise AuthError("use `Authorization: Bearer <api key>`")
    cookie = request.cookies.get(SESSION_COOKIE)
    if cookie:
        caller = await run_in_threadpool(accounts.authenticate_session, ctx, cookie)
        if request.method not in SAFE_METHODS:
            check_same_origin(request)
            sent = request.headers.get(CSRF_HEADER, "")
            if not hmac.compare_digest(sent.encode(), (caller.csrf_token or "").encode()):
                raise KazruError("missing or wrong CSRF token", code=ErrorCode.CSRF_FAILED)
        return caller
    if ctx.settings.single_user:
        return await run_in_threadpool(accounts.single_user, ctx)
    return None


async def get_caller(request: Request) -> Caller:
    caller = await resolve_caller(request)
    if caller is None:
        raise AuthError("an API key is required: `Authorization: Bearer <key>`")
    return caller


async def get_optional_caller(request: Request) -> Caller | None:
    return await resolve_caller(request)


CallerDep = Annotated[Caller, Depends(get_caller)]
OptionalCallerDep = Annotated[Caller | None, Depends(get_optional_caller)]


async def get_admin(caller: CallerDep) -> Caller:
    if not caller.is_admin:
        # Not 403: a non-admin learns nothing about what exists for admins.
        raise NotFound("not found")
    return caller


AdminDep = Annotated[Caller, Depends(get_admin)]

JobId = Annotated[str, Path(max_length=64, description="the transcription's id")]
VersionNumber = Annotated[int, Path(ge=1, le=1_000_000, description="an earlier version's number")]


def _job_for(action: JobAction):
    async def job_for(job_id: JobId, ctx: ContextDep, caller: CallerDep) -> Job:
        return await run_in_threadpool(load_job, ctx, caller, job_id, action)

    return job_for


JobToRead = Annotated[Job, Depends(_job_for(JobAction.READ))]
JobToEdit = Annotated[Job, Depends(_job_for(JobAction.EDIT))]
JobToManage = Annotated[Job, Depends(_job_for(JobAction.MANAGE))]
