"""Running one job on a worker: claim it, transcribe with heartbeats, store the result.

Safe to run twice: the claim is a conditional UPDATE (queued -> processing), and the result
is written only while this worker still holds the job, so a job re-queued by the sweep and
taken by another worker is never stored twice.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import replace

from sqlalchemy import delete, select, update

from kazru_stt import job_metrics, request_ids
from kazru_stt.allocator import return_freed_memory
from kazru_stt.db import search_index
from kazru_stt.db.models import Job, SegmentRow, SpeakerRow, utcnow
from kazru_stt.db.session import (
    database_down,
    log_step_failure,
    rows_changed,
    session_scope,
)
from kazru_stt.domain.error_codes import ErrorCode
from kazru_stt.domain.errors import CanceledError, KazruError
from kazru_stt.domain.job_status import SPEAKERS_FIRST, JobStage, JobStatus
from kazru_stt.domain.machine_text import machine_record
from kazru_stt.domain.transcript import Transcript
from kazru_stt.outages import retry_during_outage
from kazru_stt.services import rediarize, reuse, voices, webhooks
from kazru_stt.services.context import ServiceContext
from kazru_stt.services.jobs import options_from_dict
from kazru_stt.storage import storage_down

log = logging.getLogger(__name__)

HEARTBEAT_S = 5.0
# How long a job waits for its recording's storage, or a finished transcript for the
# database, to come back before the job is failed or left to the sweep (which transcribes
# it again): a restart or failover takes seconds to a minute or two.
OUTAGE_WAIT_S = 300.0
Transcriber = Callable[..., Transcript]  # (path, options, progress) -> Transcript


class JobLost(Exception):
    """The job was canceled, deleted or taken over while this worker ran it."""


def claim(ctx: ServiceContext, job_id: str, worker_id: str) -> Job | None:
    with session_scope(ctx.db_url) as db:
        now = utcnow()
        claimed = rows_changed(
            db.execute(
                update(Job)
                .where(Job.id == job_id, Job.status == JobStatus.QUEUED)
                .values(
                    status=JobStatus.PROCESSING,
                    worker_id=worker_id,
                    heartbeat_at=now,
                    started_at=now,
                    progress=0,
                    attempts=Job.attempts + 1,
                )
            )
        )
        if not claimed:
            return None
        return db.get(Job, job_id)


def _still_mine(job_id: str, worker_id: str):
    return (Job.id == job_id) & (Job.status == JobStatus.PROCESSING) & (Job.worker_id == worker_id)


class Heartbeat:
    """Beats the job row every few seconds from a thread; records progress when told."""

    def __init__(self, ctx: ServiceContext, job_id: str, worker_id: str):
        self.ctx, self.job_id, self.worker_id = ctx, job_id, worker_id
        self.progress = 0
        self.lost = False
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True, name=f"heartbeat-{job_id}")
        self._last_written = -1

    def __enter__(self) -> Heartbeat:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join(timeout=10)

    def beat(self) -> None:
        with session_scope(self.ctx.db_url) as db:
            n = rows_changed(
                db.execute(
                    update(Job)
                    .where(_still_mine(self.job_id, self.worker_id))
                    .values(heartbeat_at=utcnow(), progress=self.progress)
                )
            )
        self._last_written = self.progress
        if not n:
            self.lost = True

    def _run(self) -> None:
        while not self._stop.wait(HEARTBEAT_S):
            try:
                self.beat()
            except Exception as exc:  # a busy database must not kill the job; try next beat
                log_step_failure(log, f"job {self.job_id}: heartbeat", exc)

    def on_progress(self, fraction: float) -> None:
        """Pipeline callback: record progress (at most ~every percent) and stop if lost."""
        self.progress = max(self.progress, min(99, int(fraction * 100)))
        if self.lost:
            raise CanceledError("the job was canceled or taken over")
        if self.progress - self._last_written >= 2:
            try:
                self.beat()
            except Exception as exc:
                if not database_down(exc):
                    raise
                return  # the progress is kept: the next beat that gets through writes it
            if self.lost:
                raise CanceledError("the job was canceled or taken over")


def store_result(
    ctx: ServiceContext,
    job_id: str,
    worker_id: str,
    transcript: Transcript,
    recipe: str | None = None,
    speakers_next: bool = False,
) -> bool:
    """Replace the job's segments with the transcript and complete it, atomically;
    `recipe`: what made its text (services/reuse), where another job may reuse it;
    `speakers_next`: its speakers are a stage of their own, still to run (the text can be
    read meanwhile)."""
    with session_scope(ctx.db_url) as db:
        done = rows_changed(
            db.execute(
                update(Job)
                .where(_still_mine(job_id, worker_id))
                .values(
                    status=JobStatus.COMPLETED,
                    progress=100,
                    finished_at=utcnow(),
                    heartbeat_at=utcnow(),
                    error_code=None,
                    error_message=None,
                    recipe=recipe,
                    stage=JobStage.DIARIZATION if speakers_next else None,
                    result_meta={
                        "duration": transcript.duration,
                        "engine": transcript.engine,
                        "model": transcript.model,
                        "languages": transcript.languages,
                        "warnings": transcript.warnings,
                        "stages": [{"stage": JobStage.RECOGNITION, "worker": worker_id}],
                        **({SPEAKERS_FIRST: True} if speakers_next else {}),
                    },
                )
            )
        )
        if not done:
            db.rollback()
            return False
        search_index.unindex_jobs(db, [job_id])
        db.execute(delete(SegmentRow).where(SegmentRow.job_id == job_id))
        db.execute(delete(SpeakerRow).where(SpeakerRow.job_id == job_id))
        rows = [
            SegmentRow(
                job_id=job_id,
                idx=seg.id,
                start=seg.start,
                end=seg.end,
                language=seg.language,
                speaker=seg.speaker,
                text=seg.text,
                words={"words": [w.to_dict() for w in seg.words]},
                avg_logprob=seg.avg_logprob,
                low_confidence=seg.low_confidence,
                machine=machine_record(seg, transcript.engine, transcript.model),
            )
            for seg in transcript.segments
        ]
        db.add_all(rows)
        db.flush()
        search_index.index_segments(db, rows, db.get_one(Job, job_id))
        db.add_all(voices.speaker_rows(db, job_id, transcript.speakers))
    return True


def fail(ctx: ServiceContext, job_id: str, worker_id: str, code: str, message: str) -> bool:
    with session_scope(ctx.db_url) as db:
        return bool(
            rows_changed(
                db.execute(
                    update(Job)
                    .where(_still_mine(job_id, worker_id))
                    .values(
                        status=JobStatus.FAILED,
                        error_code=code,
                        error_message=message[:2000],
                        finished_at=utcnow(),
                    )
                )
            )
        )


def run_job(ctx: ServiceContext, job_id: str, worker_id: str, transcriber: Transcriber) -> str:
    """Process one job end to end; returns the job's final status as this worker saw it."""
    job = claim(ctx, job_id, worker_id)
    if job is None:
        with session_scope(ctx.db_url) as db:
            status = db.scalar(select(Job.status).where(Job.id == job_id))
        log.info("job %s not claimable (status %s); nothing to do", job_id, status)
        return status or "missing"

    with request_ids.bound(job.request_id):
        return _run_claimed(ctx, job, worker_id, transcriber)


