"""Retention: original audio goes first (hours after its job ends), transcripts later (days
after upload). Files are deleted before the rows that name them, so a crash between the two
leaves a row to retry, never an orphaned file. Safe to run from every worker at once."""

from __future__ import annotations

import logging
from datetime import timedelta

from sqlalchemy import func, select, update

from kazru_stt.db.models import Job, utcnow
from kazru_stt.db.session import rows_changed, session_scope
from kazru_stt.domain.job_status import JobStatus
from kazru_stt.services import audit
from kazru_stt.services.context import ServiceContext
from kazru_stt.services.jobs import delete_transcript_rows

log = logging.getLogger(__name__)
BATCH = 500


def run_retention(ctx: ServiceContext) -> dict[str, int]:
    s = ctx.settings
    now = utcnow()
    audio_before = now - timedelta(hours=s.retention_audio_hours)
    with session_scope(ctx.db_url) as db:
        audio_due = db.execute(
            select(Job.id, Job.storage_key)
            .where(
                Job.storage_key.is_not(None),
                Job.status.in_(JobStatus.TERMINAL),
                Job.finished_at < audio_before,
            )
            .limit(BATCH)
        ).all()
        expired_due = db.execute(
            select(Job.id, Job.storage_key)
            .where(Job.expires_at < now, Job.status != JobStatus.EXPIRED)
            .limit(BATCH)
        ).all()

    audio_deleted = 0
    for job_id, key in audio_due:
        ctx.storage.delete(key or "")  # never empty: selected for having one
        with session_scope(ctx.db_url) as db:
            audio_deleted += rows_changed(
                db.execute(
                    update(Job)
                    .where(Job.id == job_id, Job.storage_key == key)
                    .values(storage_key=None, audio_deleted_at=now)
                )
            )

    expired = 0
    for job_id, key in expired_due:
        if key:
            ctx.storage.delete(key)
        with session_scope(ctx.db_url) as db:
            delete_transcript_rows(db, [job_id])
            expired += rows_changed(
                db.execute(
                    update(Job)
                    .where(Job.id == job_id, Job.status != JobStatus.EXPIRED)
                    .values(
                        status=JobStatus.EXPIRED,
                        storage_key=None,
                        audio_deleted_at=func.coalesce(Job.audio_deleted_at, now),
                        result_meta=None,
                        webhook_url=None,
                        finished_at=func.coalesce(Job.finished_at, now),
                    )
                )
            )

    result = {"audio_deleted": audio_deleted, "transcripts_expired": expired}
    if audio_deleted or expired:
        with session_scope(ctx.db_url) as db:
            audit.record(db, "retention.run", details=result)
        log.info("retention: %d recordings and %d transcripts deleted", audio_deleted, expired)
    return result
