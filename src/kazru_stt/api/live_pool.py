"""The processes that recognise live sessions: apart from the batch workers (a live session
never waits behind the queue) and from the API's event loop (a decode never holds up a
request). Each process has its own model; a session stays on one process (its state lives
there), the one with the fewest sessions when it opens. Started at the first session,
stopped with the API."""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import threading
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any

from kazru_stt.config import Settings
from kazru_stt.domain.error_codes import ErrorCode
from kazru_stt.domain.errors import KazruError
from kazru_stt.services import live_engine

log = logging.getLogger(__name__)


class LiveEngineFailed(KazruError):
    def __init__(self, message: str = "the live recogniser stopped; the session was saved"):
        super().__init__(message, code=ErrorCode.LIVE_ENGINE_FAILED)


class LiveProcess:
    def __init__(self, settings: Settings):
        self.settings = settings
        self.sessions = 0
        self.executor = self._start()

    def _start(self) -> ProcessPoolExecutor:
        return ProcessPoolExecutor(
            max_workers=1,
            mp_context=multiprocessing.get_context("spawn"),  # no copy of the API's threads
            initializer=live_engine.start_process,
            initargs=(self.settings.model_dump(),),
        )

    def restart(self) -> None:
        self.executor.shutdown(wait=False, cancel_futures=True)
        self.executor = self._start()


class LivePool:
    def __init__(self, settings: Settings):
        self.settings = settings
        self._processes: list[LiveProcess] = []
        self._lock = threading.Lock()

    def assign(self) -> LiveProcess:
        with self._lock:
            if not self._processes:
                count = max(1, self.settings.live_processes)
                self._processes = [LiveProcess(self.settings) for _ in range(count)]
            process = min(self._processes, key=lambda p: p.sessions)
            process.sessions += 1
            return process

    def release(self, process: LiveProcess) -> None:
        with self._lock:
            process.sessions -= 1

    async def call(self, process: LiveProcess, fn, *args) -> Any:
        """`fn(*args)` in the session's process. A process that died (killed, out of
        memory) is started again for the next sessions; this one ends with an error."""
        executor = process.executor
        try:
            return await asyncio.wrap_future(executor.submit(fn, *args))
        except BrokenProcessPool as exc:
            with self._lock:
                if process.executor is executor:
                    log.error("a live recognition process died; starting a new one")
                    process.restart()
            raise LiveEngineFailed() from exc

    def shutdown(self) -> None:
        with self._lock:
            processes, self._processes = self._processes, []
        for process in processes:
            # The executor's own processes (a stdlib internal): one still decoding would
            # finish its call first; the API is stopping, so it is stopped now.
            children = list((getattr(process.executor, "_processes", None) or {}).values())
            process.executor.shutdown(wait=False, cancel_futures=True)
            for child in children:
                child.terminate()
