"""POST /v1/audio/transcriptions: OpenAI-compatible and synchronous, for short files, so
existing OpenAI clients work unchanged. It goes through the same queue and workers as any
job and waits for the result."""

from __future__ import annotations

import time
from typing import Annotated

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import JSONResponse, PlainTextResponse, Response

from kazru_stt.api.deps import CallerDep, ContextDep
from kazru_stt.api.routes.transcriptions import build_options
from kazru_stt.db.models import Job, JobStatus
from kazru_stt.db.session import session_scope
from kazru_stt.domain.errors import InvalidOptionError, KazruError
from kazru_stt.domain.transcript import Transcript
from kazru_stt.exporters import export
from kazru_stt.services import jobs as job_service

router = APIRouter(prefix="/v1/audio", tags=["openai-compatible"])
FORMATS = ("json", "text", "srt", "verbose_json", "vtt")


def _wait(ctx, job_id: str, timeout_s: float) -> tuple[Transcript, Job]:
    deadline = time.monotonic() + timeout_s
    delay = 0.05
    while True:
        with session_scope(ctx.db_url) as db:
            job = db.get(Job, job_id)
            if job.status in JobStatus.TERMINAL:
                return job_service.transcript_of(job), job  # read rows inside the session
        if time.monotonic() > deadline:
            raise KazruError(
                "the transcription did not finish in time", code="timeout", details={"id": job_id}
            )
        time.sleep(delay)
        delay = min(delay * 1.5, 0.5)


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


@router.post("/transcriptions", summary="OpenAI-compatible synchronous transcription")
def openai_transcription(
    request: Request,
    ctx: ContextDep,
    caller: CallerDep,
    file: Annotated[UploadFile, File()],
    model: Annotated[str, Form()] = "whisper-1",
    language: Annotated[str | None, Form()] = None,
    prompt: Annotated[str | None, Form()] = None,
    response_format: Annotated[str, Form()] = "json",
    temperature: Annotated[float | None, Form()] = None,
    timestamp_granularities: Annotated[
        list[str] | None, Form(alias="timestamp_granularities[]")
    ] = None,
) -> Response:
    if response_format not in FORMATS:
        raise InvalidOptionError(f"response_format must be one of {', '.join(FORMATS)}")
    options = build_options(ctx, language or "auto", None, None, False, None)
    job = job_service.create_job(
        ctx,
        file.file,
        filename=file.filename or "audio",
        content_type=file.content_type,
        options=options,
        owner_id=caller.user_id,
        max_duration_s=ctx.settings.sync_max_duration_s,
    )
    t, done = _wait(ctx, job.id, timeout_s=max(60.0, ctx.settings.sync_max_duration_s * 2))
    if done.status != JobStatus.COMPLETED:
        raise KazruError(
            done.error_message or f"transcription {done.status}",
            code=done.error_code or done.status,
        )
    if response_format == "json":
        return JSONResponse({"text": t.text})
    if response_format == "text":
        return PlainTextResponse(t.text + "\n")
    if response_format == "verbose_json":
        return JSONResponse(_verbose(t, "word" in (timestamp_granularities or [])))
    media = "text/vtt" if response_format == "vtt" else "application/x-subrip"
    return Response(export(t, response_format), media_type=f"{media}; charset=utf-8")
