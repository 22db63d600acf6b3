"""POST /v1/audio/transcriptions: OpenAI-compatible and synchronous, for short files, so
existing OpenAI clients work unchanged. It goes through the same queue and workers as any
job and waits for the result."""

from __future__ import annotations

import time
from contextlib import aclosing

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from pydantic import Field
from starlette.concurrency import run_in_threadpool

from kazru_stt.api.deps import CallerDep, ContextDep
from kazru_stt.api.forms import (
    create_job_from,
    discard_on_error,
    openapi_body,
    read_upload,
    upload_slot,
)
from kazru_stt.api.routes.transcriptions import build_options
from kazru_stt.api.schemas import InputModel
from kazru_stt.db.models import Job
from kazru_stt.domain.error_codes import ErrorCode
from kazru_stt.domain.errors import InvalidOptionError, KazruError
from kazru_stt.domain.job_status import JobStatus
from kazru_stt.domain.transcript import Transcript
from kazru_stt.exporters import export
from kazru_stt.services import jobs as job_service
from kazru_stt.services.job_request import JobRequest

router = APIRouter(prefix="/v1/audio", tags=["openai-compatible"])
FORMATS = ("json", "text", "srt", "verbose_json", "vtt")


class OpenAIFields(InputModel):
    model: str = Field("whisper-1", max_length=64)
    language: str | None = Field(None, max_length=8)
    prompt: str | None = Field(None, max_length=4096)
    response_format: str = Field("json", max_length=16)
    temperature: float | None = Field(None, ge=0, le=1)
    timestamp_granularities: list[str] | None = Field(
        None, alias="timestamp_granularities[]", max_length=2
    )


class SyncSlots:
    """Synchronous calls waiting at once in this process; beyond the cap: 503 at once."""

    def __init__(self, cap: int):
        self.cap, self.used = cap, 0

    def take(self) -> None:
        if self.used >= self.cap:
            raise KazruError(
                "too many synchronous transcriptions are running; retry shortly or use "
                "POST /api/v1/transcriptions",
                code=ErrorCode.SERVER_BUSY,
            )
        self.used += 1

    def give(self) -> None:
        self.used -= 1


async def _wait(request: Request, ctx, job: Job, timeout_s: float) -> Job:
    """Wait for the job to end, without a thread or a database session; if the client
    leaves or time runs out, the job is canceled (nobody is left to read it)."""
    deadline = time.monotonic() + timeout_s
    async with aclosing(request.app.state.job_watcher.states(job.id)) as states:
        async for state in states:
            if state is None or state[0] in JobStatus.TERMINAL:
                break
            if await request.is_disconnected():
                await run_in_threadpool(_cancel_quietly, ctx, job)
                raise KazruError("the client went away", code=ErrorCode.CLIENT_DISCONNECTED)
            if time.monotonic() > deadline:
                await run_in_threadpool(_cancel_quietly, ctx, job)
                raise KazruError(
                    "the transcription did not finish in time",
                    code=ErrorCode.TIMEOUT,
                    details={"id": job.id},
                )
    return await run_in_threadpool(job_service.reload_job, ctx, job)


def _cancel_quietly(ctx, job: Job) -> None:
    try:
        job_service.cancel_job(ctx, job)
    except KazruError:
        pass  # it ended meanwhile


def _verbose(t: Transcript, words: bool) -> dict:
    body = {
        "task": "transcribe",
        "language": t.language or "",
        "duration": round(t.duration, 3),
        "text": t.text,
        "segments": [
            {
                "id": s.id,
                "seek": 0,
                "start": s.start,
                "end": s.end,
                "text": s.text,
                "tokens": [],
                "temperature": 0.0,
                "avg_logprob": s.avg_logprob or 0.0,
                "compression_ratio": 0.0,
                "no_speech_prob": 0.0,
                "language": s.language,
            }
            for s in t.segments
        ],
    }
    if words:
        body["words"] = [
            {"word": w.text, "start": w.start, "end": w.end} for s in t.segments for w in s.words
        ]
    return body


@router.post(
    "/transcriptions",
    summary="OpenAI-compatible synchronous transcription",
    openapi_extra=openapi_body(OpenAIFields),
)
async def openai_transcription(request: Request, ctx: ContextDep, caller: CallerDep) -> Response:
    slots: SyncSlots = request.app.state.sync_slots
    async with upload_slot(request, ctx, caller):
        upload, f = await read_upload(
            request, ctx, caller, OpenAIFields, ("timestamp_granularities[]",)
        )
        async with discard_on_error(ctx, upload):
            if f.response_format not in FORMATS:
                raise InvalidOptionError(f"response_format must be one of {', '.join(FORMATS)}")
            options = await build_options(
                ctx,
                caller,
                JobRequest(language=f.language or "auto", model=f.model, prompt=f.prompt),
            )
            slots.take()
        try:
            job = await create_job_from(
                ctx,
                upload,
                options=options,
                owner=caller,
                max_duration_s=ctx.settings.sync_max_duration_s,
            )
        except BaseException:
            slots.give()
            raise
    try:
        done = await _wait(request, ctx, job, max(60.0, ctx.settings.sync_max_duration_s * 2))
        if done.status != JobStatus.COMPLETED:
            raise KazruError(
                done.error_message or f"transcription {done.status}",
                code=ErrorCode.CANCELED
                if done.status == JobStatus.CANCELED
                else ErrorCode.stored(done.error_code),
            )
        t = await run_in_threadpool(job_service.load_transcript, ctx, done)
    finally:
        slots.give()
    granularities = f.timestamp_granularities or []
    if f.response_format == "json":
        return JSONResponse({"text": t.text})
    if f.response_format == "text":
        return PlainTextResponse(t.text + "\n")
    if f.response_format == "verbose_json":
        return JSONResponse(_verbose(t, "word" in granularities))
    media = "text/vtt" if f.response_format == "vtt" else "application/x-subrip"
    return Response(export(t, f.response_format), media_type=f"{media}; charset=utf-8")
