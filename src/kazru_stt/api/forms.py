"""Multipart uploads read as they arrive. The file part is streamed into storage chunk by
chunk (a directory or an S3 multipart upload): no spooled copy in memory or on the API's
disk. The other parts are small fields, capped in number and size (FastAPI's own form
parsing allows 1000 fields of 1 MB each, held in memory), validated by a Pydantic model that
also documents the request body in OpenAPI. A stored file whose request then fails is
deleted."""

from __future__ import annotations

from collections import deque
from collections.abc import AsyncGenerator, AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from functools import partial
from typing import Any

import anyio.from_thread
import anyio.to_thread
from fastapi import Request
from pydantic import BaseModel, ValidationError
from python_multipart.exceptions import MultipartParseError
from python_multipart.multipart import MultipartParser, parse_options_header
from starlette.concurrency import run_in_threadpool

from kazru_stt.db.models import Job
from kazru_stt.domain.error_codes import ErrorCode
from kazru_stt.domain.errors import KazruError
from kazru_stt.services import jobs as job_service
from kazru_stt.services.accounts import Caller
from kazru_stt.services.context import ServiceContext
from kazru_stt.storage import StoredFile

MAX_FIELDS = 20
MAX_FIELD_BYTES = 16 * 1024
_FEED_BYTES = 1024 * 1024  # what the storage thread asks the event loop for at a time


@dataclass
class Upload:
    stored: StoredFile
    filename: str
    content_type: str | None


def _invalid(message: str) -> KazruError:
    return KazruError(message, code=ErrorCode.INVALID_FORM)


class _Parts:
    """python-multipart's push parser turned into a queue of events:
    ("begin", name, filename | None, content type), ("data", bytes), ("end",)."""

    def __init__(self, boundary: bytes):
        self.events: deque[tuple] = deque()
        self.headers: dict[bytes, bytes] = {}
        self._field = self._value = b""

        def on_header_field(data, start, end):
            self._field += data[start:end]

        def on_header_value(data, start, end):
            self._value += data[start:end]

        def on_header_end():
            self.headers[self._field.lower()] = self._value
            self._field = self._value = b""

        def on_headers_finished():
            _, params = parse_options_header(self.headers.get(b"content-disposition", b""))
            name = params.get(b"name", b"").decode("utf-8", "replace")
            filename = params.get(b"filename")
            ctype = self.headers.get(b"content-type")
            self.events.append(
                (
                    "begin",
                    name,
                    filename.decode("utf-8", "replace") if filename is not None else None,
                    ctype.decode("latin-1") if ctype else None,
                )
            )
            self.headers = {}

        def on_part_data(data, start, end):
            self.events.append(("data", bytes(data[start:end])))

        def on_part_end():
            self.events.append(("end",))

        self.parser = MultipartParser(
            boundary,
            {
                "on_header_field": on_header_field,
                "on_header_value": on_header_value,
                "on_header_end": on_header_end,
                "on_headers_finished": on_headers_finished,
                "on_part_data": on_part_data,
                "on_part_end": on_part_end,
            },
        )


async def _events(request: Request, parts: _Parts, idle_s: float) -> AsyncGenerator[tuple]:
    """The form's events as the body arrives; a client silent for `idle_s` is ended
    (408 `upload_timeout`): a stalled upload holds no thread and no quota for long."""
    chunks = request.stream().__aiter__()
    try:
        while True:
            with anyio.move_on_after(idle_s) as waited:
                chunk = await anext(chunks, None)
            if waited.cancelled_caught:
                raise KazruError(
                    f"the upload sent nothing for {idle_s:g} s", code=ErrorCode.UPLOAD_TIMEOUT
                )
            if chunk is None:
                break
            if chunk:
                parts.parser.write(chunk)
            while parts.events:
                yield parts.events.popleft()
        parts.parser.finalize()
    except MultipartParseError as exc:
        raise _invalid(f"the form is not valid: {exc}") from exc
    while parts.events:
        yield parts.events.popleft()


class _FileReader:
    """A blocking reader of the file part for the storage thread, fed by the event loop."""

    def __init__(self, events: AsyncIterator[tuple]):
        self.events = events
        self.buffer = bytearray()
        self.ended = False

    async def _fill(self) -> None:
        while not self.ended and len(self.buffer) < _FEED_BYTES:
            event = await anext(self.events, None)
            if event is None:
                raise _invalid("the upload ended inside the file")
            if event[0] == "data":
                self.buffer += event[1]
            elif event[0] == "end":
                self.ended = True

    def read(self, n: int = -1) -> bytes:
        if not self.buffer and not self.ended:
            anyio.from_thread.run(self._fill)
        n = len(self.buffer) if n is None or n < 0 else n
        out = bytes(self.buffer[:n])
        del self.buffer[:n]
        return out


