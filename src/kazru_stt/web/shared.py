"""The page a read-only link opens (/s/{token}): the transcript, with its recording when the
link allows it, for someone without an account. Never indexed, never sending a referrer,
never cached; a dead link is the same "not found" as one that never existed."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from kazru_stt.api.deps import client_address
from kazru_stt.api.paths import SHARED_URL
from kazru_stt.api.ranged import ranged_response
from kazru_stt.api.routes.transcriptions import media_type_of
from kazru_stt.domain.errors import KazruError
from kazru_stt.services import jobs as job_service
from kazru_stt.services import share_links
from kazru_stt.web import view
from kazru_stt.web.pages import page_locale, render

router = APIRouter(include_in_schema=False)
PRIVATE = {
    "X-Robots-Tag": "noindex, nofollow, noarchive",
    "Cache-Control": "no-store",  # (Referrer-Policy: no-referrer comes from api/guard)
}


def _gone(request: Request) -> Response:
    response = render(request, "not_found.html", None, status=404)
    response.headers.update(PRIVATE)
    return response


@router.get(SHARED_URL + "{token}")
async def shared_transcript(request: Request, token: str) -> Response:
    ctx = request.app.state.ctx
    address = await client_address(request)
    try:
        job, with_audio = await run_in_threadpool(share_links.open_link, ctx, token, address)
    except KazruError:
        return _gone(request)
    transcript = await run_in_threadpool(job_service.load_transcript, ctx, job)
    response = render(
        request,
        "shared.html",
        None,
        filename=job.filename,
        transcript=view.transcript_view(transcript, page_locale(request, None)),
        audio_url=f"{SHARED_URL}{token}/audio" if with_audio and job.storage_key else None,
        is_video=(media_type_of(job.content_type, job.filename) or "").startswith("video/"),
    )
    response.headers.update(PRIVATE)
    return response


@router.get(SHARED_URL + "{token}/audio")
async def shared_audio(request: Request, token: str) -> Response:
    ctx = request.app.state.ctx
    try:
        job, with_audio = await run_in_threadpool(
            share_links.open_link, ctx, token, None, count=False
        )
    except KazruError:
        with_audio, job = False, None
    if job is None or not with_audio or not job.storage_key:
        return _gone(request)
    media_type = media_type_of(job.content_type, job.filename)
    return await run_in_threadpool(
        ranged_response,
        ctx.storage,
        job.storage_key,
        request.headers.get("range"),
        media_type or "application/octet-stream",
        {**PRIVATE, "Content-Disposition": "inline" if media_type else "attachment"},
    )
