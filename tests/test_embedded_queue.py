"""The embedded queue (kombu's SQLAlchemy transport on SQLite) across processes: the API
and a starting worker may both create the queue's row; the one that loses the race uses
the other's row instead of failing the upload with 500 (seen once in the suite:
UNIQUE constraint failed: kombu_queue.name). The same holds for the tables on a new file,
and a job whose message kombu fails to send is sent again, not failed with 500 (seen once in
CI: a publish on a channel kombu had closed while recovering)."""

from __future__ import annotations

import sqlite3
from queue import Empty

import pytest
from kombu import Connection
from sqlalchemy.exc import IntegrityError

import kazru_stt.tasks.celery_app  # noqa: F401  (registers the kazru-sqla transport)
from kazru_stt.tasks.sqla_transport import Channel


def _race(channel, path, monkeypatch):
    """Another process inserts the row after this channel looked and before it commits."""
    session = channel.session
    real_add = session.add

    def add(obj):
        with sqlite3.connect(path) as other:
            other.execute("INSERT INTO kombu_queue (name) VALUES ('kazru')")
        real_add(obj)

    monkeypatch.setattr(session, "add", add)


def test_a_queue_row_another_process_made_meanwhile_is_used(tmp_path, monkeypatch):
    path = tmp_path / "queue.sqlite"
    with Connection(f"kazru-sqla+sqlite:///{path}") as conn:
        channel = conn.default_channel
        assert isinstance(channel, Channel)
        _race(channel, path, monkeypatch)
        channel._new_queue("kazru")  # no IntegrityError
        monkeypatch.undo()
        queue = conn.SimpleQueue("kazru")
        queue.put({"job": "x"})
        assert queue.get(timeout=5).payload == {"job": "x"}
        queue.close()
    with sqlite3.connect(path) as db:
        assert db.execute("SELECT count(*) FROM kombu_queue WHERE name='kazru'").fetchone() == (1,)


def test_kombus_own_channel_fails_that_race(tmp_path, monkeypatch):
    """What the subclass is for (so the test above can fail)."""
    from kombu.transport.sqlalchemy import Channel as KombuChannel

    path = tmp_path / "queue.sqlite"
    with Connection(f"sqla+sqlite:///{path}") as conn:
        channel = conn.default_channel
        assert type(channel) is KombuChannel
        _race(channel, path, monkeypatch)
        with pytest.raises(IntegrityError):
            channel._new_queue("kazru")


def _tables_made_meanwhile(monkeypatch):
    """Another process creates the tables between this one's check and its CREATE TABLE."""
    import kombu.transport.sqlalchemy as kombu_sqla
    from sqlalchemy.exc import OperationalError

    real = kombu_sqla.metadata.create_all
    calls = []

    def create_all(engine, *args, **kwargs):
        calls.append(engine)
        if len(calls) == 1:
            real(engine, *args, **kwargs)  # the other process's CREATE
            raise OperationalError("CREATE TABLE kombu_queue", {}, Exception("already exists"))
        return real(engine, *args, **kwargs)

    monkeypatch.setattr(kombu_sqla.metadata, "create_all", create_all)


@pytest.mark.parametrize("transport", ["kazru-sqla", "sqla"])
def test_tables_another_process_made_meanwhile_are_used(tmp_path, monkeypatch, transport):
    from sqlalchemy.exc import OperationalError

    _tables_made_meanwhile(monkeypatch)
    with Connection(f"{transport}+sqlite:///{tmp_path / 'queue.sqlite'}") as conn:
        channel = conn.default_channel
        if transport == "sqla":  # kombu's own channel: what the subclass is for
            with pytest.raises(OperationalError):
                channel._new_queue("kazru")
            return
        channel._new_queue("kazru")
        queue = conn.SimpleQueue("kazru")
        queue.put({"job": "x"})
        assert queue.get(timeout=5).payload == {"job": "x"}
        queue.close()


