"""Corrections of a completed transcript (segments' text, language, speaker; split, merge;
undo, redo, history), its review, and the owner's consent to use it as evaluation data."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query
from fastapi.responses import Response

from kazru_stt.api.deps import AddressDep, CallerDep, ContextDep, JobToEdit, JobToRead
from kazru_stt.api.schemas import (
    ConsentChange,
    JobOut,
    SegmentEdit,
    SegmentSplit,
    SpeakerCount,
    SpeakerEdit,
    TextReplace,
)
from kazru_stt.domain.errors import InvalidOptionError
from kazru_stt.services import accuracy, corrections, rediarize

router = APIRouter(prefix="/api/v1/transcriptions", tags=["corrections"])
SegmentIndex = Annotated[int, Path(ge=0, le=1_000_000)]
SpeakerLabel = Annotated[str, Path(max_length=32)]


@router.patch("/{job_id}/segments/{index}", summary="Correct a segment's text, language, speaker")
def edit_segment(
    job: JobToEdit, index: SegmentIndex, body: SegmentEdit, ctx: ContextDep, caller: CallerDep
) -> dict:
    changes = body.model_dump(exclude_unset=True)
    if not changes:
        raise InvalidOptionError("give text, language or speaker")
    return corrections.edit_segment(ctx, caller, job, index, changes)


@router.post("/{job_id}/segments/{index}/split", summary="Split a segment at a character")
def split_segment(
    job: JobToEdit, index: SegmentIndex, body: SegmentSplit, ctx: ContextDep, caller: CallerDep
) -> dict:
    return {"segments": corrections.split_segment(ctx, caller, job, index, body.at)}


@router.post("/{job_id}/segments/{index}/merge", summary="Merge a segment with the next one")
def merge_segments(job: JobToEdit, index: SegmentIndex, ctx: ContextDep, caller: CallerDep) -> dict:
    return corrections.merge_segments(ctx, caller, job, index)


@router.post(
    "/{job_id}/replace", summary="Replace a text everywhere in the transcript (one correction)"
)
def replace_text(job: JobToEdit, body: TextReplace, ctx: ContextDep, caller: CallerDep) -> dict:
    return corrections.replace_all(
        ctx, caller, job, body.find, body.replace, match_case=body.match_case
    )


@router.post("/{job_id}/undo", summary="Undo the last correction")
def undo(job: JobToEdit, ctx: ContextDep) -> dict:
    return corrections.undo(ctx, job)


@router.post("/{job_id}/redo", summary="Redo the last undone correction")
def redo(job: JobToEdit, ctx: ContextDep) -> dict:
    return corrections.redo(ctx, job)


@router.post(
    "/{job_id}/diarize",
    status_code=202,
    response_model=JobOut,
    summary="Find the speakers again (another count) without recognising the speech again",
)
def diarize(job: JobToEdit, body: SpeakerCount, ctx: ContextDep, caller: CallerDep) -> JobOut:
    """The text and its corrections stay; the new speakers are one correction in the history
    (undo restores the old ones). `stage` is `diarization` until they are there."""
    return JobOut.of(rediarize.request(ctx, caller, job, **body.model_dump()))


@router.get("/{job_id}/history", summary="Corrections, newest first (who, when, before/after)")
def history(
    job: JobToRead,
    ctx: ContextDep,
    segment: Annotated[int | None, Query(ge=0, le=1_000_000)] = None,
) -> dict:
    return corrections.history(ctx, job, segment)


@router.patch("/{job_id}/speakers/{label}", summary="Rename a speaker")
def rename_speaker(job: JobToEdit, label: SpeakerLabel, body: SpeakerEdit, ctx: ContextDep) -> dict:
    return corrections.rename_speaker(ctx, job, label, body.name)


@router.post("/{job_id}/review", summary="Mark the transcript reviewed: it now measures accuracy")
def review(job: JobToEdit, ctx: ContextDep, caller: CallerDep, address: AddressDep) -> dict:
    return accuracy.mark_reviewed(ctx, caller, job, address)


@router.delete("/{job_id}/review", status_code=204, summary="Take the review back")
def unreview(job: JobToEdit, ctx: ContextDep) -> Response:
    accuracy.unmark_reviewed(ctx, job)
    return Response(status_code=204)


@router.put("/{job_id}/consent", summary="Allow (or not) its use as evaluation data (owner only)")
def consent(job: JobToRead, body: ConsentChange, ctx: ContextDep, caller: CallerDep) -> dict:
    return accuracy.set_consent(ctx, caller, job, body.evaluation)
