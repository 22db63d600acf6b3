"""One poller for every open event stream and waiting synchronous call of an API process:
each tick reads the state of all watched jobs in one query, through the services layer, and
wakes the watchers. A stream holds no database session and no thread while it waits."""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from collections.abc import AsyncIterator, Callable

from starlette.concurrency import run_in_threadpool

log = logging.getLogger(__name__)
State = tuple[str, int, str | None, str]  # status, progress, error code, stage


class JobWatcher:
    def __init__(self, read_states: Callable[[list[str]], dict[str, State]], interval: float):
        self._read = read_states
        self._interval = interval
        self._watched: Counter[str] = Counter()
        self._states: dict[str, State] = {}
        self._read_ids: set[str] = set()  # the ids the last read asked for
        self._tick = asyncio.Event()
        self._task: asyncio.Task | None = None

    async def _loop(self) -> None:
        while self._watched:
            ids = list(self._watched)
            try:
                self._states = await run_in_threadpool(self._read, ids)
                self._read_ids = set(ids)
            except Exception:  # a busy database: keep the last states, try next tick
                log.warning("could not read job states", exc_info=True)
            tick, self._tick = self._tick, asyncio.Event()
            tick.set()
            await asyncio.sleep(self._interval)
        self._task = None

    async def states(self, job_id: str) -> AsyncIterator[State | None]:
        """Yield the job's state after every tick; None once the job is gone."""
        self._watched[job_id] += 1
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._loop())
        try:
            while True:
                tick = self._tick
                await tick.wait()
                if job_id in self._read_ids:  # else it was not asked for yet: next tick
                    yield self._states.get(job_id)
        finally:
            self._watched[job_id] -= 1
            if self._watched[job_id] <= 0:
                del self._watched[job_id]
