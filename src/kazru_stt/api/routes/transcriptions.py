"""/api/v1/transcriptions: upload, list, read, export, events, cancel, edit, delete.

Each route names the service it calls; no route touches the database itself."""

from __future__ import annotations

import json
import mimetypes
import time
from contextlib import aclosing
from dataclasses import replace
from typing import Annotated, Literal
from urllib.parse import quote

from fastapi import APIRouter, Header, Query, Request
from fastapi.responses import Response, StreamingResponse
from pydantic import Field
from starlette.concurrency import run_in_threadpool

from kazru_stt.api.deps import (
    AddressDep,
    CallerDep,
    ContextDep,
    JobToEdit,
    JobToManage,
    JobToRead,
    VersionNumber,
)
from kazru_stt.api.forms import (
    create_job_from,
    discard_on_error,
    openapi_body,
    read_upload,
    upload_slot,
)
from kazru_stt.api.ranged import ranged_response
from kazru_stt.api.routes.models import job_model
from kazru_stt.api.schemas import InputModel, JobFiling, JobOut, JobPage
from kazru_stt.domain.error_codes import ErrorCode
from kazru_stt.domain.errors import KazruError, TooManyRequests
from kazru_stt.domain.job_status import JobStage, JobStatus, stage_of
from kazru_stt.domain.workspace_roles import JobAction
from kazru_stt.exporters import get_format
from kazru_stt.exporters.paper import Paper, paper_for_locale
from kazru_stt.exporters.redaction import Redactions
from kazru_stt.pipeline.options import TranscribeOptions
from kazru_stt.services import (
    accounts,
    job_export,
    queue_estimate,
    versions,
    vocabulary,
    webhook_targets,
    workspaces,
)
from kazru_stt.services import jobs as job_service
from kazru_stt.services.accounts import Caller
from kazru_stt.services.job_access import load_job
from kazru_stt.services.job_request import JobRequest
from kazru_stt.services.jobs import options_from_dict

router = APIRouter(prefix="/api/v1/transcriptions", tags=["transcriptions"])
StatusFilter = Literal[JobStatus.ALL]  # type: ignore[valid-type]
MAX_OFFSET = 1_000_000_000
SSE_KEEPALIVE_S = 15.0


class UploadFields(InputModel):
    language: str = Field("auto", max_length=8, description="auto, kk, ru or another code")
    languages: str | None = Field(None, max_length=64, description="set for auto, e.g. kk,ru")
    engine: str | None = Field(
        None, max_length=16, description="local, yandex (GET /api/v1/engines)"
    )
    model: str | None = Field(None, max_length=64, description="a local model (GET /api/v1/models)")
    diarize: bool | None = Field(
        None, description="find speakers; unset: the install's default (KAZRU_DIARIZE_BY_DEFAULT)"
    )
    num_speakers: int | None = Field(None, ge=1, le=32)
    min_speakers: int | None = Field(None, ge=1, le=32)
    max_speakers: int | None = Field(None, ge=1, le=32)
    webhook_url: str | None = Field(None, max_length=2048)
    prompt: str | None = Field(
        None,
        max_length=1000,
        description="this recording's own names and terms (or a sentence about it), read "
        "after my vocabulary",
    )
    workspace_id: int | None = Field(
        None, ge=1, description="file it in this workspace (GET /api/v1/workspaces)"
    )


class RecognizeAgain(InputModel):
    engine: str | None = Field(None, max_length=16, description="default: as before")
    model: str | None = Field(
        None,
        max_length=64,
        description='default: as before (if the engine is the same); "": the default model',
    )
    language: str | None = Field(None, max_length=8, description="default: as before")
    languages: str | None = Field(None, max_length=64, description="default: as before")


async def build_options(ctx, caller: Caller, request: JobRequest) -> TranscribeOptions:
    """A job's options from its request and the caller's vocabulary, the model checked
    (422 `unknown_model`)."""
    terms = await run_in_threadpool(vocabulary.terms, ctx, caller.user_id)
    return replace(request, terms=tuple(terms)).options(
        ctx.settings, lambda name, engine: job_model(ctx, name, engine)
    )


