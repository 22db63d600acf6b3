"""/api/v1/transcriptions: upload, list, read, export, events, cancel, edit, delete."""

from __future__ import annotations

import asyncio
import json
from typing import Annotated, Literal
from urllib.parse import quote

from fastapi import APIRouter, File, Form, Query, Request, UploadFile
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response, StreamingResponse

from kazru_stt.api.deps import CallerDep, ContextDep, OwnedJob, SessionDep
from kazru_stt.api.schemas import JobOut, JobPage, SegmentEdit, SpeakerEdit
from kazru_stt.db.models import Job, JobStatus
from kazru_stt.db.session import session_scope
from kazru_stt.domain.errors import InvalidOptionError
from kazru_stt.exporters import get_format
from kazru_stt.pipeline.options import TranscribeOptions
from kazru_stt.services import jobs as job_service

router = APIRouter(prefix="/api/v1/transcriptions", tags=["transcriptions"])
StatusFilter = Literal["queued", "processing", "completed", "failed", "canceled", "expired"]


def build_options(
    ctx,
    language: str,
    languages: str | None,
    engine: str | None,
    diarize: bool,
    num_speakers: int | None,
    min_speakers: int | None = None,
    max_speakers: int | None = None,
) -> TranscribeOptions:
    engine = engine or ctx.settings.engine
    if engine not in ("local", "yandex"):
        raise InvalidOptionError(f"engine {engine!r} is not available", code="invalid_option")
    codes = languages.split(",") if languages else ctx.settings.language_set
    return TranscribeOptions(
        language=language,
        languages=tuple(c.strip() for c in codes if c.strip()),
        engine=engine,
        diarize=diarize or num_speakers is not None,
        num_speakers=num_speakers,
        min_speakers=min_speakers,
        max_speakers=max_speakers,
    )


@router.post("", status_code=202, response_model=JobOut, summary="Upload a recording")
def create_transcription(
    ctx: ContextDep,
    caller: CallerDep,
    file: Annotated[UploadFile, File(description="audio or video file")],
    language: Annotated[str, Form(description="auto, kk, ru or another code")] = "auto",
    languages: Annotated[str | None, Form(description="set for auto, e.g. kk,ru")] = None,
    engine: Annotated[str | None, Form()] = None,
    diarize: Annotated[bool, Form()] = False,
    num_speakers: Annotated[int | None, Form(ge=1, le=32)] = None,
    min_speakers: Annotated[int | None, Form(ge=1, le=32)] = None,
    max_speakers: Annotated[int | None, Form(ge=1, le=32)] = None,
    webhook_url: Annotated[str | None, Form()] = None,
) -> JobOut:
    if webhook_url and not webhook_url.startswith(("http://", "https://")):
        raise InvalidOptionError("webhook_url must be an http(s) URL")
    options = build_options(
        ctx, language, languages, engine, diarize, num_speakers, min_speakers, max_speakers
    )
    job = job_service.create_job(
        ctx,
        file.file,
        filename=file.filename or "upload",
        content_type=file.content_type,
        options=options,
        owner_id=caller.user_id,
        webhook_url=webhook_url,
    )
    return JobOut.of(job)


@router.get("", response_model=JobPage, summary="List transcriptions")
def list_transcriptions(
    db: SessionDep,
    caller: CallerDep,
    ctx: ContextDep,
    status: Annotated[StatusFilter | None, Query()] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> JobPage:
    rows, total = job_service.list_jobs(
        db, caller.user_id, caller.is_admin, status=status, limit=limit, offset=offset
    )
    return JobPage(items=[JobOut.of(j) for j in rows], total=total, limit=limit, offset=offset)


@router.get("/{job_id}", response_model=JobOut, summary="Status, progress and result")
def get_transcription(job: OwnedJob) -> JobOut:
    return JobOut.of(job, with_result=True)


@router.get("/{job_id}/export", summary="Download the transcript as txt, srt, vtt, json or docx")
def export_transcription(
    job: OwnedJob,
    format: Annotated[str, Query(description="txt|srt|vtt|json|docx")] = "txt",
    timestamps: bool = False,
) -> Response:
    fmt = get_format(format)
    if job.status != JobStatus.COMPLETED:
        raise job_service.Conflict(f"the transcription is {job.status}", code="not_ready")
    transcript = job_service.transcript_of(job)
    data = fmt.render(transcript, timestamps=timestamps, title=job.filename)
    stem = job.filename.rsplit(".", 1)[0] or "transcript"
    name = f"{stem}.{fmt.extension}"
    disposition = f"attachment; filename=\"{quote(name)}\"; filename*=UTF-8''{quote(name)}"
    return Response(data, media_type=fmt.content_type, headers={"Content-Disposition": disposition})


@router.get("/{job_id}/events", summary="Server-sent events with status and progress")
async def transcription_events(
    job: OwnedJob, request: Request, ctx: ContextDep
) -> StreamingResponse:
    job_id = job.id

    def read() -> tuple[str, int, str | None] | None:
        with session_scope(ctx.db_url) as db:
            row = db.get(Job, job_id)
            return (row.status, row.progress, row.error_code) if row else None

    async def stream():
        last = None
        while True:
            state = await run_in_threadpool(read)
            if state is None:
                yield "event: deleted\ndata: {}\n\n"
                return
            if state != last:
                status, progress, error = state
                payload = json.dumps(
                    {"id": job_id, "status": status, "progress": progress, "error": error}
                )
                yield f"event: status\ndata: {payload}\n\n"
                last = state
                if status in JobStatus.TERMINAL:
                    return
            if await request.is_disconnected():
                return
            await asyncio.sleep(0.5)

    return StreamingResponse(
        stream(), media_type="text/event-stream", headers={"Cache-Control": "no-cache"}
    )


@router.post("/{job_id}/cancel", response_model=JobOut, summary="Cancel a queued or running job")
def cancel_transcription(job: OwnedJob, db: SessionDep) -> JobOut:
    return JobOut.of(job_service.cancel_job(db, job))


@router.delete("/{job_id}", status_code=204, summary="Delete the job, its transcript and its files")
def delete_transcription(job: OwnedJob, db: SessionDep, ctx: ContextDep) -> Response:
    job_service.delete_job(ctx, db, job)
    return Response(status_code=204)


@router.patch("/{job_id}/segments/{index}", summary="Edit a segment's text")
def edit_segment(job: OwnedJob, index: int, body: SegmentEdit, db: SessionDep) -> dict:
    row = job_service.edit_segment(db, job, index, body.text)
    return {
        "id": row.idx,
        "start": row.start,
        "end": row.end,
        "text": row.text,
        "edited": row.edited,
    }


@router.patch("/{job_id}/speakers/{label}", summary="Rename a speaker")
def rename_speaker(job: OwnedJob, label: str, body: SpeakerEdit, db: SessionDep) -> dict:
    row = job_service.rename_speaker(db, job, label, body.name)
    return {"label": row.label, "name": row.name}
