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

from kazru_stt.domain.error_codes import ErrorCode
from kazru_stt.domain.errors import KazruError, TooManyRequests

log = logging.getLogger(__name__)
# When a part that is down or full is worth asking again: an outage's end is noticed within
# seconds (pooled connections are checked before use, storage calls are retried).
OUTAGE_RETRY_AFTER_S = 5

# Every ErrorCode has its status here (tests/unit check it); a failure on this server's side
# (a worker, the model, the cloud engine, storage) is 5xx, never the client's 4xx.
STATUS_BY_CODE: dict[ErrorCode, int] = {
    ErrorCode.INVALID_REQUEST: 400,
    ErrorCode.INVALID_FORM: 400,
    ErrorCode.INVALID_HOST: 400,
    ErrorCode.METHOD_NOT_ALLOWED: 405,
    ErrorCode.HTTP_ERROR: 400,
    ErrorCode.VALIDATION_ERROR: 422,
    ErrorCode.INVALID_OPTION: 422,
    ErrorCode.INVALID_SPLIT: 422,
    ErrorCode.UNKNOWN_MODEL: 422,
    ErrorCode.UNSUPPORTED_FORMAT: 422,
    ErrorCode.ENGINE_NOT_CONFIGURED: 422,
    ErrorCode.PAYLOAD_TOO_LARGE: 413,
    ErrorCode.FILE_TOO_LARGE: 413,
    ErrorCode.UPLOAD_TIMEOUT: 408,
    ErrorCode.CLIENT_DISCONNECTED: 400,
    ErrorCode.UNAUTHORIZED: 401,
    ErrorCode.BAD_CREDENTIALS: 401,
    ErrorCode.SESSION_EXPIRED: 401,
    ErrorCode.WRONG_PASSWORD: 403,
    ErrorCode.CSRF_FAILED: 403,
    ErrorCode.NOT_OWNER: 403,
    ErrorCode.ROLE_TOO_LOW: 403,
    ErrorCode.LAST_MANAGER: 409,
    ErrorCode.WORKSPACES_ADMIN_ONLY: 403,
    ErrorCode.TOO_MANY_ITEMS: 422,
    ErrorCode.REGISTRATION_CLOSED: 403,
    ErrorCode.EMAIL_TAKEN: 409,
    ErrorCode.INVALID_EMAIL: 422,
    ErrorCode.WEAK_PASSWORD: 422,
    ErrorCode.LAST_ADMIN: 409,
    ErrorCode.INVALID_WEBHOOK_URL: 422,
    ErrorCode.WEBHOOK_URL_BLOCKED: 422,
    ErrorCode.RATE_LIMITED: 429,
    ErrorCode.QUOTA_EXCEEDED: 429,
    ErrorCode.LIVE_SESSIONS_FULL: 503,
    ErrorCode.LIVE_IDLE: 408,
    ErrorCode.LIVE_TOO_LONG: 413,
    ErrorCode.LIVE_ENGINE_FAILED: 503,
    ErrorCode.TOO_MANY_STREAMS: 429,
    ErrorCode.DURATION_LIMIT: 422,
    ErrorCode.SERVER_BUSY: 503,
    ErrorCode.NOT_FOUND: 404,
    ErrorCode.CONFLICT: 409,
    ErrorCode.NOT_CANCELABLE: 409,
    ErrorCode.NOT_READY: 409,
    ErrorCode.NOTHING_TO_UNDO: 409,
    ErrorCode.NOTHING_TO_REDO: 409,
    ErrorCode.NOTHING_TO_MERGE: 409,
    ErrorCode.AUDIO_DELETED: 410,
    ErrorCode.CANCELED: 409,
    ErrorCode.FILE_NOT_FOUND: 404,
    ErrorCode.UNSUPPORTED_MEDIA: 415,
    ErrorCode.NO_AUDIO_STREAM: 415,
    ErrorCode.EMPTY_AUDIO: 422,
    ErrorCode.CORRUPT_MEDIA: 422,
    ErrorCode.ENGINE_FAILED: 502,
    ErrorCode.ENGINE_AUTH: 502,
    ErrorCode.ENGINE_REJECTED_INPUT: 422,
    ErrorCode.ENGINE_QUOTA: 503,
    ErrorCode.ENGINE_UNAVAILABLE: 503,
    ErrorCode.ENGINE_NOT_FOUND: 502,
    ErrorCode.ENGINE_BAD_RESPONSE: 502,
    ErrorCode.INTERNAL_ERROR: 500,
    ErrorCode.INVALID_SETTING: 500,
    ErrorCode.WORKER_LOST: 503,
    ErrorCode.TIMEOUT: 504,
    ErrorCode.MODEL_UNAVAILABLE: 503,
    ErrorCode.MODEL_CORRUPT: 503,
    ErrorCode.STORAGE_UNAVAILABLE: 503,
    ErrorCode.STORAGE_FULL: 507,
    ErrorCode.FILE_MISSING: 503,
    ErrorCode.DATABASE_UNAVAILABLE: 503,
}


def error_body(code: ErrorCode, message: str, details=None) -> dict:
    return {"error": {"code": code, "message": message, "details": details}}


def error_response(exc: KazruError) -> JSONResponse:
    status = STATUS_BY_CODE.get(exc.code, 500)
    headers = {}
    if isinstance(exc, TooManyRequests):
        headers["Retry-After"] = str(exc.retry_after_s)
    elif status in (503, 507):  # a part is down or full: the same request may work later
        headers["Retry-After"] = str(OUTAGE_RETRY_AFTER_S)
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
            error_body(ErrorCode.VALIDATION_ERROR, "the request is not valid", details),
            status_code=422,
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(_request: Request, exc: StarletteHTTPException):
        code = {
            400: ErrorCode.INVALID_REQUEST,
            404: ErrorCode.NOT_FOUND,
            405: ErrorCode.METHOD_NOT_ALLOWED,
            401: ErrorCode.UNAUTHORIZED,
        }.get(exc.status_code, ErrorCode.HTTP_ERROR)
        return JSONResponse(
            error_body(code, str(exc.detail)), status_code=exc.status_code, headers=exc.headers
        )

    @app.exception_handler(ClientDisconnect)
    async def _gone(_request: Request, _exc: ClientDisconnect):
        return JSONResponse(error_body(ErrorCode.CLIENT_DISCONNECTED, "the client went away"), 400)

    @app.exception_handler(OperationalError)
    @app.exception_handler(PoolTimeout)
    async def _database(_request: Request, exc: Exception):
        log.error("database unavailable: %s", type(exc).__name__)
        return JSONResponse(
            error_body(
                ErrorCode.DATABASE_UNAVAILABLE, "the database is busy or unreachable; retry"
            ),
            status_code=503,
            headers={"Retry-After": str(OUTAGE_RETRY_AFTER_S)},
        )

    @app.exception_handler(Exception)
    async def _unexpected(_request: Request, exc: Exception):
        log.exception("unhandled error")
        return JSONResponse(
            error_body(ErrorCode.INTERNAL_ERROR, "an internal error occurred"), status_code=500
        )
