"""Search across the transcripts a caller may see: the words of a query, each matched as the
start of a word, case- and ё/е-folded (domain/search_text), newest first, narrowed by
workspace, tag, language, speaker and date. The index (db/search_index) narrows by words and
visibility in one lookup; the rows it names are then read through `job_access.visible`, the
one place visibility is decided."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, or_, select
from sqlalchemy.sql import ColumnElement, Select

from kazru_stt.db import search_index
from kazru_stt.db.models import Job, SegmentRow, SpeakerRow, WorkspaceMember
from kazru_stt.db.session import session_scope
from kazru_stt.domain.job_status import JobStatus
from kazru_stt.domain.search_text import query_terms
from kazru_stt.services import accounts, tags
from kazru_stt.services.accounts import Caller
from kazru_stt.services.context import ServiceContext
from kazru_stt.services.job_access import visible

MAX_LIMIT = 100
# A tag or date filter that leaves at most this many recordings is answered from them
# (db/search_index.matching_among); more, and the index answers first, the filter applied to
# its hits. A list of this many ids is still a short IN list.
FEW_RECORDINGS = 500


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
    or a name given to one (any case); dates are the upload's, in the caller's time zone,
    inclusive."""
    terms = query_terms(query)
    limit = max(1, min(limit, MAX_LIMIT))
    with session_scope(ctx.db_url) as db:
        tokens = _tokens(db, caller, workspace_id)
        filters = _filters(ctx, caller, tag, speaker, date_from, date_to)
        ids = None
        recordings = _few_recordings(db, caller, workspace_id, filters) if tokens != [] else None
        if recordings is not None:
            ids = search_index.matching_among(
                db, terms, recordings, language, filters.said_by, limit + 1, max(0, offset)
            )
        if ids is None:
            ids = search_index.matching(
                db, terms, tokens, language, limit + 1, max(0, offset), filters.within()
            )
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


@dataclass(frozen=True)
class _Filters:
    """The filters beyond words, language and workspace: on recordings (tag, upload dates)
    and on passages (speaker)."""

    jobs: Select | None  # the ids of the recordings the tag and dates allow
    said_by: ColumnElement[bool] | None

    def within(self) -> Select | None:
        """The passages they allow, as a subquery (None: no filter)."""
        if self.jobs is None and self.said_by is None:
            return None
        stmt = select(SegmentRow.id)
        if self.jobs is not None:
            stmt = stmt.where(SegmentRow.job_id.in_(self.jobs))
        if self.said_by is not None:
            stmt = stmt.where(self.said_by)
        return stmt


def _filters(ctx: ServiceContext, caller: Caller, tag, speaker, date_from, date_to) -> _Filters:
    jobs = None
    if tag or date_from or date_to:
        jobs = select(Job.id)
        if tag:
            jobs = jobs.where(Job.id.in_(tags.jobs_tagged(tag)))
        zone = ZoneInfo(accounts.zone_of(ctx, caller.user_id)) if date_from or date_to else None
        if date_from:
            jobs = jobs.where(Job.created_at >= datetime.combine(date_from, time(), zone))
        if date_to:
            end = datetime.combine(date_to + timedelta(days=1), time(), zone)
            jobs = jobs.where(Job.created_at < end)
    said_by = None
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
        said_by = or_(SegmentRow.speaker == wanted.upper(), named)
    return _Filters(jobs, said_by)


def _few_recordings(
    db, caller: Caller, workspace_id: int | None, filters: _Filters
) -> list[str] | None:
    """The completed recordings the caller may see that the tag and date filters leave; None
    without such a filter, or when there are more than FEW_RECORDINGS."""
    if filters.jobs is None:
        return None
    jobs = visible(filters.jobs.where(Job.status == JobStatus.COMPLETED), caller)
    if workspace_id is not None:
        jobs = jobs.where(Job.workspace_id == workspace_id)
    job_ids = list(db.scalars(jobs.limit(FEW_RECORDINGS + 1)))
    return None if len(job_ids) > FEW_RECORDINGS else job_ids