def _run_claimed(ctx: ServiceContext, job: Job, worker_id: str, transcriber: Transcriber) -> str:
    if job.enqueued_at and job.started_at:
        waited = (job.started_at - job.enqueued_at).total_seconds()
        job_metrics.QUEUE_WAIT.observe(max(0.0, waited))
    started = time.perf_counter()
    status, code = _process(ctx, job, worker_id, transcriber)
    elapsed = time.perf_counter() - started
    if status in (JobStatus.COMPLETED, JobStatus.FAILED):
        job_metrics.record_job(job.engine, status, code, elapsed, job.duration_s)
        log.info(
            "job %s %s in %.2f s",
            job.id,
            status,
            elapsed,
            extra={"job_id": job.id, "engine": job.engine, "code": code, "seconds": elapsed},
        )
    return_freed_memory()  # what the job's decode took, not kept for the next job
    return status


def _process(
    ctx: ServiceContext, job: Job, worker_id: str, transcriber: Transcriber
) -> tuple[str, str]:
    """Transcribe and store; the job's final status as this worker saw it, and its code."""
    job_id = job.id
    storage_key = job.storage_key
    assert storage_key is not None  # a job's recording goes only once it has ended
    options = options_from_dict(job.options or {})
    # Stages apart: recognition here; the speakers on a diarization worker, after.
    speakers_next = options.diarize and ctx.settings.stages_apart
    asked = replace(options, diarize=False) if speakers_next else options
    wanted = reuse.recipe(ctx.settings, options) if ctx.settings.reuse_transcripts else None
    try:
        source = reuse.find(ctx, job, wanted) if wanted else None
        reused = reuse.machine_transcript(ctx, source) if source is not None else None
        if reused is not None and not reuse.serves(ctx, job, reused):
            source = reused = None
    except Exception:  # a lookup that fails only costs a recognition
        log.warning("job %s: looking for an earlier transcript failed", job_id, exc_info=True)
        source = reused = None
    if source is not None and reused is not None:  # the same recording, recognised alike
        if not store_result(ctx, job_id, worker_id, reused, wanted):
            return JobStatus.CANCELED, ""
        job_metrics.REUSED.inc()
        log.info("job %s: the transcript of job %s reused", job_id, source.id)
        _notify(ctx, job)
        return JobStatus.COMPLETED, ""
    try:
        with Heartbeat(ctx, job_id, worker_id) as hb, ExitStack() as fetched:
            # Beating meanwhile: a job waiting for its storage is not a lost job.
            path = retry_during_outage(
                lambda: fetched.enter_context(ctx.storage.local_path(storage_key)),
                is_outage=storage_down,
                what=f"job {job_id}: reading its recording",
                give_up_after_s=OUTAGE_WAIT_S,
            )
            transcript = transcriber(path, asked, hb.on_progress)
    except CanceledError:
        log.info("job %s stopped: canceled or taken over", job_id)
        return JobStatus.CANCELED, ""
    except KazruError as exc:
        code, message = exc.code, exc.message
    except Exception as exc:  # never let one job take the worker down
        log.exception("job %s crashed", job_id)
        code, message = ErrorCode.INTERNAL_ERROR, f"transcription failed: {type(exc).__name__}"
    else:
        job_metrics.RECOGNITIONS.labels(transcript.engine).inc()
        # A fallback's text (another engine than asked) is not what the recipe names.
        made = wanted if transcript.engine == options.engine else None
        stored = retry_during_outage(
            lambda: store_result(ctx, job_id, worker_id, transcript, made, speakers_next),
            is_outage=database_down,
            what=f"job {job_id}: storing the transcript",
            give_up_after_s=OUTAGE_WAIT_S,
        )
        if not stored:
            return JobStatus.CANCELED, ""
        if speakers_next:  # its webhook goes when the speakers are in
            rediarize.send(ctx, job_id, None)
        else:
            _notify(ctx, job)
        return JobStatus.COMPLETED, ""
    failed = retry_during_outage(
        lambda: fail(ctx, job_id, worker_id, code, message),
        is_outage=database_down,
        what=f"job {job_id}: recording its failure",
        give_up_after_s=OUTAGE_WAIT_S,
    )
    if not failed:
        return JobStatus.CANCELED, ""
    _notify(ctx, job)
    return JobStatus.FAILED, code


def _notify(ctx: ServiceContext, job: Job) -> None:
    if job.webhook_url:
        webhooks.schedule_safely(ctx, job.id)
