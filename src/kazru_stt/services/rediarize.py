"""Speakers found again on a completed transcription (`POST .../diarize`): another count, or
a recording first transcribed without speakers (a live session, say). Recognition is not run
again: the text and its corrections stay; the new speakers are one correction, undone in
one step. It runs on a worker (where the speaker models are), as a stage of its own:
`stage` is `diarization` meanwhile, and a worker that dies leaves it to the sweep."""

from __future__ import annotations

import bisect
import itertools
import logging
import threading
from datetime import timedelta

from sqlalchemy import delete, select, update

from kazru_stt.db.models import Job, SegmentRow, SpeakerRow, utcnow
from kazru_stt.db.session import session_scope
from kazru_stt.domain.error_codes import ErrorCode
from kazru_stt.domain.errors import KazruError
from kazru_stt.domain.job_status import SPEAKERS_FIRST, JobStage
from kazru_stt.domain.transcript import Word, speaker_label, speaker_number
from kazru_stt.pipeline.options import TranscribeOptions
from kazru_stt.pipeline.transcribe import diarize_file, speaker_of_most
from kazru_stt.services import corrections, voices, webhooks
from kazru_stt.services.accounts import Caller
from kazru_stt.services.context import ServiceContext
from kazru_stt.services.jobs import (
    load_transcript,
    lock_completed,
    lock_with_recording,
    options_from_dict,
)

log = logging.getLogger(__name__)
BEAT_S = 10.0  # the running stage's heartbeat (the sweep's `heartbeat_stale_s` is longer)


def request(
    ctx: ServiceContext,
    caller: Caller,
    job: Job,
    num_speakers: int | None = None,
    min_speakers: int | None = None,
    max_speakers: int | None = None,
) -> Job:
    """Queue the speakers of `job` found again within these bounds."""
    bounds = TranscribeOptions(
        num_speakers=num_speakers, min_speakers=min_speakers, max_speakers=max_speakers
    ).validate()
    if min_speakers and max_speakers and min_speakers > max_speakers:
        raise KazruError("min_speakers is more than max_speakers", code=ErrorCode.INVALID_OPTION)
    with session_scope(ctx.db_url) as db:
        locked = lock_with_recording(db, job.id, "diarized", "speakers cannot be found again")
        locked.options = {
            **(locked.options or {}),
            "diarize": True,
            "num_speakers": bounds.num_speakers,
            "min_speakers": bounds.min_speakers,
            "max_speakers": bounds.max_speakers,
        }
        locked.stage = JobStage.DIARIZATION
        locked.heartbeat_at = utcnow()
        db.flush()
        db.expunge(locked)
    send(ctx, job.id, caller.user_id)
    return locked


def send(ctx: ServiceContext, job_id: str, actor_id: int | None) -> None:
    enqueue = ctx.extra.get("enqueue_diarize")
    if enqueue is not None:
        enqueue(job_id, actor_id)  # a lost message is re-sent by the sweep (resend_stale)


