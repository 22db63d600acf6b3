"""Every API error is JSON {"error": {"code", "message", "details"}}; never a stack trace.
This is the one place domain errors become HTTP statuses."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from kazru_stt.domain.errors import KazruError

log = logging.getLogger(__name__)

STATUS_BY_CODE = {
    "not_found": 404,
    "unauthorized": 401,
    "forbidden": 403,
    "conflict": 409,
    "not_cancelable": 409,
    "not_ready": 409,
    "file_too_large": 413,
    "unsupported_media": 415,
    "no_audio_stream": 415,
    "empty_audio": 422,
    "corrupt_media": 422,
    "duration_limit": 422,
    "invalid_option": 422,
    "unsupported_format": 422,
    "validation_error": 422,
    "rate_limited": 429,
    "queue_unavailable": 503,
    "storage_unavailable": 503,
    "model_unavailable": 503,
    "timeout": 504,
}


def error_body(code: str, message: str, details=None) -> dict:
    return {"error": {"code": code, "message": message, "details": details}}


def install(app: FastAPI) -> None:
    @app.exception_handler(KazruError)
    async def _domain(_request: Request, exc: KazruError):
        status = STATUS_BY_CODE.get(exc.code, 400)
        return JSONResponse(error_body(exc.code, exc.message, exc.details), status_code=status)

    @app.exception_handler(RequestValidationError)
    async def _validation(_request: Request, exc: RequestValidationError):
        details = [
            {"field": ".".join(str(p) for p in e.get("loc", ())[1:]), "message": e.get("msg")}
            for e in exc.errors()
        ]
        return JSONResponse(
            error_body("validation_error", "the request is not valid", details), status_code=422
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(_request: Request, exc: StarletteHTTPException):
        code = {404: "not_found", 405: "method_not_allowed", 401: "unauthorized"}.get(
            exc.status_code, "http_error"
        )
        return JSONResponse(
            error_body(code, str(exc.detail)), status_code=exc.status_code, headers=exc.headers
        )

    @app.exception_handler(Exception)
    async def _unexpected(_request: Request, exc: Exception):
        log.exception("unhandled error")
        return JSONResponse(
            error_body("internal_error", "an internal error occurred"), status_code=500
        )
