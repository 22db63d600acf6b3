"""Read-only links to a transcript: made by whoever may manage the job (its owner, a manager
of its workspace, an admin: services/job_access decides, through the route's `JobToManage`),
read by anyone holding the token until it expires or is revoked, each read counted and
audited. Only a hash of the token is stored; an
unknown, expired or revoked token, or one whose transcript is gone, is the same "not found"."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta
from typing import Any

from sqlalchemy import select

from kazru_stt.db.models import Job, ShareLink, utcnow
from kazru_stt.db.session import session_scope
from kazru_stt.domain.error_codes import ErrorCode
from kazru_stt.domain.errors import Conflict, NotFound
from kazru_stt.domain.job_status import JobStatus
from kazru_stt.services import audit
from kazru_stt.services.accounts import Caller
from kazru_stt.services.context import ServiceContext

MAX_HOURS = 30 * 24
DEFAULT_HOURS = 7 * 24
TOKEN_BYTES = 24  # 192 bits: not guessable at any rate of tries


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _public(link: ShareLink) -> dict[str, Any]:
    return {
        "id": link.id,
        "created_at": link.created_at,
        "expires_at": link.expires_at,
        "revoked_at": link.revoked_at,
        "with_audio": link.with_audio,
        "views": link.views,
        "last_viewed_at": link.last_viewed_at,
    }


def create(
    ctx: ServiceContext,
    caller: Caller,
    job: Job,
    *,
    hours: int,
    with_audio: bool,
    address: str | None,
) -> tuple[str, dict[str, Any]]:
    """A new link to a completed transcript: its token (shown this once) and its record."""
    if job.status != JobStatus.COMPLETED:
        raise Conflict(f"the transcription is {job.status}", code=ErrorCode.NOT_READY)
    token = secrets.token_urlsafe(TOKEN_BYTES)
    with session_scope(ctx.db_url) as db:
        link = ShareLink(
            job_id=job.id,
            token_hash=_digest(token),
            created_by=caller.user_id,
            expires_at=utcnow() + timedelta(hours=hours),
            with_audio=with_audio,
            views=0,
        )
        db.add(link)
        db.flush()
        audit.record(
            db,
            "link.create",
            actor_id=caller.user_id,
            target=f"job:{job.id}",
            address=address,
            details={"link": link.id, "hours": hours, "with_audio": with_audio},
        )
        return token, _public(link)


def list_links(ctx: ServiceContext, job: Job) -> list[dict[str, Any]]:
    with session_scope(ctx.db_url) as db:
        links = db.scalars(
            select(ShareLink).where(ShareLink.job_id == job.id).order_by(ShareLink.id.desc())
        ).all()
        return [_public(link) for link in links]


def revoke(
    ctx: ServiceContext, caller: Caller, job: Job, link_id: int, address: str | None
) -> None:
    """The link stops working now (revoking one already revoked changes nothing)."""
    with session_scope(ctx.db_url) as db:
        link = db.scalars(
            select(ShareLink).where(ShareLink.id == link_id, ShareLink.job_id == job.id)
        ).first()
        if link is None:
            raise NotFound(f"link {link_id} not found")
        if link.revoked_at is None:
            link.revoked_at = utcnow()
            audit.record(
                db,
                "link.revoke",
                actor_id=caller.user_id,
                target=f"job:{job.id}",
                address=address,
                details={"link": link_id},
            )


def open_link(
    ctx: ServiceContext, token: str, address: str | None, *, count: bool = True
) -> tuple[Job, bool]:
    """The job a live token opens and whether its audio may be played; the read counted
    and audited (`count`: the page; the player's ranged reads of the audio are not)."""
    now = utcnow()
    with session_scope(ctx.db_url) as db:
        found = db.execute(
            select(ShareLink, Job)
            .join(Job, Job.id == ShareLink.job_id)
            .where(
                ShareLink.token_hash == _digest(token),
                ShareLink.revoked_at.is_(None),
                ShareLink.expires_at > now,
                Job.status == JobStatus.COMPLETED,
            )
        ).first()
        if found is None:
            raise NotFound("this link does not exist, has expired or was revoked")
        link, job = found
        if count:
            link.views += 1
            link.last_viewed_at = now
            audit.record(
                db,
                "link.view",
                target=f"job:{job.id}",
                address=address,
                details={"link": link.id},
            )
        return job, link.with_audio
