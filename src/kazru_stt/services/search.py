"""Search across the transcripts a caller may see: the words of a query, each matched as the
start of a word, case- and ё/е-folded (domain/search_text), newest first. The index
(db/search_index) narrows by words and owner in one lookup; the rows it names are then read
through `jobs.visible`, the one place visibility is decided."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from kazru_stt.db import search_index
from kazru_stt.db.models import Job, SegmentRow, SpeakerRow
from kazru_stt.db.session import session_scope
from kazru_stt.domain.job_status import JobStatus
from kazru_stt.domain.search_text import query_terms
from kazru_stt.services.accounts import Caller
from kazru_stt.services.context import ServiceContext
from kazru_stt.services.jobs import visible

MAX_LIMIT = 100


def search(
    ctx: ServiceContext,
    caller: Caller,
    query: str,
    *,
    language: str | None = None,
    limit: int = 20,
    offset: int = 0,
) -> dict[str, Any]:
    """{"terms", "hits": [{job_id, filename, created_at, index, start, end, text, language,
    speaker, speaker_name}], "more"}: `more` when another page has hits."""
    terms = query_terms(query)
    limit = max(1, min(limit, MAX_LIMIT))
    owner = None if caller.is_admin else caller.user_id
    with session_scope(ctx.db_url) as db:
        ids = search_index.matching(db, terms, owner, language, limit + 1, max(0, offset))
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