def _upload_limiter(request: Request, ctx: ServiceContext) -> anyio.CapacityLimiter:
    state = request.app.state
    if getattr(state, "upload_limiter", None) is None:  # made in the event loop it serves
        state.upload_limiter = anyio.CapacityLimiter(ctx.settings.upload_threads)
    return state.upload_limiter


def upload_slot(request: Request, ctx: ServiceContext, caller: Caller):
    """Hold around reading an upload and creating its job: the upload counts against the
    caller's active-jobs quota from before its first byte (429 at once when full)."""
    return request.app.state.upload_slots.hold(ctx, caller.user_id)


async def read_upload(
    request: Request,
    ctx: ServiceContext,
    caller: Caller,
    model: type[BaseModel],
    list_fields: tuple[str, ...] = (),
) -> tuple[Upload, Any]:
    ctype, params = parse_options_header(request.headers.get("content-type", ""))
    if ctype != b"multipart/form-data" or not params.get(b"boundary"):
        raise KazruError("send the recording as multipart/form-data", code=ErrorCode.INVALID_FORM)
    events = _events(request, _Parts(params[b"boundary"]), ctx.settings.upload_idle_timeout_s)
    limit = ctx.settings.max_upload_mb * 1024 * 1024
    fields: dict[str, list[str]] = {}
    upload: Upload | None = None
    count = 0
    try:
        while (event := await anext(events, None)) is not None:
            if event[0] != "begin":
                continue
            _, name, filename, part_type = event
            count += 1
            if count > MAX_FIELDS + 1:
                raise _invalid(f"the form is not valid: more than {MAX_FIELDS} fields")
            if filename is not None:
                if name != "file" or upload is not None:
                    raise _invalid("the form is not valid: one file, in the part `file`")
                reader = _FileReader(events)
                # On a pool of its own: a slow client holds one of these threads, never
                # one of those that serve everyone's other requests.
                stored = await anyio.to_thread.run_sync(
                    partial(ctx.storage.save, reader, max_bytes=limit),
                    limiter=_upload_limiter(request, ctx),
                )
                upload = Upload(stored, filename or "upload", part_type)
                continue
            value = bytearray()
            while (part := await anext(events, None)) is not None and part[0] == "data":
                value += part[1]
                if len(value) > MAX_FIELD_BYTES:
                    raise _invalid(f"the form is not valid: field `{name}` is too large")
            fields.setdefault(name, []).append(value.decode("utf-8", "replace"))
    except BaseException:
        if upload is not None:
            await run_in_threadpool(ctx.storage.delete, upload.stored.key)
        raise
    finally:
        await events.aclose()
    if upload is None:
        raise KazruError(
            "the form has no `file` part",
            code=ErrorCode.VALIDATION_ERROR,
            details=[{"field": "file", "message": "Field required"}],
        )
    async with discard_on_error(ctx, upload):
        return upload, _validate(model, fields, list_fields)


def _validate(model: type[BaseModel], fields: dict[str, list[str]], list_fields) -> Any:
    values: dict[str, Any] = {}
    for name in model.model_fields:
        alias = model.model_fields[name].alias or name
        if alias in fields:
            values[alias] = fields[alias] if alias in list_fields else fields[alias][0]
    try:
        return model.model_validate(values)
    except ValidationError as exc:
        details = [
            {"field": ".".join(str(p) for p in e["loc"]), "message": e["msg"]} for e in exc.errors()
        ]
        raise KazruError(
            "the request is not valid", code=ErrorCode.VALIDATION_ERROR, details=details
        ) from exc


@asynccontextmanager
async def discard_on_error(ctx: ServiceContext, upload: Upload):
    """Delete the stored upload if the block fails (before a job owns it)."""
    try:
        yield
    except BaseException:
        await run_in_threadpool(ctx.storage.delete, upload.stored.key)
        raise


def openapi_body(model: type[BaseModel], description: str = "audio or video file") -> dict:
    schema = model.model_json_schema()
    schema["properties"] = {
        "file": {"type": "string", "format": "binary", "description": description},
        **schema.get("properties", {}),
    }
    schema["required"] = ["file", *schema.get("required", [])]
    return {
        "requestBody": {
            "required": True,
            "content": {"multipart/form-data": {"schema": schema}},
        }
    }


async def create_job_from(ctx: ServiceContext, upload: Upload, **job_fields) -> Job:
    """Queue a job for the stored upload (on a worker thread); on failure it is deleted."""
    return await run_in_threadpool(
        job_service.create_job_for_stored,
        ctx,
        upload.stored,
        filename=upload.filename,
        content_type=upload.content_type,
        **job_fields,
    )
