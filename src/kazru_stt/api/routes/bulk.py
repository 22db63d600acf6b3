"""/api/v1/transcriptions/bulk: many transcriptions at once (services/bulk)."""

from __future__ import annotations

from typing import Annotated, Literal
from urllib.parse import quote

from fastapi import APIRouter, Header
from fastapi.responses import Response
from pydantic import Field

from kazru_stt.api.deps import AddressDep, CallerDep, ContextDep
from kazru_stt.api.schemas import InputModel
from kazru_stt.exporters import get_format
from kazru_stt.exporters.paper import Paper, paper_for_locale
from kazru_stt.services import accounts, bulk

router = APIRouter(prefix="/api/v1/transcriptions/bulk", tags=["transcriptions"])
JobIds = list[str]


class BulkExport(InputModel):
    ids: JobIds = Field(min_length=1, max_length=bulk.MAX_JOBS)
    format: str = Field("txt", max_length=8, description="txt|srt|vtt|json|docx|pdf")
    lang: Literal["kk", "ru", "en"] | None = Field(
        None, description="the reader's language; default: the account's"
    )
    redact: Literal["pii"] | None = Field(None, description="pii: anonymised copies")
    paper: Paper | None = Field(
        None, description="docx and pdf: a4|letter; default: the browser's locale's, else a4"
    )


class BulkDelete(InputModel):
    ids: JobIds = Field(min_length=1, max_length=bulk.MAX_JOBS)


@router.post(
    "/export",
    summary="Download many transcripts as one zip (the ones not completed are listed in it)",
)
def bulk_export(
    body: BulkExport,
    caller: CallerDep,
    ctx: ContextDep,
    address: AddressDep,
    accept_language: Annotated[str | None, Header(include_in_schema=False)] = None,
) -> Response:
    fmt = get_format(body.format)
    lang = body.lang or accounts.locale_of(ctx, caller.user_id)
    data, counts = bulk.export_zip(
        ctx,
        caller,
        body.ids,
        fmt,
        lang=lang,
        redact=body.redact == "pii",
        address=address,
        paper=body.paper or paper_for_locale(accept_language),
    )
    name = f"transcripts-{fmt.extension}.zip"
    headers = {
        "Content-Disposition": f"attachment; filename=\"{name}\"; filename*=UTF-8''{quote(name)}",
        "Kazru-Exported": str(counts["exported"]),
        "Kazru-Skipped": str(counts["skipped"]),
    }
    return Response(data, media_type="application/zip", headers=headers)


@router.post("/delete", summary="Delete many transcriptions, their files and their index entries")
def bulk_delete(body: BulkDelete, caller: CallerDep, ctx: ContextDep, address: AddressDep) -> dict:
    return {"deleted": bulk.delete_many(ctx, caller, body.ids, address)}
