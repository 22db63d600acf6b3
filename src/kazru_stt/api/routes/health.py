"""/healthz (alive), /readyz (database, queue, storage, model usable), /metrics.

Public answers name the failing part but never an exception's text or a path; the detail
goes to the log."""

from __future__ import annotations

import logging

from fastapi import APIRouter
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST
from starlette.concurrency import run_in_threadpool

from kazru_stt.api.deps import ContextDep, OptionalCallerDep
from kazru_stt.api.metrics import exposition
from kazru_stt.domain.errors import AuthError, NotFound
from kazru_stt.services import stats

router = APIRouter(tags=["operations"])
log = logging.getLogger(__name__)


@router.get("/healthz")
async def healthz() -> dict:  # async: never queued behind the thread pool
    return {"status": "ok"}


def _check(results: dict[str, str], name: str, probe) -> None:
    try:
        probe()
        results[name] = "ok"
    except Exception as exc:
        log.warning("readiness: %s failed: %s", name, exc)
        results[name] = "error"


def _checks(ctx) -> dict[str, str]:
    # On a readiness check only: faster-whisper takes seconds to import.
    from kazru_stt.engines.whisper import resolve_model  # noqa: PLC0415

    results: dict[str, str] = {}
    _check(results, "database", lambda: stats.ping_database(ctx))
    _check(results, "storage", ctx.storage.check)
    _check(results, "queue", ctx.extra.get("queue_check") or (lambda: None))
    _check(
        results,
        "model",
        lambda: resolve_model(ctx.settings.model_path, ctx.settings.resolved_model_cache_dir),
    )
    return results


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
    checks = await run_in_threadpool(_checks, ctx)
    ready = all(v == "ok" for v in checks.values())
    return JSONResponse(
        {"status": "ready" if ready else "unavailable", "checks": checks},
        status_code=200 if ready else 503,
    )


@router.get("/metrics", include_in_schema=False)
def metrics(ctx: ContextDep, caller: OptionalCallerDep) -> Response:

    _require(caller, ctx.settings.public_metrics, admin=True)
    return Response(exposition(ctx), media_type=CONTENT_TYPE_LATEST)
