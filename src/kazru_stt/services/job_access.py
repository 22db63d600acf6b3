"""Who may see and do what with a job: the one seam every route, page, search and bulk
action goes through.

Seeing: the job's owner, the members of the workspace it is filed in (any role), and the
install's admins; nobody else learns that it exists (404, word for word as for an id that
never existed). Doing: owners and admins everything; members what their role allows
(domain/workspace_roles), else 403 `role_too_low` (they can see it, so a 404 would only
mislead). A non-owner's access is written to the audit trail.
"""

from __future__ import annotations

import threading
import time

from sqlalchemy import and_, or_, select
from sqlalchemy.sql import Select

from kazru_stt.db.models import Job, WorkspaceMember
from kazru_stt.db.session import session_scope
from kazru_stt.domain.error_codes import ErrorCode
from kazru_stt.domain.errors import Forbidden, NotFound
from kazru_stt.domain.workspace_roles import JobAction, allows
from kazru_stt.services import audit
from kazru_stt.services.accounts import Caller
from kazru_stt.services.context import ServiceContext

# A non-owner's reads of one job are audited once per this many seconds (per process): a
# page polling a job every second would otherwise write an entry a second.
ACCESS_AUDIT_EVERY_S = 600


def member_workspaces(user_id: int) -> Select:
    return select(WorkspaceMember.workspace_id).where(WorkspaceMember.user_id == user_id)


def visible(stmt, caller: Caller):
    """`stmt` (over jobs) narrowed to the jobs `caller` may see. Jobs without an owner
    (from before accounts existed) are seen by admins only."""
    if caller.is_admin:
        return stmt
    return stmt.where(
        or_(Job.owner_id == caller.user_id, Job.workspace_id.in_(member_workspaces(caller.user_id)))
    )


def actions_of(caller: Caller, job: Job, role: str | None) -> frozenset[JobAction]:
    if caller.is_admin or (job.owner_id is not None and job.owner_id == caller.user_id):
        return frozenset(JobAction)
    return frozenset(a for a in JobAction if allows(role, a))


def load_job(
    ctx: ServiceContext, caller: Caller, job_id: str, action: JobAction = JobAction.READ
) -> Job:
    """The job if the caller may see it (else 404) and do `action` with it (else 403)."""
    return open_job(ctx, caller, job_id, action)[0]


def open_job(
    ctx: ServiceContext, caller: Caller, job_id: str, action: JobAction
) -> tuple[Job, frozenset[JobAction]]:
    """As `load_job`, with everything the caller may do with the job (what a page offers)."""
    stmt = (
        select(Job, WorkspaceMember.role)
        .outerjoin(
            WorkspaceMember,
            and_(
                WorkspaceMember.workspace_id == Job.workspace_id,
                WorkspaceMember.user_id == caller.user_id,
            ),
        )
        .where(Job.id == job_id)
    )
    with session_scope(ctx.db_url) as db:
        row = db.execute(visible(stmt, caller)).first()
    if row is None:
        raise NotFound(f"transcription {job_id} not found")
    job, role = row
    allowed = actions_of(caller, job, role)
    if action not in allowed:
        raise Forbidden(
            f"your role in this transcription's workspace does not allow this ({action})",
            code=ErrorCode.ROLE_TOO_LOW,
            details={"needs": action.value},
        )
    if job.owner_id != caller.user_id:
        _audit_access(ctx, caller, job, action)
    return job, allowed


_recent: dict[tuple[int, str, str], float] = {}
_recent_lock = threading.Lock()


def _audit_access(ctx: ServiceContext, caller: Caller, job: Job, action: JobAction) -> None:
    key = (caller.user_id, job.id, action.value)
    now = time.monotonic()
    with _recent_lock:
        if action == JobAction.READ and now - _recent.get(key, -1e9) < ACCESS_AUDIT_EVERY_S:
            return
        if len(_recent) > 10_000:
            _recent.clear()
        _recent[key] = now
    with session_scope(ctx.db_url) as db:
        audit.record(
            db,
            "transcription.access",
            actor_id=caller.user_id,
            target=f"job:{job.id}",
            details={
                "action": action.value,
                "as": "admin" if caller.is_admin else "member",
                "workspace_id": job.workspace_id,
            },
        )
