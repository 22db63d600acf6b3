"""kombu's SQLAlchemy transport (the embedded queue on a SQLite file), polling adaptively:
every 0.1 s right after a message, backing off to every 2 s while nothing comes, so a
busy queue is served at once and an idle worker costs next to nothing (measured in
benchmarks/worker_idle.py: 2.2% of a core at a fixed 0.1 s).

Its `polling_interval` cannot be set through broker_transport_options: that transport passes
its options straight to `create_engine` (../shared/DESIGN.md, facts measured); the class is
the clean place. Registered as the `kazru-sqla` alias in celery_app.

Its channel also creates the queue's row safely across processes: kombu guards that with a
lock inside one process only, so the API's first upload and a starting worker could both
insert it, and the loser's upload failed with 500 (UNIQUE constraint failed: kombu_queue.name).
The tables themselves race the same way on a new file (table kombu_queue already exists):
kombu's recovery from that left the publish on a closed channel (AttributeError in CI).
"""

from __future__ import annotations

from queue import Empty
from time import monotonic, sleep

from kombu.transport.sqlalchemy import Channel as _SqlaChannel
from kombu.transport.sqlalchemy import Transport as _SqlaTransport
from sqlalchemy.exc import IntegrityError, OperationalError


class Channel(_SqlaChannel):
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
    max_polling_interval = 2.0  # after a while with none
    _pause = 0.0

    def drain_events(self, connection, timeout=None):
        started = monotonic()
        while True:
            try:
                self.cycle.get(self._deliver, timeout=timeout)
            except Empty:
                waited = monotonic() - started
                if timeout is not None and waited >= timeout:
                    raise TimeoutError() from None
                self._pause = min(
                    self.max_polling_interval, max(self.polling_interval, self._pause * 2)
                )
                sleep(self._pause if timeout is None else min(self._pause, timeout - waited))
            else:
                self._pause = 0.0
                return
