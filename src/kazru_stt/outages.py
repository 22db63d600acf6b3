"""Waiting out a part's outage: a write or read that must not be lost (a finished job's
result, the recording a job needs) is tried again while its part is down, for a while."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import TypeVar

log = logging.getLogger(__name__)
T = TypeVar("T")
LONGEST_PAUSE_S = 5.0


def retry_during_outage(
    work: Callable[[], T],
    *,
    is_outage: Callable[[BaseException], bool],
    what: str,
    give_up_after_s: float,
) -> T:
    """`work()`, tried again with growing pauses (0.5 s doubling up to LONGEST_PAUSE_S: an
    outage's end is noticed within seconds) while it fails with an outage, for at most
    `give_up_after_s`; then, or on any other error, the error is raised."""
    deadline = time.monotonic() + give_up_after_s
    pause = 0.5
    while True:
        try:
            return work()
        except Exception as exc:
            if not is_outage(exc) or time.monotonic() + pause > deadline:
                raise
            log.warning("%s: %s; trying again in %.1f s", what, exc, pause)
            time.sleep(pause)
            pause = min(pause * 2, LONGEST_PAUSE_S)
