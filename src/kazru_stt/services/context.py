"""What a use case needs from the outside world, built once from settings."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property

from kazru_stt.config import Settings
from kazru_stt.storage import Storage, get_storage


@dataclass
class ServiceContext:
    settings: Settings
    # How a job reaches a worker: set by the tasks layer (Celery) or by tests.
    enqueue: Callable[[str], None] | None = None
    extra: dict = field(default_factory=dict)

    @property
    def db_url(self) -> str:
        return self.settings.resolved_database_url

    @cached_property
    def storage(self) -> Storage:
        return get_storage(self.settings)
