"""kombu's SQLAlchemy transport (the embedded queue on a SQLite file), woken by whoever
puts a message (doorbell.py) and polling adaptively: every 0.1 s right after a message,
backing off while nothing comes to every 10 s where the doorbell works (a fallback: the
publisher may not see the worker's socket) and to every 2 s where it does not. So a job
starts at once on an idle worker, a busy queue is served at once, and an idle worker costs
next to nothing (measured in benchmarks/worker_idle.py: 2.2% of a core at a fixed 0.1 s
on one VM). Each poll first peeks with one plain SQLite read and takes kombu's write-locked
ORM path only when a message is there: code that runs after a pause runs cold, and on a
2-core VM kombu's ORM poll then cost ~40 ms of CPU (a plain read ~4 ms, a bare wake from
sleep 2-3 ms). An idle embedded worker there: 2.65% of a core before, 1.17% with the peek
and one poll per pause.

Its `polling_interval` cannot be set through broker_transport_options: that transport passes
its options straight to `create_engine` (measured with Celery 5.7); the class is
the clean place. Registered as the `kazru-sqla` alias in celery_app.

Its channel also creates the queue's row safely across processes: kombu guards that with a
lock inside one process only, so the API's first upload and a starting worker could both
insert it, and the loser's upload failed with 500 (UNIQUE constraint failed: kombu_queue.name).
The tables themselves race the same way on a new file (table kombu_queue already exists):
kombu's recovery from that left the publish on a closed channel (AttributeError in CI).
"""

from __future__ import annotations

import sqlite3
from queue import Empty
from time import monotonic, sleep

from kombu.transport.sqlalchemy import Channel as _SqlaChannel
from kombu.transport.sqlalchemy import Transport as _SqlaTransport
from sqlalchemy import make_url
from sqlalchemy.exc import IntegrityError, OperationalError

from kazru_stt.tasks import doorbell


def _sqlite_file(url) -> str | None:
    """The queue's file, for a SQLite URL with one (not in memory)."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return None
    return parsed.database


class Channel(_SqlaChannel):
    _peek: sqlite3.Connection | None = None
    _queue_ids: dict[str, int] | None = None

    def _get(self, queue):
        if not self._waiting(queue):
            raise Empty()
        return super()._get(queue)

    def _put(self, queue, payload, **kwargs):
        super()._put(queue, payload, **kwargs)  # committed: a worker woken now will see it
        if path := _sqlite_file(self.connection.client.hostname):
            doorbell.ring(path)

    def _waiting(self, queue) -> bool:
        """Whether `queue` may hold a visible message (always, but for SQLite)."""
        engine, _ = self._open()
        path = _sqlite_file(engine.url)
        if path is None:
            return True
        if self._queue_ids is None:
            self._queue_ids = {}
        if queue not in self._queue_ids:
            self._queue_ids[queue] = self._get_or_create(queue).id
            self.session.commit()
        if self._peek is None:  # read-only, autocommit: never holds a lock between polls
            self._peek = sqlite3.connect(f"file:{path}?mode=ro", uri=True, isolation_level=None)
        table = self.message_cls.__tablename__
        row = self._peek.execute(
            f"SELECT 1 FROM {table} WHERE queue_id = ? AND visible != 0 LIMIT 1",  # noqa: S608
            (self._queue_ids[queue],),
        ).fetchone()
        return row is not None

    def close(self):
        if self._peek is not None:
            self._peek.close()
            self._peek = None
        super().close()

    def _open(self):
        try:
            return super()._open()
        except OperationalError:  # another process created the tables meanwhile: they exist now
            return super()._open()

    def _get_or_create(self, queue):
        try:
            return super()._get_or_create(queue)
        except IntegrityError:  # another process inserted it first: use theirs
            self.session.rollback()
            return self.session.query(self.queue_cls).filter(self.queue_cls.name == queue).one()


class Transport(_SqlaTransport):
    Channel = Channel
    polling_interval = 0.1  # right after a message
    max_polling_interval = 2.0  # after a while with none, without a doorbell
    max_polling_interval_rung = 10.0  # the same with one: polling is only the fallback
    _pause = 0.0
    _next_poll = 0.0
    _bell: doorbell.Doorbell | None = None
    _bell_tried = False

    def drain_events(self, connection, timeout=None):
        # The poll's schedule outlives a call: Celery's loop calls again every 2 s, and an
        # idle worker must not poll each time. A ring (a message put) polls at once.
        deadline = None if timeout is None else monotonic() + timeout
        while True:
            now = monotonic()
            if now < self._next_poll:
                if deadline is not None and now >= deadline:
                    raise TimeoutError()
                until = self._next_poll if deadline is None else min(self._next_poll, deadline)
                if self._wait(until - now):
                    self._next_poll = 0.0
                continue
            try:
                self.cycle.get(self._deliver, timeout=timeout)
            except Empty:
                longest = self.max_polling_interval
                if self._bell is not None:
                    longest = self.max_polling_interval_rung
                self._pause = min(longest, max(self.polling_interval, self._pause * 2))
                self._next_poll = monotonic() + self._pause
            else:
                self._pause = 0.0
                self._next_poll = 0.0
                return

    def _wait(self, seconds: float) -> bool:
        """Sleep up to `seconds`; True when rung. The doorbell is made before the first
        wait, so a message put between the last empty poll and it is found by the next
        quick poll (the pause starts at 0.1 s)."""
        if not self._bell_tried:
            self._bell_tried = True
            client = self.client  # kombu declares `client = None` on the class
            assert client is not None
            path = _sqlite_file(client.hostname) if doorbell.supported() else None
            if path is not None:
                try:
                    self._bell = doorbell.Doorbell(path)
                except OSError:  # no abstract sockets here: poll only
                    pass
        if self._bell is None:
            sleep(seconds)
            return False
        return self._bell.wait(seconds)

    def close_connection(self, connection):
        if self._bell is not None:
            self._bell.close()
            self._bell = None
        self._bell_tried = False
        super().close_connection(connection)
