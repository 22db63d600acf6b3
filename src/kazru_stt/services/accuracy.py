"""How accurate each engine and model is on the operator's own recordings, measured from
the transcripts people corrected and marked reviewed.

At review (and after every later correction of a reviewed transcript) each segment's
current text is the reference and the engine's kept text (`SegmentRow.machine`) the
hypothesis; their error counts are summed per corrected language, engine and model into
`ReviewScore` rows. Figures are corpus-level (errors over reference length, summed before
dividing), with the normalisation the benchmarks use (domain/text_compare.py).
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from kazru_stt.db.models import Job, ReviewScore, SegmentRow, utcnow
from kazru_stt.db.session import session_scope
from kazru_stt.domain.error_codes import ErrorCode
from kazru_stt.domain.errors import KazruError
from kazru_stt.domain.machine_text import language_agreement_s, machine_record, machine_text
from kazru_stt.domain.text_compare import ErrorCounts, error_counts, ratio
from kazru_stt.services import audit
from kazru_stt.services.accounts import Caller
from kazru_stt.services.context import ServiceContext
from kazru_stt.services.jobs import lock_completed, segment_of

UNKNOWN_LANGUAGE = "und"  # ISO 639-2 "undetermined": a segment nobody labelled


class _Tally:
    def __init__(self):
        self.counts = ErrorCounts()
        self.seconds = 0.0
        self.right_s = 0.0
        self.segments = 0

    def add(self, counts: ErrorCounts, seconds: float, right_s: float, segments: int) -> None:
        self.counts = self.counts + counts
        self.seconds += seconds
        self.right_s += right_s
        self.segments += segments

    def figures(self) -> dict[str, Any]:
        c = self.counts
        return {
            "wer": ratio(c.word_errors, c.ref_words),
            "cer": ratio(c.char_errors, c.ref_chars),
            "language_accuracy": round(self.right_s / self.seconds, 4) if self.seconds else None,
            "minutes": round(self.seconds / 60, 2),
            "segments": self.segments,
            "words": c.ref_words,
        }


def machine_of(row: SegmentRow, job: Job) -> dict | None:
    """The engine's record of a segment. Rows written before it was kept have none: their
    text is the machine's as long as nobody edited it, and unknown after."""
    if row.machine is not None:
        return row.machine
    if row.edited:
        return None  # edited before the machine's text was kept: no reference pair
    meta = job.result_meta or {}
    seg = segment_of(row)
    return machine_record(seg, meta.get("engine", job.engine), meta.get("model", ""))


def rescore(db: Session, job: Job) -> dict[str, Any]:
    """Replace the job's error counts with ones from its current rows; returns its figures."""
    db.execute(delete(ReviewScore).where(ReviewScore.job_id == job.id))
    rows = db.scalars(
        select(SegmentRow).where(SegmentRow.job_id == job.id).order_by(SegmentRow.idx)
    ).all()
    groups: dict[tuple[str, str, str], _Tally] = defaultdict(_Tally)
    whole = _Tally()
    for row in rows:
        machine = machine_of(row, job)
        if machine is None:
            continue
        seconds = max(0.0, row.end - row.start)
        counts = error_counts(row.text, machine_text(machine))
        right_s = language_agreement_s(machine, row.language, seconds)
        key = (row.language or UNKNOWN_LANGUAGE, machine["engine"], machine["model"] or "")
        groups[key].add(counts, seconds, right_s, 1)
        whole.add(counts, seconds, right_s, 1)
    for (language, engine, model), t in groups.items():
        db.add(
            ReviewScore(
                job_id=job.id,
                owner_id=job.owner_id,
                reviewed_at=job.reviewed_at,
                language=language[:8],
                engine=engine[:16],
                model=model[:200],
                seconds=t.seconds,
                segments=t.segments,
                word_errors=t.counts.word_errors,
                ref_words=t.counts.ref_words,
                char_errors=t.counts.char_errors,
                ref_chars=t.counts.ref_chars,
                language_right_s=t.right_s,
            )
        )
    return whole.figures()


def mark_reviewed(ctx: ServiceContext, caller: Caller, job: Job, address: str | None) -> dict:
    with session_scope(ctx.db_url) as db:
        row = lock_completed(db, job.id, "reviewed")
        row.reviewed_at = utcnow()
        row.reviewed_by = caller.user_id
        db.flush()
        figures = rescore(db, row)
        audit.record(
            db,
            "transcript.review",
            actor_id=caller.user_id,
            target=f"job:{job.id}",
            address=address,
        )
        return {"reviewed_at": row.reviewed_at, **figures}


def unmark_reviewed(ctx: ServiceContext, job: Job) -> None:
    with session_scope(ctx.db_url) as db:
        row = db.get(Job, job.id)
        if row is not None:
            row.reviewed_at = row.reviewed_by = None
            db.execute(delete(ReviewScore).where(ReviewScore.job_id == job.id))


def set_consent(ctx: ServiceContext, caller: Caller, job: Job, consent: bool) -> dict:
    """Only the owner may let the transcript be exported as evaluation data."""
    if job.owner_id != caller.user_id:
        raise KazruError(
            "only the owner of a transcription can give or withdraw consent",
            code=ErrorCode.NOT_OWNER,
        )
    with session_scope(ctx.db_url) as db:
        row = db.get_one(Job, job.id)
        row.eval_consent = consent
        audit.record(
            db,
            "transcript.consent",
            actor_id=caller.user_id,
            target=f"job:{job.id}",
            details={"evaluation": consent},
        )
        return {"evaluation_consent": consent}


def _week(at: datetime) -> tuple[str, date]:
    year, week, _ = at.isocalendar()
    return f"{year}-W{week:02d}", date.fromisocalendar(year, week, 1)


def summary(ctx: ServiceContext, owner_id: int | None) -> dict[str, Any]:
    """Figures over reviewed transcripts: all of them (`owner_id` None: admins) or one
    user's; per language/engine/model, per engine/model and week, and overall."""
    with session_scope(ctx.db_url) as db:
        stmt = select(ReviewScore)
        if owner_id is not None:
            stmt = stmt.where(ReviewScore.owner_id == owner_id)
        scores = db.scalars(stmt).all()
    overall = _Tally()
    groups: dict[tuple, _Tally] = defaultdict(_Tally)
    weeks: dict[tuple, _Tally] = defaultdict(_Tally)
    jobs: set[str] = set()
    for s in scores:
        counts = ErrorCounts(s.word_errors, s.ref_words, s.char_errors, s.ref_chars)
        args = (counts, s.seconds, s.language_right_s, s.segments)
        overall.add(*args)
        groups[(s.language, s.engine, s.model)].add(*args)
        weeks[(*_week(s.reviewed_at), s.engine, s.model)].add(*args)
        jobs.add(s.job_id)
    by_minutes = sorted(groups.items(), key=lambda kv: -kv[1].seconds)
    return {
        "scope": "all" if owner_id is None else "own",
        "overall": {**overall.figures(), "transcripts": len(jobs)},
        "groups": [
            {"language": lang, "engine": engine, "model": model, **t.figures()}
            for (lang, engine, model), t in by_minutes
        ],
        "weeks": [
            {"week": week, "starts": monday, "engine": engine, "model": model, **t.figures()}
            for (week, monday, engine, model), t in sorted(weeks.items())
        ],
    }
