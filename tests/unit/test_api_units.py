"""Pure pieces of the API's wall: Host matching, the job watcher's fan-out, month bounds."""

from __future__ import annotations

import asyncio
from contextlib import aclosing
from datetime import UTC, datetime

import pytest

from kazru_stt.api.guard import host_allowed
from kazru_stt.api.job_watch import JobWatcher
from kazru_stt.services.quotas import month_bounds


@pytest.mark.parametrize(
    ("host", "allowed", "ok"),
    [
        ("127.0.0.1:8000", ["localhost", "127.0.0.1"], True),
        ("LOCALHOST", ["localhost"], True),
        ("[::1]:8000", ["[::1]"], True),
        ("evil.example", ["localhost", "127.0.0.1"], False),
        ("stt.gov.kz", ["*.gov.kz"], True),
        ("gov.kz.evil.example", ["*.gov.kz"], False),
        ("anything", ["*"], True),
        ("", ["localhost"], False),
    ],
)
def test_host_allowed(host, allowed, ok):
    assert host_allowed(host, allowed) is ok


def test_one_read_per_tick_for_all_watchers_and_none_when_gone():
    reads: list[list[str]] = []
    states = {"a": ("queued", 0, None), "b": ("processing", 40, None)}

    def read(ids):
        reads.append(sorted(ids))
        return {i: states[i] for i in ids if i in states}

    async def scenario():
        watcher = JobWatcher(read, interval=0.01)

        async def take(job_id, n):
            seen = []
            async with aclosing(watcher.states(job_id)) as it:
                async for state in it:
                    seen.append(state)
                    if len(seen) == n:
                        return seen

        a, b, b2 = await asyncio.gather(take("a", 3), take("b", 3), take("b", 3))
        del states["a"]
        gone = await take("a", 1)
        return a, b, b2, gone

    a, b, b2, gone = asyncio.run(scenario())
    assert a == [("queued", 0, None)] * 3 and b == b2 == [("processing", 40, None)] * 3
    assert all(len(ids) <= 2 for ids in reads)  # one query for every watcher at once
    assert ["a", "b"] in reads
    assert gone == [None]


def test_month_bounds_roll_over_the_year():
    start, end = month_bounds(datetime(2026, 12, 31, 23, 59, tzinfo=UTC))
    assert start == datetime(2026, 12, 1, tzinfo=UTC) and end == datetime(2027, 1, 1, tzinfo=UTC)
