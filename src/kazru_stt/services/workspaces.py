"""Workspaces: created by admins (or by anyone, with KAZRU_WORKSPACES_SELF_SERVICE, who
then manages it), their members and roles. A workspace keeps at least one manager. Every
change of membership is audited. Someone who is not a member (nor an admin) is told a
workspace does not exist, as for an id never used."""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete as delete_rows
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from kazru_stt.db import search_index
from kazru_stt.db.models import Job, User, Workspace, WorkspaceMember
from kazru_stt.db.session import session_scope
from kazru_stt.domain.error_codes import ErrorCode
from kazru_stt.domain.errors import Conflict, Forbidden, InvalidOptionError, NotFound
from kazru_stt.domain.text_safety import clean_name
from kazru_stt.domain.workspace_roles import FILES_INTO, ROLES, WorkspaceRole
from kazru_stt.services import audit, quotas
from kazru_stt.services.accounts import Caller, normalize_email
from kazru_stt.services.context import ServiceContext

MAX_NAME = 100


def _name(raw: str) -> str:
    name = " ".join(clean_name(raw or "").split())
    if not name:
        raise InvalidOptionError("a workspace needs a name")
    if len(name) > MAX_NAME:
        raise InvalidOptionError(f"a workspace's name has at most {MAX_NAME} characters")
    return name


def _role(raw: str) -> str:
    if raw not in ROLES:
        raise InvalidOptionError(f"role must be one of {', '.join(ROLES)}")
    return raw


def role_in(db: Session, workspace_id: int, user_id: int) -> str | None:
    return db.scalar(
        select(WorkspaceMember.role).where(
            WorkspaceMember.workspace_id == workspace_id, WorkspaceMember.user_id == user_id
        )
    )


def _not_found(workspace_id: int) -> NotFound:
    return NotFound(f"workspace {workspace_id} not found")


def _seen(db: Session, caller: Caller, workspace_id: int) -> tuple[Workspace, str | None]:
    """The workspace and the caller's role in it; 404 unless a member or an admin."""
    space = db.get(Workspace, workspace_id)
    role = role_in(db, workspace_id, caller.user_id) if space else None
    if space is None or (role is None and not caller.is_admin):
        raise _not_found(workspace_id)
    return space, role


def _managed(db: Session, caller: Caller, workspace_id: int) -> Workspace:
    space, role = _seen(db, caller, workspace_id)
    if role != WorkspaceRole.MANAGER and not caller.is_admin:
        raise Forbidden(
            "only the workspace's managers can do this",
            code=ErrorCode.ROLE_TOO_LOW,
            details={"needs": WorkspaceRole.MANAGER.value},
        )
    return space


def check_can_file(db: Session, caller: Caller, workspace_id: int) -> None:
    """May the caller put a job into this workspace (upload there, move there): an editor
    or manager of it, or an admin."""
    _space, role = _seen(db, caller, workspace_id)
    if not caller.is_admin and role not in FILES_INTO:
        raise Forbidden(
            "a viewer cannot add transcriptions to this workspace",
            code=ErrorCode.ROLE_TOO_LOW,
            details={"needs": WorkspaceRole.EDITOR.value},
        )


def can_file(ctx: ServiceContext, caller: Caller, workspace_id: int) -> None:
    with session_scope(ctx.db_url) as db:
        check_can_file(db, caller, workspace_id)


def _out(db: Session, space: Workspace, role: str | None) -> dict[str, Any]:
    members = db.scalar(select(func.count()).where(WorkspaceMember.workspace_id == space.id))
    jobs = db.scalar(select(func.count()).select_from(Job).where(Job.workspace_id == space.id))
    return {
        "id": space.id,
        "name": space.name,
        "role": role,
        "members": int(members or 0),
        "transcriptions": int(jobs or 0),
        "created_at": space.created_at,
        "quota_monthly_minutes": space.quota_monthly_minutes,
        "minutes_this_month": quotas.workspace_minutes(db, space.id),
    }


