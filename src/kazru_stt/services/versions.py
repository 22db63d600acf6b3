"""A completed transcription recognised again with another engine, model or language
(`POST .../recognize`): the transcript as it is (a person's corrections included) is kept as
a numbered version, readable after (`GET .../versions/{n}`), and the job is queued again; the
new recognition's text becomes the job's. The corrections belong to the old text: they stay
in its version, and the new text starts without a history. The recording is recognised
again, so its minutes count against the quota of the person who asks."""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, func, select

from kazru_stt.db.models import Job, TranscriptEdit, TranscriptVersion, utcnow
from kazru_stt.db.session import session_scope
from kazru_stt.domain.errors import NotFound
from kazru_stt.domain.job_status import JobStatus
from kazru_stt.domain.transcript import Transcript
from kazru_stt.pipeline.options import TranscribeOptions
from kazru_stt.services import audit, quotas
from kazru_stt.services.accounts import Caller
from kazru_stt.services.context import ServiceContext
from kazru_stt.services.jobs import load_transcript, lock_with_recording, options_to_dict


def recognize_again(
    ctx: ServiceContext,
    caller: Caller,
    job: Job,
    options: TranscribeOptions,
    address: str | None = None,
) -> tuple[Job, int]:
    """Keep the transcript as version N and queue the job with `options`; (job, N)."""
    options.validate()
    transcript = load_transcript(ctx, job)
    with session_scope(ctx.db_url) as db:
        locked = lock_with_recording(
            db, job.id, "recognised again", "it cannot be recognised again"
        )
        last = db.scalar(
            select(func.max(TranscriptVersion.number)).where(TranscriptVersion.job_id == job.id)
        )
        number = (last or 0) + 1
        db.add(
            TranscriptVersion(
                job_id=job.id,
                number=number,
                created_by=caller.user_id,
                engine=transcript.engine,
                model=transcript.model,
                options=dict(locked.options or {}),
                transcript=transcript.to_dict(),
            )
        )
        quotas.charge(db, ctx, caller.user_id, job.id, locked.duration_s or 0.0)
        db.execute(delete(TranscriptEdit).where(TranscriptEdit.job_id == job.id))
        now = utcnow()
        locked.options = options_to_dict(options)
        locked.engine, locked.language = options.engine, options.language
        locked.status, locked.progress, locked.attempts = JobStatus.QUEUED, 0, 0
        locked.enqueued_at, locked.started_at, locked.finished_at = now, None, None
        locked.worker_id = locked.error_code = locked.error_message = locked.recipe = None
        locked.reviewed_at = None  # a review scored the old text
        audit.record(
            db,
            "transcription.recognized_again",
            actor_id=caller.user_id,
            target=job.id,
            address=address,
            details={"version": number, "engine": options.engine, "model": options.model},
        )
        db.flush()
        db.expunge(locked)
    if ctx.enqueue:
        ctx.enqueue(job.id)  # a lost message is re-sent by the sweep
    return locked, number


def _summary(v: TranscriptVersion) -> dict[str, Any]:
    return {
        "number": v.number,
        "created_at": v.created_at,
        "engine": v.engine,
        "model": v.model,
        "language": (v.options or {}).get("language"),
    }


def listing(ctx: ServiceContext, job: Job) -> list[dict[str, Any]]:
    """The job's earlier transcripts, oldest first (the current one is the job's own)."""
    with session_scope(ctx.db_url) as db:
        rows = db.scalars(
            select(TranscriptVersion)
            .where(TranscriptVersion.job_id == job.id)
            .order_by(TranscriptVersion.number)
        ).all()
        return [_summary(v) for v in rows]


def read(ctx: ServiceContext, job: Job, number: int) -> dict[str, Any]:
    with session_scope(ctx.db_url) as db:
        v = db.scalars(
            select(TranscriptVersion).where(
                TranscriptVersion.job_id == job.id, TranscriptVersion.number == number
            )
        ).first()
        if v is None:
            raise NotFound(f"transcription {job.id} has no version {number}")
        return {**_summary(v), "transcript": v.transcript}


def transcript_of(ctx: ServiceContext, job: Job, number: int) -> Transcript:
    """Version `number`'s transcript, to export it (also while the job runs again)."""
    return Transcript.from_dict(read(ctx, job, number)["transcript"])
