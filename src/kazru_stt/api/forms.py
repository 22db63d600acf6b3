"""Multipart uploads read with caps: one file, a few small fields. (FastAPI's own form
parsing allows 1000 fields of 1 MB each, held in memory.) The fields are validated by a
Pydantic model, and the same model documents the request body in OpenAPI."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from pydantic import BaseModel, ValidationError
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.formparsers import MultiPartException

from kazru_stt.db.models import Job
from kazru_stt.domain.errors import KazruError
from kazru_stt.services import jobs as job_service

MAX_FIELDS = 20
MAX_FIELD_BYTES = 16 * 1024


async def read_upload(
    request: Request, model: type[BaseModel], list_fields: tuple[str, ...] = ()
) -> tuple[UploadFile, Any]:
    if not request.headers.get("content-type", "").startswith("multipart/form-data"):
        raise KazruError("send the recording as multipart/form-data", code="invalid_form")
    try:
        form = await request.form(max_files=1, max_fields=MAX_FIELDS, max_part_size=MAX_FIELD_BYTES)
    except MultiPartException as exc:
        raise KazruError(f"the form is not valid: {exc.message}", code="invalid_form") from exc
    upload = form.get("file")
    if not isinstance(upload, UploadFile):
        raise KazruError(
            "the form has no `file` part",
            code="validation_error",
            details=[{"field": "file", "message": "Field required"}],
        )
    values: dict[str, Any] = {}
    for name in model.model_fields:
        alias = model.model_fields[name].alias or name
        if alias in list_fields:
            found = [v for v in form.getlist(alias) if isinstance(v, str)]
            if found:
                values[alias] = found
        elif isinstance(form.get(alias), str):
            values[alias] = form.get(alias)
    try:
        fields = model.model_validate(values)
    except ValidationError as exc:
        details = [
            {"field": ".".join(str(p) for p in e["loc"]), "message": e["msg"]} for e in exc.errors()
        ]
        raise KazruError(
            "the request is not valid", code="validation_error", details=details
        ) from exc
    return upload, fields


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


async def create_job_from(ctx, upload: UploadFile, **job_fields) -> Job:
    """Hand the spooled upload to the jobs service on a worker thread, then free it."""
    try:
        return await run_in_threadpool(
            job_service.create_job,
            ctx,
            upload.file,
            filename=upload.filename or "upload",
            content_type=upload.content_type,
            **job_fields,
        )
    finally:
        await upload.close()
