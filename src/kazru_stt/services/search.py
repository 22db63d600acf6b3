"""Search across the transcripts a caller may see: the words of a query, each matched as the
start of a word, case- and ё/е-folded (domain/search_text), newest first, narrowed by
workspace, tag, language, speaker and date. The index (db/search_index) narrows by words and
visibility in one lookup; the rows it names are then read through `job_access.visible`, the
one place visibility is decided."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, or_, select

from kazru_stt.db import search_index
from kazru_stt.db.models import Job, SegmentRow, SpeakerRow, WorkspaceMember
from kazru_stt.db.session import session_scope
from kazru_stt.domain.job_status import JobStatus
from kazru_stt.domain.search_text import query_terms
from kazru_stt.services import tags
from kazru_stt.services.accounts import Caller
from kazru_stt.services.context import ServiceContext
from kazru_stt.services.job_access import visible

MAX_LIMIT = 100


def search(
    ctx: ServiceContext,
    caller: Caller,
    query: str,
    *,
    language: str | None = None,
    workspace_id: int | None = None,
    tag: str | None = None,
    speaker: str | None = None,
    date_from: date | None = None,
    date_to: date | None = None,
    limit: int = 20,
    offset: int = 0,
) -> dict[str, Any]:
    """{"terms", "hits": [{job_id, filename, created_at, index, start, end, text, language,
    speaker, speaker_name}], "more"}: `more` when another page has hits. `speaker`: a label
    or a name given to one (any case); dates are the upload's, in the install's zone,
    inclusive."""
    terms = query_terms(query)
    limit = max(1, min(limit, MAX_LIMIT))
    with session_scope(ctx.db_url) as db:
        tokens = _tokens(db, caller, workspace_id)
        within = _within(ctx, tag, speaker, date_from, date_to)
        ids = search_index.matching(db, terms, tokens, language, limit + 1, max(0, offset), within)
        more = len(ids) > limit
        ids = ids[:limit]
        rows = db.execute(
            visible(
                select(SegmentRow, Job.filename, Job.created_at)
                .join(Job, Job.id == SegmentRow.job_id)
                .where(SegmentRow.id.in_(ids), Job.status == JobStatus.COMPLETED),
                caller,
            )
        ).all()
        job_ids = {seg.job_id for seg, _, _ in rows}
        names = {
            (s.job_id, s.label): s.name
            for s in db.scalars(select(SpeakerRow).where(SpeakerRow.job_id.in_(job_ids)))
        }
    order = {segment_id: n for n, segment_id in enumerate(ids)}
    hits = [
        {
            "job_id": seg.job_id,
            "filename": filename,
            "created_at": created_at,
            "index": seg.idx,
            "start": seg.start,
            "end": seg.end,
            "text": seg.text,
            "language": seg.language,
            "speaker": seg.speaker,
            "speaker_name": names.get((seg.job_id, seg.speaker)),
        }
        for seg, filename, created_at in sorted(rows, key=lambda r: order[r[0].id])
    ]
    return {"terms": terms, "hits": hits, "more": more}


def _tokens(db, caller: Caller, workspace_id: int | None) -> list[str] | None:
    """The index's visibility tokens the caller's search covers (None: all, for an admin
    searching everywhere)."""
    if workspace_id is not None:
        member = db.scalar(
            select(WorkspaceMember.role).where(
                WorkspaceMember.workspace_id == workspace_id,
                WorkspaceMember.user_id == caller.user_id,
            )
        )
        if member is None and not caller.is_admin:
            return []  # not a member: nothing, as for a workspace that does not exist
        return [search_index.workspace_token(workspace_id)]
    if caller.is_admin:
        return None
    spaces = db.scalars(
        select(WorkspaceMember.workspace_id).where(WorkspaceMember.user_id == caller.user_id)
    )
    return [search_index.owner_token(caller.user_id)] + [
        search_index.workspace_token(w) for w in spaces
    ]


def _within(ctx: ServiceContext, tag, speaker, date_from, date_to):
    """The segments the filters beyond words and language allow, as a subquery; None when
    none is given (the index alone answers)."""
    if not (tag or speaker or date_from or date_to):
        return None
    stmt = select(SegmentRow.id).join(Job, Job.id == SegmentRow.job_id)
    if tag:
        stmt = stmt.where(SegmentRow.job_id.in_(tags.jobs_tagged(tag)))
    if speaker:
        wanted = speaker.strip()
        named = (
            select(SpeakerRow.id)
            .where(
                SpeakerRow.job_id == SegmentRow.job_id,
                SpeakerRow.label == SegmentRow.speaker,
                # (SQLite's lower() folds ASCII only: a name is also found as written.)
                or_(SpeakerRow.name == wanted, func.lower(SpeakerRow.name) == wanted.lower()),
            )
            .exists()
        )
        stmt = stmt.where(or_(SegmentRow.speaker == wanted.upper(), named))
    zone = ZoneInfo(ctx.settings.timezone)
    if date_from:
        stmt = stmt.where(Job.created_at >= datetime.combine(date_from, time(), zone))
    if date_to:
        end = datetime.combine(date_to + timedelta(days=1), time(), zone)
        stmt = stmt.where(Job.created_at < end)
    return stmt
