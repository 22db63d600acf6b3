"""Every API error is JSON {"error": {"code", "message", "details"}}; never a stack trace,
an exception's text or a path. This is the one place domain errors become HTTP statuses."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import ClientDisconnect

from kazru_stt.domain.errors import KazruError, TooManyRequests

log = logging.getLogger(__name__)

STATUS_BY_CODE = {
    "invalid_form": 400,
    "upload_timeout": 408,
    "not_found": 404,
    "unauthorized": 401,
    "bad_credentials": 401,
    "session_expired": 401,
    "forbidden": 403,
    "wrong_password": 403,
    "csrf_failed": 403,
    "not_owner": 403,
    "registration_closed": 403,
    "conflict": 409,
    "email_taken": 409,
    "last_admin": 409,
    "not_cancelable": 409,
    "not_ready": 409,
    "nothing_to_undo": 409,
    "nothing_to_redo": 409,
    "nothing_to_merge": 409,
    "audio_deleted": 410,
    "file_too_large": 413,
    "payload_too_large": 413,
    "unsupported_media": 415,
    "no_audio_stream": 415,
    "empty_audio": 422,
    "corrupt_media": 422,
    "duration_limit": 422,
    "invalid_option": 422,
    "invalid_split": 422,
    "invalid_email": 422,
    "weak_password": 422,
    "invalid_webhook_url": 422,
    "webhook_url_blocked": 422,
    "engine_unavailable": 422,
    "unknown_model": 422,
    "unsupported_format": 422,
    "validation_error": 422,
    "rate_limited": 429,
    "quota_exceeded": 429,
    "too_many_streams": 429,
    "queue_unavailable": 503,
    "storage_unavailable": 503,
    "file_missing": 503,
    "database_unavailable": 503,
    "model_unavailable": 503,
    "server_busy": 503,
    "timeout": 504,
}


def error_body(code: str, message: str, details=None) -> dict:
    return {"error": {"code": code, "message": message, "details": details}}


def error_response(exc: KazruError) -> JSONResponse:
    status = STATUS_BY_CODE.get(exc.code, 400)
    headers = {}
    if isinstance(exc, TooManyRequests):
        headers["Retry-After"] = str(exc.retry_after_s)
    if status == 401:
        headers["WWW-Authenticate"] = 'Bearer realm="kazru"'
    return JSONResponse(
        error_body(exc.code, exc.message, exc.details), status_code=status, headers=headers
    )


def install(app: FastAPI) -> None:
    @app.exception_handler(KazruError)
    async def _domain(_request: Request, exc: KazruError):
        return error_response(exc)

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
        code = {
            400: "invalid_request",
            404: "not_found",
            405: "method_not_allowed",
            401: "unauthorized",
        }.get(exc.status_code, "http_error")
        return JSONResponse(
            error_body(code, str(exc.detail)), status_code=exc.status_code, headers=exc.headers
        )

    @app.exception_handler(ClientDisconnect)
    async def _gone(_request: Request, _exc: ClientDisconnect):
        return JSONResponse(error_body("client_disconnected", "the client went away"), 400)

    @app.exception_handler(OperationalError)
    @app.exception_handler(PoolTimeout)
    async def _database(_request: Request, exc: Exception):
        log.error("database unavailable: %s", type(exc).__name__)
        return JSONResponse(
            error_body("database_unavailable", "the database is busy or unreachable; retry"),
            status_code=503,
            headers={"Retry-After": "5"},
        )

    @app.exception_handler(Exception)
    async def _unexpected(_request: Request, exc: Exception):
        log.exception("unhandled error")
        return JSONResponse(
            error_body("internal_error", "an internal error occurred"), status_code=500
        )
