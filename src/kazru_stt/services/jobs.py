"""Jobs as users see them: create from an upload, list, read, cancel, edit, delete."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any, BinaryIO

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from kazru_stt.db.models import Job, JobStatus, SegmentRow, SpeakerRow, utcnow
from kazru_stt.db.session import session_scope
from kazru_stt.domain.errors import KazruError, MediaError
from kazru_stt.domain.transcript import Segment, Speaker, Transcript, Word
from kazru_stt.media import probe
from kazru_stt.pipeline.options import TranscribeOptions
from kazru_stt.services.context import ServiceContext


class NotFound(KazruError):
    code = "not_found"


class Conflict(KazruError):
    code = "conflict"


def new_job_id() -> str:
    return uuid.uuid4().hex


def create_job(
    ctx: ServiceContext,
    upload: BinaryIO,
    *,
    filename: str,
    content_type: str | None,
    options: TranscribeOptions,
    owner_id: int | None = None,
    webhook_url: str | None = None,
    max_duration_s: float | None = None,
) -> Job:
    """Store the upload, check it is real media within the limits, queue a job."""
    s = ctx.settings
    max_duration_s = max_duration_s or s.max_duration_s
    options.validate()
    stored = ctx.storage.save(upload, max_bytes=s.max_upload_mb * 1024 * 1024)
    try:
        with ctx.storage.local_path(stored.key) as path:
            try:
                info = probe(path)
            except MediaError as exc:  # speak of the user's file, not our storage id
                exc.message = exc.message.replace(path.name, filename or "upload")
                raise
        if info.duration is not None and info.duration > max_duration_s:
            raise MediaError(
                f"the recording is {info.duration:.0f} s long; the limit here is "
                f"{max_duration_s:.0f} s",
                code="duration_limit",
                details={"duration_s": info.duration, "max_duration_s": max_duration_s},
            )
    except BaseException:
        ctx.storage.delete(stored.key)
        raise

    now = utcnow()
    job = Job(
        id=new_job_id(),
        owner_id=owner_id,
        status=JobStatus.QUEUED,
        engine=options.engine,
        language=options.language,
        options=options_to_dict(options),
        filename=(filename or "upload")[:255],
        content_type=content_type,
        size_bytes=stored.size,
        sha256=stored.sha256,
        duration_s=info.duration,
        storage_key=stored.key,
        webhook_url=webhook_url,
        created_at=now,
        enqueued_at=now,
        expires_at=now + timedelta(days=s.retention_days),
    )
    with session_scope(ctx.db_url) as db:
        db.add(job)
    if ctx.enqueue:
        ctx.enqueue(job.id)
    return job


def options_to_dict(o: TranscribeOptions) -> dict[str, Any]:
    return {
        "language": o.language,
        "languages": list(o.languages),
        "engine": o.engine,
        "diarize": o.diarize,
        "num_speakers": o.num_speakers,
        "min_speakers": o.min_speakers,
        "max_speakers": o.max_speakers,
    }


def options_from_dict(d: dict[str, Any]) -> TranscribeOptions:
    return TranscribeOptions(
        language=d.get("language", "auto"),
        languages=tuple(d.get("languages") or ("kk", "ru")),
        engine=d.get("engine", "local"),
        diarize=bool(d.get("diarize")),
        num_speakers=d.get("num_speakers"),
        min_speakers=d.get("min_speakers"),
        max_speakers=d.get("max_speakers"),
    )


def _visible(stmt, owner_id: int | None, is_admin: bool):
    """The one place job visibility is decided: owners see their own, admins all."""
    if is_admin:
        return stmt
    if owner_id is None:
        return stmt.where(Job.owner_id.is_(None))
    return stmt.where(Job.owner_id == owner_id)


def load_job(db: Session, job_id: str, owner_id: int | None, is_admin: bool = False) -> Job:
    job = db.scalars(_visible(select(Job).where(Job.id == job_id), owner_id, is_admin)).first()
    if job is None:
        raise NotFound(f"transcription {job_id} not found")
    return job


def list_jobs(
    db: Session,
    owner_id: int | None,
    is_admin: bool = False,
    *,
    status: str | None = None,
    limit: int = 20,
    offset: int = 0,
) -> tuple[list[Job], int]:
    stmt = _visible(select(Job), owner_id, is_admin)
    if status:
        stmt = stmt.where(Job.status == status)
    total = db.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    rows = db.scalars(stmt.order_by(Job.created_at.desc()).limit(limit).offset(offset)).all()
    return list(rows), total


def transcript_of(job: Job) -> Transcript:
    meta = job.result_meta or {}
    segments = [
        Segment(
            id=row.idx,
            start=row.start,
            end=row.end,
            text=row.text,
            language=row.language,
            speaker=row.speaker,
            words=[Word.from_dict(w) for w in (row.words or {}).get("words", [])],
            avg_logprob=row.avg_logprob,
        )
        for row in job.segments
    ]
    return Transcript(
        duration=meta.get("duration", job.duration_s or 0.0),
        segments=segments,
        speakers=[Speaker(row.label, row.name) for row in job.speakers],
        engine=meta.get("engine", job.engine),
        model=meta.get("model", ""),
        warnings=meta.get("warnings", []),
    )


def cancel_job(db: Session, job: Job) -> Job:
    if job.status in JobStatus.TERMINAL:
        raise Conflict(f"the transcription is already {job.status}", code="not_cancelable")
    db.execute(
        update(Job)
        .where(Job.id == job.id, Job.status.in_([JobStatus.QUEUED, JobStatus.PROCESSING]))
        .values(status=JobStatus.CANCELED, finished_at=utcnow(), error_code=None)
    )
    db.flush()
    db.refresh(job)
    return job


def delete_job(ctx: ServiceContext, db: Session, job: Job) -> None:
    """Delete rows and files. A running worker notices at its next heartbeat and stops."""
    if job.storage_key:
        ctx.storage.delete(job.storage_key)
    db.delete(job)


def edit_segment(db: Session, job: Job, index: int, text: str) -> SegmentRow:
    if job.status != JobStatus.COMPLETED:
        raise Conflict("only a completed transcript can be edited", code="not_ready")
    row = db.scalars(
        select(SegmentRow).where(SegmentRow.job_id == job.id, SegmentRow.idx == index)
    ).first()
    if row is None:
        raise NotFound(f"segment {index} not found")
    if row.text != text:
        row.text = text.strip()
        row.words = {"words": []}  # word timings no longer match edited text
        row.edited = True
    return row


def rename_speaker(db: Session, job: Job, label: str, name: str | None) -> SpeakerRow:
    row = db.scalars(
        select(SpeakerRow).where(SpeakerRow.job_id == job.id, SpeakerRow.label == label)
    ).first()
    if row is None:
        raise NotFound(f"speaker {label} not found")
    row.name = (name or "").strip() or None
    return row