def create(ctx: ServiceContext, caller: Caller, name: str, address: str | None) -> dict:
    if not caller.is_admin and not ctx.settings.workspaces_self_service:
        raise Forbidden(
            "only admins create workspaces on this server", code=ErrorCode.WORKSPACES_ADMIN_ONLY
        )
    with session_scope(ctx.db_url) as db:
        space = Workspace(name=_name(name), created_by=caller.user_id)
        db.add(space)
        db.flush()
        # Its creator manages it (an admin too: someone must, and admins can step out).
        db.add(
            WorkspaceMember(
                workspace_id=space.id,
                user_id=caller.user_id,
                role=WorkspaceRole.MANAGER,
                added_by=caller.user_id,
            )
        )
        audit.record(
            db,
            "workspace.create",
            actor_id=caller.user_id,
            target=f"workspace:{space.id}",
            address=address,
        )
        db.flush()
        return _out(db, space, WorkspaceRole.MANAGER)


def list_mine(ctx: ServiceContext, caller: Caller) -> list[dict]:
    """The caller's workspaces with their role (an admin: every workspace)."""
    with session_scope(ctx.db_url) as db:
        stmt = select(Workspace, WorkspaceMember.role).outerjoin(
            WorkspaceMember,
            (WorkspaceMember.workspace_id == Workspace.id)
            & (WorkspaceMember.user_id == caller.user_id),
        )
        if not caller.is_admin:
            stmt = stmt.where(WorkspaceMember.user_id == caller.user_id)
        rows = db.execute(stmt.order_by(func.lower(Workspace.name), Workspace.id)).all()
        return [
            {
                **_out(db, space, role),
                "may_file": caller.is_admin or role in FILES_INTO,
                "may_manage": caller.is_admin or role == WorkspaceRole.MANAGER,
            }
            for space, role in rows
        ]


def get(ctx: ServiceContext, caller: Caller, workspace_id: int) -> dict:
    with session_scope(ctx.db_url) as db:
        space, role = _seen(db, caller, workspace_id)
        return _out(db, space, role)


def change(
    ctx: ServiceContext,
    caller: Caller,
    workspace_id: int,
    *,
    name: str | None,
    quota_monthly_minutes: float | None,
    set_quota: bool,
    address: str | None,
) -> dict:
    """Rename (its managers); set or clear its monthly minutes (admins only)."""
    with session_scope(ctx.db_url) as db:
        space = _managed(db, caller, workspace_id)
        details: dict[str, Any] = {}
        if name is not None:
            space.name = details["name"] = _name(name)
        if set_quota:
            if not caller.is_admin:
                raise Forbidden(
                    "only admins set a workspace's quota", code=ErrorCode.WORKSPACES_ADMIN_ONLY
                )
            if quota_monthly_minutes is not None and quota_monthly_minutes < 0:
                raise InvalidOptionError("a quota cannot be negative")
            space.quota_monthly_minutes = quota_monthly_minutes
            details["quota_monthly_minutes"] = quota_monthly_minutes
        audit.record(
            db,
            "workspace.change",
            actor_id=caller.user_id,
            target=f"workspace:{space.id}",
            address=address,
            details=details,
        )
        db.flush()
        return _out(db, space, role_in(db, space.id, caller.user_id))


def delete(ctx: ServiceContext, caller: Caller, workspace_id: int, address: str | None) -> None:
    """Its managers or an admin. The transcriptions stay with their owners, filed nowhere."""
    with session_scope(ctx.db_url) as db:
        space = _managed(db, caller, workspace_id)
        moved = db.scalars(select(Job.id).where(Job.workspace_id == space.id)).all()
        db.execute(update(Job).where(Job.workspace_id == space.id).values(workspace_id=None))
        search_index.refile_jobs(db, list(moved))
        db.execute(delete_rows(WorkspaceMember).where(WorkspaceMember.workspace_id == space.id))
        db.delete(space)
        audit.record(
            db,
            "workspace.delete",
            actor_id=caller.user_id,
            target=f"workspace:{workspace_id}",
            address=address,
            details={"transcriptions": len(moved)},
        )


