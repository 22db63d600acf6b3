"""The FastAPI application: routers, error handling, metrics middleware."""

from __future__ import annotations

import time

from fastapi import FastAPI, Request
from fastapi.responses import RedirectResponse

from kazru_stt import __version__
from kazru_stt.api import errors
from kazru_stt.api.metrics import LATENCY, REQUESTS
from kazru_stt.api.routes import health, openai_compat, transcriptions
from kazru_stt.services.context import ServiceContext


def create_app(ctx: ServiceContext) -> FastAPI:
    app = FastAPI(
        title="KazRu-STT Pro",
        version=__version__,
        description="Speech to text for Kazakh and Russian recordings.",
    )
    app.state.ctx = ctx
    errors.install(app)
    app.include_router(transcriptions.router)
    app.include_router(openai_compat.router)
    app.include_router(health.router)

    @app.get("/", include_in_schema=False)
    def index() -> RedirectResponse:
        return RedirectResponse("/docs")

    @app.middleware("http")
    async def _metrics(request: Request, call_next):
        started = time.perf_counter()
        response = await call_next(request)
        route = request.scope.get("route")
        path = getattr(route, "path", "unmatched")
        REQUESTS.labels(request.method, path, str(response.status_code)).inc()
        LATENCY.labels(request.method, path).observe(time.perf_counter() - started)
        return response

    return app


def create_default_app() -> FastAPI:
    """For `uvicorn kazru_stt.api.app:create_default_app --factory`."""
    from kazru_stt.tasks.runtime import queue_check, service_context

    ctx = service_context()
    ctx.extra["queue_check"] = queue_check
    return create_app(ctx)
