"""Jobs as users see them: create from an upload, list, read, cancel, edit, delete.

Every function opens its own short database session and commits before it returns, so a
caller (an API route) never holds a connection while it waits for anything else, and a
write is durable before the response that reports it is sent.
"""

from __future__ import annotations

import uuid
from datetime import timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session
from sqlalchemy.sql import func

from kazru_stt import job_metrics, request_ids
from kazru_stt.db import search_index
from kazru_stt.db.models import (
    Job,
    JobTag,
    ReviewScore,
    SegmentRow,
    SpeakerRow,
    TranscriptEdit,
    utcnow,
)
from kazru_stt.db.session import rows_changed, session_scope
from kazru_stt.domain.engine_names import EngineName
from kazru_stt.domain.error_codes import ErrorCode
from kazru_stt.domain.errors import Conflict, MediaError, NotFound
from kazru_stt.domain.job_status import JobStage, JobStatus, stage_of
from kazru_stt.domain.languages import KAZAKH_RUSSIAN
from kazru_stt.domain.text_safety import clean_name
from kazru_stt.domain.transcript import Segment, Speaker, Transcript, Word
from kazru_stt.exporters.redaction import Redactions
from kazru_stt.media import check_duration, media_name, probe
from kazru_stt.pipeline.options import TranscribeOptions
from kazru_stt.services import audit, quotas, tags, workspaces
from kazru_stt.services.accounts import Caller
from kazru_stt.services.context import ServiceContext
from kazru_stt.services.job_access import visible
from kazru_stt.storage import StoredFile


def new_job_id() -> str:
    return uuid.uuid4().hex


def create_job_for_stored(
    ctx: ServiceContext,
    stored: StoredFile,
    *,
    filename: str,
    content_type: str | None,
    options: TranscribeOptions,
    owner: Caller,
    webhook_url: str | None = None,
    max_duration_s: float | None = None,
    workspace_id: int | None = None,
) -> Job:
    """Queue a job for an upload already in storage (streamed there as it arrived): check it
    is real media within the limits and quotas, reading its header where it lies. Whatever
    fails, the stored file is deleted."""
    s = ctx.settings
    try:
        limit_s = max_duration_s or s.max_duration_s
        options.max_duration_s = limit_s
        options.validate()
        with ctx.storage.open(stored.key) as source:
            try:
                info = probe(source)
                duration = check_duration(source, info.duration, limit_s)
            except MediaError as exc:  # speak of the user's file, not our storage id
                exc.message = exc.message.replace(media_name(source), filename or "upload")
                raise
    except BaseException:
        ctx.storage.delete(stored.key)
        raise

    now = utcnow()
    job = Job(
        id=new_job_id(),
        owner_id=owner.user_id,
        workspace_id=workspace_id,
        status=JobStatus.QUEUED,
        engine=options.engine,
        language=options.language,
        options=options_to_dict(options),
        filename=(clean_name(filename or "") or "upload")[:255],
        content_type=(content_type or "")[:100] or None,
        size_bytes=stored.size,
        sha256=stored.sha256,
        duration_s=duration,
        storage_key=stored.key,
        webhook_url=webhook_url,
        request_id=request_ids.current(),
        webhook_attempts=0,
        progress=0,
        attempts=0,
        created_at=now,
        enqueued_at=now,
        expires_at=now + timedelta(days=s.retention_days),
    )
    try:
        with session_scope(ctx.db_url) as db:
            quotas.charge(db, ctx, owner.user_id, job.id, duration, workspace_id)
            db.add(job)
    except BaseException:
        ctx.storage.delete(stored.key)
        raise
    job_metrics.JOBS_CREATED.labels(job.engine).inc()
    if ctx.enqueue:
        ctx.enqueue(job.id)  # a lost message is re-sent by the sweep
    return job


def options_to_dict(o: TranscribeOptions) -> dict[str, Any]:
    return {
        "language": o.language,
        "languages": list(o.languages),
        "engine": o.engine,
        "model": o.model,
        "diarize": o.diarize,
        "num_speakers": o.num_speakers,
        "min_speakers": o.min_speakers,
        "max_speakers": o.max_speakers,
        "max_duration_s": o.max_duration_s,
        "hint": o.hint,
    }


def options_from_dict(d: dict[str, Any]) -> TranscribeOptions:
    return TranscribeOptions(
        language=d.get("language", "auto"),
        languages=tuple(d.get("languages") or KAZAKH_RUSSIAN),
        engine=d.get("engine", EngineName.LOCAL),
        model=d.get("model"),
        diarize=bool(d.get("diarize")),
        num_speakers=d.get("num_speakers"),
        min_speakers=d.get("min_speakers"),
        max_speakers=d.get("max_speakers"),
        max_duration_s=d.get("max_duration_s"),
        hint=d.get("hint"),
    )


