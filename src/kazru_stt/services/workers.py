"""Live workers: each worker process beats in the `workers` table while it runs (idle or
busy); a worker not seen for LIVE_WITHIN_S is not counted (and its row is pruned)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import delete, func, select, update

from kazru_stt.db.models import WorkerRow, utcnow
from kazru_stt.db.session import rows_changed, session_scope
from kazru_stt.services.context import ServiceContext

BEAT_S = 15.0
LIVE_WITHIN_S = 3 * BEAT_S
FORGET_AFTER_S = 24 * 3600.0


def beat(ctx: ServiceContext, worker_id: str) -> None:
    now = utcnow()
    with session_scope(ctx.db_url) as db:
        if not rows_changed(
            db.execute(update(WorkerRow).where(WorkerRow.id == worker_id).values(seen_at=now))
        ):
            db.add(WorkerRow(id=worker_id, started_at=now, seen_at=now))
        db.execute(
            delete(WorkerRow).where(WorkerRow.seen_at < now - timedelta(seconds=FORGET_AFTER_S))
        )


def gone(ctx: ServiceContext, worker_id: str) -> None:
    with session_scope(ctx.db_url) as db:
        db.execute(delete(WorkerRow).where(WorkerRow.id == worker_id))


def live_count(ctx: ServiceContext) -> int:
    since = utcnow() - timedelta(seconds=LIVE_WITHIN_S)
    with session_scope(ctx.db_url) as db:
        return int(db.scalar(select(func.count()).where(WorkerRow.seen_at >= since)) or 0)
