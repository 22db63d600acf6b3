"""GET /api/v1/search: where in the transcripts I may see were these words said."""

from __future__ import annotations

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
    limit: Annotated[int, Query(ge=1, le=search_service.MAX_LIMIT)] = 20,
    offset: Annotated[int, Query(ge=0, le=10_000)] = 0,
) -> dict:
    return search_service.search(ctx, caller, q, language=language, limit=limit, offset=offset)