def lock_completed(db: Session, job_id: str, doing: str) -> Job:
    """The job's row, locked for this transaction (PostgreSQL; SQLite serializes writers),
    if its transcript is there to be `doing` (edited, reviewed)."""
    row = db.scalars(select(Job).where(Job.id == job_id).with_for_update()).first()
    if row is None:
        raise NotFound(f"transcription {job_id} not found")
    if row.status != JobStatus.COMPLETED:
        raise Conflict(f"only a completed transcript can be {doing}", code=ErrorCode.NOT_READY)
    return row


def lock_with_recording(db: Session, job_id: str, doing: str, cannot: str) -> Job:
    """`lock_completed`, for work that reads the recording again: refused when retention
    deleted it (`cannot`: what can then not be done) or while its speakers are being found."""
    row = lock_completed(db, job_id, doing)
    if row.storage_key is None:
        raise Conflict(
            f"the recording was deleted after its retention period: {cannot}",
            code=ErrorCode.AUDIO_DELETED,
        )
    if row.stage == JobStage.DIARIZATION:
        raise Conflict("its speakers are being found already", code=ErrorCode.CONFLICT)
    return row


def reload_job(ctx: ServiceContext, job: Job) -> Job:
    """A fresh copy of a job the caller was already allowed to see."""
    with session_scope(ctx.db_url) as db:
        fresh = db.get(Job, job.id)
    if fresh is None:
        raise NotFound(f"transcription {job.id} not found")
    return fresh


class JobSort(StrEnum):
    NEWEST = "newest"
    OLDEST = "oldest"
    NAME = "name"


_ORDER = {
    JobSort.NEWEST: (Job.created_at.desc(),),
    JobSort.OLDEST: (Job.created_at.asc(),),
    JobSort.NAME: (Job.filename.asc(), Job.created_at.desc()),
}


def list_jobs(
    ctx: ServiceContext,
    caller: Caller,
    *,
    status: str | None = None,
    workspace_id: int | None = None,
    tag: str | None = None,
    sort: JobSort = JobSort.NEWEST,
    limit: int = 20,
    offset: int = 0,
) -> tuple[list[Job], int]:
    """A page of the jobs the caller may see, filtered by status, workspace (0: none) and
    tag (folded: any case), and their total."""
    with session_scope(ctx.db_url) as db:
        stmt = visible(select(Job), caller)
        if status:
            stmt = stmt.where(Job.status == status)
        if workspace_id == 0:
            stmt = stmt.where(Job.workspace_id.is_(None))
        elif workspace_id is not None:
            stmt = stmt.where(Job.workspace_id == workspace_id)
        if tag:
            stmt = stmt.where(Job.id.in_(tags.jobs_tagged(tag)))
        total = db.scalar(select(func.count()).select_from(stmt.subquery())) or 0
        rows = db.scalars(stmt.order_by(*_ORDER[JobSort(sort)]).limit(limit).offset(offset)).all()
    return list(rows), total


def tags_of(ctx: ServiceContext, job_ids: list[str]) -> dict[str, list[str]]:
    with session_scope(ctx.db_url) as db:
        return tags.tags_of(db, job_ids)


def file_job(
    ctx: ServiceContext, caller: Caller, job: Job, changes: dict[str, Any], address: str | None
) -> tuple[Job, list[str]]:
    """Move the job to another workspace (or out of one) and/or replace its tags. The
    caller's right to do so with this job is checked by the route (job_access); the right
    to file into the target workspace here."""
    with session_scope(ctx.db_url) as db:
        row = db.get_one(Job, job.id)
        target = changes.get("workspace_id", row.workspace_id)
        if target != row.workspace_id:
            if target is not None:
                workspaces.check_can_file(db, caller, target)
            audit.record(
                db,
                "transcription.move",
                actor_id=caller.user_id,
                target=f"job:{row.id}",
                address=address,
                details={"from": row.workspace_id, "to": target},
            )
            row.workspace_id = target
            db.flush()
            search_index.refile_jobs(db, [row.id])
        if changes.get("tags") is not None:
            tags.set_tags(db, row.id, tags.clean(changes["tags"]))
            db.flush()
        return row, tags.tags_of(db, [row.id])[row.id]


def job_states(
    ctx: ServiceContext, job_ids: list[str]
) -> dict[str, tuple[str, int, str | None, str]]:
    """Status, progress, error code and stage of many jobs in one query (event streams)."""
    with session_scope(ctx.db_url) as db:
        rows = db.execute(
            select(Job.id, Job.status, Job.progress, Job.error_code, Job.stage).where(
                Job.id.in_(job_ids)
            )
        ).all()
    return {r[0]: (r[1], r[2], r[3], stage_of(r[1], r[4]).value) for r in rows}