def run(ctx: ServiceContext, job_id: str, actor_id: int | None, worker_id: str = "") -> str:
    """The stage on a worker: "done", or "skipped" when there is nothing to do (already
    done by another worker, or the job is gone). A new transcript's first speakers (stages
    apart) are the machine's: no correction, and the job's webhook goes now."""
    with session_scope(ctx.db_url) as db:
        job = db.get(Job, job_id)
        if job is None or job.stage != JobStage.DIARIZATION or job.storage_key is None:
            return "skipped"
        db.expunge(job)
    stop = threading.Event()
    threading.Thread(target=_beat, args=(ctx, job_id, stop), daemon=True).start()
    try:
        transcript = load_transcript(ctx, job)
        with ctx.storage.local_path(job.storage_key) as path:
            diarize_file(path, transcript, options_from_dict(job.options or {}))
        words = sorted(
            (w for s in transcript.segments for w in s.words if w.speaker), key=lambda w: w.start
        )
        with session_scope(ctx.db_url) as db:
            locked = lock_completed(db, job_id, "diarized")
            rows = db.scalars(
                select(SegmentRow).where(SegmentRow.job_id == job_id).order_by(SegmentRow.idx)
            ).all()
            # Against the passages as they are now: a person may have split or merged
            # some while the speakers were being found.
            found = [_speaker_over(words, r.start, r.end) or r.speaker for r in rows]
            meta = dict(locked.result_meta or {})
            first = bool(meta.pop(SPEAKERS_FIRST, False))
            if first:
                changed = _first_speakers(db, job_id, rows, found, transcript)
            else:
                speakers = _keep_names(
                    [r.speaker for r in rows], found, [r.end - r.start for r in rows]
                )
                changed = corrections.set_speakers(db, locked, actor_id, speakers)
            meta["warnings"] = transcript.warnings
            meta["stages"] = [
                *meta.get("stages", []),
                {"stage": JobStage.DIARIZATION, "worker": worker_id},
            ]
            locked.result_meta = meta
            locked.stage = None
            notify = first and locked.webhook_url is not None
        if notify:
            webhooks.schedule_safely(ctx, job_id)
        log.info("job %s: speakers found, %d passages changed", job_id, changed)
        return "done"
    except Exception:
        with session_scope(ctx.db_url) as db:  # the transcript stays as it was
            db.execute(update(Job).where(Job.id == job_id).values(stage=None))
        raise
    finally:
        stop.set()


def _first_speakers(db, job_id: str, rows, found: list[str | None], transcript) -> int:
    """The speakers of a transcript recognised without them, as the machine found them, with
    their voices and suggested names (as one stage would have given them)."""
    for row, speaker in zip(rows, found, strict=True):
        row.speaker = speaker
    db.execute(delete(SpeakerRow).where(SpeakerRow.job_id == job_id))
    db.add_all(voices.speaker_rows(db, job_id, transcript.speakers))
    return sum(1 for s in found if s)


def _beat(ctx: ServiceContext, job_id: str, stop: threading.Event) -> None:
    while not stop.wait(BEAT_S):
        try:
            with session_scope(ctx.db_url) as db:
                db.execute(update(Job).where(Job.id == job_id).values(heartbeat_at=utcnow()))
        except Exception:
            log.warning("job %s: heartbeat of the speakers' stage failed", job_id)


def _speaker_over(words: list[Word], start: float, end: float) -> str | None:
    """The speaker of most of the words' time within start..end (`words` by start)."""
    first = bisect.bisect_left([w.start for w in words], start - 0.01)
    return speaker_of_most(itertools.takewhile(lambda w: w.start < end, words[first:]))


def _keep_names(
    old: list[str | None], new: list[str | None], durations: list[float]
) -> list[str | None]:
    """The new speakers under the old labels they overlap most (so a name given to a
    speaker stays with that voice); a speaker more gets a label not used before."""
    overlap: dict[tuple[str, str], float] = {}
    for o, n, d in zip(old, new, durations, strict=True):
        if o and n:
            overlap[(n, o)] = overlap.get((n, o), 0.0) + d
    mapping: dict[str, str] = {}
    for (n, o), _ in sorted(overlap.items(), key=lambda kv: -kv[1]):
        if n not in mapping and o not in mapping.values():
            mapping[n] = o
    taken = {speaker_number(label) or 0 for label in [*old, *mapping.values()] if label}
    next_number = max(taken, default=0) + 1
    for n in sorted({n for n in new if n}, key=lambda label: speaker_number(label) or 0):
        if n not in mapping:
            mapping[n] = speaker_label(next_number)
            next_number += 1
    return [mapping[n] if n else None for n in new]


def resend_stale(ctx: ServiceContext) -> int:
    """For the sweep: a speakers' stage whose worker stopped beating is sent again."""
    stale = utcnow() - timedelta(seconds=ctx.settings.heartbeat_stale_s)
    with session_scope(ctx.db_url) as db:
        lost = db.execute(
            select(Job.id, Job.owner_id).where(
                Job.stage == JobStage.DIARIZATION, Job.heartbeat_at < stale
            )
        ).all()
        for job_id, _owner in lost:
            db.execute(update(Job).where(Job.id == job_id).values(heartbeat_at=utcnow()))
    for job_id, owner in lost:
        send(ctx, job_id, owner)
    return len(lost)