# A broker error while the queue is declared: kombu reconnects, then publishes on the channel
# it closed (AttributeError: 'NoneType' object has no attribute 'client').
_LOCKED_ONCE = """
import sys
from sqlalchemy.exc import OperationalError
from kazru_stt.tasks import runtime, sqla_transport

real = sqla_transport.Channel._get_or_create
calls = []
def locked_once(self, queue):
    calls.append(queue)
    if len(calls) == 1:
        raise OperationalError("SELECT", {}, Exception("database is locked"))
    return real(self, queue)
sqla_transport.Channel._get_or_create = locked_once
if sys.argv[1] == "raw":
    from kazru_stt.tasks.jobs import transcribe
    transcribe.delay("job-1")
else:
    runtime._enqueue("job-1")
"""


@pytest.mark.parametrize("how", ["enqueue", "raw"])
def test_a_job_is_queued_through_kombus_botched_recovery(tmp_path, how):
    import base64
    import json
    import os
    import subprocess
    import sys

    env = {**os.environ, "KAZRU_DATA_DIR": str(tmp_path)}
    env.pop("KAZRU_BROKER_URL", None)
    done = subprocess.run(
        [sys.executable, "-c", _LOCKED_ONCE, how], env=env, capture_output=True, text=True
    )
    if how == "raw":  # kombu alone: what the retry is for
        assert done.returncode != 0 and "no attribute 'client'" in done.stderr
        return
    assert done.returncode == 0, done.stderr
    with sqlite3.connect(tmp_path / "queue.db") as db:
        rows = db.execute("SELECT payload FROM kombu_message").fetchall()
    [(payload,)] = rows
    args, _kwargs, _embed = json.loads(base64.b64decode(json.loads(payload)["body"]))
    assert args == ["job-1"]


def test_an_idle_poll_reads_without_taking_the_write_lock(tmp_path):
    """Nothing queued: the poll is one plain read (kombu's own takes SQLite's write lock and
    runs its ORM path every time), so it answers even while another process writes."""
    path = tmp_path / "queue.sqlite"
    with Connection(f"kazru-sqla+sqlite:///{path}") as conn:
        channel = conn.default_channel
        channel._new_queue("kazru")
        channel.session.commit()
        writer = sqlite3.connect(path, isolation_level=None)
        writer.execute("BEGIN IMMEDIATE")  # another process in the middle of a write
        try:
            with pytest.raises(Empty):
                channel._get("kazru")
        finally:
            writer.execute("ROLLBACK")
            writer.close()
        queue = conn.SimpleQueue("kazru")
        queue.put({"job": "y"})
        assert queue.get(timeout=5).payload == {"job": "y"}  # a message still comes through
        queue.close()


def test_a_message_put_wakes_an_idle_worker_long_before_its_next_poll(tmp_path):
    """An idle worker polls seldom; putting a message rings it (tasks/doorbell.py), so the
    job starts at once rather than at the next poll (here a minute away)."""
    import threading
    import time

    from kazru_stt.tasks import doorbell

    if not doorbell.supported():
        pytest.skip("abstract Unix sockets are Linux's")
    url = f"kazru-sqla+sqlite:///{tmp_path / 'queue.sqlite'}"
    with Connection(url) as worker, Connection(url) as api:
        inbox = worker.SimpleQueue("kazru")
        with pytest.raises(Empty):
            inbox.get(timeout=0.5)  # nothing yet: the worker waits on its doorbell
        transport = worker.transport
        assert transport._bell is not None
        transport._pause = 60.0  # long idle: the next poll is a minute away
        transport._next_poll = time.monotonic() + 60.0
        outbox = api.SimpleQueue("kazru")
        threading.Timer(0.5, outbox.put, args=({"job": "z"},)).start()
        assert inbox.get(timeout=30).payload == {"job": "z"}
        inbox.close()
        outbox.close()
