"""Dependencies named once (Annotated), so a route's signature says what it needs."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from kazru_stt.db.models import Job
from kazru_stt.db.session import session_scope
from kazru_stt.services.context import ServiceContext
from kazru_stt.services.jobs import load_job


def get_context(request: Request) -> ServiceContext:
    return request.app.state.ctx


ContextDep = Annotated[ServiceContext, Depends(get_context)]


def get_session(ctx: ContextDep) -> Iterator[Session]:
    with session_scope(ctx.db_url) as db:
        yield db


SessionDep = Annotated[Session, Depends(get_session)]


@dataclass(frozen=True)
class Caller:
    """Who is calling. Without accounts every caller is the anonymous owner (None)."""

    user_id: int | None = None
    is_admin: bool = False


def get_caller() -> Caller:
    return Caller()


CallerDep = Annotated[Caller, Depends(get_caller)]


def get_owned_job(job_id: str, db: SessionDep, caller: CallerDep) -> Job:
    """The job if the caller may see it, else 404: the one place isolation is decided."""
    return load_job(db, job_id, caller.user_id, caller.is_admin)


OwnedJob = Annotated[Job, Depends(get_owned_job)]
