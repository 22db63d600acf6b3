"""GET /api/v1/search: where in the transcripts I may see were these words said (filtered by
workspace, tag, language, speaker, date)."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query

from kazru_stt.api.deps import CallerDep, ContextDep
from kazru_stt.services import search as search_service

router = APIRouter(prefix="/api/v1/search", tags=["transcriptions"])


@router.get("", summary="Find words in my transcripts (each hit: its passage and time)")
def search(
    caller: CallerDep,
    ctx: ContextDep,
    q: Annotated[str, Query(min_length=1, max_length=200, description="words to find")],
    language: Annotated[
        str | None, Query(pattern=r"^([a-z]{2,3}|other)$", description="only passages in it")
    ] = None,
    workspace_id: Annotated[int | None, Query(ge=1, description="only in this workspace")] = None,
    tag: Annotated[str | None, Query(max_length=64, description="only ones so tagged")] = None,
    speaker: Annotated[
        str | None, Query(max_length=100, description="only said by this speaker (label or name)")
    ] = None,
    date_from: Annotated[date | None, Query(description="uploaded on or after this day")] = None,
    date_to: Annotated[date | None, Query(description="uploaded on or before this day")] = None,
    limit: Annotated[int, Query(ge=1, le=search_service.MAX_LIMIT)] = 20,
    offset: Annotated[int, Query(ge=0, le=10_000)] = 0,
) -> dict:
    return search_service.search(
        ctx,
        caller,
        q,
        language=language,
        workspace_id=workspace_id,
        tag=tag,
        speaker=speaker,
        date_from=date_from,
        date_to=date_to,
        limit=limit,
        offset=offset,
    )
