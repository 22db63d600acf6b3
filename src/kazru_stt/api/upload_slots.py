"""Uploads in progress: each holds a place in its user's active-jobs quota from before its
first byte until its job exists, so one user's uploads count against that user's quota
(however many they open at once) and never against everyone's threads.

The check and the reservation happen under one lock with the database count, so two
uploads racing for the last place cannot both have it; across API replicas the job's
insert checks again (services.jobs, under the user's row lock)."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from starlette.concurrency import run_in_threadpool

from kazru_stt.services import quotas
from kazru_stt.services.context import ServiceContext


class UploadSlots:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._open: Counter[int] = Counter()

    def in_progress(self, user_id: int) -> int:
        with self._lock:
            return self._open[user_id]

    def _take(self, ctx: ServiceContext, user_id: int) -> None:
        with self._lock:
            quotas.check_active_jobs(ctx, user_id, uploading=self._open[user_id])
            self._open[user_id] += 1

    def _give_back(self, user_id: int) -> None:
        with self._lock:
            self._open[user_id] -= 1
            if self._open[user_id] <= 0:
                del self._open[user_id]

    @asynccontextmanager
    async def hold(self, ctx: ServiceContext, user_id: int) -> AsyncIterator[None]:
        """A place for one upload until the block ends (429 `quota_exceeded` if none);
        the block creates the job, or fails."""
        await run_in_threadpool(self._take, ctx, user_id)
        try:
            yield
        finally:
            self._give_back(user_id)
