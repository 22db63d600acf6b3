"""A live session's account side: how long its caller may still speak this month, and the
session kept as a normal transcript with its audio when it ends (editable, exportable,
diarizable afterwards, in the owner's list)."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from kazru_stt import job_metrics
from kazru_stt.db.models import AudioUsage, Job, utcnow
from kazru_stt.db.session import session_scope
from kazru_stt.domain.engine_names import EngineName
from kazru_stt.domain.job_status import JobStatus
from kazru_stt.domain.transcript import Segment, Transcript
from kazru_stt.pipeline.options import TranscribeOptions
from kazru_stt.services import quotas, run_job
from kazru_stt.services.accounts import Caller, zone_of
from kazru_stt.services.context import ServiceContext
from kazru_stt.services.jobs import new_job_id, options_to_dict

LIVE_WORKER = "live"


def seconds_left(ctx: ServiceContext, user_id: int) -> float:
    """Audio the user may still send this month: a session ends when it is spent."""
    u = quotas.usage(ctx, user_id)
    return max(0.0, (u["monthly_minutes_limit"] - u["minutes_this_month"]) * 60.0)


def _name(ctx: ServiceContext, owner: Caller, started: datetime) -> str:
    local = started.astimezone(ZoneInfo(zone_of(ctx, owner.user_id)))
    return f"live-{local:%Y-%m-%d-%H%M}.wav"


def save(
    ctx: ServiceContext,
    owner: Caller,
    recording: Path,
    segments: list[Segment],
    duration_s: float,
    options: TranscribeOptions,
    model: str,
    started: datetime,
) -> Job | None:
    """The session as a completed job owning its recording (a WAV file, moved into
    storage); nothing for a session without audio. The minutes are charged without a
    refusal: they were spoken (the session ended when the quota ran out)."""
    if duration_s <= 0:
        return None
    with recording.open("rb") as source:
        stored = ctx.storage.save(source)
    for i, seg in enumerate(segments):
        seg.id = i
    transcript = Transcript(
        duration=duration_s, segments=segments, engine=EngineName.LOCAL, model=model
    )
    now = utcnow()
    job = Job(
        id=new_job_id(),
        owner_id=owner.user_id,
        status=JobStatus.PROCESSING,
        worker_id=LIVE_WORKER,
        engine=EngineName.LOCAL,
        language=options.language,
        options=options_to_dict(options),
        filename=_name(ctx, owner, started),
        content_type="audio/wav",
        size_bytes=stored.size,
        sha256=stored.sha256,
        duration_s=duration_s,
        storage_key=stored.key,
        progress=99,
        attempts=1,
        created_at=started,
        enqueued_at=started,
        started_at=started,
        heartbeat_at=now,
        expires_at=now + timedelta(days=ctx.settings.retention_days),
    )
    try:
        with session_scope(ctx.db_url) as db:
            db.add(job)
            db.add(
                AudioUsage(user_id=owner.user_id, job_id=job.id, seconds=duration_s, created_at=now)
            )
    except BaseException:
        ctx.storage.delete(stored.key)
        raise
    job_metrics.JOBS_CREATED.labels(job.engine).inc()
    run_job.store_result(ctx, job.id, LIVE_WORKER, transcript)
    return job