@router.post(
    "",
    status_code=202,
    response_model=JobOut,
    summary="Upload a recording",
    openapi_extra=openapi_body(UploadFields),
)
async def create_transcription(request: Request, ctx: ContextDep, caller: CallerDep) -> JobOut:
    async with upload_slot(request, ctx, caller):
        upload, f = await read_upload(request, ctx, caller, UploadFields)
        async with discard_on_error(ctx, upload):
            if f.workspace_id is not None:
                await run_in_threadpool(workspaces.can_file, ctx, caller, f.workspace_id)
            webhook_url = None
            if f.webhook_url:
                target = await run_in_threadpool(
                    webhook_targets.resolve, f.webhook_url, ctx.settings
                )
                webhook_url = target.url
            options = await build_options(
                ctx,
                caller,
                JobRequest(
                    language=f.language,
                    languages=f.languages,
                    engine=f.engine,
                    model=f.model,
                    diarize=f.diarize,
                    num_speakers=f.num_speakers,
                    min_speakers=f.min_speakers,
                    max_speakers=f.max_speakers,
                    prompt=f.prompt,
                ),
            )
        job = await create_job_from(
            ctx,
            upload,
            options=options,
            owner=caller,
            webhook_url=webhook_url,
            workspace_id=f.workspace_id,
        )
    return JobOut.of(job)


@router.get("", response_model=JobPage, summary="List transcriptions")
def list_transcriptions(
    caller: CallerDep,
    ctx: ContextDep,
    status: Annotated[StatusFilter | None, Query()] = None,
    workspace_id: Annotated[
        int | None, Query(ge=0, description="only this workspace's; 0: only those in none")
    ] = None,
    tag: Annotated[str | None, Query(max_length=64, description="only those with this tag")] = None,
    sort: Annotated[job_service.JobSort, Query()] = job_service.JobSort.NEWEST,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
) -> JobPage:
    rows, total = job_service.list_jobs(
        ctx,
        caller,
        status=status,
        workspace_id=workspace_id,
        tag=tag,
        sort=sort,
        limit=limit,
        offset=offset,
    )
    labels = job_service.tags_of(ctx, [j.id for j in rows])
    items = [JobOut.of(j, tags=labels[j.id]) for j in rows]
    return JobPage(items=items, total=total, limit=limit, offset=offset)


@router.get("/{job_id}", response_model=JobOut, summary="Status, progress and result")
async def get_transcription(job: JobToRead, ctx: ContextDep) -> Response:
    # The route clients poll: one thread hop (the job's row), serialized once.
    transcript = position = wait = None
    if job.status == JobStatus.COMPLETED:
        transcript = await run_in_threadpool(job_service.load_transcript, ctx, job)
    elif job.status == JobStatus.QUEUED:
        position, wait = await run_in_threadpool(queue_estimate.place, ctx, job)
    labels = await run_in_threadpool(job_service.tags_of, ctx, [job.id])
    body = JobOut.of(job, transcript, position, wait, labels[job.id]).model_dump_json()
    return Response(body, media_type="application/json")


@router.patch("/{job_id}", response_model=JobOut, summary="Move it to a workspace, set its tags")
def file_transcription(
    job: JobToEdit, body: JobFiling, ctx: ContextDep, caller: CallerDep, address: AddressDep
) -> JobOut:
    changes = body.model_dump(exclude_unset=True)
    if "workspace_id" in changes:  # moving takes more than tagging
        job = load_job(ctx, caller, job.id, JobAction.MANAGE)
    row, labels = job_service.file_job(ctx, caller, job, changes, address)
    return JobOut.of(row, tags=labels)


@router.post(
    "/{job_id}/recognize",
    status_code=202,
    response_model=JobOut,
    summary="Recognise the recording again (another engine, model or language); the "
    "transcript as it is becomes a version",
)
async def recognize_again(
    job: JobToEdit, body: RecognizeAgain, ctx: ContextDep, caller: CallerDep, address: AddressDep
) -> JobOut:
    """The job is queued again; `GET .../versions` lists the transcripts it had."""
    before = options_from_dict(job.options or {})
    engine = body.engine or before.engine
    model = before.model if engine == before.engine else None  # a model is an engine's
    if body.model is not None:
        model = body.model or None  # "": the engine's default
    options = await build_options(
        ctx,
        caller,
        JobRequest(
            language=body.language or before.language,
            languages=body.languages or ",".join(before.languages),
            engine=engine,
            model=model,
            diarize=before.diarize,
            num_speakers=before.num_speakers,
            min_speakers=before.min_speakers,
            max_speakers=before.max_speakers,
        ),
    )
    options.max_duration_s = before.max_duration_s
    queued, _number = await run_in_threadpool(
        versions.recognize_again, ctx, caller, job, options, address
    )
    return JobOut.of(queued)


