"""/healthz (alive), /readyz (database, queue, storage, model usable: api/readiness),
/metrics."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST
from starlette.concurrency import run_in_threadpool

from kazru_stt.api.deps import ContextDep, OptionalCallerDep
from kazru_stt.api.metrics import exposition
from kazru_stt.api.readiness import check_parts
from kazru_stt.domain.errors import AuthError, NotFound

router = APIRouter(tags=["operations"])


@router.get("/healthz")
async def healthz() -> dict:  # async: never queued behind the thread pool
    return {"status": "ok"}


def _require(caller, public: bool, admin: bool = False) -> None:
    if public:
        return
    if caller is None:
        raise AuthError("an API key is required here")
    if admin and not caller.is_admin:
        raise NotFound("not found")


@router.get("/readyz")
async def readyz(ctx: ContextDep, caller: OptionalCallerDep) -> JSONResponse:
    _require(caller, ctx.settings.public_readyz)
    parts = await run_in_threadpool(check_parts, ctx)
    checks = {name: "ok" if up else "error" for name, up in parts.items()}
    ready = all(parts.values())
    return JSONResponse(
        {"status": "ready" if ready else "unavailable", "checks": checks},
        status_code=200 if ready else 503,
    )


@router.get("/metrics", include_in_schema=False)
def metrics(ctx: ContextDep, caller: OptionalCallerDep) -> Response:

    _require(caller, ctx.settings.public_metrics, admin=True)
    return Response(exposition(ctx), media_type=CONTENT_TYPE_LATEST)
