"""The ASGI application, where the API and the web pages are put together (the one module
above both): routers, error handling, and the ASGI layers around it
(outermost first): request id and access log, request guard (load shedding, Host, body
limits, security headers), rate limits, CORS when configured, request metrics."""

from __future__ import annotations

import logging
from contextlib import asynccontextmanager

import anyio.to_thread
from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.staticfiles import StaticFiles

from kazru_stt import __version__
from kazru_stt.api import errors
from kazru_stt.api.deps import KeyCache
from kazru_stt.api.guard import RequestGuard
from kazru_stt.api.job_watch import JobWatcher
from kazru_stt.api.live_pool import LivePool
from kazru_stt.api.metrics import RequestMetrics
from kazru_stt.api.paths import STATIC_URL
from kazru_stt.api.rate_limit import RateLimit
from kazru_stt.api.request_context import RequestContext
from kazru_stt.api.routes import (
    admin,
    admin_settings,
    auth,
    bulk,
    corrections,
    docs,
    health,
    keys,
    links,
    me,
    models,
    openai_compat,
    realtime,
    search,
    transcriptions,
    vocabulary,
    voices,
    workspaces,
)
from kazru_stt.api.routes.openai_compat import SyncSlots
from kazru_stt.api.routes.transcriptions import StreamCounter
from kazru_stt.api.upload_slots import UploadSlots
from kazru_stt.services import jobs as job_service
from kazru_stt.services.context import ServiceContext
from kazru_stt.tasks.runtime import queue_check, service_context
from kazru_stt.web import pages, shared

WATCH_INTERVAL_S = 0.5


def create_app(ctx: ServiceContext) -> FastAPI:
    settings = ctx.settings

    @asynccontextmanager
    async def lifespan(_app: FastAPI):
        # The threads that serve sync routes: a number we choose; the database pool is
        # sized to match (db/session.py), so no thread ever waits on a connection.
        anyio.to_thread.current_default_thread_limiter().total_tokens = settings.api_threads
        yield
        app.state.live_pool.shutdown()  # the live recognisers stop with the API

    app = FastAPI(
        title="KazRu-STT Pro",
        version=__version__,
        description="Speech to text for Kazakh and Russian recordings. "
        "Authenticate with `Authorization: Bearer <api key>`.",
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
        lifespan=lifespan,
    )
    app.state.ctx = ctx
    app.state.streams = StreamCounter()
    app.state.key_cache = KeyCache()
    app.state.sync_slots = SyncSlots(settings.sync_max_concurrent)
    app.state.upload_slots = UploadSlots()
    app.state.live_pool = LivePool(settings)  # its processes start with the first session
    app.state.live_sessions = set()
    app.state.upload_limiter = None  # made at the first upload, in the serving event loop
    app.state.job_watcher = JobWatcher(
        lambda ids: job_service.job_states(ctx, ids), WATCH_INTERVAL_S
    )
    errors.install(app)
    for module in (
        bulk,  # before transcriptions: /transcriptions/bulk/... is not a job's id
        transcriptions,
        links,
        corrections,
        openai_compat,
        realtime,
        models,
        me,
        voices,
        vocabulary,
        search,
        workspaces,
        keys,
        auth,
        admin_settings,
        admin,
        health,
        docs,
    ):
        app.include_router(module.router)
    app.mount(docs.ASSETS_URL, StaticFiles(directory=docs.ASSETS), name="docs-assets")
    app.include_router(pages.router)
    app.include_router(shared.router)  # read-only links: /s/{token}
    app.mount(STATIC_URL, pages.VersionedStatic(directory=pages.STATIC), name="static")

    app.add_middleware(RequestMetrics)
    if settings.cors_origins.strip():
        app.add_middleware(
            CORSMiddleware,
            allow_origins=[o.strip() for o in settings.cors_origins.split(",") if o.strip()],
            allow_methods=["GET", "POST", "PATCH", "DELETE"],
            allow_headers=["Authorization", "Content-Type"],
        )
    app.add_middleware(RateLimit, settings=settings, current=lambda: ctx.settings)
    app.add_middleware(RequestGuard, settings=settings)
    app.add_middleware(RequestContext)  # outermost: every answer carries the request id
    return app


def create_default_app() -> FastAPI:
    """For `uvicorn kazru_stt.asgi:create_default_app --factory`."""

    # httpx logs every request's full URL at INFO: webhook tokens must never reach a log.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    ctx = service_context()
    ctx.extra["queue_check"] = queue_check
    return create_app(ctx)
