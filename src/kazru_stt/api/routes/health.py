"""/healthz (alive), /readyz (database, queue, storage, model usable), /metrics."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, Response
from sqlalchemy import func, select, text

from kazru_stt.api.deps import ContextDep
from kazru_stt.db.models import Job
from kazru_stt.db.session import session_scope

router = APIRouter(tags=["operations"])


@router.get("/healthz")
def healthz() -> dict:
    return {"status": "ok"}


def _checks(ctx) -> dict[str, str]:
    results: dict[str, str] = {}
    try:
        with session_scope(ctx.db_url) as db:
            db.execute(text("SELECT 1"))
        results["database"] = "ok"
    except Exception as exc:
        results["database"] = f"error: {type(exc).__name__}"
    try:
        ctx.storage.check()
        results["storage"] = "ok"
    except Exception as exc:
        results["storage"] = f"error: {exc}"
    probe_queue = ctx.extra.get("queue_check")
    try:
        if probe_queue:
            probe_queue()
        results["queue"] = "ok"
    except Exception as exc:
        results["queue"] = f"error: {type(exc).__name__}"
    try:
        from kazru_stt.engines.whisper_local import resolve_model

        resolve_model(ctx.settings.model_path, ctx.settings.resolved_model_cache_dir)
        results["model"] = "ok"
    except Exception as exc:
        results["model"] = f"error: {exc}"
    return results


@router.get("/readyz")
async def readyz(ctx: ContextDep) -> JSONResponse:
    checks = await run_in_threadpool(_checks, ctx)
    ready = all(v == "ok" for v in checks.values())
    return JSONResponse(
        {"status": "ready" if ready else "unavailable", "checks": checks},
        status_code=200 if ready else 503,
    )


@router.get("/metrics", include_in_schema=False)
def metrics(ctx: ContextDep) -> Response:
    from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

    from kazru_stt.api.metrics import JOBS_BY_STATUS, REGISTRY

    with session_scope(ctx.db_url) as db:
        counts = dict(db.execute(select(Job.status, func.count()).group_by(Job.status)).all())
    for status in ("queued", "processing", "completed", "failed", "canceled", "expired"):
        JOBS_BY_STATUS.labels(status=status).set(counts.get(status, 0))
    return Response(generate_latest(REGISTRY), media_type=CONTENT_TYPE_LATEST)