@router.get("/{job_id}/versions", summary="The transcripts a job had before it was recognised")
def list_versions(job: JobToRead, ctx: ContextDep) -> dict:
    return {"items": versions.listing(ctx, job)}


@router.get("/{job_id}/versions/{number}", summary="One earlier transcript, as it was")
def read_version(job: JobToRead, ctx: ContextDep, number: VersionNumber) -> dict:
    return versions.read(ctx, job, number)


@router.get(
    "/{job_id}/export", summary="Download the transcript as txt, srt, vtt, json, docx or pdf"
)
def export_transcription(
    job: JobToRead,
    ctx: ContextDep,
    caller: CallerDep,
    address: AddressDep,
    format: Annotated[str, Query(max_length=8, description="txt|srt|vtt|json|docx|pdf")] = "txt",
    timestamps: bool = False,
    lang: Annotated[
        str | None,
        Query(pattern="^(kk|ru|en)$", description="the reader's language; default: the account's"),
    ] = None,
    inaudible_markers: Annotated[
        bool, Query(description="mark passages that could not be read (not in json)")
    ] = True,
    redact: Annotated[
        Literal["pii"] | None,
        Query(
            description="pii: an anonymised copy (IIN/BIN, card numbers, IBANs, phone "
            "numbers, e-mail addresses, in digits or spoken, and redact_terms)"
        ),
    ] = None,
    redact_terms: Annotated[
        str | None,
        Query(max_length=2000, description="names to hide as well, comma-separated"),
    ] = None,
    paper: Annotated[
        Paper | None,
        Query(description="docx and pdf: a4|letter; default: the browser's locale's, else a4"),
    ] = None,
    version: Annotated[
        int | None,
        Query(
            ge=1,
            le=1_000_000,
            description="an earlier version (GET .../versions); default: the transcript now",
        ),
    ] = None,
    accept_language: Annotated[str | None, Header(include_in_schema=False)] = None,
) -> Response:
    fmt = get_format(format)
    transcript = (
        job_service.completed_transcript(ctx, job)
        if version is None
        else versions.transcript_of(ctx, job, version)
    )
    if lang is None:
        lang = accounts.locale_of(ctx, caller.user_id)
    redactions = None
    if redact is not None:
        redactions = Redactions(terms=(redact_terms or "").split(","))
    data = job_export.render(
        ctx,
        job,
        transcript,
        fmt,
        lang=lang,
        zone=accounts.zone_of(ctx, caller.user_id),
        inaudible_markers=inaudible_markers,
        redactions=redactions,
        timestamps=timestamps,
        paper=paper or paper_for_locale(accept_language),
    )
    job_service.record_export(ctx, caller, job, fmt.extension, address, redactions, version)
    name = job_export.download_name(job.filename, fmt.extension, version)
    disposition = f"attachment; filename=\"{quote(name)}\"; filename*=UTF-8''{quote(name)}"
    headers = {"Content-Disposition": disposition}
    if redactions is not None:  # how many of each kind were hidden, never what
        headers["Kazru-Redactions"] = ", ".join(
            f"{kind}={count}" for kind, count in sorted(redactions.counts.items())
        )
    return Response(data, media_type=fmt.content_type, headers=headers)


def media_type_of(content_type: str | None, filename: str) -> str | None:
    """What the browser's player is told the file is (uploads often say octet-stream):
    an audio or video type, from the upload's part header or its name, else None. The
    upload was probed as real media, so nothing else is believed: a WAV with HTML after it,
    sent as text/html, must never render as a page of this origin."""
    for candidate in (content_type, mimetypes.guess_type(filename)[0]):
        kind = (candidate or "").split(";")[0].strip().lower()
        if kind.startswith(("audio/", "video/")) and kind.isascii():
            return kind
    return None


