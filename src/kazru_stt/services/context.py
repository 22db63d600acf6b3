"""What a use case needs from the outside world, built once from settings."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property

from kazru_stt.config import Settings
from kazru_stt.services.settings_in_effect import RuntimeSettings
from kazru_stt.storage import Storage, get_storage


@dataclass
class ServiceContext:
    """`settings` are those in effect now: the environment's at start with what an
    administrator changed since (services/settings_in_effect), followed within seconds."""

    base_settings: Settings
    # How a job reaches a worker: set by the tasks layer (Celery) or by tests.
    enqueue: Callable[[str], None] | None = None
    extra: dict = field(default_factory=dict)

    @cached_property
    def runtime(self) -> RuntimeSettings:
        return RuntimeSettings(self.base_settings)

    @property
    def settings(self) -> Settings:
        return self.runtime.current()

    @property
    def db_url(self) -> str:
        return self.base_settings.resolved_database_url

    @cached_property
    def storage(self) -> Storage:
        return get_storage(self.base_settings)
