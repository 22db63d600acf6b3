"""/api/v1/vocabulary: the caller's terms (names, places, products, legal terms) that their
transcripts should spell as they do. The local engine reads them as a hint; each job keeps
the terms it started with."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import Field

from kazru_stt.api.deps import AddressDep, CallerDep, ContextDep
from kazru_stt.api.schemas import InputModel
from kazru_stt.domain.vocabulary import MAX_TERM_CHARS, MAX_TERMS
from kazru_stt.services import vocabulary

router = APIRouter(prefix="/api/v1/vocabulary", tags=["account"])


class Vocabulary(InputModel):
    terms: list[str] = Field(
        max_length=MAX_TERMS * 2,  # repeats and blanks are dropped before the limit counts
        description=f"At most {MAX_TERMS} terms of at most {MAX_TERM_CHARS} characters; "
        "repeats (ignoring case) and blanks are dropped.",
    )


@router.get("", summary="My vocabulary")
def get_vocabulary(caller: CallerDep, ctx: ContextDep) -> dict:
    return {"terms": vocabulary.terms(ctx, caller.user_id)}


@router.put("", summary="Replace my vocabulary (an empty list clears it)")
def put_vocabulary(
    body: Vocabulary, caller: CallerDep, ctx: ContextDep, address: AddressDep
) -> dict:
    return {"terms": vocabulary.replace(ctx, caller.user_id, body.terms, address)}
