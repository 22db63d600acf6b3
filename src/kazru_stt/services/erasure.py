"""`DELETE /api/v1/me/data`: everything of one user goes (recordings, transcripts, keys,
sessions, the account); the audit trail keeps only a number that no longer names anyone."""

from __future__ import annotations

from functools import partial

from sqlalchemy import select, update

from kazru_stt.db.models import (
    ApiKey,
    AudioUsage,
    AuditEntry,
    Job,
    User,
    VoiceRow,
    WebSession,
    WorkspaceMember,
    utcnow,
)
from kazru_stt.db.session import session_scope
from kazru_stt.domain.errors import Conflict
from kazru_stt.outages import retry_during_outage
from kazru_stt.services import audit
from kazru_stt.services.accounts import Caller, ensure_an_admin_remains
from kazru_stt.services.context import ServiceContext
from kazru_stt.services.jobs import delete_job_rows
from kazru_stt.storage import StorageError, storage_down

# How long an erasure waits for a storage that went down midway (the person is waiting).
STORAGE_WAIT_S = 30.0


def erase_user(ctx: ServiceContext, caller: Caller) -> dict[str, int]:
    user_id = caller.user_id
    # With the storage down, refuse before anything changes: the person can ask again. (A
    # full one is no reason to refuse: erasing frees space.)
    try:
        ctx.storage.check()
    except StorageError as exc:
        if storage_down(exc):
            raise
    with session_scope(ctx.db_url) as db:
        user = db.get(User, user_id)
        if user is None:
            return {"jobs": 0}
        user.is_active = False  # no new uploads or logins while the files go
        db.flush()
        try:
            ensure_an_admin_remains(db)
        except Conflict as exc:
            exc.message = "the last admin cannot erase their account; make another admin first"
            raise
        db.query(WebSession).filter(WebSession.user_id == user_id).delete()
        db.execute(update(ApiKey).where(ApiKey.user_id == user_id).values(revoked_at=utcnow()))
    with session_scope(ctx.db_url) as db:
        jobs = db.execute(select(Job.id, Job.storage_key).where(Job.owner_id == user_id)).all()
    try:
        for _job_id, key in jobs:  # files first: a row left behind can be erased again
            if key:
                retry_during_outage(
                    partial(ctx.storage.delete, key),
                    is_outage=storage_down,
                    what=f"erasing user {user_id}'s recordings",
                    give_up_after_s=STORAGE_WAIT_S,
                )
    except StorageError:
        # The storage went down midway: the account comes back (its keys and sessions stay
        # revoked), so its owner can sign in and ask again; nothing else changed.
        with session_scope(ctx.db_url) as db:
            db.execute(update(User).where(User.id == user_id).values(is_active=True))
        raise
    with session_scope(ctx.db_url) as db:
        delete_job_rows(db, [job_id for job_id, _ in jobs])
        db.query(ApiKey).filter(ApiKey.user_id == user_id).delete()
        db.query(VoiceRow).filter(VoiceRow.user_id == user_id).delete()  # biometric data
        db.query(WorkspaceMember).filter(WorkspaceMember.user_id == user_id).delete()
        db.query(AudioUsage).filter(AudioUsage.user_id == user_id).delete()
        db.execute(
            update(AuditEntry)
            .where(AuditEntry.actor_id == user_id)
            .values(address=None, target=None)  # what they touched and from where
        )
        targets = [f"job:{job_id}" for job_id, _ in jobs]
        for start in range(0, len(targets), 500):  # others' reads of them name them too
            db.execute(
                update(AuditEntry)
                .where(AuditEntry.target.in_(targets[start : start + 500]))
                .values(target=None)
            )
        db.query(User).filter(User.id == user_id).delete()
        audit.record(
            db,
            "user.erase",
            actor_id=user_id,
            target=f"user:{user_id}",
            details={"jobs": len(jobs)},
        )
    return {"jobs": len(jobs)}
