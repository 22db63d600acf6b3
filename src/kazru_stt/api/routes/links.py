"""/api/v1/transcriptions/{id}/links: read-only links to a transcript, for people without an
account (services/share_links). The link is `{"url", "expires_at"}`; its token is shown in
the answer that made it and never again."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Request, Response
from pydantic import Field

from kazru_stt.api.deps import AddressDep, CallerDep, ContextDep, JobToManage
from kazru_stt.api.paths import SHARED_URL
from kazru_stt.api.schemas import InputModel
from kazru_stt.services import share_links

router = APIRouter(prefix="/api/v1/transcriptions", tags=["transcriptions"])


class LinkRequest(InputModel):
    hours: int = Field(
        share_links.DEFAULT_HOURS,
        ge=1,
        le=share_links.MAX_HOURS,
        description="how long the link works",
    )
    with_audio: bool = Field(False, description="the reader may also play the recording")


@router.post("/{job_id}/links", status_code=201, summary="Make a read-only link to the transcript")
def create_link(
    job: JobToManage,
    body: LinkRequest,
    request: Request,
    ctx: ContextDep,
    caller: CallerDep,
    address: AddressDep,
) -> dict:
    token, link = share_links.create(
        ctx, caller, job, hours=body.hours, with_audio=body.with_audio, address=address
    )
    url = str(request.base_url).rstrip("/") + SHARED_URL + token
    return {**link, "url": url}


@router.get("/{job_id}/links", summary="The transcript's links, how often each was read")
def list_links(job: JobToManage, ctx: ContextDep) -> dict:
    return {"links": share_links.list_links(ctx, job)}


@router.delete("/{job_id}/links/{link_id}", status_code=204, summary="Revoke a link")
def revoke_link(
    job: JobToManage,
    link_id: Annotated[int, Path(ge=1)],
    ctx: ContextDep,
    caller: CallerDep,
    address: AddressDep,
) -> Response:
    share_links.revoke(ctx, caller, job, link_id, address)
    return Response(status_code=204)
