"""Live workers: each worker process beats in the `workers` table while it runs (idle or
busy); a worker not seen for LIVE_WITHIN_S is not counted (and its row is pruned)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import delete, func, select, update

from kazru_stt import idle_models
from kazru_stt.db.models import Job, WorkerRow, utcnow
from kazru_stt.db.session import rows_changed, session_scope
from kazru_stt.domain.job_status import JobStage, JobStatus
from kazru_stt.services.context import ServiceContext

BEAT_S = 15.0
LIVE_WITHIN_S = 3 * BEAT_S
FORGET_AFTER_S = 24 * 3600.0


# What each `kazru worker --stages` runs, as the job's stages are named.
STAGES_RUN = {
    "asr": [JobStage.RECOGNITION],
    "diarization": [JobStage.DIARIZATION],
    "all": [JobStage.RECOGNITION, JobStage.DIARIZATION],
}


def beat(ctx: ServiceContext, worker_id: str, stages: str = "all") -> None:
    now = utcnow()
    models = idle_models.loaded()
    with session_scope(ctx.db_url) as db:
        if not rows_changed(
            db.execute(
                update(WorkerRow)
                .where(WorkerRow.id == worker_id)
                .values(seen_at=now, models=models, stages=stages)
            )
        ):
            db.add(
                WorkerRow(id=worker_id, started_at=now, seen_at=now, models=models, stages=stages)
            )
        db.execute(
            delete(WorkerRow).where(WorkerRow.seen_at < now - timedelta(seconds=FORGET_AFTER_S))
        )


def gone(ctx: ServiceContext, worker_id: str) -> None:
    with session_scope(ctx.db_url) as db:
        db.execute(delete(WorkerRow).where(WorkerRow.id == worker_id))


def listing(ctx: ServiceContext) -> list[dict]:
    """Every worker seen within a day: live or not, its models, the jobs it is running
    (each job's own heartbeat says which worker holds it)."""
    since = utcnow() - timedelta(seconds=LIVE_WITHIN_S)
    with session_scope(ctx.db_url) as db:
        rows = db.scalars(select(WorkerRow).order_by(WorkerRow.started_at)).all()
        running = db.execute(
            select(Job.worker_id, Job.id, Job.heartbeat_at).where(
                Job.status == JobStatus.PROCESSING
            )
        ).all()
    jobs: dict[str, list[dict]] = {}
    for worker_id, job_id, beat_at in running:
        jobs.setdefault(worker_id or "", []).append({"id": job_id, "heartbeat_at": beat_at})
    return [
        {
            "id": row.id,
            "stages": STAGES_RUN.get(row.stages or "all", STAGES_RUN["all"]),
            "live": row.seen_at >= since,
            "started_at": row.started_at,
            "seen_at": row.seen_at,
            "models": row.models or [],
            "jobs": jobs.get(row.id, []),
        }
        for row in rows
    ]


def live_by_stage(ctx: ServiceContext) -> dict[str, int]:
    """Live workers that run each stage (a worker of all stages counts for each)."""
    since = utcnow() - timedelta(seconds=LIVE_WITHIN_S)
    with session_scope(ctx.db_url) as db:
        kinds = db.scalars(select(WorkerRow.stages).where(WorkerRow.seen_at >= since)).all()
    counts = {JobStage.RECOGNITION.value: 0, JobStage.DIARIZATION.value: 0}
    for kind in kinds:
        for stage in STAGES_RUN.get(kind or "all", STAGES_RUN["all"]):
            counts[stage] += 1
    return counts


def live_count(ctx: ServiceContext) -> int:
    since = utcnow() - timedelta(seconds=LIVE_WITHIN_S)
    with session_scope(ctx.db_url) as db:
        return int(db.scalar(select(func.count()).where(WorkerRow.seen_at >= since)) or 0)
