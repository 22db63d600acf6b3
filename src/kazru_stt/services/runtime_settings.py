"""Settings an administrator changes while the service runs (`kazru config get|set|history`,
`/api/v1/admin/settings`, the admin page): the defaults a service is tuned by (languages,
engine and model, speakers, quotas, retention, rate limits, time zone), kept in the database;
every API replica and worker follows them within seconds (settings_in_effect).

A value is written as the environment would spell it and checked by the same settings class
before it is stored. The environment still decides secrets and infrastructure, and wins
where it sets a tunable too (`source` says which decides). Each change is one audit entry
(`setting.changed`, with the old and the new value): that is the history."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from pydantic import ValidationError
from sqlalchemy import select

from kazru_stt.config import Settings
from kazru_stt.db.models import AuditEntry, RuntimeSetting, utcnow
from kazru_stt.db.session import session_scope
from kazru_stt.domain.errors import InvalidOptionError, InvalidSetting, NotFound
from kazru_stt.services import audit, settings_check
from kazru_stt.services.settings_in_effect import (
    TUNABLE,
    applied,
    in_environment,
    spelled,
    with_values,
)

CHANGED = "setting.changed"


class Source:
    DEFAULT = "default"
    ENVIRONMENT = "environment"
    DATABASE = "database"


@dataclass(frozen=True)
class SettingState:
    name: str
    value: str  # in effect
    source: str  # Source.*
    stored: str | None  # what the database holds (also where the environment wins)
    ignored: bool  # stored, but it does not validate (an older release took it): not in effect
    default: str
    description: str
    updated_at: datetime | None


def check_name(name: str) -> str:
    if name not in TUNABLE:
        raise NotFound(
            f"no setting {name!r} can be changed at run time; these can: {', '.join(TUNABLE)}"
        )
    return name


def states(base: Settings, db_url: str) -> list[SettingState]:
    with session_scope(db_url) as db:
        rows = {r.name: r for r in db.scalars(select(RuntimeSetting))}
    fields = type(base).model_fields
    effective, ignored = applied(base, {n: r.value for n, r in rows.items()})
    out = []
    for name in TUNABLE:
        if in_environment(name):
            source = Source.ENVIRONMENT
        elif name in rows:
            source = Source.DATABASE
        else:
            source = Source.DEFAULT
        row = rows.get(name)
        out.append(
            SettingState(
                name=name,
                value=spelled(getattr(effective, name)),
                source=source,
                stored=row.value if row else None,
                ignored=name in ignored,
                default=spelled(fields[name].get_default(call_default_factory=True)),
                description=fields[name].description or "",
                updated_at=row.updated_at if row else None,
            )
        )
    return out


def change(
    base: Settings,
    db_url: str,
    name: str,
    value: str | None,
    *,
    actor_id: int | None,
    address: str | None = None,
) -> SettingState:
    """Store `value` for `name` (None: back to the environment's or the default), after the
    settings class accepted it; one audit entry with the old and the new value."""
    check_name(name)
    if value is not None:
        value = value.strip()
        try:
            settings_check.check(with_values(base, {name: value}))  # as at start: engines, models
        except ValidationError as exc:
            problem = "; ".join(e["msg"] for e in exc.errors())
            raise InvalidOptionError(f"{name}: {problem}", details={"setting": name}) from exc
        except InvalidSetting as exc:
            raise InvalidOptionError(exc.message, details={"setting": name}) from exc
    with session_scope(db_url) as db:
        row = db.get(RuntimeSetting, name)
        old = row.value if row else None
        if value is None:
            if row is not None:
                db.delete(row)
        elif row is None:
            db.add(RuntimeSetting(name=name, value=value, updated_by=actor_id))
        else:
            row.value, row.updated_by, row.updated_at = value, actor_id, utcnow()
        if old != value:
            audit.record(
                db,
                CHANGED,
                actor_id=actor_id,
                target=name,
                address=address,
                details={"old": old, "new": value},
            )
    return next(s for s in states(base, db_url) if s.name == name)


@dataclass(frozen=True)
class Change:
    at: datetime
    name: str
    old: str | None
    new: str | None
    actor_id: int | None


def history(db_url: str, name: str | None = None, limit: int = 100) -> list[Change]:
    if name is not None:
        check_name(name)
    with session_scope(db_url) as db:
        query = select(AuditEntry).where(AuditEntry.action == CHANGED)
        if name is not None:
            query = query.where(AuditEntry.target == name)
        rows = db.scalars(query.order_by(AuditEntry.id.desc()).limit(limit))
        return [
            Change(
                r.at,
                r.target or "",
                (r.details or {}).get("old"),
                (r.details or {}).get("new"),
                r.actor_id,
            )
            for r in rows
        ]