@router.get(
    "/{job_id}/audio",
    summary="The original recording, until retention removes it (Range requests served)",
)
def transcription_audio(job: JobToRead, ctx: ContextDep, request: Request) -> Response:
    if not job.storage_key:
        raise KazruError(
            "the recording was deleted after its retention period", code=ErrorCode.AUDIO_DELETED
        )
    media_type = media_type_of(job.content_type, job.filename)
    headers = {"Cache-Control": "private, max-age=3600"}
    if media_type is None:  # not playable by its type: a download, never shown inline
        headers["Content-Disposition"] = "attachment"
    return ranged_response(
        ctx.storage,
        job.storage_key,
        request.headers.get("range"),
        media_type or "application/octet-stream",
        headers,
    )


@router.get("/{job_id}/events", summary="Server-sent events with status and progress")
async def transcription_events(
    job: JobToRead, request: Request, ctx: ContextDep, caller: CallerDep
) -> StreamingResponse:
    streams = request.app.state.streams
    s = ctx.settings
    # Taken here, at accept (nothing awaited between the check and the count), and given
    # back when the response ends, however it ends.
    if not streams.take(caller.user_id, s.sse_max_total, s.sse_max_per_user):
        raise TooManyRequests(
            "too many open event streams; close some or poll instead",
            code=ErrorCode.TOO_MANY_STREAMS,
            retry_after_s=5,
        )
    watcher = request.app.state.job_watcher
    job_id = job.id
    first = (job.status, job.progress, job.error_code, stage_of(job.status, job.stage))

    def event(name: str, state) -> str:
        status, progress, error, stage = state
        payload = json.dumps(
            {"id": job_id, "status": status, "stage": stage, "progress": progress, "error": error}
        )
        return f"event: {name}\ndata: {payload}\n\n"

    def final(state) -> bool:  # (a completed job's speakers may still be on their way)
        return state[0] in JobStatus.TERMINAL and state[3] == JobStage.DONE

    async def stream():
        yield event("status", first)
        if final(first):
            return
        started = time.monotonic()
        last, ends_at, quiet_since = first, started + s.sse_max_lifetime_s, started
        async with aclosing(watcher.states(job_id)) as states:
            async for state in states:
                now = time.monotonic()
                if state is None:
                    yield "event: deleted\ndata: {}\n\n"
                    return
                if state != last:
                    yield event("status", state)
                    last, quiet_since = state, now
                    if final(state):
                        return
                elif now - quiet_since > SSE_KEEPALIVE_S:
                    yield ": keep-alive\n\n"  # finds clients that left
                    quiet_since = now
                if now > ends_at:  # bounded life; EventSource reconnects by itself
                    yield "event: timeout\ndata: {}\n\n"
                    return

    return _HeldStream(
        stream(),
        lambda: streams.close(caller.user_id),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


class _HeldStream(StreamingResponse):
    """A stream that gives its slot back when it ends, even one the client left before
    its first byte (whose generator never started)."""

    def __init__(self, content, release, **kwargs):
        super().__init__(content, **kwargs)
        self._release = release

    async def __call__(self, scope, receive, send) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            self._release()


@router.post("/{job_id}/cancel", response_model=JobOut, summary="Cancel a queued or running job")
def cancel_transcription(job: JobToManage, ctx: ContextDep) -> JobOut:
    labels = job_service.tags_of(ctx, [job.id])
    return JobOut.of(job_service.cancel_job(ctx, job), tags=labels[job.id])


@router.delete("/{job_id}", status_code=204, summary="Delete the job, its transcript and its files")
def delete_transcription(
    job: JobToManage, ctx: ContextDep, caller: CallerDep, address: AddressDep
) -> Response:
    job_service.delete_job(ctx, caller, job, address)
    return Response(status_code=204)


class StreamCounter:
    """Open event streams of this API process, in total and per user."""

    def __init__(self):
        self.total = 0
        self._by_user: dict[int, int] = {}

    def of(self, user_id: int) -> int:
        return self._by_user.get(user_id, 0)

    def take(self, user_id: int, max_total: int, max_per_user: int) -> bool:
        """One more stream for `user_id`, if under both caps (call from the event loop)."""
        if self.total >= max_total or self.of(user_id) >= max_per_user:
            return False
        self.total += 1
        self._by_user[user_id] = self.of(user_id) + 1
        return True

    def close(self, user_id: int) -> None:
        self.total -= 1
        self._by_user[user_id] = self.of(user_id) - 1
        if self._by_user[user_id] <= 0:
            del self._by_user[user_id]
