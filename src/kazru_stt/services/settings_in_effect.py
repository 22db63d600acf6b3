"""The settings in effect in a process: the environment's at start, with the tunable ones an
administrator changed while the service runs (services/runtime_settings stores them), read
again every REFRESH_S, so every API replica and worker follows a change within seconds,
without a restart. The environment wins where it sets a tunable too."""

from __future__ import annotations

import logging
import os
import threading
import time
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError

from kazru_stt.config import Settings
from kazru_stt.db.models import RuntimeSetting
from kazru_stt.db.session import session_scope

log = logging.getLogger(__name__)

# The settings an administrator tunes at run time. Nothing here names a place, a secret or a
# process's shape: those are read once at start, from the environment.
TUNABLE = (
    "languages",
    "third_languages",
    "third_language_action",
    "engine",
    "default_model",
    "diarize_by_default",
    "quota_active_jobs",
    "quota_monthly_minutes",
    "retention_audio_hours",
    "retention_days",
    "rate_limit_per_key",
    "rate_limit_per_address",
    "rate_limit_uploads",
    "rate_limit_login",
    "timezone",
)
# How soon every process follows a change: a read of one small table this often.
REFRESH_S = 5.0


def env_name(name: str) -> str:
    return f"KAZRU_{name.upper()}"


def in_environment(name: str) -> bool:
    return env_name(name) in os.environ


def spelled(value: Any) -> str:
    """A value as the environment would spell it."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)


def with_values(base: Settings, values: dict[str, str]) -> Settings:
    """`base` with `values` (spelled as the environment would), checked as at start."""
    return type(base)(**{**base.model_dump(), **values})


@dataclass
class _Seen:
    stored: dict[str, str]
    settings: Settings


class RuntimeSettings:
    """The settings in effect in this process: `base` (the environment at start) with the
    values an administrator stored. Read when first asked, then by a thread of this process
    every REFRESH_S: a request never waits on the database for them, also while it is down
    (the last values stay in effect)."""

    def __init__(self, base: Settings):
        self.base = base
        self._seen: _Seen | None = None
        self._lock = threading.Lock()
        self._reader_pid: int | None = None  # a forked worker starts its own reader

    def current(self) -> Settings:
        seen = self._seen
        if seen is None or self._reader_pid != os.getpid():
            with self._lock:
                if self._seen is None:
                    self._seen = self._read(None)
                if self._reader_pid != os.getpid():
                    self._reader_pid = os.getpid()
                    threading.Thread(target=self._keep_reading, daemon=True).start()
                return self._seen.settings
        return seen.settings

    def _keep_reading(self) -> None:
        pid = os.getpid()
        while self._reader_pid == pid:
            time.sleep(REFRESH_S)
            try:
                self._seen = self._read(self._seen)
            except Exception:  # the reader must outlive any one failure
                log.exception("runtime settings not read")

    def _read(self, seen: _Seen | None) -> _Seen:
        try:
            stored = stored_values(self.base.resolved_database_url)
        except SQLAlchemyError as exc:  # down, or not migrated yet: keep what was in effect
            log.debug("runtime settings not read: %s", exc)
            return _Seen(seen.stored if seen else {}, seen.settings if seen else self.base)
        if seen is not None and stored == seen.stored:
            return _Seen(stored, seen.settings)
        settings, ignored = applied(self.base, stored)
        if ignored:
            log.error("stored settings ignored, they do not validate: %s", ", ".join(ignored))
        return _Seen(stored, settings)

    def forget(self) -> None:
        """Read the table again now (this process changed it)."""
        self._seen = self._read(self._seen)


def applied(base: Settings, stored: dict[str, str]) -> tuple[Settings, list[str]]:
    """`base` with the stored values the environment does not set; and the names of those
    left out because they do not validate (stored by an older release that allowed them)."""
    kept: dict[str, str] = {}
    ignored = []
    for name in TUNABLE:
        if name not in stored or in_environment(name):
            continue
        try:
            with_values(base, {**kept, name: stored[name]})
            kept[name] = stored[name]
        except ValidationError:
            ignored.append(name)
    return (with_values(base, kept) if kept else base), ignored


def stored_values(db_url: str) -> dict[str, str]:
    with session_scope(db_url) as db:
        return dict(db.execute(select(RuntimeSetting.name, RuntimeSetting.value)).all())
