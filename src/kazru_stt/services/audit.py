"""The audit trail: logins, keys, exports, deletions, retention runs. Who, what, when,
from which address; never transcript text, keys or passwords."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from kazru_stt.db.models import AuditEntry
from kazru_stt.db.session import session_scope

if TYPE_CHECKING:  # (the context reads settings through runtime_settings, which audits)
    from kazru_stt.services.context import ServiceContext


def record(
    db: Session,
    action: str,
    *,
    actor_id: int | None = None,
    target: str | None = None,
    address: str | None = None,
    details: dict[str, Any] | None = None,
) -> None:
    """Add an entry to `db`'s transaction, so it lands (or not) with the action itself."""
    db.add(
        AuditEntry(
            actor_id=actor_id,
            action=action,
            target=(target or None) and target[:128],
            address=address,
            details=details,
        )
    )


def list_entries(
    ctx: ServiceContext,
    *,
    action: str | None = None,
    actor_id: int | None = None,
    limit: int = 50,
    offset: int = 0,
) -> tuple[list[dict[str, Any]], int]:
    with session_scope(ctx.db_url) as db:
        stmt = select(AuditEntry)
        if action:
            stmt = stmt.where(AuditEntry.action == action)
        if actor_id is not None:
            stmt = stmt.where(AuditEntry.actor_id == actor_id)
        total = db.scalar(select(func.count()).select_from(stmt.subquery())) or 0
        rows = db.scalars(stmt.order_by(AuditEntry.id.desc()).limit(limit).offset(offset)).all()
        return [
            {
                "id": r.id,
                "at": r.at,
                "actor_id": r.actor_id,
                "action": r.action,
                "target": r.target,
                "address": r.address,
                "details": r.details,
            }
            for r in rows
        ], total
