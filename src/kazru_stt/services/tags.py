"""Tags on jobs: a case number, a story, a campaign. Written as the person wrote them,
matched folded (domain/search_text: "Дело-12" finds "дело-12"). Who may tag is decided
by job_access (JobAction.EDIT)."""

from __future__ import annotations

import re

from sqlalchemy import delete, select
from sqlalchemy.orm import Session
from sqlalchemy.sql import Select

from kazru_stt.db.models import JobTag
from kazru_stt.domain.errors import InvalidOptionError
from kazru_stt.domain.search_text import fold
from kazru_stt.domain.text_safety import clean_name

MAX_TAGS = 20  # per job: tags file a recording, they do not describe it
MAX_TAG_CHARS = 64
_SPACES = re.compile(r"\s+")


def clean(tags: list[str]) -> list[str]:
    """Tags as they will be kept: trimmed, inner spaces single, duplicates (folded) once,
    in the order given; 422 for too many or too long."""
    kept: dict[str, str] = {}
    for raw in tags:
        tag = _SPACES.sub(" ", clean_name(raw or "")).strip()
        if not tag:
            continue
        if len(tag) > MAX_TAG_CHARS:
            raise InvalidOptionError(f"a tag has at most {MAX_TAG_CHARS} characters: {tag[:20]}…")
        kept.setdefault(fold(tag), tag)
    if len(kept) > MAX_TAGS:
        raise InvalidOptionError(f"a transcription has at most {MAX_TAGS} tags")
    return list(kept.values())


def set_tags(db: Session, job_id: str, tags: list[str]) -> list[str]:
    """Replace the job's tags (already cleaned) within the caller's transaction."""
    db.execute(delete(JobTag).where(JobTag.job_id == job_id))
    db.add_all(JobTag(job_id=job_id, folded=fold(t), tag=t) for t in tags)
    return tags


def tags_of(db: Session, job_ids: list[str]) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {j: [] for j in job_ids}
    if job_ids:
        rows = db.execute(
            select(JobTag.job_id, JobTag.tag)
            .where(JobTag.job_id.in_(job_ids))
            .order_by(JobTag.folded)
        )
        for job_id, tag in rows:
            found[job_id].append(tag)
    return found


def jobs_tagged(tag: str) -> Select:
    """The ids of jobs carrying `tag` (any case), as a subquery."""
    return select(JobTag.job_id).where(JobTag.folded == fold(tag.strip()))