def members(ctx: ServiceContext, caller: Caller, workspace_id: int) -> list[dict]:
    with session_scope(ctx.db_url) as db:
        _seen(db, caller, workspace_id)
        rows = db.execute(
            select(WorkspaceMember, User.email)
            .join(User, User.id == WorkspaceMember.user_id)
            .where(WorkspaceMember.workspace_id == workspace_id)
            .order_by(User.email)
        ).all()
        return [
            {"user_id": m.user_id, "email": email, "role": m.role, "added_at": m.added_at}
            for m, email in rows
        ]


def _managers(db: Session, workspace_id: int) -> int:
    return int(
        db.scalar(
            select(func.count()).where(
                WorkspaceMember.workspace_id == workspace_id,
                WorkspaceMember.role == WorkspaceRole.MANAGER,
            )
        )
        or 0
    )


def add_member(
    ctx: ServiceContext,
    caller: Caller,
    workspace_id: int,
    email: str,
    role: str,
    address: str | None,
) -> dict:
    """Add an account by e-mail with a role, or change the role of one already in."""
    role = _role(role)
    with session_scope(ctx.db_url) as db:
        _managed(db, caller, workspace_id)
        user = db.scalars(select(User).where(User.email == normalize_email(email))).first()
        if user is None or not user.is_active:
            raise NotFound(f"no active account has the e-mail address {email}")
        return _set_role(db, caller, workspace_id, user, role, address)


def change_member(
    ctx: ServiceContext,
    caller: Caller,
    workspace_id: int,
    user_id: int,
    role: str,
    address: str | None,
) -> dict:
    role = _role(role)
    with session_scope(ctx.db_url) as db:
        _managed(db, caller, workspace_id)
        user = db.get(User, user_id)
        if user is None or role_in(db, workspace_id, user_id) is None:
            raise NotFound(f"member {user_id} not found")
        return _set_role(db, caller, workspace_id, user, role, address)


def _set_role(
    db: Session, caller: Caller, workspace_id: int, user: User, role: str, address: str | None
) -> dict:
    member = db.get(WorkspaceMember, (workspace_id, user.id))
    if member is None:
        member = WorkspaceMember(
            workspace_id=workspace_id, user_id=user.id, role=role, added_by=caller.user_id
        )
        db.add(member)
        action = "workspace.member_add"
    else:
        if member.role == WorkspaceRole.MANAGER and role != WorkspaceRole.MANAGER:
            _keep_a_manager(db, workspace_id)
        member.role = role
        action = "workspace.member_role"
    audit.record(
        db,
        action,
        actor_id=caller.user_id,
        target=f"workspace:{workspace_id}",
        address=address,
        details={"user_id": user.id, "role": role},
    )
    db.flush()
    return {"user_id": user.id, "email": user.email, "role": role, "added_at": member.added_at}


def _keep_a_manager(db: Session, workspace_id: int) -> None:
    if _managers(db, workspace_id) <= 1:
        raise Conflict(
            "a workspace keeps at least one manager: make someone else manager first",
            code=ErrorCode.LAST_MANAGER,
        )


def remove_member(
    ctx: ServiceContext, caller: Caller, workspace_id: int, user_id: int, address: str | None
) -> None:
    """Its managers (or an admin) remove anyone; any member may leave."""
    with session_scope(ctx.db_url) as db:
        if user_id == caller.user_id:
            _seen(db, caller, workspace_id)
        else:
            _managed(db, caller, workspace_id)
        member = db.get(WorkspaceMember, (workspace_id, user_id))
        if member is None:
            raise NotFound(f"member {user_id} not found")
        if member.role == WorkspaceRole.MANAGER:
            _keep_a_manager(db, workspace_id)
        db.delete(member)
        audit.record(
            db,
            "workspace.member_remove",
            actor_id=caller.user_id,
            target=f"workspace:{workspace_id}",
            address=address,
            details={"user_id": user_id},
        )