def load_transcript(ctx: ServiceContext, job: Job) -> Transcript:
    with session_scope(ctx.db_url) as db:
        segments = db.scalars(
            select(SegmentRow).where(SegmentRow.job_id == job.id).order_by(SegmentRow.idx)
        ).all()
        speakers = db.scalars(
            select(SpeakerRow).where(SpeakerRow.job_id == job.id).order_by(SpeakerRow.id)
        ).all()
    return _transcript(job, segments, speakers)


def segment_of(row: SegmentRow, job_model: str | None = None) -> Segment:
    """`job_model`: the transcript's model; a segment names its own only where a
    language's own model wrote it."""
    model = (row.machine or {}).get("model")
    return Segment(
        id=row.idx,
        start=row.start,
        end=row.end,
        text=row.text,
        language=row.language,
        speaker=row.speaker,
        words=[Word.from_dict(w) for w in (row.words or {}).get("words", [])],
        avg_logprob=row.avg_logprob,
        edited=row.edited,
        low_confidence=row.low_confidence,
        model=None if model == job_model else model,
    )


def _transcript(job: Job, segments, speakers) -> Transcript:
    meta = job.result_meta or {}
    model = meta.get("model", "")
    # Only the speakers who say something: one whose passages a correction moved to others
    # (speakers found again, then undone) keeps its row, for its name if it comes back.
    used = {row.speaker for row in segments}
    return Transcript(
        duration=meta.get("duration", job.duration_s or 0.0),
        segments=[segment_of(row, model) for row in segments],
        speakers=[
            Speaker(row.label, row.name, row.suggested_name)
            for row in speakers
            if row.label in used
        ],
        engine=meta.get("engine", job.engine),
        model=model,
        warnings=meta.get("warnings", []),
    )


def completed_transcript(ctx: ServiceContext, job: Job) -> Transcript:
    if job.status != JobStatus.COMPLETED:
        raise Conflict(f"the transcription is {job.status}", code=ErrorCode.NOT_READY)
    return load_transcript(ctx, job)


def record_export(
    ctx: ServiceContext,
    caller: Caller,
    job: Job,
    fmt: str,
    address: str | None,
    redactions: Redactions | None = None,
    version: int | None = None,
) -> None:
    details: dict = {"format": fmt}
    if version is not None:
        details["version"] = version
    if redactions is not None:  # the counts per kind; the text hidden is never recorded
        details["redacted"] = dict(redactions.counts)
    with session_scope(ctx.db_url) as db:
        audit.record(
            db,
            "transcript.export",
            actor_id=caller.user_id,
            target=f"job:{job.id}",
            address=address,
            details=details,
        )


def cancel_job(ctx: ServiceContext, job: Job) -> Job:
    with session_scope(ctx.db_url) as db:
        changed = rows_changed(
            db.execute(
                update(Job)
                .where(Job.id == job.id, Job.status.in_(JobStatus.ACTIVE))
                .values(status=JobStatus.CANCELED, finished_at=utcnow(), error_code=None)
            )
        )
        fresh = db.get_one(Job, job.id)
    if not changed:
        raise Conflict(
            f"the transcription is already {fresh.status}", code=ErrorCode.NOT_CANCELABLE
        )
    return fresh


def delete_job(ctx: ServiceContext, caller: Caller, job: Job, address: str | None) -> None:
    """The stored file first: with the storage down, the request fails with nothing changed
    and can be repeated (rows first would leave the file behind for good). Then the rows; a
    running worker notices at its next heartbeat and stops, its result no longer written."""
    if job.storage_key:
        ctx.storage.delete(job.storage_key)
    with session_scope(ctx.db_url) as db:
        delete_job_rows(db, [job.id])
        audit.record(
            db,
            "transcription.delete",
            actor_id=caller.user_id,
            target=f"job:{job.id}",
            address=address,
        )


def delete_transcript_rows(db: Session, job_ids: list[str]) -> None:
    """The jobs' segments, speakers and edit history (retention keeps the job row itself,
    as expired, and the review's error counts, which hold no text)."""
    db.execute(delete(TranscriptEdit).where(TranscriptEdit.job_id.in_(job_ids)))
    search_index.unindex_jobs(db, job_ids)
    db.execute(delete(SegmentRow).where(SegmentRow.job_id.in_(job_ids)))
    db.execute(delete(SpeakerRow).where(SpeakerRow.job_id.in_(job_ids)))


def delete_job_rows(db: Session, job_ids: list[str]) -> None:
    """The jobs' transcripts and rows (also for erasure)."""
    delete_transcript_rows(db, job_ids)
    db.execute(delete(JobTag).where(JobTag.job_id.in_(job_ids)))
    db.execute(delete(ReviewScore).where(ReviewScore.job_id.in_(job_ids)))
    db.execute(delete(Job).where(Job.id.in_(job_ids)))
