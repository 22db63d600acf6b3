"""/docs and /openapi.json, with Swagger UI served from the installed package (no CDN: the
product works offline). Public or behind a key, by setting."""

from __future__ import annotations

from pathlib import Path

import fastapi_offline
from fastapi import APIRouter, Request
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, JSONResponse

from kazru_stt.api.deps import ContextDep, OptionalCallerDep
from kazru_stt.api.paths import DOCS_ASSETS_URL
from kazru_stt.domain.errors import AuthError

ASSETS = Path(fastapi_offline.__file__).parent / "static"
ASSETS_URL = DOCS_ASSETS_URL
router = APIRouter(include_in_schema=False)


def _allowed(ctx, caller) -> None:
    if not ctx.settings.public_docs and caller is None:
        raise AuthError("an API key or a signed-in session is required for the API docs")


@router.get("/openapi.json")
def openapi(request: Request, ctx: ContextDep, caller: OptionalCallerDep) -> JSONResponse:
    _allowed(ctx, caller)
    return JSONResponse(request.app.openapi())


@router.get("/docs")
def docs(ctx: ContextDep, caller: OptionalCallerDep) -> HTMLResponse:
    _allowed(ctx, caller)
    return get_swagger_ui_html(
        openapi_url="/openapi.json",
        title="KazRu-STT Pro — API",
        swagger_js_url=f"{ASSETS_URL}/swagger-ui-bundle.js",
        swagger_css_url=f"{ASSETS_URL}/swagger-ui.css",
        swagger_favicon_url=f"{ASSETS_URL}/favicon.png",
    )
